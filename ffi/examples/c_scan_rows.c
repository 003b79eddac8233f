/* Slices with a user header from C, on Examples/Camera/Rows: each sample is
 * a row of uint16_t pixels, of a length chosen at each loan, with a frame_t
 * header beside it (the frame's id and the row's width).
 *
 *   c_scan_rows publish N    publishes N rows (row i has i + 1 pixels of
 *                            value 100 * i + k), says "published N", keeps
 *                            its port until stdin closes
 *   c_scan_rows subscribe N  takes N rows (history N), prints each as
 *                            "row id=I width=W len=L sum=S", checks the
 *                            header against the pixels
 *
 * The same service in Rust: `subscriber::<[u16]>(&svc).user_header::<Frame>()`
 * with Frame #[repr(C)] { id: u32, width: u32 } named "zerocp_examples::Frame".
 * The daemon is the one of ZEROCP_DOMAIN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zerocp.h"

typedef struct frame_t {
    uint32_t id;    /* which frame */
    uint32_t width; /* pixels in this row */
} frame_t;

_Static_assert(sizeof(frame_t) == 8, "Frame is 8 bytes");
_Static_assert(_Alignof(frame_t) == 4, "Frame is 4-aligned");
_Static_assert(offsetof(frame_t, width) == 4, "width at 4");

enum { MAX_WIDTH = 64 };

static int fail(const char *what, const zerocp_error_t *error) {
    fprintf(stderr, "c_scan_rows: %s failed: %s (%s)\n", what, error->message,
            zerocp_result_name(error->code));
    return 1;
}

/* One uint16_t per element: Rust's `[u16]` is a slice of "u16". */
static const zerocp_type_t pixel_type = {"u16", sizeof(uint16_t), _Alignof(uint16_t)};
static const zerocp_type_t frame_type = {"zerocp_examples::Frame", sizeof(frame_t), _Alignof(frame_t)};

static int publish(zerocp_runtime_t runtime, zerocp_service_t service, unsigned n) {
    zerocp_error_t error;
    zerocp_publisher_t publisher;
    zerocp_publisher_options_t options;
    zerocp_publisher_options_default(&options);
    options.history = n < 32 ? n : 32;
    options.shape = ZEROCP_SHAPE_SLICE;
    options.max_slice_len = MAX_WIDTH;
    options.user_header = &frame_type;
    if (zerocp_publisher_create(runtime, service, &pixel_type, &options, &publisher, &error) != ZEROCP_OK)
        return fail("zerocp_publisher_create", &error);
    for (unsigned i = 0; i < n; i++) {
        size_t width = i % MAX_WIDTH + 1;
        zerocp_loan_t loan;
        if (zerocp_publisher_loan_slice(publisher, width, &loan, &error) != ZEROCP_OK)
            return fail("zerocp_publisher_loan_slice", &error);
        if (loan.len != width || loan.size != width * sizeof(uint16_t) ||
            loan.user_header_size != sizeof(frame_t)) {
            fprintf(stderr, "c_scan_rows: loaned %zu pixels, %zu bytes, a %zu-byte header\n", loan.len,
                    loan.size, loan.user_header_size);
            return 1;
        }
        uint16_t *pixels = loan.payload; /* written in place, in shared memory */
        for (size_t k = 0; k < width; k++)
            pixels[k] = (uint16_t)(100 * i + k);
        frame_t *frame = loan.user_header;
        frame->id = i;
        frame->width = (uint32_t)width;
        if (zerocp_publisher_publish(publisher, loan.payload, &error) != ZEROCP_OK)
            return fail("zerocp_publisher_publish", &error);
    }
    printf("published %u\n", n);
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
    }
    if (zerocp_publisher_destroy(publisher, &error) != ZEROCP_OK)
        return fail("zerocp_publisher_destroy", &error);
    return 0;
}

/* Prints the row and checks it; 0 when it is what the publisher wrote. */
static int check_row(const zerocp_sample_t *sample) {
    const frame_t *frame = sample->user_header;
    const uint16_t *pixels = sample->payload;
    unsigned long sum = 0;
    int bad = frame == NULL || sample->user_header_size != sizeof(frame_t) ||
              sample->size != sample->len * sizeof(uint16_t) || frame->width != sample->len;
    for (size_t k = 0; !bad && k < sample->len; k++) {
        bad = pixels[k] != (uint16_t)(100 * frame->id + k);
        sum += pixels[k];
    }
    if (bad) {
        fprintf(stderr, "c_scan_rows: a row that is not what was published (len %zu)\n", sample->len);
        return 1;
    }
    printf("row id=%u width=%u len=%zu sum=%lu\n", frame->id, frame->width, sample->len, sum);
    fflush(stdout);
    return 0;
}

static int subscribe(zerocp_runtime_t runtime, zerocp_service_t service, unsigned n) {
    zerocp_error_t error;
    zerocp_subscriber_t subscriber;
    zerocp_subscriber_options_t options;
    zerocp_subscriber_options_default(&options);
    options.history = n < 32 ? n : 32;
    options.queue_capacity = 64;
    options.shape = ZEROCP_SHAPE_SLICE;
    options.user_header = &frame_type;
    if (zerocp_subscriber_create(runtime, service, &pixel_type, &options, &subscriber, &error) != ZEROCP_OK)
        return fail("zerocp_subscriber_create", &error);
    printf("ready\n");
    fflush(stdout);
    time_t give_up = time(NULL) + 30;
    for (unsigned taken = 0; taken < n;) {
        if (time(NULL) > give_up) {
            fprintf(stderr, "c_scan_rows: only %u of %u rows\n", taken, n);
            return 1;
        }
        zerocp_sample_t sample;
        zerocp_result_t r = zerocp_subscriber_take(subscriber, &sample, &error);
        if (r == ZEROCP_EMPTY) {
            if (zerocp_subscriber_wait(subscriber, 100, &error) < 0)
                return fail("zerocp_subscriber_wait", &error);
            continue;
        }
        if (r != ZEROCP_OK)
            return fail("zerocp_subscriber_take", &error);
        int bad = check_row(&sample);
        if (zerocp_subscriber_release(subscriber, sample.payload, &error) != ZEROCP_OK)
            return fail("zerocp_subscriber_release", &error);
        if (bad)
            return 1;
        taken++;
    }
    if (zerocp_subscriber_destroy(subscriber, &error) != ZEROCP_OK)
        return fail("zerocp_subscriber_destroy", &error);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "publish") != 0 && strcmp(argv[1], "subscribe") != 0)) {
        fprintf(stderr, "usage: c_scan_rows publish|subscribe N\n");
        return 2;
    }
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    zerocp_error_t error;
    zerocp_runtime_t runtime;
    zerocp_service_t service;
    if (zerocp_runtime_create("c-scan-rows", NULL, &runtime, &error) != ZEROCP_OK)
        return fail("zerocp_runtime_create", &error);
    if (zerocp_service_create("Examples", "Camera", "Rows", &service, &error) != ZEROCP_OK)
        return fail("zerocp_service_create", &error);
    int status = strcmp(argv[1], "publish") == 0 ? publish(runtime, service, n)
                                                  : subscribe(runtime, service, n);
    zerocp_service_destroy(service, NULL);
    zerocp_runtime_destroy(runtime, NULL);
    return status;
}
