// A C++ subscriber of Examples/Demo/Counter: says "ready" once subscribed,
// prints every counter it receives ("count=... text=... seq=...") until it
// has N (argument 1, default 5), waiting at most 10 s in all. It asks for
// the publishers' history, so a publisher that published before it
// subscribed still reaches it. The daemon is the one of ZEROCP_DOMAIN.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "counter.hpp"

using zerocp_examples::Counter;

static int fail(const char *what, const zerocp::Error &error) {
    std::fprintf(stderr, "cpp_subscriber: %s failed: %s (%s)\n", what, error.message(), error.code_name());
    return 1;
}

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 5;
    auto runtime = zerocp::Runtime::create("cpp-subscriber");
    if (!runtime) {
        return fail("Runtime::create", runtime.error());
    }
    auto service = zerocp::Service::create("Examples", "Demo", "Counter");
    if (!service) {
        return fail("Service::create", service.error());
    }
    auto options = zerocp::SubscriberOptions().history(n < 32 ? n : 32).queue_capacity(64);
    auto subscriber = zerocp::Subscriber<Counter>::create(*runtime, *service, options);
    if (!subscriber) {
        return fail("Subscriber::create", subscriber.error());
    }
    std::printf("ready\n");
    std::fflush(stdout);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    unsigned received = 0;
    while (received < n) {
        auto taken = subscriber->take();
        if (!taken) {
            return fail("Subscriber::take", taken.error());
        }
        if (!*taken) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                             std::chrono::steady_clock::now());
            auto woken = subscriber->wait(left);
            if (!woken) {
                return fail("Subscriber::wait", woken.error());
            }
            if (!*woken) {
                std::fprintf(stderr, "cpp_subscriber: only %u of %u counters in 10 s\n", received, n);
                return 1;
            }
            continue;
        }
        const zerocp::Sample<Counter> &sample = **taken;
        unsigned len = sample->text_len < sizeof sample->text ? sample->text_len : 0;
        std::printf("count=%llu text=%.*s seq=%llu\n", static_cast<unsigned long long>(sample->count),
                    static_cast<int>(len), reinterpret_cast<const char *>(sample->text),
                    static_cast<unsigned long long>(sample.sequence()));
        std::fflush(stdout);
        received++;
        // The sample is released when `taken` goes out of scope.
    }
    return 0;
}
