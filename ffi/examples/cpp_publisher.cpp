// A C++ publisher of Examples/Demo/Counter: publishes N counters (argument
// 1, default 5), says "published N", then keeps its port (and its history
// of N samples for late subscribers) until its stdin closes. The daemon is
// the one of ZEROCP_DOMAIN.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "counter.hpp"

using zerocp_examples::Counter;

static int fail(const char *what, const zerocp::Error &error) {
    std::fprintf(stderr, "cpp_publisher: %s failed: %s (%s)\n", what, error.message(), error.code_name());
    return 1;
}

static uint64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 5;
    auto runtime = zerocp::Runtime::create("cpp-publisher");
    if (!runtime) {
        return fail("Runtime::create", runtime.error());
    }
    auto service = zerocp::Service::create("Examples", "Demo", "Counter");
    if (!service) {
        return fail("Service::create", service.error());
    }
    auto options = zerocp::PublisherOptions().history(n < 32 ? n : 32);
    auto publisher = zerocp::Publisher<Counter>::create(*runtime, *service, options);
    if (!publisher) {
        return fail("Publisher::create", publisher.error());
    }

    for (unsigned i = 0; i < n; i++) {
        auto loan = publisher->loan();
        if (!loan) {
            return fail("Publisher::loan", loan.error());
        }
        Counter &counter = **loan;  // written in place, in shared memory
        std::memset(&counter, 0, sizeof counter);
        counter.count = i;
        counter.sent_ns = now_ns();
        counter.pid = static_cast<uint32_t>(getpid());
        int len = std::snprintf(reinterpret_cast<char *>(counter.text), sizeof counter.text,
                                "hello from C++ #%u", i);
        counter.text_len = static_cast<uint32_t>(len);
        auto published = loan->publish();
        if (!published) {
            return fail("LoanedSample::publish", published.error());
        }
    }
    std::printf("published %u\n", n);
    std::fflush(stdout);

    // Keep the port until told to go (stdin closed).
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
}
