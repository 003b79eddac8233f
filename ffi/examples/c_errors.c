/* Bad input to the C API: NULL pointers, invalid names and sizes, a type
 * other than the service's, double release, handles used after destroy,
 * copies of the wrong size or shape,
 * slices and user headers misdeclared or overlong, wait sets without room
 * for ids or with unknown attachments.
 * Every call must fail with its code and a message saying what was wrong,
 * never crash; prints "all error checks passed" at the end. The daemon is
 * the one of ZEROCP_DOMAIN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"

static int failures = 0;

/* Checks that `got` is `want` and, for a failure, that the message
 * contains `needle`. */
static void expect(int line, zerocp_result_t got, zerocp_result_t want,
                   const zerocp_error_t *error, const char *needle) {
    if (got != want) {
        fprintf(stderr, "line %d: got %s, want %s (%s)\n", line, zerocp_result_name(got),
                zerocp_result_name(want), error ? error->message : "");
        failures++;
        return;
    }
    if (error == NULL)
        return;
    if (error->code != (int32_t)want) {
        fprintf(stderr, "line %d: error.code %d, want %d\n", line, error->code, (int)want);
        failures++;
    }
    if (needle != NULL && strstr(error->message, needle) == NULL) {
        fprintf(stderr, "line %d: message \"%s\" lacks \"%s\"\n", line, error->message, needle);
        failures++;
    }
}

#define EXPECT(call, want, needle) expect(__LINE__, (call), (want), &error, (needle))

/* Slices and user headers: bad shapes and header types, a slice publisher
 * without a maximum, loans longer than it (or than 1 for a sized type),
 * another header than the service's; an empty slice is a sample. */
