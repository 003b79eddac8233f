// zerocp::Runtime and zerocp::Service: the registration with the daemon
// and the service descriptions ports are made on. Part of zerocp.hpp;
// include that.
#ifndef ZEROCP_RUNTIME_HPP
#define ZEROCP_RUNTIME_HPP

#include <utility>

#include "../zerocp.h"
#include "result.hpp"

namespace zerocp {

/// This process's registration with the daemon of a domain (a
/// `zerocp_runtime_t`). Its ports keep the registration alive after it.
class Runtime {
public:
    /// Registers as `name` (1 to 32 bytes) with the daemon of `domain`, or
    /// of `ZEROCP_DOMAIN` (default `default`) when `domain` is null.
    /// `ZEROCP_ERR_DAEMON` when no daemon serves the domain.
    ///
    /// ```cpp
    /// auto runtime = zerocp::Runtime::create("my-app");
    /// if (!runtime) { std::puts(runtime.error().message()); }
    /// ```
    static Result<Runtime> create(const char *name, const char *domain = nullptr) noexcept {
        zerocp_error_t error;
        zerocp_runtime_t handle{};
        zerocp_result_t code = zerocp_runtime_create(name, domain, &handle, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return Runtime(handle);
    }

    /// Takes over `other`'s handle; `other` is empty afterwards.
    Runtime(Runtime &&other) noexcept : handle_(std::exchange(other.handle_, {})) {}

    /// Destroys this handle and takes over `other`'s.
    Runtime &operator=(Runtime &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }

    /// Not copyable: one owner per handle, loan or sample.
    Runtime(const Runtime &) = delete;
    /// Not copyable: one owner per handle, loan or sample.
    Runtime &operator=(const Runtime &) = delete;

    /// Destroys the handle (`zerocp_runtime_destroy`).
    ~Runtime() { reset(); }

    /// The C handle (zero once moved from).
    zerocp_runtime_t handle() const noexcept { return handle_; }

private:
    explicit Runtime(zerocp_runtime_t handle) noexcept : handle_(handle) {}

    void reset() noexcept {
        if (handle_.id != 0) {
            zerocp_runtime_destroy(std::exchange(handle_, {}), nullptr);
        }
    }

    zerocp_runtime_t handle_;
};

/// A service description `service/instance/event` (a `zerocp_service_t`).
class Service {
public:
    /// Makes the description; each part is 1 to 64 bytes of ASCII letters,
    /// digits and `_-.:/` (`ZEROCP_ERR_INVALID_ARGUMENT` naming a bad one).
    ///
    /// ```cpp
    /// auto service = zerocp::Service::create("Examples", "Demo", "Counter");
    /// ```
    static Result<Service> create(const char *service, const char *instance, const char *event) noexcept {
        zerocp_error_t error;
        zerocp_service_t handle{};
        zerocp_result_t code = zerocp_service_create(service, instance, event, &handle, &error);
        if (code != ZEROCP_OK) {
            return Error(error);
        }
        return Service(handle);
    }

    /// Takes over `other`'s handle; `other` is empty afterwards.
    Service(Service &&other) noexcept : handle_(std::exchange(other.handle_, {})) {}

    /// Destroys this handle and takes over `other`'s.
    Service &operator=(Service &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }

    /// Not copyable: one owner per handle, loan or sample.
    Service(const Service &) = delete;
    /// Not copyable: one owner per handle, loan or sample.
    Service &operator=(const Service &) = delete;

    /// Destroys the handle (ports made with it keep working).
    ~Service() { reset(); }

    /// The C handle (zero once moved from).
    zerocp_service_t handle() const noexcept { return handle_; }

private:
    explicit Service(zerocp_service_t handle) noexcept : handle_(handle) {}

    void reset() noexcept {
        if (handle_.id != 0) {
            zerocp_service_destroy(std::exchange(handle_, {}), nullptr);
        }
    }

    zerocp_service_t handle_;
};

}  // namespace zerocp

#endif  // ZEROCP_RUNTIME_HPP
