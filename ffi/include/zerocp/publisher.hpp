// zerocp::Publisher<T> and zerocp::LoanedSample<T>: loan a sample in shared
// memory, write it in place, publish it. Part of zerocp.hpp; include that.
#ifndef ZEROCP_PUBLISHER_HPP
#define ZEROCP_PUBLISHER_HPP


#include "../zerocp.h"
#include "held.hpp"
#include "options.hpp"
#include "owned_handle.hpp"
#include "result.hpp"
#include "runtime.hpp"
#include "type_name.hpp"

namespace zerocp {

/// A loaned sample of a `Publisher<T>`: a `T` in shared memory, holding
/// stale bytes until written (write every field). `publish()` sends it;
/// otherwise the destructor gives it back unpublished. Move-only (its
/// `detail::HeldLoan`). It must not outlive
/// its publisher's use: once the publisher is destroyed, the loan is gone
/// (publish then fails with `ZEROCP_ERR_INVALID_HANDLE`).
template <class T>
class LoanedSample {
public:
    /// Whether it still holds a loan (false once published or moved from).
    explicit operator bool() const noexcept { return get() != nullptr; }

    /// The payload, in shared memory (only while it holds a loan);
    /// writable through a non-const loan only.
    T &operator*() noexcept { return *get(); }
    const T &operator*() const noexcept { return *get(); }

    /// The payload's fields (only while it holds a loan).
    T *operator->() noexcept { return get(); }
    const T *operator->() const noexcept { return get(); }

    /// The payload's address (null once published or moved from).
    T *get() noexcept { return static_cast<T *>(loan_.raw().payload); }
    const T *get() const noexcept { return static_cast<const T *>(loan_.raw().payload); }

    /// Publishes it to every subscriber of the service. The loan is gone
    /// afterwards, whether it succeeds or fails; publishing an empty
    /// sample fails with `ZEROCP_ERR_NOT_HELD`.
    ///
    /// ```cpp
    /// auto loan = publisher.loan();
    /// if (loan) { loan->count = 1; auto sent = loan->publish(); }
    /// ```
    Result<void> publish() noexcept { return loan_.publish(); }

private:
    template <class>
    friend class Publisher;

    LoanedSample(zerocp_publisher_t publisher, T *payload) noexcept
        : loan_(publisher, zerocp_loan_t{payload, sizeof(T), 1, nullptr, 0}) {}

    detail::HeldLoan loan_;
};

/// A publisher of one `T` per sample (a `zerocp_publisher_t`).
/// Move-only; destroying it gives back its loans and removes its port.
template <class T>
class Publisher {
public:
    /// Creates a publisher of `T` on `service` with `options`. The daemon
    /// refuses (`ZEROCP_ERR_REFUSED`) a type other than the service's
    /// (name, size and alignment must all match).
    ///
    /// ```cpp
    /// auto publisher = zerocp::Publisher<Counter>::create(runtime, service,
    ///                                                     zerocp::PublisherOptions().history(5));
    /// ```
    static Result<Publisher> create(const Runtime &runtime, const Service &service,
                                    const PublisherOptions &options = PublisherOptions()) noexcept {
        zerocp_type_t type = type_of<T>();
        zerocp_error_t error;
        zerocp_publisher_t handle{};
        zerocp_result_t code =
            zerocp_publisher_create(runtime.handle(), service.handle(), &type, &options.raw(), &handle, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return Publisher(handle);
    }

    /// Loans a sample to write in place. `ZEROCP_ERR_LIMIT` when
    /// `max_loans` samples are loaned or the pool is exhausted.
    Result<LoanedSample<T>> loan() noexcept {
        zerocp_error_t error;
        void *payload = nullptr;
        size_t size = 0;
        zerocp_result_t code = zerocp_publisher_loan(handle_.get(), &payload, &size, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        if (size != sizeof(T)) {
            zerocp_publisher_release(handle_.get(), payload, nullptr);
            return Error(ZEROCP_ERR_INTERNAL, "a loan's size is not sizeof(T); it was given back");
        }
        // The chunk is raw memory aligned and sized for T; T is trivially
        // copyable, so the caller's writes through this pointer give it its
        // value.
        return LoanedSample<T>(handle_.get(), static_cast<T *>(payload));
    }

    /// Publishes a copy of `value` in one call (`zerocp_publisher_publish_copy`):
    /// for a small `T`, cheaper than loaning, writing and publishing it.
    Result<void> publish_copy(const T &value) noexcept {
        zerocp_error_t error;
        return detail::check(zerocp_publisher_publish_copy(handle_.get(), &value, sizeof(T), &error), error);
    }

    /// The C handle (zero once moved from).
    zerocp_publisher_t handle() const noexcept { return handle_.get(); }

private:
    explicit Publisher(zerocp_publisher_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_publisher_t, zerocp_publisher_destroy> handle_;
};

}  // namespace zerocp

#endif  // ZEROCP_PUBLISHER_HPP
