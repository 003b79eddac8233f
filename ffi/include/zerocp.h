/* ZeroCP's C API. Generated from the zerocp-ffi crate by cbindgen
 * (scripts/ffi-header.sh): do not edit. See ffi/README.md. */

#ifndef ZEROCP_H
#define ZEROCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Bytes of `zerocp_error_t::message`, its terminating NUL included.
#define ZEROCP_ERROR_MESSAGE_LEN 256

// The largest event id (ids are `0..=ZEROCP_MAX_EVENT_ID`).
#define ZEROCP_MAX_EVENT_ID 255

// Words of `zerocp_event_set_t::words`.
#define ZEROCP_EVENT_WORDS 8

// `shape` of the publisher's and subscriber's options: one value of the
// type per sample (the default).
#define ZEROCP_SHAPE_SIZED 0

// `shape` of the publisher's and subscriber's options: a slice of the
// type's values per sample, its length chosen at each loan (Rust `[T]`).
#define ZEROCP_SHAPE_SLICE 1

// `zerocp_publisher_options_t::on_publish_timeout`: drop the sample for
// the full subscriber only and succeed (the default).
#define ZEROCP_ON_PUBLISH_TIMEOUT_DROP 0

// `zerocp_publisher_options_t::on_publish_timeout`: drop it for that
// subscriber and fail with `ZEROCP_ERR_PUBLISH_TIMEOUT`.
#define ZEROCP_ON_PUBLISH_TIMEOUT_FAIL 1

// `zerocp_publisher_options_t::publish_timeout_ms`: wait without limit.
#define ZEROCP_NO_TIMEOUT UINT64_MAX

// `zerocp_subscriber_options_t::full_policy`: a full queue drops its
// oldest sample (the default; a publisher never waits).
#define ZEROCP_FULL_POLICY_DISCARD_OLDEST 0

// `zerocp_subscriber_options_t::full_policy`: a publisher waits for room
// (at most its publish timeout).
#define ZEROCP_FULL_POLICY_BLOCK_PUBLISHER 1

// `zerocp_waitset_event_t::reason`: the attachment's subscriber has a
// sample queued, its listener an event id raised, or its descriptor is
// readable.
#define ZEROCP_READY_DATA 0

// `zerocp_waitset_event_t::reason`: the attachment's interval elapsed.
#define ZEROCP_READY_TICK 1

// `zerocp_waitset_event_t::reason`: the attachment's subscriber (or
// listener) had nothing for its deadline's period.
#define ZEROCP_READY_MISSED 2

// What a call returns: `ZEROCP_OK` (0), a positive status that is not a
// failure (`ZEROCP_TIMEOUT`, `ZEROCP_EMPTY`), or a negative error code
// naming the class of failure; the `zerocp_error_t` message names the
// details.
enum zerocp_result_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  // The call did what it was asked.
  ZEROCP_OK = 0,
  // `zerocp_subscriber_wait`, `zerocp_waitset_wait`: the timeout passed
  // with no sample queued.
  ZEROCP_TIMEOUT = 1,
  // `zerocp_subscriber_take`: no sample is queued.
  ZEROCP_EMPTY = 2,
  // A pointer argument that must not be NULL was NULL.
  ZEROCP_ERR_NULL_ARGUMENT = -1,
  // An argument is invalid: a string not UTF-8 or too long, a name the
  // runtime refuses, a size or option out of range.
  ZEROCP_ERR_INVALID_ARGUMENT = -2,
  // The handle is not a live handle of this kind: never created,
  // already destroyed, or of another kind.
  ZEROCP_ERR_INVALID_HANDLE = -3,
  // The pointer is not a loan (or a sample) of this port now: already
  // published or released, or never loaned (taken) here.
  ZEROCP_ERR_NOT_HELD = -4,
  // No daemon serves the domain, it is gone or restarting, or it
  // dropped this process.
  ZEROCP_ERR_DAEMON = -5,
  // The daemon refused the request: another type on the service, no
  // access, a payload too large for its pools.
  ZEROCP_ERR_REFUSED = -6,
  // A limit was reached: loans or held samples, chunks in the pool, a
  // quota.
  ZEROCP_ERR_LIMIT = -7,
  // The daemon revoked the port.
  ZEROCP_ERR_REVOKED = -8,
  // A publish waited for a full block-publisher subscriber past the
  // publish timeout (with `ZEROCP_ON_PUBLISH_TIMEOUT_FAIL`).
  ZEROCP_ERR_PUBLISH_TIMEOUT = -9,
  // A bug in ZeroCP: a Rust panic, caught at the C boundary. The handle
  // it happened on may refuse further calls; destroying it works.
  ZEROCP_ERR_PANIC = -10,
  // Any other failure (a corrupt chunk, a failed system call); the
  // message says which.
  ZEROCP_ERR_INTERNAL = -11,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum zerocp_result_t zerocp_result_t;
