// Must not compile: members of mixed access make a payload not
// standard-layout (tests/cpp_programs.rs expects the static_assert).
#include "zerocp.hpp"

struct Payload {
    static constexpr const char *zerocp_type_name = "tests::Payload";
    int a;

private:
    int b;
};

zerocp_type_t type() { return zerocp::type_of<Payload>(); }
