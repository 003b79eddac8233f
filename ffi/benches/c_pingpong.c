/* The C side of the `zerocp-c` and `zerocp-c-copy` latency cases (benches/latency_c.rs): the
 * ping-pong of the Rust latency benchmark's `zerocp` case, through the C API.
 *
 *   c_pingpong pong SIZE CPU SEND          echo every sample back until STOP
 *   c_pingpong ping SIZE CPU ITERS SEND    time ITERS round trips, print the result
 *
 * Two services per size, Bench/c-pingpong-SIZE/{Ping,Pong}, of a SIZE-byte
 * payload; as in the Rust case: queue capacity 1, one sample held, one loan,
 * discard-oldest, the receiver busy-polls. With SEND `loan` (case
 * `zerocp-c`) a send loans, writes the sequence number into the first 8
 * bytes and publishes, and a receive takes, reads those 8 bytes and
 * releases. With SEND `copy` (case `zerocp-c-copy`) a send publishes a copy
 * of a SIZE-byte buffer holding it (zerocp_publisher_publish_copy) and a
 * receive copies the sample into that buffer (zerocp_subscriber_take_copy).
 * Each process pins itself to CPU.
 *
 * `pong` prints "ready" once its ports exist; `ping` first sends until the
 * first echo comes back (pong's subscriber connects to ping's publisher when
 * it is created, so early samples can be lost), then warms up (10 % of
 * ITERS, at least 500) and prints one line in the benchmark format:
 * "CASE SIZE median_ns p99_ns max_ns msgs_per_s" (one-way = round trip
 * / 2, the percentile of n sorted samples at index ceil(p n) - 1, msgs/s =
 * 2 round trips / wall time). Exit status 1 on any failure, with the
 * message on stderr. */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zerocp.h"

#define STOP UINT64_MAX

typedef struct {
    zerocp_runtime_t runtime;
    zerocp_service_t out, in;
    zerocp_publisher_t publisher;
    zerocp_subscriber_t subscriber;
    zerocp_error_t error;
    int copy;        /* send with zerocp_publisher_publish_copy */
    size_t size;     /* the payload's size */
    uint8_t *buffer; /* what copies are sent from and taken into (SEND `copy`) */
} side_t;

static void die(const char *what, const zerocp_error_t *error) {
    fprintf(stderr, "c_pingpong: %s failed: %s (%s)\n", what, error->message,
            zerocp_result_name(error->code));
    exit(1);
}

static void pin(unsigned cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("c_pingpong: sched_setaffinity");
        exit(1);
    }
}

static void open_side(side_t *s, const char *role, size_t size) {
    char instance[64], type_name[64];
    snprintf(instance, sizeof instance, "c-pingpong-%zu", size);
    snprintf(type_name, sizeof type_name, "zerocp_bench::Bytes<%zu>", size);
    int ping = strcmp(role, "ping") == 0;
    if (zerocp_runtime_create(ping ? "c-ping" : "c-pong", NULL, &s->runtime, &s->error) != ZEROCP_OK)
        die("zerocp_runtime_create", &s->error);
    if (zerocp_service_create("Bench", instance, ping ? "Ping" : "Pong", &s->out, &s->error) != ZEROCP_OK)
        die("zerocp_service_create", &s->error);
    if (zerocp_service_create("Bench", instance, ping ? "Pong" : "Ping", &s->in, &s->error) != ZEROCP_OK)
        die("zerocp_service_create", &s->error);
    zerocp_type_t type = {type_name, size, 8};
    zerocp_publisher_options_t po;
    zerocp_publisher_options_default(&po);
    po.max_loans = 1;
    if (zerocp_publisher_create(s->runtime, s->out, &type, &po, &s->publisher, &s->error) != ZEROCP_OK)
        die("zerocp_publisher_create", &s->error);
    zerocp_subscriber_options_t so;
    zerocp_subscriber_options_default(&so);
    so.queue_capacity = 1;
    so.max_held = 1;
    if (zerocp_subscriber_create(s->runtime, s->in, &type, &so, &s->subscriber, &s->error) != ZEROCP_OK)
        die("zerocp_subscriber_create", &s->error);
}

static void close_side(side_t *s) {
    zerocp_subscriber_destroy(s->subscriber, NULL);
    zerocp_publisher_destroy(s->publisher, NULL);
    zerocp_service_destroy(s->in, NULL);
    zerocp_service_destroy(s->out, NULL);
    zerocp_runtime_destroy(s->runtime, NULL);
}

static inline void send_seq(side_t *s, uint64_t seq) {
    if (s->copy) {
        memcpy(s->buffer, &seq, sizeof seq);
        if (zerocp_publisher_publish_copy(s->publisher, s->buffer, s->size, &s->error) != ZEROCP_OK)
            die("zerocp_publisher_publish_copy", &s->error);
        return;
    }
    void *payload;
    size_t size;
    if (zerocp_publisher_loan(s->publisher, &payload, &size, &s->error) != ZEROCP_OK)
        die("zerocp_publisher_loan", &s->error);
    memcpy(payload, &seq, sizeof seq);
    if (zerocp_publisher_publish(s->publisher, payload, &s->error) != ZEROCP_OK)
        die("zerocp_publisher_publish", &s->error);
}