#else
typedef int32_t zerocp_result_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

// A publisher. Zero is never a valid handle.
typedef struct zerocp_publisher_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_publisher_t;

// A failure's details, filled by the call it is passed to (when not NULL):
// `code` is the call's result, `message` a NUL-terminated UTF-8 text
// (cut at a character boundary to fit). A successful call sets `code` to
// `ZEROCP_OK` and `message` to the empty string.
typedef struct zerocp_error_t {
  // The call's result (a `zerocp_result_t` value).
  int32_t code;
  // What failed, NUL-terminated.
  char message[ZEROCP_ERROR_MESSAGE_LEN];
} zerocp_error_t;

// A subscriber. Zero is never a valid handle.
typedef struct zerocp_subscriber_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_subscriber_t;

// A sample taken by `zerocp_subscriber_take`: its payload (read-only, in
// shared memory, valid until released) and metadata. Filled by
// `zerocp_subscriber_take_copy`, it describes a copy: `payload` is the
// caller's buffer (never released) and `user_header` NULL.
typedef struct zerocp_sample_t {
  // The payload's first byte, aligned for the type.
  const void *payload;
  // The payload's size in bytes (the type's size; for a slice, `len`
  // times it).
  size_t size;
  // The publisher's sequence number of this sample (from 0).
  uint64_t sequence;
  // The publisher's `CLOCK_MONOTONIC` when it published, in nanoseconds.
  uint64_t publish_time_ns;
  // The publisher's port index in the daemon's registry.
  uint32_t publisher_port;
  // The publisher port's generation (with the index: which publisher).
  uint32_t publisher_generation;
  // Elements of a slice payload (1 for a sized type; a slice may be
  // empty: then `size` is 0).
  size_t len;
  // The user header's first byte (read-only, valid as the payload is),
  // or NULL when the service type has none.
  const void *user_header;
  // The user header's size in bytes (0 without one).
  size_t user_header_size;
} zerocp_sample_t;

// A process's registration with the daemon of its domain. Zero is never a
// valid handle.
typedef struct zerocp_runtime_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_runtime_t;

// A service description (`service/instance/event`). Zero is never a valid
// handle.
typedef struct zerocp_service_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_service_t;

// A notifier. Zero is never a valid handle.
typedef struct zerocp_notifier_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_notifier_t;

// A listener. Zero is never a valid handle.
typedef struct zerocp_listener_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_listener_t;

// The event ids a listener took: id `n` is in the set when bit `n % 32`
// of `words[n / 32]` is set (`zerocp_event_set_contains` tests it).
typedef struct zerocp_event_set_t {
  // The bitmap.
  uint32_t words[ZEROCP_EVENT_WORDS];
} zerocp_event_set_t;

// A payload type: `name` (1 to 128 bytes, e.g. `"zerocp_examples::Counter"`),
// `size` (`sizeof`, at least 1) and `align` (`_Alignof`, a power of two).
typedef struct zerocp_type_t {
  // The type's name, NUL-terminated, as every port of the service names it.
  const char *name;
  // Its size in bytes.
  size_t size;
  // Its alignment in bytes.
  size_t align;
} zerocp_type_t;

