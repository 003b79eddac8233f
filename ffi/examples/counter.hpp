// The Counter message of ZeroCP's examples (runtime/examples/common/message.rs)
// in C++: the same name, size, alignment and field offsets, checked at
// compile time, so C, C++ and Rust ports of Examples/Demo/Counter exchange
// it. The namespace and struct name spell the Rust type_name.
#ifndef ZEROCP_EXAMPLES_COUNTER_HPP
#define ZEROCP_EXAMPLES_COUNTER_HPP

#include <cstddef>
#include <cstdint>

#include "zerocp.hpp"

namespace zerocp_examples {

/// One message: a counter, the time it was sent and a short text.
struct Counter {
    /// The name every port of the service declares (#[zerocp(type_name)]).
    static constexpr const char *zerocp_type_name = "zerocp_examples::Counter";

    uint64_t count;    ///< counts up from 0 per publisher
    uint64_t sent_ns;  ///< CLOCK_MONOTONIC of the publisher when it published
    uint32_t pid;      ///< the publisher's pid
    uint32_t text_len; ///< bytes of text used
    uint8_t text[48];  ///< UTF-8 text
};

// The Rust struct is #[repr(C)] with these offsets and no padding.
static_assert(sizeof(Counter) == 72, "Counter is 72 bytes");
static_assert(alignof(Counter) == 8, "Counter is 8-aligned");
static_assert(offsetof(Counter, count) == 0, "count at 0");
static_assert(offsetof(Counter, sent_ns) == 8, "sent_ns at 8");
static_assert(offsetof(Counter, pid) == 16, "pid at 16");
static_assert(offsetof(Counter, text_len) == 20, "text_len at 20");
static_assert(offsetof(Counter, text) == 24, "text at 24");

}  // namespace zerocp_examples

#endif
