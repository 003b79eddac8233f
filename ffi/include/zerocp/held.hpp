// zerocp::detail::HeldLoan and zerocp::detail::HeldSample: the one owner of
// a loan (given back unless published) and of a taken sample (released),
// which LoanedSample<T> and LoanedSlice<T, H>, Sample<T> and
// SampleSlice<T, H> hold, so that each is move-only and gives its memory
// back without repeating how. Part of zerocp.hpp; include that.
#ifndef ZEROCP_HELD_HPP
#define ZEROCP_HELD_HPP

#include <cstdint>
#include <utility>

#include "../zerocp.h"
#include "result.hpp"

namespace zerocp {
namespace detail {

/// A loan of a publisher (`zerocp_loan_t`, named by its payload): published
/// by `publish()`, otherwise given back when destroyed or assigned over.
class HeldLoan {
public:
    /// Owns `raw`, a loan of `publisher`.
    HeldLoan(zerocp_publisher_t publisher, const zerocp_loan_t &raw) noexcept : publisher_(publisher), raw_(raw) {}

    /// Takes over `other`'s loan; `other` is empty afterwards.
    HeldLoan(HeldLoan &&other) noexcept : publisher_(other.publisher_), raw_(std::exchange(other.raw_, {})) {}

    /// Gives this loan back and takes over `other`'s.
    HeldLoan &operator=(HeldLoan &&other) noexcept {
        if (this != &other) {
            reset();
            publisher_ = other.publisher_;
            raw_ = std::exchange(other.raw_, {});
        }
        return *this;
    }

    /// Not copyable: one owner per loan.
    HeldLoan(const HeldLoan &) = delete;
    /// Not copyable: one owner per loan.
    HeldLoan &operator=(const HeldLoan &) = delete;

    /// Gives the loan back unless it was published.
    ~HeldLoan() { reset(); }

    /// The loan's parts (all zero once published or moved from).
    const zerocp_loan_t &raw() const noexcept { return raw_; }

    /// Publishes it; the loan is gone afterwards, whether it succeeds or
    /// fails. `ZEROCP_ERR_NOT_HELD` for an empty one.
    Result<void> publish() noexcept {
        if (raw_.payload == nullptr) {
            return Error(ZEROCP_ERR_NOT_HELD, "the loan was published or released already");
        }
        zerocp_error_t error;
        zerocp_result_t code = zerocp_publisher_publish(publisher_, std::exchange(raw_, {}).payload, &error);
        return check(code, error);
    }

private:
    void reset() noexcept {
        if (raw_.payload != nullptr) {
            zerocp_publisher_release(publisher_, std::exchange(raw_, {}).payload, nullptr);
        }
    }

    zerocp_publisher_t publisher_;
    zerocp_loan_t raw_;
};

/// A sample taken from a subscriber (`zerocp_sample_t`): released by
/// `release()` or when destroyed or assigned over.
class HeldSample {
public:
    /// Owns `raw`, a sample taken from `subscriber`.
    HeldSample(zerocp_subscriber_t subscriber, const zerocp_sample_t &raw) noexcept
        : subscriber_(subscriber), raw_(raw) {}

    /// Takes over `other`'s sample; `other` is empty afterwards.
    HeldSample(HeldSample &&other) noexcept
        : subscriber_(other.subscriber_), raw_(std::exchange(other.raw_, {})) {}

    /// Releases this sample and takes over `other`'s.
    HeldSample &operator=(HeldSample &&other) noexcept {
        if (this != &other) {
            reset();
            subscriber_ = other.subscriber_;
            raw_ = std::exchange(other.raw_, {});
        }
        return *this;
    }

    /// Not copyable: one owner per sample.
    HeldSample(const HeldSample &) = delete;
    /// Not copyable: one owner per sample.
    HeldSample &operator=(const HeldSample &) = delete;

    /// Releases it unless released already.
    ~HeldSample() { reset(); }

    /// The sample and its metadata (all zero once released or moved from).
    const zerocp_sample_t &raw() const noexcept { return raw_; }

    /// Releases it now; `ZEROCP_ERR_NOT_HELD` for an empty one.
    Result<void> release() noexcept {
        if (raw_.payload == nullptr) {
            return Error(ZEROCP_ERR_NOT_HELD, "the sample was released already");
        }
        zerocp_error_t error;
        zerocp_result_t code = zerocp_subscriber_release(subscriber_, std::exchange(raw_, {}).payload, &error);
        return check(code, error);
    }

private:
    void reset() noexcept {
        if (raw_.payload != nullptr) {
            zerocp_subscriber_release(subscriber_, std::exchange(raw_, {}).payload, nullptr);
        }
    }

    zerocp_subscriber_t subscriber_;
    zerocp_sample_t raw_;
};

}  // namespace detail
}  // namespace zerocp

#endif  // ZEROCP_HELD_HPP