// A publisher's options; `zerocp_publisher_options_default` fills the
// defaults (NULL options mean them too).
typedef struct zerocp_publisher_options_t {
  // Latest samples kept for subscribers that join later: 0..=32, default 0.
  uint32_t history;
  // Samples loaned at once: 1..=32, default 4.
  uint32_t max_loans;
  // Longest wait of one publish for full block-publisher subscribers, in
  // milliseconds (`ZEROCP_NO_TIMEOUT`: no limit).
  uint64_t publish_timeout_ms;
  // `ZEROCP_ON_PUBLISH_TIMEOUT_DROP` (default) or `_FAIL`.
  uint32_t on_publish_timeout;
  // `ZEROCP_SHAPE_SIZED` (default: one `type` per sample) or
  // `ZEROCP_SHAPE_SLICE` (up to `max_slice_len` of them, loaned with
  // `zerocp_publisher_loan_slice`).
  uint32_t shape;
  // The longest slice in elements, at least 1 for `ZEROCP_SHAPE_SLICE`
  // (ignored for a sized type); default 0.
  uint32_t max_slice_len;
  // The type of the user header beside every payload (metadata such as
  // a frame id), or NULL (default) for none; read during the call.
  const struct zerocp_type_t *user_header;
} zerocp_publisher_options_t;

// A loan's parts (`zerocp_publisher_loan_slice`), in shared memory and
// the caller's until the loan is published or released.
typedef struct zerocp_loan_t {
  // The payload's first byte, aligned for the type, holding stale
  // bytes: write every byte. It names the loan to
  // `zerocp_publisher_publish` and `_release`.
  void *payload;
  // The payload's size in bytes: `len` times the type's size.
  size_t size;
  // Elements loaned (1 for a sized type).
  size_t len;
  // The user header's first byte, zero-filled, or NULL when the
  // publisher has none.
  void *user_header;
  // The user header's size in bytes (0 without one).
  size_t user_header_size;
} zerocp_loan_t;

// A subscriber's options; `zerocp_subscriber_options_default` fills the
// defaults (NULL options mean them too).
typedef struct zerocp_subscriber_options_t {
  // Samples queued and not yet taken: 1..=256, default 16.
  uint32_t queue_capacity;
  // `ZEROCP_FULL_POLICY_DISCARD_OLDEST` (default) or `_BLOCK_PUBLISHER`.
  uint32_t full_policy;
  // Each publisher's latest samples received on connecting: 0..=32,
  // default 0.
  uint32_t history;
  // Samples taken and not released, at once: 1..=32, default 8.
  uint32_t max_held;
  // Checks of the queue before `zerocp_subscriber_wait` sleeps (0:
  // sleep at once).
  uint32_t wait_spins;
  // `ZEROCP_SHAPE_SIZED` (default: one `type` per sample) or
  // `ZEROCP_SHAPE_SLICE` (a slice of them; `zerocp_sample_t::len` says
  // how many).
  uint32_t shape;
  // The type of the user header beside every payload, or NULL
  // (default) for none; read during the call.
  const struct zerocp_type_t *user_header;
} zerocp_subscriber_options_t;

// A wait set. Zero is never a valid handle.
typedef struct zerocp_waitset_t {
  // The handle's id (opaque).
  uint64_t id;
} zerocp_waitset_t;

// One ready attachment and why it is ready (`zerocp_waitset_wait_events`).
typedef struct zerocp_waitset_event_t {
  // The attachment's id.
  uint64_t attachment;
  // `ZEROCP_READY_DATA`, `ZEROCP_READY_TICK` or `ZEROCP_READY_MISSED`.
  uint32_t reason;
} zerocp_waitset_event_t;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// Publishes a copy of the `size` bytes at `data` in one call: loans a
// sample, copies them into it and publishes it, as `zerocp_publisher_loan`
// (or `_loan_slice`) and `zerocp_publisher_publish` would, without a loan
// for the caller to track. `size` is the type's size, or for a slice type
// a whole number of elements up to `max_slice_len`; the user header, if
// the publisher has one, is published zero-filled (loan the sample to
// write it). Fails as the loan and the publish do, and with
// `ZEROCP_ERR_INVALID_ARGUMENT` (nothing published) for a `size` that is
// not a payload of this publisher's type.
//
// # Safety
//
// `data` is NULL (refused) or points to `size` readable bytes: any
// memory of the caller's, a loan or a held sample included, but not one
// already published or released; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_publisher_publish_copy(struct zerocp_publisher_t publisher,
                                              const void *data,
                                              size_t size,
                                              struct zerocp_error_t *error);

