// zerocp::Subscriber<T> and zerocp::Sample<T>: wait for samples, take them
// (read-only, in shared memory), release them. Part of zerocp.hpp; include
// that.
#ifndef ZEROCP_SUBSCRIBER_HPP
#define ZEROCP_SUBSCRIBER_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "../zerocp.h"
#include "held.hpp"
#include "options.hpp"
#include "owned_handle.hpp"
#include "result.hpp"
#include "runtime.hpp"
#include "type_name.hpp"

namespace zerocp {

namespace detail {

/// `zerocp_subscriber_wait` until a sample is queued (true) or `timeout`
/// passes (false), waiting again after an early wake (a publisher leaving).
inline Result<bool> wait_for_sample(zerocp_subscriber_t subscriber,
                                    std::optional<std::chrono::milliseconds> timeout) noexcept {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point deadline = Clock::now() + timeout.value_or(std::chrono::milliseconds(0));
    for (;;) {
        int64_t left_ms = -1;
        if (timeout) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
            left_ms = left.count() < 0 ? 0 : static_cast<int64_t>(left.count());
        }
        zerocp_error_t error;
        zerocp_result_t code = zerocp_subscriber_wait(subscriber, left_ms, &error);
        if (code == ZEROCP_OK) {
            return true;
        }
        if (code != ZEROCP_TIMEOUT) {
            return Error(error);
        }
        if (timeout && Clock::now() >= deadline) {
            return false;
        }
    }
}

/// The subscriber's wake descriptor (`zerocp_subscriber_fd`).
inline Result<int> subscriber_fd(zerocp_subscriber_t subscriber) noexcept {
    zerocp_error_t error;
    int32_t fd = -1;
    zerocp_result_t code = zerocp_subscriber_fd(subscriber, &fd, &error);
    if (code != ZEROCP_OK) {
        return Error(error);
    }
    return static_cast<int>(fd);
}

}  // namespace detail

/// A sample taken by a `Subscriber<T>`: a read-only `T` in shared memory
/// and its metadata, released in the destructor; move-only (its
/// `detail::HeldSample`). It must not outlive its
/// subscriber's use: once the subscriber is destroyed, the sample is gone.
template <class T>
class Sample {
public:
    /// Whether it still holds a sample (false once released or moved from).
    explicit operator bool() const noexcept { return get() != nullptr; }

    /// The payload (only while it holds a sample).
    const T &operator*() const noexcept { return *get(); }

    /// The payload's fields (only while it holds a sample).
    const T *operator->() const noexcept { return get(); }

    /// The payload's address (null once released or moved from).
    const T *get() const noexcept { return static_cast<const T *>(sample_.raw().payload); }

    /// The publisher's sequence number of this sample (from 0).
    uint64_t sequence() const noexcept { return sample_.raw().sequence; }

    /// The publisher's `CLOCK_MONOTONIC` when it published, in nanoseconds.
    uint64_t publish_time_ns() const noexcept { return sample_.raw().publish_time_ns; }

    /// The publisher's port index and generation (together: which publisher).
    std::pair<uint32_t, uint32_t> publisher() const noexcept {
        return {sample_.raw().publisher_port, sample_.raw().publisher_generation};
    }

    /// Releases it now; releasing an empty sample fails with
    /// `ZEROCP_ERR_NOT_HELD`.
    Result<void> release() noexcept { return sample_.release(); }

private:
    template <class>
    friend class Subscriber;

    Sample(zerocp_subscriber_t subscriber, const zerocp_sample_t &raw) noexcept : sample_(subscriber, raw) {}

    detail::HeldSample sample_;
};

/// A subscriber of one `T` per sample (a `zerocp_subscriber_t`).
/// Move-only; destroying it releases its held samples and removes its port.
template <class T>
class Subscriber {
public:
    /// Creates a subscriber of `T` on `service` with `options`; the daemon
    /// refuses (`ZEROCP_ERR_REFUSED`) another type than the service's.
    ///
    /// ```cpp
    /// auto subscriber = zerocp::Subscriber<Counter>::create(
    ///     runtime, service, zerocp::SubscriberOptions().history(5));
    /// ```
    static Result<Subscriber> create(const Runtime &runtime, const Service &service,
                                     const SubscriberOptions &options = SubscriberOptions()) noexcept {
        zerocp_type_t type = type_of<T>();
        zerocp_error_t error;
        zerocp_subscriber_t handle{};
        zerocp_result_t code =
            zerocp_subscriber_create(runtime.handle(), service.handle(), &type, &options.raw(), &handle, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return Subscriber(handle);
    }

    /// Takes the oldest queued sample: an empty optional when none is
    /// queued; `ZEROCP_ERR_LIMIT` when `max_held` samples are held.
    /// (The daemon admits only ports of `T`'s size; a sample of another
    /// size is released unread and reported as `ZEROCP_ERR_INTERNAL`.)
    ///
    /// ```cpp
    /// auto taken = subscriber.take();
    /// if (taken && *taken) { std::printf("%llu\n", (unsigned long long)(**taken)->count); }
    /// ```
    Result<std::optional<Sample<T>>> take() noexcept {
        zerocp_error_t error;
        zerocp_sample_t raw{};
        zerocp_result_t code = zerocp_subscriber_take(handle_.get(), &raw, &error);
        if (code == ZEROCP_EMPTY) {
            return std::optional<Sample<T>>();
        }
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        if (raw.size != sizeof(T)) {
            zerocp_subscriber_release(handle_.get(), raw.payload, nullptr);
            return Error(ZEROCP_ERR_INTERNAL, "a sample's size is not sizeof(T); it was released unread");
        }
        return std::optional<Sample<T>>(Sample<T>(handle_.get(), raw));
    }

    /// Takes the oldest queued sample as a copy of its `T` in one call
    /// (`zerocp_subscriber_take_copy`): an empty optional when none is
    /// queued. The sample is released before this returns; for a small `T`
    /// this is cheaper than `take()` and a release.
    ///
    /// ```cpp
    /// auto copied = subscriber.take_copy();
    /// if (copied && *copied) { std::printf("%llu\n", (unsigned long long)(*copied)->count); }
    /// ```
    Result<std::optional<T>> take_copy() noexcept {
        static_assert(std::is_default_constructible_v<T>, "take_copy() copies into a default-constructed T");
        zerocp_error_t error;
        T value;  // written by the call before it is read
        zerocp_result_t code = zerocp_subscriber_take_copy(handle_.get(), &value, sizeof(T), nullptr, &error);
        if (code == ZEROCP_EMPTY) {
            return std::optional<T>();
        }
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return std::optional<T>(value);
    }

    /// Sleeps until a sample is queued (true) or `timeout` passes (false);
    /// no timeout (`std::nullopt`) waits without limit. A publisher leaving
    /// wakes the C wait early; this waits again for the rest of the time.
    /// `ZEROCP_ERR_DAEMON` when the daemon is gone.
    Result<bool> wait(std::optional<std::chrono::milliseconds> timeout) noexcept {
        return detail::wait_for_sample(handle_.get(), timeout);
    }

    /// The wake descriptor for the application's own `poll`/`epoll` loop
    /// (see `zerocp_subscriber_fd`): when readable, take until empty.
    Result<int> fd() const noexcept { return detail::subscriber_fd(handle_.get()); }

    /// The C handle (zero once moved from).
    zerocp_subscriber_t handle() const noexcept { return handle_.get(); }

private:
    explicit Subscriber(zerocp_subscriber_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_subscriber_t, zerocp_subscriber_destroy> handle_;
};

}  // namespace zerocp

#endif  // ZEROCP_SUBSCRIBER_HPP
