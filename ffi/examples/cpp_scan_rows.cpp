// c_scan_rows.c in C++: rows of uint16_t pixels with a Frame header on
// Examples/Camera/Rows, through zerocp::SlicePublisher and
// zerocp::SliceSubscriber.
//
//   cpp_scan_rows publish N    publishes N rows (row i has i + 1 pixels of
//                              value 100 * i + k), says "published N", keeps
//                              its port until stdin closes
//   cpp_scan_rows subscribe N  takes N rows (history N) and prints each as
//                              "row id=I width=W len=L sum=S"
//
// The daemon is the one of ZEROCP_DOMAIN.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "zerocp.hpp"

struct Frame {
    static constexpr const char *zerocp_type_name = "zerocp_examples::Frame";
    uint32_t id;    // which frame
    uint32_t width; // pixels in this row
};

static_assert(sizeof(Frame) == 8 && alignof(Frame) == 4, "Frame as Rust and C declare it");

namespace {

constexpr uint32_t kMaxWidth = 64;

int fail(const char *what, const zerocp::Error &error) {
    std::fprintf(stderr, "cpp_scan_rows: %s failed: %s\n", what, error.message());
    return 1;
}

int publish(const zerocp::Runtime &runtime, const zerocp::Service &service, unsigned n) {
    auto options = zerocp::PublisherOptions().history(n < 32 ? n : 32);
    auto created = zerocp::SlicePublisher<uint16_t, Frame>::create(runtime, service, kMaxWidth, options);
    if (!created) {
        return fail("SlicePublisher::create", created.error());
    }
    auto publisher = std::move(created.value());
    for (unsigned i = 0; i < n; i++) {
        size_t width = i % kMaxWidth + 1;
        auto loaned = publisher.loan(width);
        if (!loaned) {
            return fail("loan", loaned.error());
        }
        auto row = std::move(loaned.value());
        size_t k = 0;
        for (uint16_t &pixel : row) {
            pixel = static_cast<uint16_t>(100 * i + k++);
        }
        row.header() = Frame{i, static_cast<uint32_t>(width)};
        auto sent = row.publish();
        if (!sent) {
            return fail("publish", sent.error());
        }
    }
    std::cout << "published " << n << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
}

int subscribe(const zerocp::Runtime &runtime, const zerocp::Service &service, unsigned n) {
    auto options = zerocp::SubscriberOptions().history(n < 32 ? n : 32).queue_capacity(64);
    auto created = zerocp::SliceSubscriber<uint16_t, Frame>::create(runtime, service, options);
    if (!created) {
        return fail("SliceSubscriber::create", created.error());
    }
    auto subscriber = std::move(created.value());
    std::cout << "ready" << std::endl;
    for (unsigned taken = 0, waits = 0; taken < n;) {
        auto sample = subscriber.take();
        if (!sample) {
            return fail("take", sample.error());
        }
        if (!sample.value()) {
            // 300 waits of up to 100 ms: 30 s in all.
            if (++waits > 300) {
                std::fprintf(stderr, "cpp_scan_rows: only %u of %u rows\n", taken, n);
                return 1;
            }
            auto waited = subscriber.wait(std::chrono::milliseconds(100));
            if (!waited) {
                return fail("wait", waited.error());
            }
            continue;
        }
        const auto &row = *sample.value();
        unsigned long sum = 0;
        for (uint16_t pixel : row) {
            sum += pixel;
        }
        std::cout << "row id=" << row.header().id << " width=" << row.header().width << " len=" << row.size()
                  << " sum=" << sum << std::endl;
        taken++;
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3 || (std::strcmp(argv[1], "publish") != 0 && std::strcmp(argv[1], "subscribe") != 0)) {
        std::fprintf(stderr, "usage: cpp_scan_rows publish|subscribe N\n");
        return 2;
    }
    unsigned n = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
    auto runtime = zerocp::Runtime::create("cpp-scan-rows");
    if (!runtime) {
        return fail("Runtime::create", runtime.error());
    }
    auto service = zerocp::Service::create("Examples", "Camera", "Rows");
    if (!service) {
        return fail("Service::create", service.error());
    }
    return std::strcmp(argv[1], "publish") == 0 ? publish(runtime.value(), service.value(), n)
                                                : subscribe(runtime.value(), service.value(), n);
}
