// Bad input and misuse through the C++ API: invalid names and options,
// payload types other than the service's, loans and samples past their
// limits, published or released twice, or outliving their port, and
// moved-from objects; copies in and out. Every call must return its zerocp::Error (code and
// message), never crash; prints "all error checks passed" at the end. The
// daemon is the one of ZEROCP_DOMAIN.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <utility>

#include "counter.hpp"

using zerocp_examples::Counter;

/// The Counter's name on a smaller struct: the daemon must refuse it.
struct ShortCounter {
    static constexpr const char *zerocp_type_name = "zerocp_examples::Counter";
    uint64_t words[8];
};

/// The Counter's layout under another name, given by the trait.
struct RenamedCounter {
    Counter inner;
};

template <>
struct zerocp::TypeName<RenamedCounter> {
    static constexpr const char *value = "zerocp_examples::NotCounter";
};

static int failures = 0;

/// Checks that `result` failed with `want` and a message containing `needle`.
template <class T>
static void expect_error(int line, const zerocp::Result<T> &result, zerocp_result_t want, const char *needle) {
    if (result) {
        std::fprintf(stderr, "line %d: succeeded, want %s\n", line, zerocp_result_name(want));
        failures++;
        return;
    }
    const zerocp::Error &error = result.error();
    if (error.code() != want) {
        std::fprintf(stderr, "line %d: got %s, want %s (%s)\n", line, error.code_name(), zerocp_result_name(want),
                     error.message());
        failures++;
    } else if (std::strstr(error.message(), needle) == nullptr) {
        std::fprintf(stderr, "line %d: message \"%s\" lacks \"%s\"\n", line, error.message(), needle);
        failures++;
    }
}

/// Checks that `result` succeeded.
template <class T>
static void expect_ok(int line, const zerocp::Result<T> &result) {
    if (!result) {
        std::fprintf(stderr, "line %d: failed: %s (%s)\n", line, result.error().message(), result.error().code_name());
        failures++;
    }
}

/// Checks a condition.
static void expect_true(int line, bool condition, const char *what) {
    if (!condition) {
        std::fprintf(stderr, "line %d: not true: %s\n", line, what);
        failures++;
    }
}

#define EXPECT_ERROR(result, want, needle) expect_error(__LINE__, (result), (want), (needle))
#define EXPECT_OK(result) expect_ok(__LINE__, (result))
#define EXPECT_TRUE(condition) expect_true(__LINE__, (condition), #condition)

/// Runtimes, services and options the library refuses.
static void bad_names_and_options(const zerocp::Runtime &runtime, const zerocp::Service &service) {
    EXPECT_ERROR(zerocp::Runtime::create(""), ZEROCP_ERR_INVALID_ARGUMENT, "");
    EXPECT_ERROR(zerocp::Runtime::create("cpp-errors", "no such domain!"), ZEROCP_ERR_INVALID_ARGUMENT, "");
    EXPECT_ERROR(zerocp::Runtime::create(nullptr), ZEROCP_ERR_NULL_ARGUMENT, "name is NULL");
    EXPECT_ERROR(zerocp::Service::create("Examples", "Demo", "bad name!"), ZEROCP_ERR_INVALID_ARGUMENT, "");
    EXPECT_ERROR(zerocp::Publisher<Counter>::create(runtime, service, zerocp::PublisherOptions().history(99)),
                 ZEROCP_ERR_INVALID_ARGUMENT, "history");
    EXPECT_ERROR(zerocp::Publisher<Counter>::create(
                     runtime, service, zerocp::PublisherOptions().on_publish_timeout(zerocp::OnPublishTimeout(7))),
                 ZEROCP_ERR_INVALID_ARGUMENT, "on_publish_timeout");
    EXPECT_ERROR(zerocp::Subscriber<Counter>::create(
                     runtime, service, zerocp::SubscriberOptions().full_policy(zerocp::FullPolicy(9))),
                 ZEROCP_ERR_INVALID_ARGUMENT, "full_policy");
}

/// Ports of another size or name than the service's Counter.
static void wrong_types(const zerocp::Runtime &runtime, const zerocp::Service &service) {
    EXPECT_ERROR(zerocp::Subscriber<ShortCounter>::create(runtime, service), ZEROCP_ERR_REFUSED, "type mismatch");
    EXPECT_ERROR(zerocp::Publisher<ShortCounter>::create(runtime, service), ZEROCP_ERR_REFUSED, "type mismatch");
    EXPECT_ERROR(zerocp::Subscriber<RenamedCounter>::create(runtime, service), ZEROCP_ERR_REFUSED, "type mismatch");
}