// Takes the oldest queued sample as a copy in one call: copies its
// payload into the `capacity` bytes at `buffer`, fills `*sample` (when not
// NULL) with its metadata, `payload` pointing at `buffer`, and releases
// it, as `zerocp_subscriber_take` and `zerocp_subscriber_release` would;
// `ZEROCP_EMPTY` (not an error) when none is queued.
//
// For sized types without a user header: a slice or a user header is
// `ZEROCP_ERR_INVALID_ARGUMENT` (take such samples with
// `zerocp_subscriber_take`), and so is a `capacity` below the type's size;
// in either case nothing is taken. The sample counts as held during the
// call: `ZEROCP_ERR_LIMIT` when `max_held` samples are held already.
//
// # Safety
//
// `buffer` is NULL (refused) or points to `capacity` writable bytes: any
// memory of the caller's, a loan included, but not one already published
// or released; `sample` is NULL or writable; `error` is NULL or points to
// a writable `zerocp_error_t`.
zerocp_result_t zerocp_subscriber_take_copy(struct zerocp_subscriber_t subscriber,
                                            void *buffer,
                                            size_t capacity,
                                            struct zerocp_sample_t *sample,
                                            struct zerocp_error_t *error);

// The name of the result code `code` (`"ZEROCP_ERR_DAEMON"`), or
// `"unknown"`: a static string, never freed.
const char *zerocp_result_name(int32_t code);

// Creates a notifier on the event service `service` and stores its handle
// in `*out`. The service's segment group must admit the process by its
// `publish` rule (else `ZEROCP_ERR_REFUSED`); a service with publishers or
// subscribers is not an event service (`ZEROCP_ERR_REFUSED`).
//
// # Safety
//
// `out` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_notifier_create(struct zerocp_runtime_t runtime,
                                       struct zerocp_service_t service,
                                       struct zerocp_notifier_t *out,
                                       struct zerocp_error_t *error);

// Raises `event_id` in every listener of the service and wakes those
// asleep; stores how many listeners it reached in `*reached` (NULL: not
// wanted). An id above `ZEROCP_MAX_EVENT_ID` is
// `ZEROCP_ERR_INVALID_ARGUMENT`.
//
// # Safety
//
// `reached` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_notifier_notify(struct zerocp_notifier_t notifier,
                                       uint32_t event_id,
                                       size_t *reached,
                                       struct zerocp_error_t *error);

// Destroys a notifier: its port is removed. The handle is invalid
// afterwards.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_notifier_destroy(struct zerocp_notifier_t notifier,
                                        struct zerocp_error_t *error);

// Creates a listener on the event service `service` and stores its
// handle in `*out`. The service's segment group must admit the process by
// its `subscribe` rule (else `ZEROCP_ERR_REFUSED`).
//
// # Safety
//
// `out` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_listener_create(struct zerocp_runtime_t runtime,
                                       struct zerocp_service_t service,
                                       struct zerocp_listener_t *out,
                                       struct zerocp_error_t *error);

// Takes the ids raised since the last take into `*events`, without
// sleeping: `ZEROCP_OK` with at least one id, `ZEROCP_EMPTY` (and an
// empty set) when none was raised.
//
// # Safety
//
// `events` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_listener_try_wait(struct zerocp_listener_t listener,
                                         struct zerocp_event_set_t *events,
                                         struct zerocp_error_t *error);

// Sleeps until an id is raised or `timeout_ms` milliseconds pass (a
// negative timeout waits without limit), then takes the raised ids into
// `*events`: `ZEROCP_OK`, or `ZEROCP_TIMEOUT` with an empty set. No
// system call when an id is pending already; `ZEROCP_ERR_DAEMON` once the
// daemon is gone, also while sleeping. Other calls on this listener,
// `zerocp_listener_destroy` included, wait until it returns.
//
// # Safety
//
// `events` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_listener_wait(struct zerocp_listener_t listener,
                                     int64_t timeout_ms,
                                     struct zerocp_event_set_t *events,
                                     struct zerocp_error_t *error);

// Stores the listener's wake descriptor in `*fd`, for the application's
// own `poll`/`epoll` loop: readable when an id is raised, and also when
// the daemon goes or revokes the port. Protocol: when readable,
// `zerocp_listener_try_wait` until `ZEROCP_EMPTY` (that empty take
// re-arms it), then poll again; never read it yourself. It belongs to the
// listener (closed by `zerocp_listener_destroy`).
//
// # Safety
//
// `fd` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_listener_fd(struct zerocp_listener_t listener,
                                   int32_t *fd,
                                   struct zerocp_error_t *error);

