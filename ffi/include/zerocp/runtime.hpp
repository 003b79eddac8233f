// zerocp::Runtime and zerocp::Service: the registration with the daemon
// and the service descriptions ports are made on. Part of zerocp.hpp;
// include that.
#ifndef ZEROCP_RUNTIME_HPP
#define ZEROCP_RUNTIME_HPP


#include "../zerocp.h"
#include "owned_handle.hpp"
#include "result.hpp"

namespace zerocp {

/// This process's registration with the daemon of a domain (a
/// `zerocp_runtime_t`). Its ports keep the registration alive after it.
/// Move-only; destroying it ends the handle (`zerocp_runtime_destroy`).
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

    /// The C handle (zero once moved from).
    zerocp_runtime_t handle() const noexcept { return handle_.get(); }

private:
    explicit Runtime(zerocp_runtime_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_runtime_t, zerocp_runtime_destroy> handle_;
};

/// A service description `service/instance/event` (a `zerocp_service_t`).
/// Move-only; destroying it leaves the ports made with it working.
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

    /// The C handle (zero once moved from).
    zerocp_service_t handle() const noexcept { return handle_.get(); }

private:
    explicit Service(zerocp_service_t handle) noexcept : handle_(handle) {}

    detail::OwnedHandle<zerocp_service_t, zerocp_service_destroy> handle_;
};

}  // namespace zerocp

#endif  // ZEROCP_RUNTIME_HPP
