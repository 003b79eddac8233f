/* A C publisher of Examples/Demo/Counter: publishes N counters (argument 1,
 * default 5), says "published N", then keeps its port (and its history of
 * N samples for late subscribers) until its stdin closes. The daemon is the
 * one of ZEROCP_DOMAIN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"

static int fail(const char *what, const zerocp_error_t *error) {
    fprintf(stderr, "c_publisher: %s failed: %s (%s)\n", what, error->message,
            zerocp_result_name(error->code));
    return 1;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5;
    zerocp_error_t error;
    zerocp_runtime_t runtime;
    zerocp_service_t service;
    zerocp_publisher_t publisher;

    if (zerocp_runtime_create("c-publisher", NULL, &runtime, &error) != ZEROCP_OK)
        return fail("zerocp_runtime_create", &error);
    if (zerocp_service_create("Examples", "Demo", "Counter", &service, &error) != ZEROCP_OK)
        return fail("zerocp_service_create", &error);
    zerocp_publisher_options_t options;
    zerocp_publisher_options_default(&options);
    options.history = n < 32 ? n : 32;
    zerocp_type_t type = counter_type();
    if (zerocp_publisher_create(runtime, service, &type, &options, &publisher, &error) != ZEROCP_OK)
        return fail("zerocp_publisher_create", &error);

    for (unsigned i = 0; i < n; i++) {
        void *payload;
        size_t size;
        if (zerocp_publisher_loan(publisher, &payload, &size, &error) != ZEROCP_OK)
            return fail("zerocp_publisher_loan", &error);
        if (size != sizeof(counter_t)) {
            fprintf(stderr, "c_publisher: loaned %zu bytes, not %zu\n", size, sizeof(counter_t));
            return 1;
        }
        counter_t *counter = payload; /* written in place, in shared memory */
        memset(counter, 0, sizeof *counter);
        counter->count = i;
        counter->sent_ns = now_ns();
        counter->pid = (uint32_t)getpid();
        int len = snprintf((char *)counter->text, sizeof counter->text, "hello from C #%u", i);
        counter->text_len = (uint32_t)len;
        if (zerocp_publisher_publish(publisher, payload, &error) != ZEROCP_OK)
            return fail("zerocp_publisher_publish", &error);
    }
    printf("published %u\n", n);
    fflush(stdout);

    /* Keep the port until told to go (stdin closed). */
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
    }
    if (zerocp_publisher_destroy(publisher, &error) != ZEROCP_OK)
        return fail("zerocp_publisher_destroy", &error);
    zerocp_service_destroy(service, NULL);
    zerocp_runtime_destroy(runtime, NULL);
    return 0;
}