// Destroys a listener: its port is removed (a wait set it is attached to
// detaches it implicitly). The handle is invalid afterwards.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_listener_destroy(struct zerocp_listener_t listener,
                                        struct zerocp_error_t *error);

// Whether `event_id` is in `*events` (false for NULL or an id above
// `ZEROCP_MAX_EVENT_ID`).
//
// # Safety
//
// `events` is NULL or points to a readable `zerocp_event_set_t`.
bool zerocp_event_set_contains(const struct zerocp_event_set_t *events, uint32_t event_id);

// Fills `*out` with the default publisher options.
//
// # Safety
//
// `out` is NULL (then nothing happens) or writable.
void zerocp_publisher_options_default(struct zerocp_publisher_options_t *out);

// Creates a publisher of one `*type` per sample (or a slice of them, and
// a user header, as `*options` say) on `service` with `*options` (NULL:
// the defaults) and stores its handle in `*out`. The daemon refuses
// (`ZEROCP_ERR_REFUSED`) a type other than the one the service's ports
// have; a Rust port's type is its `type_name`, size and alignment, its
// shape (`[T]` is a slice) and its user header type.
//
// # Safety
//
// `type` and `options->user_header` each point to a readable
// `zerocp_type_t` (its name NUL-terminated) or are NULL; `options` is
// NULL or readable; `out` is NULL or writable; `error` is NULL or points
// to a writable `zerocp_error_t`.
zerocp_result_t zerocp_publisher_create(struct zerocp_runtime_t runtime,
                                        struct zerocp_service_t service,
                                        const struct zerocp_type_t *type,
                                        const struct zerocp_publisher_options_t *options,
                                        struct zerocp_publisher_t *out,
                                        struct zerocp_error_t *error);

// Loans a sample: stores the address of its payload in shared memory
// (aligned for the type, holding stale bytes: write every byte) in
// `*payload` and its size in `*size` (the type's size; for a slice
// type, one element). Publish it with `zerocp_publisher_publish` or give
// it back with `zerocp_publisher_release`; the memory is the caller's
// until then. Fails with `ZEROCP_ERR_LIMIT` when `max_loans` samples are
// loaned or the pool or a quota is exhausted.
//
// # Safety
//
// `payload` and `size` are NULL or writable; `error` is NULL or points to
// a writable `zerocp_error_t`.
zerocp_result_t zerocp_publisher_loan(struct zerocp_publisher_t publisher,
                                      void **payload,
                                      size_t *size,
                                      struct zerocp_error_t *error);

// Loans a sample of `len` elements of a slice type (`len` from 0 to the
// publisher's `max_slice_len`; exactly 1 for a sized type) with its user
// header, and stores its parts in `*loan`. Publish or release it by
// `loan->payload`, as a loan of `zerocp_publisher_loan`.
// `ZEROCP_ERR_INVALID_ARGUMENT` for a longer slice, or a `len` other than 1
// for a sized type; `ZEROCP_ERR_LIMIT` as `zerocp_publisher_loan`.
//
// # Safety
//
// `loan` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_publisher_loan_slice(struct zerocp_publisher_t publisher,
                                            size_t len,
                                            struct zerocp_loan_t *loan,
                                            struct zerocp_error_t *error);

// Publishes the loan whose payload is at `payload` to every subscriber
// of the service; the pointer is no longer the caller's, whether it
// succeeds or fails. `ZEROCP_ERR_NOT_HELD` when `payload` is not a loan
// of this publisher now.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`; every byte of
// the payload was written.
zerocp_result_t zerocp_publisher_publish(struct zerocp_publisher_t publisher,
                                         void *payload,
                                         struct zerocp_error_t *error);

// Gives the loan whose payload is at `payload` back unpublished.
// `ZEROCP_ERR_NOT_HELD` when it is not a loan of this publisher now.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_publisher_release(struct zerocp_publisher_t publisher,
                                         void *payload,
                                         struct zerocp_error_t *error);

// Destroys a publisher: its loans are given back, its port removed (the
// daemon releases its history). The handle is invalid afterwards.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_publisher_destroy(struct zerocp_publisher_t publisher,
                                         struct zerocp_error_t *error);

