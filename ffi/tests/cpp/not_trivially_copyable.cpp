// Must not compile: a payload with a user-written copy constructor is not
// trivially copyable (tests/cpp_programs.rs expects the static_assert).
#include "zerocp.hpp"

struct Payload {
    static constexpr const char *zerocp_type_name = "tests::Payload";
    Payload() = default;
    Payload(const Payload &other) : value(other.value + 1) {}
    int value;
};

zerocp_type_t type() { return zerocp::type_of<Payload>(); }
