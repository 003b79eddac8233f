// zerocp::SlicePublisher<T, H> and zerocp::SliceSubscriber<T, H>: samples
// that are a run of T of a length chosen at each loan (an image row, a
// point cloud), with an optional user header H beside every payload (a
// frame id, an exposure time). The Rust ports of the same service are
// `publisher::<[T]>(..).user_header::<H>()`. Part of zerocp.hpp; include
// that.
#ifndef ZEROCP_SLICE_HPP
#define ZEROCP_SLICE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "../zerocp.h"
#include "held.hpp"
#include "options.hpp"
#include "owned_handle.hpp"
#include "result.hpp"
#include "runtime.hpp"
#include "subscriber.hpp"
#include "type_name.hpp"

namespace zerocp {

/// The user header parameter of a port without one.
struct NoHeader {};

namespace detail {

/// The C description of user header `H` in `storage` (NULL for `NoHeader`);
/// the pointer is what the options' `user_header` takes during a create.
template <class H>
const zerocp_type_t *header_type(zerocp_type_t &storage) noexcept {
    if constexpr (std::is_same_v<H, NoHeader>) {
        (void)storage;
        return nullptr;
    } else {
        storage = type_of<H>();
        return &storage;
    }
}

template <class H>
constexpr void require_header() noexcept {
    static_assert(!std::is_same_v<H, NoHeader>, "this port has no user header (its H is zerocp::NoHeader)");
}

}  // namespace detail

template <class T, class H>
class SlicePublisher;
template <class T, class H>
class SliceSubscriber;

/// A loaned slice of a `SlicePublisher<T, H>`: `size()` `T`s in shared
/// memory holding stale bytes (write them all) and, with a header type, an
/// `H` zero-filled at the loan. `publish()` sends it; otherwise the
/// destructor gives it back unpublished. Move-only (`detail::HeldLoan`).
///
/// ```cpp
/// auto row = publisher.loan(width);
/// if (row) { for (auto &p : row.value()) p = 0; row.value().header().id = 7; auto sent = row.value().publish(); }
/// ```
template <class T, class H = NoHeader>
class LoanedSlice {
public:
    /// Whether it still holds a loan (false once published or moved from).
    explicit operator bool() const noexcept { return data() != nullptr; }

    /// The first element (null once published or moved from; for an empty
    /// slice, an address not to read or write); writable through a
    /// non-const loan only, as every accessor below.
    T *data() noexcept { return static_cast<T *>(loan_.raw().payload); }
    const T *data() const noexcept { return static_cast<const T *>(loan_.raw().payload); }

    /// Elements loaned.
    size_t size() const noexcept { return loan_.raw().len; }

    /// Element `i` (below `size()`).
    T &operator[](size_t i) noexcept { return data()[i]; }
    const T &operator[](size_t i) const noexcept { return data()[i]; }

    /// The elements, for a range-for.
    T *begin() noexcept { return data(); }
    const T *begin() const noexcept { return data(); }
    /// The end of the elements.
    T *end() noexcept { return data() + size(); }
    const T *end() const noexcept { return data() + size(); }

    /// The user header (a port with a header type only).
    H &header() noexcept {
        detail::require_header<H>();
        return *static_cast<H *>(loan_.raw().user_header);
    }
    const H &header() const noexcept {
        detail::require_header<H>();
        return *static_cast<const H *>(loan_.raw().user_header);
    }

    /// Publishes it to every subscriber of the service. The loan is gone
    /// afterwards, whether it succeeds or fails.
    Result<void> publish() noexcept { return loan_.publish(); }

private:
    friend class SlicePublisher<T, H>;

    LoanedSlice(zerocp_publisher_t publisher, const zerocp_loan_t &raw) noexcept : loan_(publisher, raw) {}

