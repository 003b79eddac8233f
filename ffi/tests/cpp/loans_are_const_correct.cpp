// Compiled by tests/cpp_programs.rs (syntax only): a loan is writable
// through a non-const reference and read-only through a const one, so a
// function that takes `const LoanedSample<T> &` cannot change the payload.
#include <type_traits>
#include <utility>

#include "zerocp.hpp"

struct Payload {
    static constexpr const char *zerocp_type_name = "tests::Payload";
    int value;
};

template <class L>
using get_of = decltype(std::declval<L>().get());
template <class L>
using deref_of = decltype(*std::declval<L>());
template <class L>
using data_of = decltype(std::declval<L>().data());
template <class L>
using index_of = decltype(std::declval<L>()[0]);
template <class L>
using begin_of = decltype(std::declval<L>().begin());
template <class L>
using header_of = decltype(std::declval<L>().header());

using Sample = zerocp::LoanedSample<Payload>;
static_assert(std::is_same_v<get_of<Sample &>, Payload *>, "a loan writes through get()");
static_assert(std::is_same_v<get_of<const Sample &>, const Payload *>, "a const loan only reads");
static_assert(std::is_same_v<deref_of<Sample &>, Payload &>, "a loan writes through *");
static_assert(std::is_same_v<deref_of<const Sample &>, const Payload &>, "a const loan only reads");

using Slice = zerocp::LoanedSlice<uint16_t, Payload>;
static_assert(std::is_same_v<data_of<Slice &>, uint16_t *>, "a slice loan writes through data()");
static_assert(std::is_same_v<data_of<const Slice &>, const uint16_t *>, "a const slice loan only reads");
static_assert(std::is_same_v<index_of<Slice &>, uint16_t &>, "a slice loan writes through []");
static_assert(std::is_same_v<index_of<const Slice &>, const uint16_t &>, "a const slice loan only reads");
static_assert(std::is_same_v<begin_of<const Slice &>, const uint16_t *>, "a const slice loan only reads");
static_assert(std::is_same_v<header_of<Slice &>, Payload &>, "a slice loan writes its header");
static_assert(std::is_same_v<header_of<const Slice &>, const Payload &>, "a const slice loan only reads it");