/// Loans: the limit, a loan given back by its destructor, publishing twice,
/// a loan outliving its publisher, a moved-from publisher.
static void loans(const zerocp::Runtime &runtime, const zerocp::Service &service) {
    auto publisher = zerocp::Publisher<Counter>::create(runtime, service, zerocp::PublisherOptions().max_loans(1));
    EXPECT_OK(publisher);
    if (!publisher) {
        return;
    }
    {
        auto first = publisher->loan();
        EXPECT_OK(first);
        EXPECT_ERROR(publisher->loan(), ZEROCP_ERR_LIMIT, "loan");
    }
    auto again = publisher->loan();
    EXPECT_OK(again);  // the first loan went back in its destructor
    if (again) {
        std::memset(again->get(), 0, sizeof(Counter));
        EXPECT_OK(again->publish());
        EXPECT_TRUE(!*again);
        EXPECT_ERROR(again->publish(), ZEROCP_ERR_NOT_HELD, "published or released already");
    }
    auto orphan = publisher->loan();
    EXPECT_OK(orphan);
    zerocp::Publisher<Counter> moved = std::move(*publisher);
    EXPECT_ERROR(publisher->loan(), ZEROCP_ERR_INVALID_HANDLE, "");
    { auto gone = std::move(moved); }  // destroys the publisher under the loan
    if (orphan) {
        EXPECT_ERROR(orphan->publish(), ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    }
}

/// Samples: empty takes, timeouts, the held limit, a sample released by its
/// destructor, release twice, a sample outliving its subscriber.
static void samples(const zerocp::Runtime &runtime, const zerocp::Service &service) {
    auto subscriber =
        zerocp::Subscriber<Counter>::create(runtime, service, zerocp::SubscriberOptions().max_held(1));
    auto publisher = zerocp::Publisher<Counter>::create(runtime, service);
    EXPECT_OK(subscriber);
    EXPECT_OK(publisher);
    if (!subscriber || !publisher) {
        return;
    }
    auto empty = subscriber->take();
    EXPECT_TRUE(empty && !*empty);
    auto woken = subscriber->wait(std::chrono::milliseconds(10));
    EXPECT_TRUE(woken && !*woken);
    Counter value{};
    for (uint64_t i = 0; i < 3; i++) {
        value.count = 40 + i;
        EXPECT_OK(publisher->publish_copy(value));
    }
    woken = subscriber->wait(std::chrono::seconds(5));
    EXPECT_TRUE(woken && *woken);
    {
        auto first = subscriber->take();
        EXPECT_TRUE(first && *first && (**first)->count == 40);
        EXPECT_ERROR(subscriber->take(), ZEROCP_ERR_LIMIT, "");
    }
    auto second = subscriber->take();  // the first went back in its destructor
    EXPECT_TRUE(second && *second && (**second)->count == 41);
    if (second && *second) {
        EXPECT_OK((**second).release());
        EXPECT_ERROR((**second).release(), ZEROCP_ERR_NOT_HELD, "released already");
    }
    auto third = subscriber->take();
    EXPECT_TRUE(third && *third && (**third)->count == 42);
    { auto gone = std::move(*subscriber); }  // destroys the subscriber under the sample
    if (third && *third) {
        EXPECT_ERROR((**third).release(), ZEROCP_ERR_INVALID_HANDLE, "destroyed");
    }
    EXPECT_ERROR(subscriber->wait(std::chrono::milliseconds(0)), ZEROCP_ERR_INVALID_HANDLE, "");
}

/// Copies in and out, one call each: the sample is released within
/// take_copy(), so more copies than max_held come through.
static void copies(const zerocp::Runtime &runtime, const zerocp::Service &service) {
    auto subscriber =
        zerocp::Subscriber<Counter>::create(runtime, service, zerocp::SubscriberOptions().max_held(1));
    auto publisher = zerocp::Publisher<Counter>::create(runtime, service, zerocp::PublisherOptions().max_loans(1));
    EXPECT_OK(subscriber);
    EXPECT_OK(publisher);
    if (!subscriber || !publisher) {
        return;
    }
    auto empty = subscriber->take_copy();
    EXPECT_TRUE(empty && !*empty);
    Counter value{};
    for (uint64_t i = 0; i < 3; i++) {
        value.count = 70 + i;
        EXPECT_OK(publisher->publish_copy(value));
    }
    auto woken = subscriber->wait(std::chrono::seconds(5));
    EXPECT_TRUE(woken && *woken);
    for (uint64_t i = 0; i < 3; i++) {
        auto copied = subscriber->take_copy();
        EXPECT_TRUE(copied && *copied && (*copied)->count == 70 + i);
    }
    empty = subscriber->take_copy();
    EXPECT_TRUE(empty && !*empty);
    { auto gone = std::move(*subscriber); }
    EXPECT_ERROR(subscriber->take_copy(), ZEROCP_ERR_INVALID_HANDLE, "");
}

int main() {
    auto runtime = zerocp::Runtime::create("cpp-errors");
    auto service = zerocp::Service::create("Examples", "Demo", "Counter");
    if (!runtime || !service) {
        std::fprintf(stderr, "no runtime or service: %s\n",
                     runtime ? service.error().message() : runtime.error().message());
        return 1;
    }
    // A port of the right type first, so the service's type is Counter.
    auto anchor = zerocp::Subscriber<Counter>::create(*runtime, *service);
    EXPECT_OK(anchor);
    bad_names_and_options(*runtime, *service);
    wrong_types(*runtime, *service);
    loans(*runtime, *service);
    samples(*runtime, *service);
    copies(*runtime, *service);
    if (failures != 0) {
        std::fprintf(stderr, "%d error checks failed\n", failures);
        return 1;
    }
    std::printf("all error checks passed\n");
    return 0;
}