static void slice_errors(zerocp_runtime_t runtime) {
    zerocp_error_t error;
    zerocp_service_t service;
    zerocp_publisher_t publisher;
    zerocp_subscriber_t subscriber;
    zerocp_loan_t loan;
    zerocp_sample_t sample;
    zerocp_type_t element = {"u16", 2, 2};
    zerocp_type_t header = {"c_errors::Header", 8, 4};
    zerocp_type_t bad_header = {"c_errors::Header", 8, 3};
    zerocp_type_t other_header = {"c_errors::Other", 8, 4};
    zerocp_publisher_options_t options;
    zerocp_subscriber_options_t sub_options;

    EXPECT(zerocp_service_create("Examples", "Errors", "Rows", &service, &error), ZEROCP_OK, "");
    zerocp_publisher_options_default(&options);
    options.shape = 5;
    EXPECT(zerocp_publisher_create(runtime, service, &element, &options, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "options.shape");
    options.shape = ZEROCP_SHAPE_SLICE;
    EXPECT(zerocp_publisher_create(runtime, service, &element, &options, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "max_slice_len");
    options.max_slice_len = 4;
    options.user_header = &bad_header;
    EXPECT(zerocp_publisher_create(runtime, service, &element, &options, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "options.user_header.align");
    options.user_header = &header;
    EXPECT(zerocp_publisher_create(runtime, service, &element, &options, &publisher, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_loan_slice(publisher, 5, &loan, &error), ZEROCP_ERR_INVALID_ARGUMENT, "slice");
    EXPECT(zerocp_publisher_loan_slice(publisher, 1, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "loan is NULL");

    zerocp_subscriber_options_default(&sub_options);
    sub_options.shape = ZEROCP_SHAPE_SLICE;
    EXPECT(zerocp_subscriber_create(runtime, service, &element, &sub_options, &subscriber, &error),
           ZEROCP_ERR_REFUSED, NULL);
    sub_options.user_header = &other_header;
    EXPECT(zerocp_subscriber_create(runtime, service, &element, &sub_options, &subscriber, &error),
           ZEROCP_ERR_REFUSED, NULL);
    sub_options.user_header = &header;
    sub_options.shape = ZEROCP_SHAPE_SIZED;
    EXPECT(zerocp_subscriber_create(runtime, service, &element, &sub_options, &subscriber, &error),
           ZEROCP_ERR_REFUSED, NULL);
    sub_options.shape = ZEROCP_SHAPE_SLICE;
    EXPECT(zerocp_subscriber_create(runtime, service, &element, &sub_options, &subscriber, &error), ZEROCP_OK, "");

    /* An empty slice: no payload bytes, a header all the same. */
    EXPECT(zerocp_publisher_loan_slice(publisher, 0, &loan, &error), ZEROCP_OK, "");
    if (loan.size != 0 || loan.len != 0 || loan.user_header == NULL || loan.user_header_size != 8) {
        fprintf(stderr, "empty loan: %zu bytes, %zu elements, header %zu bytes\n", loan.size, loan.len,
                loan.user_header_size);
        failures++;
    }
    memset(loan.user_header, 0x5a, loan.user_header_size);
    EXPECT(zerocp_publisher_publish(publisher, loan.payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_OK, "");
    if (sample.len != 0 || sample.size != 0 || sample.user_header_size != 8 ||
        ((const unsigned char *)sample.user_header)[7] != 0x5a) {
        fprintf(stderr, "empty sample: %zu elements, %zu bytes\n", sample.len, sample.size);
        failures++;
    }
    EXPECT(zerocp_subscriber_release(subscriber, sample.payload, &error), ZEROCP_OK, "");

    /* A copied slice: whole elements up to the maximum, the header
     * published zero-filled. */
    const uint16_t row[5] = {7, 8, 9, 10, 11};
    EXPECT(zerocp_publisher_publish_copy(publisher, row, 3, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "3 bytes does not fit");
    EXPECT(zerocp_publisher_publish_copy(publisher, row, sizeof row, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "slice");
    EXPECT(zerocp_publisher_publish_copy(publisher, row, 4 * sizeof row[0], &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_OK, "");
    if (sample.len != 4 || memcmp(sample.payload, row, 8) != 0) {
        fprintf(stderr, "copied slice of the maximum: %zu elements\n", sample.len);
        failures++;
    }
    EXPECT(zerocp_subscriber_release(subscriber, sample.payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_publish_copy(publisher, row, 3 * sizeof row[0], &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_OK, "");
    const unsigned char zeros[8] = {0};
    if (sample.len != 3 || sample.size != 6 || memcmp(sample.payload, row, 6) != 0 ||
        sample.user_header_size != 8 || memcmp(sample.user_header, zeros, 8) != 0) {
        fprintf(stderr, "copied slice: %zu elements, %zu bytes\n", sample.len, sample.size);
        failures++;
    }
    EXPECT(zerocp_subscriber_release(subscriber, sample.payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_EMPTY, "");
    uint16_t copied_row[5];
    EXPECT(zerocp_subscriber_take_copy(subscriber, copied_row, sizeof copied_row, NULL, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "is a slice");
    EXPECT(zerocp_subscriber_destroy(subscriber, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_destroy(publisher, &error), ZEROCP_OK, "");

    /* A sized type loans exactly one value and has no header unless asked. */
    zerocp_publisher_options_default(&options);
    EXPECT(zerocp_service_destroy(service, &error), ZEROCP_OK, "");
    EXPECT(zerocp_service_create("Examples", "Errors", "Sized", &service, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_create(runtime, service, &element, &options, &publisher, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_loan_slice(publisher, 2, &loan, &error), ZEROCP_ERR_INVALID_ARGUMENT, "slice");
    EXPECT(zerocp_publisher_loan_slice(publisher, 1, &loan, &error), ZEROCP_OK, "");
    if (loan.size != 2 || loan.len != 1 || loan.user_header != NULL || loan.user_header_size != 0) {
        fprintf(stderr, "sized loan: %zu bytes, header %zu bytes\n", loan.size, loan.user_header_size);
        failures++;
    }
    EXPECT(zerocp_publisher_release(publisher, loan.payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_loan_slice(publisher, 0, &loan, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "0 bytes does not fit");
    EXPECT(zerocp_publisher_destroy(publisher, &error), ZEROCP_OK, "");
    EXPECT(zerocp_service_destroy(service, &error), ZEROCP_OK, "");

    /* A sized type with a user header is taken in place, not copied. */
    EXPECT(zerocp_service_create("Examples", "Errors", "SizedHeader", &service, &error), ZEROCP_OK, "");
    zerocp_subscriber_options_default(&sub_options);
    sub_options.user_header = &header;
    EXPECT(zerocp_subscriber_create(runtime, service, &element, &sub_options, &subscriber, &error), ZEROCP_OK, "");
    uint16_t value;
    EXPECT(zerocp_subscriber_take_copy(subscriber, &value, sizeof value, NULL, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "user header (8 bytes)");
    EXPECT(zerocp_subscriber_destroy(subscriber, &error), ZEROCP_OK, "");
    EXPECT(zerocp_service_destroy(service, &error), ZEROCP_OK, "");
}

int main(void) {
    zerocp_error_t error;
    zerocp_runtime_t runtime;
    zerocp_service_t service;

    /* Runtimes and services. */
    EXPECT(zerocp_runtime_create(NULL, NULL, &runtime, &error), ZEROCP_ERR_NULL_ARGUMENT, "name is NULL");
    EXPECT(zerocp_runtime_create("c-errors", NULL, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "out is NULL");
    EXPECT(zerocp_runtime_create("", NULL, &runtime, &error), ZEROCP_ERR_INVALID_ARGUMENT, NULL);
    EXPECT(zerocp_runtime_create("c-errors", "no such domain!", &runtime, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, NULL);
    EXPECT(zerocp_runtime_create("c-errors", NULL, &runtime, &error), ZEROCP_OK, "");
    EXPECT(zerocp_service_create("Examples", NULL, "Counter", &service, &error), ZEROCP_ERR_NULL_ARGUMENT,
           "instance is NULL");
    EXPECT(zerocp_service_create("Examples", "Demo", "bad name!", &service, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, NULL);
    EXPECT(zerocp_service_create("Examples", "Demo", "\xff", &service, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "UTF-8");
    EXPECT(zerocp_service_create("Examples", "Demo", "Counter", &service, &error), ZEROCP_OK, "");

    /* Types and options. */
    zerocp_publisher_t publisher;
    zerocp_type_t type = counter_type();
    zerocp_type_t no_name = {NULL, 8, 8};
    zerocp_type_t empty = {COUNTER_TYPE_NAME, 0, 8};
    zerocp_type_t odd_align = {COUNTER_TYPE_NAME, 72, 3};
    EXPECT(zerocp_publisher_create(runtime, service, NULL, NULL, &publisher, &error),
           ZEROCP_ERR_NULL_ARGUMENT, "type is NULL");
    EXPECT(zerocp_publisher_create(runtime, service, &no_name, NULL, &publisher, &error),
           ZEROCP_ERR_NULL_ARGUMENT, "type.name is NULL");
    EXPECT(zerocp_publisher_create(runtime, service, &empty, NULL, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "type.size");
    EXPECT(zerocp_publisher_create(runtime, service, &odd_align, NULL, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "power of two");
    zerocp_publisher_options_t options;
    zerocp_publisher_options_default(&options);
    options.history = 99;
    EXPECT(zerocp_publisher_create(runtime, service, &type, &options, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "history");
    zerocp_publisher_options_default(&options);
    options.on_publish_timeout = 7;
    EXPECT(zerocp_publisher_create(runtime, service, &type, &options, &publisher, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "on_publish_timeout");
    zerocp_publisher_t zero = {0};
    EXPECT(zerocp_publisher_destroy(zero, &error), ZEROCP_ERR_INVALID_HANDLE, "zero");

    /* Loans: the limit, double release, foreign pointers. */
    zerocp_publisher_options_default(&options);
    options.max_loans = 1;
    EXPECT(zerocp_publisher_create(runtime, service, &type, &options, &publisher, &error), ZEROCP_OK, "");
    void *payload;
    void *second;
    size_t size;
    EXPECT(zerocp_publisher_loan(publisher, NULL, &size, &error), ZEROCP_ERR_NULL_ARGUMENT, "payload is NULL");
    EXPECT(zerocp_publisher_loan(publisher, &payload, &size, &error), ZEROCP_OK, "");
    if (size != sizeof(counter_t)) {
        fprintf(stderr, "loaned %zu bytes\n", size);
        failures++;
    }
    EXPECT(zerocp_publisher_loan(publisher, &second, &size, &error), ZEROCP_ERR_LIMIT, "loan");
    EXPECT(zerocp_publisher_release(publisher, payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_release(publisher, payload, &error), ZEROCP_ERR_NOT_HELD, "not a loan");
    EXPECT(zerocp_publisher_publish(publisher, payload, &error), ZEROCP_ERR_NOT_HELD, "not a loan");
    EXPECT(zerocp_publisher_publish(publisher, &error, &error), ZEROCP_ERR_NOT_HELD, "not a loan");
    EXPECT(zerocp_publisher_publish(publisher, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "payload is NULL");

    /* Subscribers: another type is refused, empty queues, timeouts. */
    zerocp_subscriber_t subscriber;
    zerocp_type_t smaller = {COUNTER_TYPE_NAME, 64, 8};
    EXPECT(zerocp_subscriber_create(runtime, service, &smaller, NULL, &subscriber, &error),
           ZEROCP_ERR_REFUSED, NULL);
    zerocp_subscriber_options_t sub_options;
    zerocp_subscriber_options_default(&sub_options);
    sub_options.full_policy = 9;
    EXPECT(zerocp_subscriber_create(runtime, service, &type, &sub_options, &subscriber, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "full_policy");
    EXPECT(zerocp_subscriber_create(runtime, service, &type, NULL, &subscriber, &error), ZEROCP_OK, "");
    zerocp_sample_t sample;
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_EMPTY, "");
    EXPECT(zerocp_subscriber_take(subscriber, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "sample is NULL");
    EXPECT(zerocp_subscriber_wait(subscriber, 10, &error), ZEROCP_TIMEOUT, "");
    EXPECT(zerocp_subscriber_release(subscriber, &sample, &error), ZEROCP_ERR_NOT_HELD, "not a sample");

    /* A sample released twice. */
    EXPECT(zerocp_publisher_loan(publisher, &payload, &size, &error), ZEROCP_OK, "");
    memset(payload, 0, size);
    EXPECT(zerocp_publisher_publish(publisher, payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_release(subscriber, sample.payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_release(subscriber, sample.payload, &error), ZEROCP_ERR_NOT_HELD, "not a sample");

    /* A copy: exactly the type's size, byte for byte; nothing published
     * otherwise. */
    counter_t copied;
    memset(&copied, 0x3c, sizeof copied);
    EXPECT(zerocp_publisher_publish_copy(publisher, NULL, sizeof copied, &error), ZEROCP_ERR_NULL_ARGUMENT,
           "data is NULL");
    EXPECT(zerocp_publisher_publish_copy(publisher, &copied, sizeof copied - 1, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "71 bytes does not fit");
    EXPECT(zerocp_publisher_publish_copy(zero, &copied, sizeof copied, &error), ZEROCP_ERR_INVALID_HANDLE,
           "zero");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_EMPTY, "");
    EXPECT(zerocp_publisher_publish_copy(publisher, &copied, sizeof copied, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take(subscriber, &sample, &error), ZEROCP_OK, "");
    if (sample.size != sizeof copied || memcmp(sample.payload, &copied, sizeof copied) != 0) {
        fprintf(stderr, "copied sample: %zu bytes, not the bytes sent\n", sample.size);
        failures++;
    }
    EXPECT(zerocp_subscriber_release(subscriber, sample.payload, &error), ZEROCP_OK, "");

    /* Copies out: a buffer that holds the type, the sample released within
     * the call (more copies than max_held samples, 8 by default). */
    counter_t received;
    EXPECT(zerocp_subscriber_take_copy(subscriber, NULL, sizeof received, &sample, &error),
           ZEROCP_ERR_NULL_ARGUMENT, "buffer is NULL");
    EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received, &sample, &error), ZEROCP_EMPTY, "");
    EXPECT(zerocp_publisher_publish_copy(publisher, &copied, sizeof copied, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received - 1, &sample, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "capacity");
    for (int i = 0; i < 10; i++) {
        if (i > 0) {
            copied.count = (uint64_t)i;
            EXPECT(zerocp_publisher_publish_copy(publisher, &copied, sizeof copied, &error), ZEROCP_OK, "");
        }
        EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received, &sample, &error), ZEROCP_OK,
               "");
        if (memcmp(&received, &copied, sizeof copied) != 0 || sample.payload != &received ||
            sample.size != sizeof received || sample.user_header != NULL) {
            fprintf(stderr, "copy %d: not the bytes sent, or not described as the buffer\n", i);
            failures++;
        }
    }
    EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received, NULL, &error), ZEROCP_EMPTY, "");
    zerocp_subscriber_t no_subscriber = {0};
    EXPECT(zerocp_subscriber_take_copy(no_subscriber, &received, sizeof received, NULL, &error),
           ZEROCP_ERR_INVALID_HANDLE, "zero");

    /* A larger buffer: only the sample's bytes are written. */
    unsigned char roomy[sizeof(counter_t) + 8];
    memset(roomy, 0xee, sizeof roomy);
    EXPECT(zerocp_publisher_publish_copy(publisher, &copied, sizeof copied, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    sample.size = 0;
    EXPECT(zerocp_subscriber_take_copy(subscriber, roomy, sizeof roomy, &sample, &error), ZEROCP_OK, "");
    if (sample.size != sizeof(counter_t) || sample.payload != roomy || memcmp(roomy, &copied, sizeof copied) != 0 ||
        roomy[sizeof(counter_t)] != 0xee || roomy[sizeof roomy - 1] != 0xee) {
        fprintf(stderr, "roomy copy: %zu bytes, or bytes written past the sample\n", sample.size);
        failures++;
    }
    /* An empty queue leaves the description alone. */
    sample.size = 0;
    EXPECT(zerocp_subscriber_take_copy(subscriber, roomy, sizeof roomy, &sample, &error), ZEROCP_EMPTY, "");
    if (sample.size != 0) {
        fprintf(stderr, "an empty take_copy wrote the sample's description\n");
        failures++;
    }

    /* A copy counts as held during the call: with max_held (8) samples
     * held it fails, and the sample stays queued. */
    zerocp_sample_t held[8];
    for (int i = 0; i < 9; i++)
        EXPECT(zerocp_publisher_publish_copy(publisher, &copied, sizeof copied, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 5000, &error), ZEROCP_OK, "");
    for (int i = 0; i < 8; i++)
        EXPECT(zerocp_subscriber_take(subscriber, &held[i], &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received, NULL, &error), ZEROCP_ERR_LIMIT,
           "max_held");
    for (int i = 0; i < 8; i++)
        EXPECT(zerocp_subscriber_release(subscriber, held[i].payload, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received, NULL, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_take_copy(subscriber, &received, sizeof received, NULL, &error), ZEROCP_EMPTY, "");

    slice_errors(runtime);

    /* Wait sets: NULL outs, no room for ids, unknown attachments, handles
     * of another kind. */
    zerocp_waitset_t waitset;
    zerocp_waitset_t no_waitset = {0};
    uint64_t attachment;
    uint64_t ids[4];
    size_t count = 99;
    int fd;
    EXPECT(zerocp_waitset_create(NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "out is NULL");
    EXPECT(zerocp_waitset_create(&waitset, &error), ZEROCP_OK, "");
    EXPECT(zerocp_waitset_attach_subscriber(no_waitset, subscriber, &attachment, &error),
           ZEROCP_ERR_INVALID_HANDLE, "zero");
    EXPECT(zerocp_waitset_attach_subscriber(waitset, subscriber, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT,
           "attachment is NULL");
    zerocp_subscriber_t set_as_subscriber = {waitset.id};
    EXPECT(zerocp_waitset_attach_subscriber(waitset, set_as_subscriber, &attachment, &error),
           ZEROCP_ERR_INVALID_HANDLE, "not a subscriber handle");
    EXPECT(zerocp_waitset_attach_subscriber(waitset, subscriber, &attachment, &error), ZEROCP_OK, "");
    EXPECT(zerocp_waitset_wait(waitset, 0, NULL, 4, &count, &error), ZEROCP_ERR_NULL_ARGUMENT, "ids is NULL");
    EXPECT(zerocp_waitset_wait(waitset, 0, NULL, 0, &count, &error), ZEROCP_ERR_NULL_ARGUMENT, "ids is NULL");
    EXPECT(zerocp_waitset_wait(waitset, 0, ids, 0, &count, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "capacity is 0");
    EXPECT(zerocp_waitset_wait(waitset, 0, ids, 4, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "count is NULL");
    EXPECT(zerocp_waitset_wait(waitset, 10, ids, 4, &count, &error), ZEROCP_TIMEOUT, "");
    if (count != 0) {
        fprintf(stderr, "a timed-out wait reported %zu ids\n", count);
        failures++;
    }
    EXPECT(zerocp_waitset_attach_fd(waitset, -1, &attachment, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "negative");
    EXPECT(zerocp_waitset_attach_fd(waitset, 999, &attachment, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "not an open descriptor");
    FILE *regular = tmpfile();
    EXPECT(zerocp_waitset_attach_fd(waitset, fileno(regular), &attachment, &error),
           ZEROCP_ERR_INVALID_ARGUMENT, "cannot be watched");
    fclose(regular);
    EXPECT(zerocp_waitset_attach_fd(waitset, 0, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "attachment is NULL");
    EXPECT(zerocp_waitset_fd(waitset, NULL, &error), ZEROCP_ERR_NULL_ARGUMENT, "fd is NULL");
    EXPECT(zerocp_waitset_fd(waitset, &fd, &error), ZEROCP_OK, "");
    EXPECT(zerocp_waitset_detach(waitset, attachment + 7, &error), ZEROCP_ERR_INVALID_ARGUMENT,
           "not attached");
    EXPECT(zerocp_waitset_detach(waitset, attachment, &error), ZEROCP_OK, "");
    EXPECT(zerocp_waitset_detach(waitset, attachment, &error), ZEROCP_ERR_INVALID_ARGUMENT, "not attached");
    /* Left attached: destroying the subscriber below detaches it. */
    EXPECT(zerocp_waitset_attach_subscriber(waitset, subscriber, &attachment, &error), ZEROCP_OK, "");

    /* Handles used after destroy, and as another kind. */
    zerocp_subscriber_t as_subscriber = {publisher.id};
    EXPECT(zerocp_subscriber_take(as_subscriber, &sample, &error), ZEROCP_ERR_INVALID_HANDLE,
           "not a subscriber handle");
    EXPECT(zerocp_publisher_destroy(publisher, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_destroy(publisher, &error), ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    EXPECT(zerocp_publisher_loan(publisher, &payload, &size, &error), ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    EXPECT(zerocp_subscriber_destroy(subscriber, &error), ZEROCP_OK, "");
    EXPECT(zerocp_subscriber_wait(subscriber, 0, &error), ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    /* A destroyed subscriber is detached implicitly; its id is still
     * accepted once by detach. */
    EXPECT(zerocp_waitset_wait(waitset, 0, ids, 4, &count, &error), ZEROCP_TIMEOUT, "");
    EXPECT(zerocp_waitset_attach_subscriber(waitset, subscriber, &attachment, &error),
           ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    EXPECT(zerocp_waitset_detach(waitset, attachment, &error), ZEROCP_OK, "");
    EXPECT(zerocp_waitset_detach(waitset, attachment, &error), ZEROCP_ERR_INVALID_ARGUMENT, "not attached");
    EXPECT(zerocp_waitset_destroy(waitset, &error), ZEROCP_OK, "");
    EXPECT(zerocp_waitset_destroy(waitset, &error), ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    EXPECT(zerocp_waitset_wait(waitset, 0, ids, 4, &count, &error), ZEROCP_ERR_INVALID_HANDLE, "wait set");
    EXPECT(zerocp_service_destroy(service, &error), ZEROCP_OK, "");
    EXPECT(zerocp_publisher_create(runtime, service, &type, NULL, &publisher, &error),
           ZEROCP_ERR_INVALID_HANDLE, "service");
    EXPECT(zerocp_runtime_destroy(runtime, &error), ZEROCP_OK, "");
    EXPECT(zerocp_runtime_destroy(runtime, &error), ZEROCP_ERR_INVALID_HANDLE, "destroyed");

    /* The error struct is optional; the code still says what happened. */
    if (zerocp_runtime_destroy(runtime, NULL) != ZEROCP_ERR_INVALID_HANDLE) {
        fprintf(stderr, "a NULL error struct changed the result\n");
        failures++;
    }
    if (strcmp(zerocp_result_name(ZEROCP_ERR_NOT_HELD), "ZEROCP_ERR_NOT_HELD") != 0) {
        fprintf(stderr, "zerocp_result_name\n");
        failures++;
    }
    if (failures != 0) {
        fprintf(stderr, "%d error checks failed\n", failures);
        return 1;
    }
    printf("all error checks passed\n");
    return 0;
}