/* The next sample's sequence number; `spins` bounds the busy poll (0: no
 * bound). Returns 0 and sets *seq, or 1 when the bound passed first. */
static inline int recv_seq(side_t *s, uint64_t *seq, uint64_t spins) {
    zerocp_sample_t sample;
    for (uint64_t i = 0; spins == 0 || i < spins; i++) {
        if (s->copy) {
            zerocp_result_t copied = zerocp_subscriber_take_copy(s->subscriber, s->buffer, s->size, NULL, &s->error);
            if (copied == ZEROCP_EMPTY)
                continue;
            if (copied != ZEROCP_OK)
                die("zerocp_subscriber_take_copy", &s->error);
            memcpy(seq, s->buffer, sizeof *seq);
            return 0;
        }
        zerocp_result_t taken = zerocp_subscriber_take(s->subscriber, &sample, &s->error);
        if (taken == ZEROCP_EMPTY)
            continue;
        if (taken != ZEROCP_OK)
            die("zerocp_subscriber_take", &s->error);
        memcpy(seq, sample.payload, sizeof *seq);
        if (zerocp_subscriber_release(s->subscriber, sample.payload, &s->error) != ZEROCP_OK)
            die("zerocp_subscriber_release", &s->error);
        return 0;
    }
    return 1;
}

static void pong(side_t *s) {
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        uint64_t seq;
        recv_seq(s, &seq, 0);
        if (seq == STOP)
            return;
        send_seq(s, seq);
    }
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t percentile(const uint64_t *sorted, size_t n, double p) {
    size_t at = (size_t)ceil(p * (double)n);
    return sorted[at > 0 ? at - 1 : 0];
}

/* One round trip: send `seq`, busy-poll until it is echoed (a late echo
 * of an earlier probe is skipped). */
static void round_trip(side_t *s, uint64_t seq) {
    send_seq(s, seq);
    uint64_t echoed;
    do
        recv_seq(s, &echoed, 0);
    while (echoed < seq);
    if (echoed != seq) {
        fprintf(stderr, "c_pingpong: sent %llu, got %llu back\n", (unsigned long long)seq,
                (unsigned long long)echoed);
        exit(1);
    }
}

static void ping(side_t *s, size_t size, size_t iters) {
    /* Until pong is connected: resend the probe until it comes back. */
    uint64_t seq = 0, echoed = STOP;
    while (echoed != seq) {
        send_seq(s, seq);
        while (recv_seq(s, &echoed, 1000000) == 0 && echoed != seq) {
        }
    }
    size_t warmup = iters / 10 > 500 ? iters / 10 : 500;
    for (size_t i = 0; i < warmup; i++)
        round_trip(s, ++seq);
    uint64_t *one_way = malloc(iters * sizeof *one_way);
    if (one_way == NULL) {
        fprintf(stderr, "c_pingpong: out of memory for %zu samples\n", iters);
        exit(1);
    }
    uint64_t begin = now_ns();
    for (size_t i = 0; i < iters; i++) {
        uint64_t t0 = now_ns();
        round_trip(s, ++seq);
        one_way[i] = (now_ns() - t0) / 2;
    }
    uint64_t wall = now_ns() - begin;
    send_seq(s, STOP);
    qsort(one_way, iters, sizeof *one_way, by_value);
    printf("%s %zu %llu %llu %llu %.0f\n", s->copy ? "zerocp-c-copy" : "zerocp-c", size,
           (unsigned long long)percentile(one_way, iters, 0.5),
           (unsigned long long)percentile(one_way, iters, 0.99),
           (unsigned long long)one_way[iters - 1], 2.0 * (double)iters * 1e9 / (double)wall);
    fflush(stdout);
    free(one_way);
}

int main(int argc, char **argv) {
    int is_ping = argc == 6 && strcmp(argv[1], "ping") == 0;
    if (!is_ping && !(argc == 5 && strcmp(argv[1], "pong") == 0)) {
        fprintf(stderr, "usage: c_pingpong pong SIZE CPU SEND | ping SIZE CPU ITERS SEND "
                        "(SEND: loan or copy)\n");
        return 2;
    }
    const char *send = argv[argc - 1];
    if (strcmp(send, "loan") != 0 && strcmp(send, "copy") != 0) {
        fprintf(stderr, "c_pingpong: SEND %s is neither loan nor copy\n", send);
        return 2;
    }
    size_t size = strtoul(argv[2], NULL, 10);
    if (size < sizeof(uint64_t)) {
        fprintf(stderr, "c_pingpong: SIZE %s is below 8 bytes\n", argv[2]);
        return 2;
    }
    pin((unsigned)strtoul(argv[3], NULL, 10));
    side_t side = {.copy = strcmp(send, "copy") == 0, .size = size, .buffer = calloc(1, size)};
    if (side.buffer == NULL) {
        fprintf(stderr, "c_pingpong: out of memory for a %zu-byte buffer\n", size);
        return 1;
    }
    open_side(&side, argv[1], size);
    if (is_ping) {
        size_t iters = strtoul(argv[4], NULL, 10);
        ping(&side, size, iters > 0 ? iters : 1);
    } else {
        pong(&side);
    }
    close_side(&side);
    free(side.buffer);
    return 0;
}
