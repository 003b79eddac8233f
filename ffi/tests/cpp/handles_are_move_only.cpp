// Compiled by tests/cpp_programs.rs (syntax only): each class that owns a C
// handle moves without throwing and cannot be copied, so no handle is ever
// destroyed twice.
#include <type_traits>

#include "zerocp.hpp"

struct Payload {
    static constexpr const char *zerocp_type_name = "tests::Payload";
    int value;
};

template <class T>
constexpr bool move_only = std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T> &&
                           !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T>;

static_assert(move_only<zerocp::Runtime>, "Runtime must be move-only");
static_assert(move_only<zerocp::Service>, "Service must be move-only");
static_assert(move_only<zerocp::Publisher<Payload>>, "Publisher must be move-only");
static_assert(move_only<zerocp::Subscriber<Payload>>, "Subscriber must be move-only");
static_assert(move_only<zerocp::Notifier>, "Notifier must be move-only");
static_assert(move_only<zerocp::Listener>, "Listener must be move-only");
static_assert(move_only<zerocp::LoanedSample<Payload>>, "LoanedSample must be move-only");
static_assert(move_only<zerocp::Sample<Payload>>, "Sample must be move-only");
static_assert(sizeof(zerocp::Publisher<Payload>) == sizeof(zerocp_publisher_t), "a port is just its handle");
static_assert(move_only<zerocp::SlicePublisher<uint16_t, Payload>>, "SlicePublisher must be move-only");
static_assert(move_only<zerocp::SliceSubscriber<uint16_t>>, "SliceSubscriber must be move-only");
static_assert(move_only<zerocp::LoanedSlice<uint16_t, Payload>>, "LoanedSlice must be move-only");
static_assert(move_only<zerocp::SampleSlice<float>>, "SampleSlice must be move-only");
