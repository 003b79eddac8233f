// zerocp::detail::OwnedHandle: the one owner of a C handle, which destroys
// it when it goes. Runtime, Service, Publisher<T>, Subscriber<T>, Notifier
// and Listener each hold one, so they are move-only and destroy their
// handle in their destructor without repeating how. Part of zerocp.hpp;
// include that.
#ifndef ZEROCP_OWNED_HANDLE_HPP
#define ZEROCP_OWNED_HANDLE_HPP

#include <utility>

#include "../zerocp.h"

namespace zerocp {
namespace detail {

/// Owns a `Handle` (a C handle struct whose `id` 0 means none) and passes
/// it to `Destroy` when it is destroyed or assigned over. Moving leaves
/// the source empty; copying is not possible.
template <class Handle, zerocp_result_t (*Destroy)(Handle, zerocp_error_t *)>
class OwnedHandle {
public:
    /// Takes ownership of `handle`.
    explicit OwnedHandle(Handle handle) noexcept : handle_(handle) {}

    /// Takes over `other`'s handle; `other` is empty afterwards.
    OwnedHandle(OwnedHandle &&other) noexcept : handle_(std::exchange(other.handle_, {})) {}

    /// Destroys this handle and takes over `other`'s.
    OwnedHandle &operator=(OwnedHandle &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }

    /// Not copyable: one owner per handle.
    OwnedHandle(const OwnedHandle &) = delete;
    /// Not copyable: one owner per handle.
    OwnedHandle &operator=(const OwnedHandle &) = delete;

    /// Destroys the handle.
    ~OwnedHandle() { reset(); }

    /// The C handle (zero once moved from).
    Handle get() const noexcept { return handle_; }

private:
    void reset() noexcept {
        if (handle_.id != 0) {
            Destroy(std::exchange(handle_, {}), nullptr);
        }
    }

    Handle handle_;
};

}  // namespace detail
}  // namespace zerocp

#endif  // ZEROCP_OWNED_HANDLE_HPP
