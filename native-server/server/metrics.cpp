#include "metrics.h"

#include <cstdio>
#include <sstream>

namespace keb::server {

void Metrics::httpRequest(int status) {
    if (status < 0 || status >= static_cast<int>(http_.size())) status = 0;
    http_[static_cast<std::size_t>(status)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Metrics::httpTotal() const {
    std::uint64_t n = 0;
    for (const auto& c : http_) n += c.load(std::memory_order_relaxed);
    return n;
}

void Metrics::stepLatency(int kind, double seconds, bool failed) {
    auto& h = steps_[kind == 0 ? 0 : 1];
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) h.buckets[i].fetch_add(1, std::memory_order_relaxed);
    h.count.fetch_add(1, std::memory_order_relaxed);
    h.sumMicros.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
    if (failed) h.errors.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const std::map<OrchestrationState, std::int64_t>& orchestrations,
                            const std::map<OperationState, std::int64_t>& operations,
                            std::size_t activeOrchestrations, std::size_t actionsOut) const {
    std::ostringstream out;
    out << "# HELP keb_orchestrations Orchestrations in the store by state.\n# TYPE keb_orchestrations gauge\n";
    for (const auto& [s, n] : orchestrations) out << "keb_orchestrations{state=\"" << toString(s) << "\"} " << n << "\n";
    out << "# HELP keb_operations Operations in the store by state.\n# TYPE keb_operations gauge\n";
    for (const auto& [s, n] : operations) out << "keb_operations{state=\"" << toString(s) << "\"} " << n << "\n";
    out << "# HELP keb_engine_active_orchestrations Orchestrations the engine is driving.\n"
           "# TYPE keb_engine_active_orchestrations gauge\nkeb_engine_active_orchestrations "
        << activeOrchestrations << "\n";
    out << "# HELP keb_engine_actions_out Upgrade steps handed to workers and not yet completed.\n"
           "# TYPE keb_engine_actions_out gauge\nkeb_engine_actions_out "
        << actionsOut << "\n";
    out << "# HELP keb_engine_events_total Engine events (state changes, starts, polls).\n"
           "# TYPE keb_engine_events_total counter\nkeb_engine_events_total "
        << engineEvents_.load() << "\n";
    out << "# HELP keb_http_requests_total HTTP requests by status code.\n# TYPE keb_http_requests_total counter\n";
    for (std::size_t code = 0; code < http_.size(); ++code) {
        auto n = http_[code].load(std::memory_order_relaxed);
        if (n) out << "keb_http_requests_total{code=\"" << code << "\"} " << n << "\n";
    }
    out << "# HELP keb_step_duration_seconds Duration of upgrade backend calls by step.\n"
           "# TYPE keb_step_duration_seconds histogram\n";
    const char* names[2] = {"start", "poll"};
    for (int k = 0; k < 2; ++k) {
        const auto& h = steps_[static_cast<std::size_t>(k)];
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            char le[32];
            std::snprintf(le, sizeof le, "%g", kBuckets[i]);
            out << "keb_step_duration_seconds_bucket{step=\"" << names[k] << "\",le=\"" << le << "\"} "
                << h.buckets[i].load() << "\n";
        }
        out << "keb_step_duration_seconds_bucket{step=\"" << names[k] << "\",le=\"+Inf\"} " << h.count.load() << "\n";
        out << "keb_step_duration_seconds_sum{step=\"" << names[k] << "\"} " << (h.sumMicros.load() / 1e6) << "\n";
        out << "keb_step_duration_seconds_count{step=\"" << names[k] << "\"} " << h.count.load() << "\n";
    }
    out << "# HELP keb_step_failures_total Upgrade steps that reported a failure.\n# TYPE keb_step_failures_total counter\n";
    for (int k = 0; k < 2; ++k)
        out << "keb_step_failures_total{step=\"" << names[k] << "\"} " << steps_[static_cast<std::size_t>(k)].errors.load()
            << "\n";
    if (const std::int64_t queued = notificationsQueued_.load(); queued >= 0) {
        out << "# HELP keb_notifications_sent_total Customer notifications the service accepted (2xx).\n"
               "# TYPE keb_notifications_sent_total counter\nkeb_notifications_sent_total "
            << notificationsSent_.load() << "\n";
        out << "# HELP keb_notifications_failed_total Customer notification sends that failed (retried).\n"
               "# TYPE keb_notifications_failed_total counter\nkeb_notifications_failed_total "
            << notificationsFailed_.load() << "\n";
        out << "# HELP keb_notifications_queued Customer notifications in the outbox, not yet delivered.\n"
               "# TYPE keb_notifications_queued gauge\nkeb_notifications_queued "
            << queued << "\n";
    }
    return out.str();
}

}  // namespace keb::server
