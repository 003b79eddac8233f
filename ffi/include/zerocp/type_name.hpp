// zerocp::TypeName<T> and zerocp::type_of<T>(): how a C++ payload type
// names itself to the daemon, and the compile-time checks that it can live
// in shared memory. Part of zerocp.hpp; include that.
#ifndef ZEROCP_TYPE_NAME_HPP
#define ZEROCP_TYPE_NAME_HPP

#include <cstdint>
#include <type_traits>

#include "../zerocp.h"

namespace zerocp {

namespace detail {

template <class T, class = void>
struct HasTypeNameMember : std::false_type {};

template <class T>
struct HasTypeNameMember<T, std::void_t<decltype(T::zerocp_type_name)>> : std::true_type {};

template <class T>
constexpr const char *member_type_name() noexcept {
    static_assert(HasTypeNameMember<T>::value,
                  "name the payload type: give it `static constexpr const char *zerocp_type_name` "
                  "or specialise zerocp::TypeName<T>");
    if constexpr (HasTypeNameMember<T>::value) {
        return T::zerocp_type_name;
    } else {
        return nullptr;
    }
}

}  // namespace detail

/// The name a payload type announces, which every port of a service must
/// share (a Rust type's `#[zerocp(type_name = "...")]`). By default
/// `T::zerocp_type_name`; specialise it for a type you cannot change:
///
/// ```cpp
/// template <> struct zerocp::TypeName<my_c_struct> {
///     static constexpr const char *value = "my_app::Pose";
/// };
/// ```
template <class T>
struct TypeName {
    /// The name, NUL-terminated, 1 to 128 bytes.
    static constexpr const char *value = detail::member_type_name<T>();
};

/// Fixed-width numbers name themselves as Rust's primitives do, so that a
/// slice of them (`SlicePublisher<uint16_t>`) meets a Rust port of `[u16]`.
#define ZEROCP_PRIMITIVE_TYPE_NAME(cpp, rust)          \
    template <>                                        \
    struct TypeName<cpp> {                             \
        static constexpr const char *value = rust;     \
    };
ZEROCP_PRIMITIVE_TYPE_NAME(uint8_t, "u8")
ZEROCP_PRIMITIVE_TYPE_NAME(uint16_t, "u16")
ZEROCP_PRIMITIVE_TYPE_NAME(uint32_t, "u32")
ZEROCP_PRIMITIVE_TYPE_NAME(uint64_t, "u64")
ZEROCP_PRIMITIVE_TYPE_NAME(int8_t, "i8")
ZEROCP_PRIMITIVE_TYPE_NAME(int16_t, "i16")
ZEROCP_PRIMITIVE_TYPE_NAME(int32_t, "i32")
ZEROCP_PRIMITIVE_TYPE_NAME(int64_t, "i64")
ZEROCP_PRIMITIVE_TYPE_NAME(float, "f32")
ZEROCP_PRIMITIVE_TYPE_NAME(double, "f64")
#undef ZEROCP_PRIMITIVE_TYPE_NAME

/// The C type description (name, size, alignment) of payload type `T`;
/// checks at compile time that `T` can live in shared memory.
template <class T>
zerocp_type_t type_of() noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "a ZeroCP payload must be trivially copyable");
    static_assert(std::is_standard_layout_v<T>, "a ZeroCP payload must be standard-layout");
    return zerocp_type_t{TypeName<T>::value, sizeof(T), alignof(T)};
}

}  // namespace zerocp

#endif  // ZEROCP_TYPE_NAME_HPP
