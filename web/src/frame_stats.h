// Frame-time statistics measured in the page (what kebSim.frameStats() reports).
#pragma once
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace keb::web {

class FrameStats {
public:
    explicit FrameStats(std::size_t capacity = 1200) : capacity_(capacity) {}
    // work: time spent in one frame callback (simulation + UI + GL submit), ms.
    // interval: time since the previous frame started, ms (0 for the first frame).
    void add(double workMs, double intervalMs);
    void reset();
    std::size_t frames() const { return total_; }
    // {"frames":N,"workMs":{"mean","p50","p95","p99","max"},"intervalMs":{...}} over the kept window.
    nlohmann::json toJson() const;

private:
    std::size_t capacity_;
    std::size_t total_ = 0;
    std::vector<double> work_;
    std::vector<double> interval_;
    std::size_t next_ = 0;
};

}  // namespace keb::web