// Registers this process as `name` (1 to 32 bytes, no control characters)
// with the daemon of `domain`, or of `ZEROCP_DOMAIN` (default `default`)
// when `domain` is NULL, and stores the runtime's handle in `*out`.
//
// The runtime re-registers by itself when the daemon restarts. Fails with
// `ZEROCP_ERR_DAEMON` when no daemon serves the domain.
//
// # Safety
//
// `name` and `domain` are NULL or NUL-terminated strings; `out` is NULL or
// writable; `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_runtime_create(const char *name,
                                      const char *domain,
                                      struct zerocp_runtime_t *out,
                                      struct zerocp_error_t *error);

// Destroys a runtime handle. Its publishers and subscribers keep working
// (they keep the registration alive); the process unregisters when the
// last of them is destroyed too.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_runtime_destroy(struct zerocp_runtime_t runtime,
                                       struct zerocp_error_t *error);

// Makes the service description `service/instance/event` (each part 1 to
// 64 bytes of ASCII letters, digits and `_-.:/`) and stores its handle in
// `*out`; a bad part is `ZEROCP_ERR_INVALID_ARGUMENT` naming it.
//
// # Safety
//
// The three strings are NULL or NUL-terminated; `out` is NULL or
// writable; `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_service_create(const char *service,
                                      const char *instance,
                                      const char *event,
                                      struct zerocp_service_t *out,
                                      struct zerocp_error_t *error);

// Destroys a service description handle (ports made with it keep working).
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_service_destroy(struct zerocp_service_t service,
                                       struct zerocp_error_t *error);

// Fills `*out` with the default subscriber options.
//
// # Safety
//
// `out` is NULL (then nothing happens) or writable.
void zerocp_subscriber_options_default(struct zerocp_subscriber_options_t *out);

// Creates a subscriber of one `*type` per sample (or a slice of them, and
// a user header, as `*options` say) on `service` with `*options` (NULL:
// the defaults) and stores its handle in `*out`; the daemon refuses
// (`ZEROCP_ERR_REFUSED`) another type than the service's.
//
// # Safety
//
// As `zerocp_publisher_create`.
zerocp_result_t zerocp_subscriber_create(struct zerocp_runtime_t runtime,
                                         struct zerocp_service_t service,
                                         const struct zerocp_type_t *type,
                                         const struct zerocp_subscriber_options_t *options,
                                         struct zerocp_subscriber_t *out,
                                         struct zerocp_error_t *error);

// Takes the oldest queued sample into `*sample`; `ZEROCP_EMPTY` (not an
// error) when none is queued. Release it with `zerocp_subscriber_release`;
// `ZEROCP_ERR_LIMIT` when `max_held` samples are held already.
//
// # Safety
//
// `sample` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_subscriber_take(struct zerocp_subscriber_t subscriber,
                                       struct zerocp_sample_t *sample,
                                       struct zerocp_error_t *error);

// Releases the sample whose payload is at `payload` (from
// `zerocp_sample_t::payload`). `ZEROCP_ERR_NOT_HELD` when it is not a
// sample this subscriber holds now.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_subscriber_release(struct zerocp_subscriber_t subscriber,
                                          const void *payload,
                                          struct zerocp_error_t *error);

// Sleeps until a sample is queued (`ZEROCP_OK`), `timeout_ms`
// milliseconds pass (`ZEROCP_TIMEOUT`; a negative timeout waits without
// limit) or the daemon is gone (`ZEROCP_ERR_DAEMON`). A publisher leaving
// wakes it too: then it returns `ZEROCP_TIMEOUT` early, as nothing is
// queued; a caller with a deadline waits again for the rest.
//
// Other calls on this subscriber, `zerocp_subscriber_destroy` included,
// wait until it returns. To stop a thread that waits without limit, wait
// on a wait set or the subscriber's descriptor together with one of your
// own instead.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_subscriber_wait(struct zerocp_subscriber_t subscriber,
                                       int64_t timeout_ms,
                                       struct zerocp_error_t *error);

