#include "frame_stats.h"

#include <algorithm>

namespace keb::web {

void FrameStats::add(double workMs, double intervalMs, double simMs, double uiMs, double renderMs) {
    if (work_.size() < capacity_) {
        work_.push_back(workMs);
        interval_.push_back(intervalMs);
        sim_.push_back(simMs);
        ui_.push_back(uiMs);
        render_.push_back(renderMs);
    } else {
        work_[next_] = workMs;
        interval_[next_] = intervalMs;
        sim_[next_] = simMs;
        ui_[next_] = uiMs;
        render_[next_] = renderMs;
        next_ = (next_ + 1) % capacity_;
    }
    ++total_;
}

void FrameStats::reset() {
    total_ = 0;
    next_ = 0;
    work_.clear();
    interval_.clear();
    sim_.clear();
    ui_.clear();
    render_.clear();
}

static nlohmann::json summarize(std::vector<double> v) {
    if (v.empty()) return {{"mean", 0}, {"p50", 0}, {"p95", 0}, {"p99", 0}, {"max", 0}, {"n", 0}};
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    auto pct = [&](double p) {
        std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
        return v[std::min(i, v.size() - 1)];
    };
    return {{"mean", sum / static_cast<double>(v.size())}, {"p50", pct(0.50)}, {"p95", pct(0.95)},
            {"p99", pct(0.99)}, {"max", v.back()}, {"n", v.size()}};
}

nlohmann::json FrameStats::toJson() const {
    std::vector<double> intervals;
    intervals.reserve(interval_.size());
    for (double x : interval_)
        if (x > 0) intervals.push_back(x);
    return {{"frames", total_},         {"workMs", summarize(work_)}, {"intervalMs", summarize(intervals)},
            {"simMs", summarize(sim_)},  {"uiMs", summarize(ui_)},     {"renderMs", summarize(render_)}};
}

}  // namespace keb::web