    detail::HeldLoan loan_;
};

/// A publisher of slices of `T` with user header `H` (`NoHeader`: none).
/// Move-only; destroying it gives back its loans and removes its port.
template <class T, class H = NoHeader>
class SlicePublisher {
public:
    /// Creates a publisher on `service` of slices of at most
    /// `max_slice_len` `T`s; the daemon refuses (`ZEROCP_ERR_REFUSED`) an
    /// element or header type other than the service's.
    ///
    /// ```cpp
    /// auto rows = zerocp::SlicePublisher<uint16_t, Frame>::create(runtime, service, 640);
    /// ```
    static Result<SlicePublisher> create(const Runtime &runtime, const Service &service, uint32_t max_slice_len,
                                         const PublisherOptions &options = PublisherOptions()) noexcept {
        zerocp_type_t element = type_of<T>();
        zerocp_type_t header{};
        zerocp_publisher_options_t raw = options.raw();
        raw.shape = ZEROCP_SHAPE_SLICE;
        raw.max_slice_len = max_slice_len;
        raw.user_header = detail::header_type<H>(header);
        zerocp_error_t error;
        zerocp_publisher_t handle{};
        zerocp_result_t code =
            zerocp_publisher_create(runtime.handle(), service.handle(), &element, &raw, &handle, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return SlicePublisher(handle);
    }

    /// Loans `len` elements (0 to `max_slice_len`) to write in place.
    /// `ZEROCP_ERR_INVALID_ARGUMENT` beyond the maximum; `ZEROCP_ERR_LIMIT`
    /// when `max_loans` slices are loaned or the pool is exhausted.
    Result<LoanedSlice<T, H>> loan(size_t len) noexcept {
        zerocp_error_t error;
        zerocp_loan_t raw{};
        zerocp_result_t code = zerocp_publisher_loan_slice(handle_.get(), len, &raw, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return LoanedSlice<T, H>(handle_.get(), raw);
    }

    /// The C handle (zero once moved from).
    zerocp_publisher_t handle() const noexcept { return handle_.get(); }

private:
    explicit SlicePublisher(zerocp_publisher_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_publisher_t, zerocp_publisher_destroy> handle_;
};

/// A slice taken by a `SliceSubscriber<T, H>`: read-only `T`s in shared
/// memory, their header and metadata, released in the destructor.
/// Move-only (`detail::HeldSample`).
template <class T, class H = NoHeader>
class SampleSlice {
public:
    /// Whether it still holds a sample (false once released or moved from).
    explicit operator bool() const noexcept { return data() != nullptr; }

    /// The first element (null once released or moved from).
    const T *data() const noexcept { return static_cast<const T *>(sample_.raw().payload); }

    /// Elements in the slice (may be 0).
    size_t size() const noexcept { return sample_.raw().len; }

    /// Element `i` (below `size()`).
    const T &operator[](size_t i) const noexcept { return data()[i]; }

    /// The elements, for a range-for.
    const T *begin() const noexcept { return data(); }
    /// The end of the elements.
    const T *end() const noexcept { return data() + size(); }

    /// The user header (a port with a header type only).
    const H &header() const noexcept {
        detail::require_header<H>();
        return *static_cast<const H *>(sample_.raw().user_header);
    }

    /// The publisher's sequence number of this sample (from 0).
    uint64_t sequence() const noexcept { return sample_.raw().sequence; }

    /// The publisher's `CLOCK_MONOTONIC` when it published, in nanoseconds.
    uint64_t publish_time_ns() const noexcept { return sample_.raw().publish_time_ns; }

    /// Releases it now; releasing an empty sample fails with
    /// `ZEROCP_ERR_NOT_HELD`.
    Result<void> release() noexcept { return sample_.release(); }

private:
    friend class SliceSubscriber<T, H>;

    SampleSlice(zerocp_subscriber_t subscriber, const zerocp_sample_t &raw) noexcept : sample_(subscriber, raw) {}

    detail::HeldSample sample_;
};

/// A subscriber of slices of `T` with user header `H` (`NoHeader`: none).
/// Move-only; destroying it releases its held samples and removes its port.
template <class T, class H = NoHeader>
class SliceSubscriber {
public:
    /// Creates a subscriber of slices of `T` on `service`; the daemon
    /// refuses (`ZEROCP_ERR_REFUSED`) an element or header type other than
    /// the service's.
    static Result<SliceSubscriber> create(const Runtime &runtime, const Service &service,
                                          const SubscriberOptions &options = SubscriberOptions()) noexcept {
        zerocp_type_t element = type_of<T>();
        zerocp_type_t header{};
        zerocp_subscriber_options_t raw = options.raw();
        raw.shape = ZEROCP_SHAPE_SLICE;
        raw.user_header = detail::header_type<H>(header);
        zerocp_error_t error;
        zerocp_subscriber_t handle{};
        zerocp_result_t code =
            zerocp_subscriber_create(runtime.handle(), service.handle(), &element, &raw, &handle, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return SliceSubscriber(handle);
    }

    /// Takes the oldest queued slice: an empty optional when none is
    /// queued; `ZEROCP_ERR_LIMIT` when `max_held` samples are held.
    Result<std::optional<SampleSlice<T, H>>> take() noexcept {
        zerocp_error_t error;
        zerocp_sample_t raw{};
        zerocp_result_t code = zerocp_subscriber_take(handle_.get(), &raw, &error);
        if (code == ZEROCP_EMPTY) {
            return std::optional<SampleSlice<T, H>>();
        }
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return std::optional<SampleSlice<T, H>>(SampleSlice<T, H>(handle_.get(), raw));
    }

    /// As `Subscriber<T>::wait`.
    Result<bool> wait(std::optional<std::chrono::milliseconds> timeout) noexcept {
        return detail::wait_for_sample(handle_.get(), timeout);
    }

    /// As `Subscriber<T>::fd`.
    Result<int> fd() const noexcept { return detail::subscriber_fd(handle_.get()); }

    /// The C handle (zero once moved from).
    zerocp_subscriber_t handle() const noexcept { return handle_.get(); }

private:
    explicit SliceSubscriber(zerocp_subscriber_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_subscriber_t, zerocp_subscriber_destroy> handle_;
};

}  // namespace zerocp

#endif  // ZEROCP_SLICE_HPP
