/* The Counter message of ZeroCP's examples (runtime/examples/common/message.rs)
 * in C: the same name, size, alignment and field offsets, checked at compile
 * time, so C and Rust ports of Examples/Demo/Counter exchange it. */
#ifndef ZEROCP_EXAMPLES_COUNTER_H
#define ZEROCP_EXAMPLES_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "zerocp.h"

typedef struct counter_t {
    uint64_t count;    /* counts up from 0 per publisher */
    uint64_t sent_ns;  /* CLOCK_MONOTONIC of the publisher when it published */
    uint32_t pid;      /* the publisher's pid */
    uint32_t text_len; /* bytes of text used */
    uint8_t text[48];  /* UTF-8 text */
} counter_t;

/* The Rust struct is #[repr(C)] with these offsets and no padding. */
_Static_assert(sizeof(counter_t) == 72, "Counter is 72 bytes");
_Static_assert(_Alignof(counter_t) == 8, "Counter is 8-aligned");
_Static_assert(offsetof(counter_t, count) == 0, "count at 0");
_Static_assert(offsetof(counter_t, sent_ns) == 8, "sent_ns at 8");
_Static_assert(offsetof(counter_t, pid) == 16, "pid at 16");
_Static_assert(offsetof(counter_t, text_len) == 20, "text_len at 20");
_Static_assert(offsetof(counter_t, text) == 24, "text at 24");

/* The name every port of the service declares (#[zerocp(type_name)]). */
#define COUNTER_TYPE_NAME "zerocp_examples::Counter"

static inline zerocp_type_t counter_type(void) {
    zerocp_type_t type = {COUNTER_TYPE_NAME, sizeof(counter_t), _Alignof(counter_t)};
    return type;
}

#endif
