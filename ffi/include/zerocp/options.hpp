// zerocp::PublisherOptions and zerocp::SubscriberOptions: builders over the
// C option structs, starting from the library's defaults. Part of
// zerocp.hpp; include that.
#ifndef ZEROCP_OPTIONS_HPP
#define ZEROCP_OPTIONS_HPP

#include <chrono>
#include <cstdint>

#include "../zerocp.h"

namespace zerocp {

/// What a publish does when a block-publisher subscriber stays full past
/// the publish timeout.
enum class OnPublishTimeout : uint32_t {
    /// Drop the sample for that subscriber only and succeed (the default).
    Drop = ZEROCP_ON_PUBLISH_TIMEOUT_DROP,
    /// Drop it for that subscriber and fail with `ZEROCP_ERR_PUBLISH_TIMEOUT`.
    Fail = ZEROCP_ON_PUBLISH_TIMEOUT_FAIL,
};

/// What a subscriber's full queue does with a new sample.
enum class FullPolicy : uint32_t {
    /// Drop the oldest queued sample (the default; a publisher never waits).
    DiscardOldest = ZEROCP_FULL_POLICY_DISCARD_OLDEST,
    /// Make the publisher wait for room (at most its publish timeout).
    BlockPublisher = ZEROCP_FULL_POLICY_BLOCK_PUBLISHER,
};

/// A publisher's options (`zerocp_publisher_options_t`), defaults first;
/// the library checks the ranges when the publisher is created.
///
/// ```cpp
/// auto options = zerocp::PublisherOptions().history(5).max_loans(2);
/// ```
class PublisherOptions {
public:
    /// The defaults (`zerocp_publisher_options_default`).
    PublisherOptions() noexcept { zerocp_publisher_options_default(&raw_); }

    /// Latest samples kept for subscribers that join later: 0 to 32.
    PublisherOptions &history(uint32_t samples) noexcept {
        raw_.history = samples;
        return *this;
    }

    /// Samples loaned at once: 1 to 32.
    PublisherOptions &max_loans(uint32_t loans) noexcept {
        raw_.max_loans = loans;
        return *this;
    }

    /// Longest wait of one publish for full block-publisher subscribers.
    PublisherOptions &publish_timeout(std::chrono::milliseconds timeout) noexcept {
        raw_.publish_timeout_ms = timeout.count() < 0 ? 0 : static_cast<uint64_t>(timeout.count());
        return *this;
    }

    /// A publish waits for full block-publisher subscribers without limit.
    PublisherOptions &no_publish_timeout() noexcept {
        raw_.publish_timeout_ms = ZEROCP_NO_TIMEOUT;
        return *this;
    }

    /// What a publish does when that wait times out.
    PublisherOptions &on_publish_timeout(OnPublishTimeout action) noexcept {
        raw_.on_publish_timeout = static_cast<uint32_t>(action);
        return *this;
    }

    /// The C struct.
    const zerocp_publisher_options_t &raw() const noexcept { return raw_; }

private:
    zerocp_publisher_options_t raw_;
};

/// A subscriber's options (`zerocp_subscriber_options_t`), defaults first;
/// the library checks the ranges when the subscriber is created.
///
/// ```cpp
/// auto options = zerocp::SubscriberOptions().queue_capacity(64).history(5);
/// ```
class SubscriberOptions {
public:
    /// The defaults (`zerocp_subscriber_options_default`).
    SubscriberOptions() noexcept { zerocp_subscriber_options_default(&raw_); }

    /// Samples queued and not yet taken: 1 to 256.
    SubscriberOptions &queue_capacity(uint32_t samples) noexcept {
        raw_.queue_capacity = samples;
        return *this;
    }

    /// What a full queue does.
    SubscriberOptions &full_policy(FullPolicy policy) noexcept {
        raw_.full_policy = static_cast<uint32_t>(policy);
        return *this;
    }

    /// Each publisher's latest samples received on connecting: 0 to 32.
    SubscriberOptions &history(uint32_t samples) noexcept {
        raw_.history = samples;
        return *this;
    }

    /// Samples taken and not released, at once: 1 to 32.
    SubscriberOptions &max_held(uint32_t samples) noexcept {
        raw_.max_held = samples;
        return *this;
    }

    /// Checks of the queue before a wait sleeps (0: sleep at once).
    SubscriberOptions &wait_spins(uint32_t spins) noexcept {
        raw_.wait_spins = spins;
        return *this;
    }

    /// The C struct.
    const zerocp_subscriber_options_t &raw() const noexcept { return raw_; }

private:
    zerocp_subscriber_options_t raw_;
};

}  // namespace zerocp

#endif  // ZEROCP_OPTIONS_HPP
