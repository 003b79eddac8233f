// ZeroCP's C++17 API: a header-only wrapper over the C API (zerocp.h).
//
// RAII and move-only: a Runtime, Service, Publisher<T>, Subscriber<T>,
// Notifier or Listener owns its C handle and destroys it in its destructor; a LoanedSample<T>
// owns a loan (given back unpublished unless publish() was called) and a
// Sample<T> a taken sample (released in its destructor); SlicePublisher<T, H>
// and SliceSubscriber<T, H> do the same for slices of T with an optional
// user header H (LoanedSlice, SampleSlice). Nothing throws:
// every call that can fail returns a zerocp::Result<T> holding either its
// value or a zerocp::Error (the C code and message). See ffi/README.md.
//
// A payload type T must be trivially copyable and standard-layout, and
// name itself as the other ports of its service do: a static member
// `static constexpr const char *zerocp_type_name = "...";` or a
// specialisation of zerocp::TypeName<T>.
//
// Link with the C library (CMake: zerocp::zerocp; pkg-config: zerocp).
#ifndef ZEROCP_HPP
#define ZEROCP_HPP

#include "zerocp.h"
#include "zerocp/events.hpp"
#include "zerocp/held.hpp"
#include "zerocp/options.hpp"
#include "zerocp/owned_handle.hpp"
#include "zerocp/publisher.hpp"
#include "zerocp/result.hpp"
#include "zerocp/runtime.hpp"
#include "zerocp/slice.hpp"
#include "zerocp/subscriber.hpp"
#include "zerocp/type_name.hpp"

#endif  // ZEROCP_HPP
