// A C++ listener of the event service Examples/Events/Tick (the one of
// c_events.c): says "ready" once it listens, prints "event ID" for every id
// 0..N-1 (argument 1, default 5) it takes, each once, then "received N";
// fails after 10 s without them all. The daemon is the one of ZEROCP_DOMAIN.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "zerocp.hpp"

static int fail(const char *what, const zerocp::Error &error) {
    std::fprintf(stderr, "cpp_events: %s failed: %s (%s)\n", what, error.message(), error.code_name());
    return 1;
}

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 5;
    auto runtime = zerocp::Runtime::create("cpp-events");
    if (!runtime) {
        return fail("Runtime::create", runtime.error());
    }
    auto service = zerocp::Service::create("Examples", "Events", "Tick");
    if (!service) {
        return fail("Service::create", service.error());
    }
    auto listener = zerocp::Listener::create(*runtime, *service);
    if (!listener) {
        return fail("Listener::create", listener.error());
    }
    std::printf("ready\n");
    std::fflush(stdout);

    using Clock = std::chrono::steady_clock;
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
    std::set<uint32_t> seen;
    while (seen.size() < n) {
        if (Clock::now() >= deadline) {
            std::fprintf(stderr, "cpp_events: %zu of %u events in 10 s\n", seen.size(), n);
            return 1;
        }
        auto events = listener->wait(std::chrono::milliseconds(100));
        if (!events) {
            return fail("Listener::wait", events.error());
        }
        for (uint32_t id : events->ids()) {
            if (seen.insert(id).second) {
                std::printf("event %u\n", id);
            }
        }
        std::fflush(stdout);
    }
    std::printf("received %zu\n", seen.size());
    return 0;
}