// Stores the subscriber's wake descriptor in `*fd`, for the
// application's own `poll`/`epoll` loop (to wait for several subscribers,
// sockets and timers in one place): it is readable when a sample is
// queued, and also when the daemon goes or revokes the port (then the
// next call returns the error). Protocol: when readable, take until
// `ZEROCP_EMPTY` (that empty take re-arms it), then poll again; never read
// it yourself. The descriptor belongs to the subscriber: it stays the same
// (also across a daemon restart) until `zerocp_subscriber_destroy`, which
// closes it.
//
// # Safety
//
// `fd` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_subscriber_fd(struct zerocp_subscriber_t subscriber,
                                     int32_t *fd,
                                     struct zerocp_error_t *error);

// Destroys a subscriber: its held samples are released, its port
// removed. The handle is invalid afterwards.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_subscriber_destroy(struct zerocp_subscriber_t subscriber,
                                          struct zerocp_error_t *error);

// Creates an empty wait set (one epoll descriptor) and stores its handle
// in `*out`.
//
// # Safety
//
// `out` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_waitset_create(struct zerocp_waitset_t *out, struct zerocp_error_t *error);

// Waits until an attachment is ready (`ZEROCP_OK`) or `timeout_ms`
// milliseconds pass (`ZEROCP_TIMEOUT`, `*count` 0; a negative timeout
// waits without limit, 0 only looks): a subscriber with a sample queued,
// a listener with an event id raised, a readable descriptor, an elapsed
// interval or a missed deadline. Writes the ids of the ready attachments,
// in attachment order, to `ids[0..*count]`, at most `capacity` of them:
// the others stay ready and the next wait reports them (pass room for
// every attachment to see all at once). Take from each reported
// subscriber until `ZEROCP_EMPTY`, then wait again: an attachment is
// reported as long as its queue holds a sample. To learn why each is
// ready, use `zerocp_waitset_wait_events`.
//
// Fails with `ZEROCP_ERR_DAEMON` when the daemon is gone (also while
// sleeping) and `ZEROCP_ERR_REVOKED` when the daemon revoked an attached
// subscriber (the message names the attachment; detach it).
//
// # Safety
//
// `ids` is NULL or writable for `capacity` `uint64_t`s; `count` is NULL or
// writable; `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_wait(struct zerocp_waitset_t waitset,
                                    int64_t timeout_ms,
                                    uint64_t *ids,
                                    size_t capacity,
                                    size_t *count,
                                    struct zerocp_error_t *error);

// Waits as `zerocp_waitset_wait` does and writes each ready attachment
// with its reason (`ZEROCP_READY_DATA`, `_TICK` or `_MISSED`) to
// `events[0..*count]`, at most `capacity` of them.
//
// # Safety
//
// `events` is NULL or writable for `capacity` `zerocp_waitset_event_t`s;
// `count` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_waitset_wait_events(struct zerocp_waitset_t waitset,
                                           int64_t timeout_ms,
                                           struct zerocp_waitset_event_t *events,
                                           size_t capacity,
                                           size_t *count,
                                           struct zerocp_error_t *error);

// Stores the wait set's own descriptor in `*fd`, for an outer
// `poll`/`epoll` loop: it is readable when an attached subscriber has a
// sample queued; then call `zerocp_waitset_wait` with timeout 0 and take
// from the reported subscribers until `ZEROCP_EMPTY`. It belongs to the
// set (closed by `zerocp_waitset_destroy`); never read it yourself.
//
// # Safety
//
// `fd` is NULL or writable; `error` is NULL or points to a writable
// `zerocp_error_t`.
zerocp_result_t zerocp_waitset_fd(struct zerocp_waitset_t waitset,
                                  int32_t *fd,
                                  struct zerocp_error_t *error);

// Destroys a wait set: its attachments are detached (the subscribers stay
// as they are) and its descriptor closed. The handle is invalid
// afterwards; a wait running on another thread returns first (destroy
// waits for it).
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_destroy(struct zerocp_waitset_t waitset,
                                       struct zerocp_error_t *error);

// Attaches `subscriber` to `waitset` and stores the attachment's id in
// `*attachment` (from 1, never reused within a set): `zerocp_waitset_wait`
// reports that id while the subscriber has a sample queued. One
// subscriber may be attached to several sets, and to one set twice.
// Arms the subscriber's wake descriptor (as `zerocp_subscriber_fd`).
//
// Destroying the subscriber detaches it implicitly: no wait reports it
// again; `zerocp_waitset_detach` still accepts its id.
//
// # Safety
//
// `attachment` is NULL or writable; `error` is NULL or points to a
// writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_attach_subscriber(struct zerocp_waitset_t waitset,
                                                 struct zerocp_subscriber_t subscriber,
                                                 uint64_t *attachment,
                                                 struct zerocp_error_t *error);

