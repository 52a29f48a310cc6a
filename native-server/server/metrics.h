// Prometheus text metrics (GET /metrics): HTTP requests by code, step latencies
// (histogram per step kind), engine events; store gauges are passed in at render time.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "keb/model.h"

namespace keb::server {

class Metrics {
public:
    static constexpr std::array<double, 12> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                        0.25,  0.5,   1,    2.5,   5,    10};
    void httpRequest(int status);
    // kind 0: start, 1: poll
    void stepLatency(int kind, double seconds, bool failed);
    void engineEvent() { engineEvents_.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t httpTotal() const;
    // SPEC 14: the sender's counts and the outbox size, set before rendering. Never set:
    // notifications are off and the three series are not rendered.
    void setNotifications(std::uint64_t sent, std::uint64_t failed, std::int64_t queued) {
        notificationsSent_.store(sent, std::memory_order_relaxed);
        notificationsFailed_.store(failed, std::memory_order_relaxed);
        notificationsQueued_.store(queued, std::memory_order_relaxed);
    }

    std::string render(const std::map<OrchestrationState, std::int64_t>& orchestrations,
                       const std::map<OperationState, std::int64_t>& operations, std::size_t activeOrchestrations,
                       std::size_t actionsOut) const;

private:
    std::array<std::atomic<std::uint64_t>, 600> http_{};
    struct Histogram {
        std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};
        std::atomic<std::uint64_t> count{0};
        std::atomic<std::uint64_t> sumMicros{0};
        std::atomic<std::uint64_t> errors{0};
    };
    std::array<Histogram, 2> steps_;
    std::atomic<std::uint64_t> engineEvents_{0};
    std::atomic<std::uint64_t> notificationsSent_{0}, notificationsFailed_{0};
    std::atomic<std::int64_t> notificationsQueued_{-1};
};

}  // namespace keb::server
