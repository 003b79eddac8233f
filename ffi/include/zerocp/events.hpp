// zerocp::Notifier, zerocp::Listener and zerocp::EventSet: event ids
// without payload (see zerocp_notifier_notify, zerocp_listener_wait). Part
// of zerocp.hpp; include that.
#ifndef ZEROCP_EVENTS_HPP
#define ZEROCP_EVENTS_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../zerocp.h"
#include "owned_handle.hpp"
#include "result.hpp"
#include "runtime.hpp"

namespace zerocp {

/// The event ids a listener took (each once, however often it was raised).
class EventSet {
public:
    /// An empty set.
    EventSet() noexcept : raw_{} {}

    /// Whether `id` is in the set.
    bool contains(uint32_t id) const noexcept { return zerocp_event_set_contains(&raw_, id); }

    /// Whether the set is empty.
    bool empty() const noexcept {
        for (uint32_t word : raw_.words) {
            if (word != 0) {
                return false;
            }
        }
        return true;
    }

    /// The ids, ascending.
    std::vector<uint32_t> ids() const {
        std::vector<uint32_t> out;
        for (uint32_t id = 0; id <= ZEROCP_MAX_EVENT_ID; id++) {
            if (contains(id)) {
                out.push_back(id);
            }
        }
        return out;
    }

    /// The C bitmap.
    const zerocp_event_set_t &raw() const noexcept { return raw_; }

private:
    friend class Listener;
    zerocp_event_set_t raw_;
};

/// The sending end of an event service (a `zerocp_notifier_t`).
/// Move-only; destroying it removes its port.
class Notifier {
public:
    /// Creates a notifier on the event service `service`.
    ///
    /// ```cpp
    /// auto notifier = zerocp::Notifier::create(runtime, service);
    /// ```
    static Result<Notifier> create(const Runtime &runtime, const Service &service) noexcept {
        zerocp_error_t error;
        zerocp_notifier_t handle{};
        if (zerocp_notifier_create(runtime.handle(), service.handle(), &handle, &error) != ZEROCP_OK) {
            return Error(error);
        }
        return Notifier(handle);
    }

    /// Raises `id` in every listener of the service; returns how many it
    /// reached. `ZEROCP_ERR_INVALID_ARGUMENT` above `ZEROCP_MAX_EVENT_ID`.
    Result<std::size_t> notify(uint32_t id) noexcept {
        zerocp_error_t error;
        std::size_t reached = 0;
        if (zerocp_notifier_notify(handle_.get(), id, &reached, &error) != ZEROCP_OK) {
            return Error(error);
        }
        return reached;
    }

    /// The C handle (zero once moved from).
    zerocp_notifier_t handle() const noexcept { return handle_.get(); }

private:
    explicit Notifier(zerocp_notifier_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_notifier_t, zerocp_notifier_destroy> handle_;
};

/// The receiving end of an event service (a `zerocp_listener_t`).
/// Move-only; destroying it removes its port.
class Listener {
public:
    /// Creates a listener on the event service `service`.
    static Result<Listener> create(const Runtime &runtime, const Service &service) noexcept {
        zerocp_error_t error;
        zerocp_listener_t handle{};
        if (zerocp_listener_create(runtime.handle(), service.handle(), &handle, &error) != ZEROCP_OK) {
            return Error(error);
        }
        return Listener(handle);
    }

    /// Takes the ids raised since the last take, without sleeping (an
    /// empty set when none was).
    Result<EventSet> try_wait() noexcept {
        EventSet set;
        zerocp_error_t error;
        zerocp_result_t code = zerocp_listener_try_wait(handle_.get(), &set.raw_, &error);
        if (code != ZEROCP_OK && code != ZEROCP_EMPTY) {
            return Error(error);
        }
        return set;
    }

    /// Sleeps until an id is raised or `timeout` passes (`std::nullopt`:
    /// no limit), then takes the raised ids (an empty set after a timeout).
    /// `ZEROCP_ERR_DAEMON` when the daemon is gone.
    ///
    /// ```cpp
    /// auto events = listener.wait(std::chrono::milliseconds(100));
    /// if (events && events->contains(3)) { /* ... */ }
    /// ```
    Result<EventSet> wait(std::optional<std::chrono::milliseconds> timeout) noexcept {
        EventSet set;
        zerocp_error_t error;
        int64_t ms = -1;
        if (timeout) {
            ms = timeout->count() < 0 ? 0 : static_cast<int64_t>(timeout->count());
        }
        zerocp_result_t code = zerocp_listener_wait(handle_.get(), ms, &set.raw_, &error);
        if (code != ZEROCP_OK && code != ZEROCP_TIMEOUT) {
            return Error(error);
        }
        return set;
    }

    /// The wake descriptor for the application's own `poll`/`epoll` loop
    /// (see `zerocp_listener_fd`): when readable, `try_wait` until empty.
    Result<int> fd() const noexcept {
        zerocp_error_t error;
        int32_t fd = -1;
        if (zerocp_listener_fd(handle_.get(), &fd, &error) != ZEROCP_OK) {
            return Error(error);
        }
        return static_cast<int>(fd);
    }

    /// The C handle (zero once moved from).
    zerocp_listener_t handle() const noexcept { return handle_.get(); }

private:
    explicit Listener(zerocp_listener_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_listener_t, zerocp_listener_destroy> handle_;
};

}  // namespace zerocp

#endif  // ZEROCP_EVENTS_HPP