// Attaches `listener` to `waitset` as `zerocp_waitset_attach_subscriber`
// attaches a subscriber: `zerocp_waitset_wait` reports the attachment's id
// while an event id is raised in the listener (take them with
// `zerocp_listener_try_wait`). Destroying the listener detaches it
// implicitly.
//
// # Safety
//
// `attachment` is NULL or writable; `error` is NULL or points to a
// writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_attach_listener(struct zerocp_waitset_t waitset,
                                               struct zerocp_listener_t listener,
                                               uint64_t *attachment,
                                               struct zerocp_error_t *error);

// Attaches the application's descriptor `fd` (a socket, pipe, timerfd,
// eventfd, …) to `waitset` and stores the attachment's id in
// `*attachment`: `zerocp_waitset_wait` reports it while `fd` is readable
// (or hung up, or in error; level-triggered, as `poll` says): read it
// (or detach it). The set keeps its own duplicate until the attachment
// is detached, so closing `fd` does not detach it.
// `ZEROCP_ERR_INVALID_ARGUMENT` for a negative or closed descriptor, or
// one epoll cannot watch (a regular file, a directory).
//
// # Safety
//
// `fd` is an open descriptor or not one (never a descriptor another
// thread closes meanwhile); `attachment` is NULL or writable; `error` is
// NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_attach_fd(struct zerocp_waitset_t waitset,
                                         int32_t fd,
                                         uint64_t *attachment,
                                         struct zerocp_error_t *error);

// Attaches a deadline on `subscriber` to `waitset` and stores the
// attachment's id in `*attachment`: `zerocp_waitset_wait_events` reports
// it `ZEROCP_READY_DATA` while the subscriber has a sample queued and
// `ZEROCP_READY_MISSED` when it had none at any look for `period_ms`
// milliseconds (a watchdog for a silent sensor); either starts the period
// again. `ZEROCP_ERR_INVALID_ARGUMENT` for a period of 0 or one longer
// than 30 days. Destroying the subscriber detaches it implicitly.
//
// # Safety
//
// `attachment` is NULL or writable; `error` is NULL or points to a
// writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_attach_subscriber_deadline(struct zerocp_waitset_t waitset,
                                                          struct zerocp_subscriber_t subscriber,
                                                          uint64_t period_ms,
                                                          uint64_t *attachment,
                                                          struct zerocp_error_t *error);

// Attaches a deadline on `listener` to `waitset`, as
// `zerocp_waitset_attach_subscriber_deadline` does on a subscriber: data
// is an event id raised in the listener.
//
// # Safety
//
// `attachment` is NULL or writable; `error` is NULL or points to a
// writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_attach_listener_deadline(struct zerocp_waitset_t waitset,
                                                        struct zerocp_listener_t listener,
                                                        uint64_t period_ms,
                                                        uint64_t *attachment,
                                                        struct zerocp_error_t *error);

// Attaches an interval to `waitset` and stores the attachment's id in
// `*attachment`: the wait reports it (`ZEROCP_READY_TICK`) every
// `period_ms` milliseconds; a tick missed while nobody waited is reported
// once, and the next one is a period after the last due one still ahead.
// One set serves a control loop's timer and its inputs from one thread.
// `ZEROCP_ERR_INVALID_ARGUMENT` for a period of 0 or one longer than 30
// days.
//
// # Safety
//
// `attachment` is NULL or writable; `error` is NULL or points to a
// writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_attach_interval(struct zerocp_waitset_t waitset,
                                               uint64_t period_ms,
                                               uint64_t *attachment,
                                               struct zerocp_error_t *error);

// Detaches the attachment `attachment` from `waitset`.
// `ZEROCP_ERR_INVALID_ARGUMENT` when the set has no such attachment
// (detached already, or never attached); an attachment whose subscriber
// was destroyed is still accepted.
//
// # Safety
//
// `error` is NULL or points to a writable `zerocp_error_t`.
zerocp_result_t zerocp_waitset_detach(struct zerocp_waitset_t waitset,
                                      uint64_t attachment,
                                      struct zerocp_error_t *error);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* ZEROCP_H */
