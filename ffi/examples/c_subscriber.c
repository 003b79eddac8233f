/* A C subscriber of Examples/Demo/Counter: says "ready" once subscribed,
 * prints every counter it receives ("count=... text=... seq=...") until it
 * has N (argument 1, default 5), waiting at most 10 s in all. It asks for
 * the publishers' history, so a publisher that published before it
 * subscribed still reaches it. The daemon is the one of ZEROCP_DOMAIN.
 *
 * With "hold" as argument 2 it keeps every sample (N at most 8, the
 * default max_held), says "holding N" and waits for its stdin to close:
 * the crash test kills it there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"

static int fail(const char *what, const zerocp_error_t *error) {
    fprintf(stderr, "c_subscriber: %s failed: %s (%s)\n", what, error->message,
            zerocp_result_name(error->code));
    return 1;
}

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5;
    int hold = argc > 2 && strcmp(argv[2], "hold") == 0;
    zerocp_error_t error;
    zerocp_runtime_t runtime;
    zerocp_service_t service;
    zerocp_subscriber_t subscriber;

    if (zerocp_runtime_create("c-subscriber", NULL, &runtime, &error) != ZEROCP_OK)
        return fail("zerocp_runtime_create", &error);
    if (zerocp_service_create("Examples", "Demo", "Counter", &service, &error) != ZEROCP_OK)
        return fail("zerocp_service_create", &error);
    zerocp_subscriber_options_t options;
    zerocp_subscriber_options_default(&options);
    options.history = n < 32 ? n : 32;
    options.queue_capacity = 64;
    zerocp_type_t type = counter_type();
    if (zerocp_subscriber_create(runtime, service, &type, &options, &subscriber, &error) != ZEROCP_OK)
        return fail("zerocp_subscriber_create", &error);
    printf("ready\n");
    fflush(stdout);

    unsigned received = 0;
    unsigned waits = 0;
    while (received < n) {
        zerocp_sample_t sample;
        zerocp_result_t taken = zerocp_subscriber_take(subscriber, &sample, &error);
        if (taken == ZEROCP_EMPTY) {
            /* 100 waits of up to 100 ms: 10 s in all. */
            if (++waits > 100) {
                fprintf(stderr, "c_subscriber: only %u of %u counters in 10 s\n", received, n);
                return 1;
            }
            zerocp_result_t waited = zerocp_subscriber_wait(subscriber, 100, &error);
            if (waited != ZEROCP_OK && waited != ZEROCP_TIMEOUT)
                return fail("zerocp_subscriber_wait", &error);
            continue;
        }
        if (taken != ZEROCP_OK)
            return fail("zerocp_subscriber_take", &error);
        const counter_t *counter = sample.payload;
        unsigned len = counter->text_len < sizeof counter->text ? counter->text_len : 0;
        printf("count=%llu text=%.*s seq=%llu\n", (unsigned long long)counter->count, (int)len,
               (const char *)counter->text, (unsigned long long)sample.sequence);
        fflush(stdout);
        if (!hold && zerocp_subscriber_release(subscriber, sample.payload, &error) != ZEROCP_OK)
            return fail("zerocp_subscriber_release", &error);
        received++;
    }
    if (hold) {
        printf("holding %u\n", received);
        fflush(stdout);
        char line[16];
        while (fgets(line, sizeof line, stdin) != NULL) {
        }
    }
    if (zerocp_subscriber_destroy(subscriber, &error) != ZEROCP_OK)
        return fail("zerocp_subscriber_destroy", &error);
    zerocp_service_destroy(service, NULL);
    zerocp_runtime_destroy(runtime, NULL);
    return 0;
}
