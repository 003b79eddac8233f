// Must not compile: a payload with neither a zerocp_type_name member nor
// a zerocp::TypeName specialisation (tests/cpp_programs.rs expects the
// static_assert naming both).
#include "zerocp.hpp"

struct Payload {
    int value;
};

zerocp_type_t type() { return zerocp::type_of<Payload>(); }
