// Must not compile: the user header of a slice port declared without one
// (H is zerocp::NoHeader); tests/cpp_programs.rs expects the static_assert.
#include "zerocp.hpp"

const zerocp::NoHeader *header_of(const zerocp::SampleSlice<uint32_t> &row) { return &row.header(); }
