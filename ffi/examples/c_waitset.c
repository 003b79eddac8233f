/* Two C subscribers on one wait set: Examples/Demo/Counter and
 * Examples/Second/Counter. Says "ready" once both are attached, then waits
 * on the set and, for every attachment it reports, takes from that
 * subscriber until ZEROCP_EMPTY, printing "<instance> count=... seq=...".
 * Exits 0 once it has N counters (argument 1, default 5) from each, within
 * 10 s in all. The daemon is the one of ZEROCP_DOMAIN. */
#include <stdio.h>
#include <stdlib.h>

#include "counter.h"

static int fail(const char *what, const zerocp_error_t *error) {
    fprintf(stderr, "c_waitset: %s failed: %s (%s)\n", what, error->message,
            zerocp_result_name(error->code));
    return 1;
}

struct input {
    const char *instance;
    zerocp_service_t service;
    zerocp_subscriber_t subscriber;
    uint64_t attachment;
    unsigned received;
};

/* Takes from `in` until its queue is empty (which re-arms its wake-up). */
static int drain(struct input *in, zerocp_error_t *error) {
    for (;;) {
        zerocp_sample_t sample;
        zerocp_result_t taken = zerocp_subscriber_take(in->subscriber, &sample, error);
        if (taken == ZEROCP_EMPTY)
            return 0;
        if (taken != ZEROCP_OK)
            return fail("zerocp_subscriber_take", error);
        const counter_t *counter = sample.payload;
        printf("%s count=%llu seq=%llu\n", in->instance, (unsigned long long)counter->count,
               (unsigned long long)sample.sequence);
        fflush(stdout);
        if (zerocp_subscriber_release(in->subscriber, sample.payload, error) != ZEROCP_OK)
            return fail("zerocp_subscriber_release", error);
        in->received++;
    }
}

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5;
    zerocp_error_t error;
    zerocp_runtime_t runtime;
    zerocp_waitset_t waitset;
    struct input inputs[2] = {{.instance = "Demo"}, {.instance = "Second"}};

    if (zerocp_runtime_create("c-waitset", NULL, &runtime, &error) != ZEROCP_OK)
        return fail("zerocp_runtime_create", &error);
    if (zerocp_waitset_create(&waitset, &error) != ZEROCP_OK)
        return fail("zerocp_waitset_create", &error);
    zerocp_subscriber_options_t options;
    zerocp_subscriber_options_default(&options);
    options.history = n < 32 ? n : 32;
    options.queue_capacity = 64;
    zerocp_type_t type = counter_type();
    for (int i = 0; i < 2; i++) {
        struct input *in = &inputs[i];
        if (zerocp_service_create("Examples", in->instance, "Counter", &in->service, &error) != ZEROCP_OK)
            return fail("zerocp_service_create", &error);
        if (zerocp_subscriber_create(runtime, in->service, &type, &options, &in->subscriber, &error) !=
            ZEROCP_OK)
            return fail("zerocp_subscriber_create", &error);
        if (zerocp_waitset_attach_subscriber(waitset, in->subscriber, &in->attachment, &error) != ZEROCP_OK)
            return fail("zerocp_waitset_attach_subscriber", &error);
    }
    printf("ready\n");
    fflush(stdout);

    unsigned waits = 0;
    while (inputs[0].received < n || inputs[1].received < n) {
        uint64_t ready[2];
        size_t count;
        zerocp_result_t waited = zerocp_waitset_wait(waitset, 100, ready, 2, &count, &error);
        if (waited == ZEROCP_TIMEOUT) {
            /* 100 timeouts of 100 ms: 10 s in all. */
            if (++waits > 100) {
                fprintf(stderr, "c_waitset: only %u and %u of %u counters in 10 s\n", inputs[0].received,
                        inputs[1].received, n);
                return 1;
            }
            continue;
        }
        if (waited != ZEROCP_OK)
            return fail("zerocp_waitset_wait", &error);
        for (size_t r = 0; r < count; r++) {
            struct input *in = NULL;
            for (int i = 0; i < 2; i++)
                if (inputs[i].attachment == ready[r])
                    in = &inputs[i];
            if (in == NULL) {
                fprintf(stderr, "c_waitset: unknown attachment %llu\n", (unsigned long long)ready[r]);
                return 1;
            }
            if (drain(in, &error) != 0)
                return 1;
        }
    }
    printf("received %u and %u\n", inputs[0].received, inputs[1].received);
    for (int i = 0; i < 2; i++) {
        if (zerocp_waitset_detach(waitset, inputs[i].attachment, &error) != ZEROCP_OK)
            return fail("zerocp_waitset_detach", &error);
        if (zerocp_subscriber_destroy(inputs[i].subscriber, &error) != ZEROCP_OK)
            return fail("zerocp_subscriber_destroy", &error);
        zerocp_service_destroy(inputs[i].service, NULL);
    }
    if (zerocp_waitset_destroy(waitset, &error) != ZEROCP_OK)
        return fail("zerocp_waitset_destroy", &error);
    zerocp_runtime_destroy(runtime, NULL);
    return 0;
}
