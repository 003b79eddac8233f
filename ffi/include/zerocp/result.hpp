// zerocp::Error and zerocp::Result<T>: how every call of ZeroCP's C++ API
// reports failure without exceptions. Part of zerocp.hpp; include that.
#ifndef ZEROCP_RESULT_HPP
#define ZEROCP_RESULT_HPP

#include <cstdlib>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "../zerocp.h"

namespace zerocp {

/// A failed call's code (a negative `zerocp_result_t`) and message; holds
/// the C `zerocp_error_t` itself, so making or copying one never allocates.
class Error {
public:
    /// The error a C call filled in.
    explicit Error(const zerocp_error_t &raw) noexcept : raw_(raw) {}

    /// An error of `code` with `message` (not null; cut to fit).
    Error(zerocp_result_t code, const char *message) noexcept : raw_{} {
        raw_.code = static_cast<int32_t>(code);
        std::strncpy(raw_.message, message, ZEROCP_ERROR_MESSAGE_LEN - 1);
    }

    /// The result code, e.g. `ZEROCP_ERR_REFUSED`.
    zerocp_result_t code() const noexcept { return static_cast<zerocp_result_t>(raw_.code); }

    /// The code's name, e.g. `"ZEROCP_ERR_REFUSED"` (a static string).
    const char *code_name() const noexcept { return zerocp_result_name(raw_.code); }

    /// What was wrong, NUL-terminated UTF-8 (valid as long as this error).
    const char *message() const noexcept { return raw_.message; }

private:
    zerocp_error_t raw_;
};

/// Either a `T` or the `Error` of the call that did not make one (an
/// `expected`-like result; nothing throws). Check it (`if (result)`,
/// `has_value()`) before `value()`: `value()` of an error, or `error()`
/// of a value, aborts the process.
template <class T>
class [[nodiscard]] Result {
public:
    /// A successful result.
    Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>) : v_(std::move(value)) {}

    /// A failed result.
    Result(Error error) noexcept : v_(std::move(error)) {}

    /// Whether it holds a value.
    bool has_value() const noexcept { return v_.index() == 0; }

    /// Whether it holds a value.
    explicit operator bool() const noexcept { return has_value(); }

    /// The value (aborts if it holds an error).
    T &value() & noexcept { return *checked<T>(); }

    /// The value (aborts if it holds an error).
    const T &value() const & noexcept { return *checked<T>(); }

    /// The value, moved out (aborts if it holds an error).
    T &&value() && noexcept { return std::move(*checked<T>()); }

    /// The error (aborts if it holds a value).
    const Error &error() const noexcept { return *checked<Error>(); }

    /// The value (aborts if it holds an error).
    T &operator*() & noexcept { return value(); }

    /// The value (aborts if it holds an error).
    const T &operator*() const & noexcept { return value(); }

    /// The value, moved out (aborts if it holds an error).
    T &&operator*() && noexcept { return std::move(value()); }

    /// The value's members (aborts if it holds an error).
    T *operator->() noexcept { return checked<T>(); }

    /// The value's members (aborts if it holds an error).
    const T *operator->() const noexcept { return checked<T>(); }

private:
    template <class U>
    U *checked() const noexcept {
        auto *p = std::get_if<U>(const_cast<std::variant<T, Error> *>(&v_));
        if (p == nullptr) {
            std::abort();
        }
        return p;
    }

    std::variant<T, Error> v_;
};

/// A result without a value: success, or the `Error`.
template <>
class [[nodiscard]] Result<void> {
public:
    /// Success.
    Result() noexcept = default;

    /// A failure.
    Result(Error error) noexcept : error_(std::move(error)) {}

    /// Whether the call succeeded.
    bool has_value() const noexcept { return !error_.has_value(); }

    /// Whether the call succeeded.
    explicit operator bool() const noexcept { return has_value(); }

    /// The error (aborts if the call succeeded).
    const Error &error() const noexcept {
        if (!error_) {
            std::abort();
        }
        return *error_;
    }

private:
    std::optional<Error> error_;
};

namespace detail {

/// The `Error` of a call's `zerocp_error_t`, or success.
inline Result<void> check(zerocp_result_t code, const zerocp_error_t &error) noexcept {
    if (code == ZEROCP_OK) {
        return {};
    }
    return Error(error);
}

}  // namespace detail

}  // namespace zerocp

#endif  // ZEROCP_RESULT_HPP
