/* Events from C on the event service Examples/Events/Tick.
 *
 *   c_events listen N   a listener on a wait set: says "ready", then prints
 *                       "event ID" for every id 0..N-1 it takes (each once,
 *                       though a notifier may raise one more than once), then
 *                       "received N"; fails after 10 s without them all.
 *   c_events notify N   a notifier: raises ids 0..N-1, each until it reached a
 *                       listener (a listener that joined a moment ago may not
 *                       be routed yet), says "notified N", then waits for its
 *                       stdin to close.
 *
 * The daemon is the one of ZEROCP_DOMAIN. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zerocp.h"

static int fail(const char *what, const zerocp_error_t *error) {
    fprintf(stderr, "c_events: %s failed: %s (%s)\n", what, error->message,
            zerocp_result_name(error->code));
    return 1;
}

static int listen_for(zerocp_runtime_t runtime, zerocp_service_t service, unsigned n) {
    zerocp_error_t error;
    zerocp_listener_t listener;
    zerocp_waitset_t waitset;
    uint64_t attachment;
    if (zerocp_listener_create(runtime, service, &listener, &error) != ZEROCP_OK)
        return fail("zerocp_listener_create", &error);
    if (zerocp_waitset_create(&waitset, &error) != ZEROCP_OK)
        return fail("zerocp_waitset_create", &error);
    if (zerocp_waitset_attach_listener(waitset, listener, &attachment, &error) != ZEROCP_OK)
        return fail("zerocp_waitset_attach_listener", &error);
    printf("ready\n");
    fflush(stdout);

    bool seen[ZEROCP_MAX_EVENT_ID + 1] = {false};
    unsigned received = 0, timeouts = 0;
    while (received < n) {
        uint64_t ready;
        size_t count;
        zerocp_result_t waited = zerocp_waitset_wait(waitset, 100, &ready, 1, &count, &error);
        if (waited == ZEROCP_TIMEOUT) {
            if (++timeouts > 100) {
                fprintf(stderr, "c_events: %u of %u events in 10 s\n", received, n);
                return 1;
            }
            continue;
        }
        if (waited != ZEROCP_OK)
            return fail("zerocp_waitset_wait", &error);
        if (ready != attachment) {
            fprintf(stderr, "c_events: unknown attachment %llu\n", (unsigned long long)ready);
            return 1;
        }
        /* Take until empty: the empty take re-arms the wake-up. */
        zerocp_event_set_t events;
        zerocp_result_t taken;
        while ((taken = zerocp_listener_try_wait(listener, &events, &error)) == ZEROCP_OK) {
            for (uint32_t id = 0; id <= ZEROCP_MAX_EVENT_ID; id++) {
                if (!zerocp_event_set_contains(&events, id) || seen[id])
                    continue;
                seen[id] = true;
                received++;
                printf("event %u\n", id);
            }
        }
        if (taken != ZEROCP_EMPTY)
            return fail("zerocp_listener_try_wait", &error);
        fflush(stdout);
    }
    printf("received %u\n", received);
    fflush(stdout);
    if (zerocp_waitset_destroy(waitset, &error) != ZEROCP_OK)
        return fail("zerocp_waitset_destroy", &error);
    if (zerocp_listener_destroy(listener, &error) != ZEROCP_OK)
        return fail("zerocp_listener_destroy", &error);
    return 0;
}

static void pause_ms(long ms) {
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

static int notify(zerocp_runtime_t runtime, zerocp_service_t service, unsigned n) {
    zerocp_error_t error;
    zerocp_notifier_t notifier;
    if (zerocp_notifier_create(runtime, service, &notifier, &error) != ZEROCP_OK)
        return fail("zerocp_notifier_create", &error);
    for (uint32_t id = 0; id < n; id++) {
        size_t reached = 0;
        /* Until a listener is routed to this notifier: 10 s at most. */
        for (int tries = 0; reached == 0; tries++) {
            if (tries == 1000) {
                fprintf(stderr, "c_events: event %u reached no listener in 10 s\n", id);
                return 1;
            }
            if (tries > 0)
                pause_ms(10);
            if (zerocp_notifier_notify(notifier, id, &reached, &error) != ZEROCP_OK)
                return fail("zerocp_notifier_notify", &error);
        }
    }
    printf("notified %u\n", n);
    fflush(stdout);
    while (getchar() != EOF) {
    }
    if (zerocp_notifier_destroy(notifier, &error) != ZEROCP_OK)
        return fail("zerocp_notifier_destroy", &error);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: c_events listen|notify N\n");
        return 2;
    }
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    if (n > ZEROCP_MAX_EVENT_ID + 1) {
        fprintf(stderr, "c_events: N is at most %u\n", ZEROCP_MAX_EVENT_ID + 1);
        return 2;
    }
    zerocp_error_t error;
    zerocp_runtime_t runtime;
    zerocp_service_t service;
    if (zerocp_runtime_create("c-events", NULL, &runtime, &error) != ZEROCP_OK)
        return fail("zerocp_runtime_create", &error);
    if (zerocp_service_create("Examples", "Events", "Tick", &service, &error) != ZEROCP_OK)
        return fail("zerocp_service_create", &error);
    int status;
    if (strcmp(argv[1], "listen") == 0)
        status = listen_for(runtime, service, n);
    else if (strcmp(argv[1], "notify") == 0)
        status = notify(runtime, service, n);
    else {
        fprintf(stderr, "usage: c_events listen|notify N\n");
        status = 2;
    }
    zerocp_service_destroy(service, NULL);
    zerocp_runtime_destroy(runtime, NULL);
    return status;
}
