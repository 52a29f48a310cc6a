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
    // sim/ui/render: the parts of work (advancing the simulation, building the UI, GL submit).
    void add(double workMs, double intervalMs, double simMs = 0, double uiMs = 0, double renderMs = 0);
    void reset();
    std::size_t frames() const { return total_; }
    // {"frames":N,"workMs":{"mean","p50","p95","p99","max"},"intervalMs":{...},"simMs","uiMs","renderMs"}
    // over the kept window (the last `capacity` frames).
    nlohmann::json toJson() const;

private:
    std::size_t capacity_;
    std::size_t total_ = 0;
    std::vector<double> work_;
    std::vector<double> interval_;
    std::vector<double> sim_, ui_, render_;
    std::size_t next_ = 0;
};

}  // namespace keb::web
