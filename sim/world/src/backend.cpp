// Simulated upgrade backend.
#include "keb/world/backend.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "keb/world/random.h"

namespace keb::world {

Millis DurationDist::draw(double u1, double u2) const {
    double d = 0;
    switch (kind) {
        case Kind::Fixed:
            return std::max<Millis>(0, value);
        case Kind::Uniform:
            d = static_cast<double>(min) + u1 * static_cast<double>(std::max<Millis>(0, max - min));
            break;
        case Kind::LogNormal: {
            // Box-Muller from two uniforms; u1 in (0,1].
            const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
            d = static_cast<double>(median) * std::exp(sigma * z);
            break;
        }
        case Kind::Exponential:
            d = -static_cast<double>(mean) * std::log(1.0 - u1);
            break;
    }
    const double lo = static_cast<double>(std::max<Millis>(0, min));
    const double hi = static_cast<double>(std::max(min, max));
    if (kind != Kind::Uniform) d = std::clamp(d, lo, hi);
    return static_cast<Millis>(d);
}

double FaultPlan::failureProbabilityFor(const std::string& region, const std::string& plan, Millis now) const {
    double p = failureProbability;
    if (auto it = failureByRegion.find(region); it != failureByRegion.end()) p = it->second;
    if (auto it = failureByPlan.find(plan); it != failureByPlan.end()) p = it->second;
    for (const auto& b : bursts)
        if (now >= b.from && now < b.to) p = std::max(p, b.probability);
    return p;
}

UpgradeFate decideFate(const FaultPlan& plan, std::uint64_t seed, const Operation& op, Millis startedAt) {
    // Independent streams per decision, keyed by the operation id only.
    const std::uint64_t base = mix64(seed ^ fnv1a(op.operationID));
    const double uFail = unitFromBits(mix64(base ^ 1));
    const double uHang = unitFromBits(mix64(base ^ 2));
    const double uD1 = unitFromBits(mix64(base ^ 3));
    const double uD2 = unitFromBits(mix64(base ^ 4));
    UpgradeFate f;
    f.hangs = uHang < plan.hangProbability;
    f.fails = !f.hangs && uFail < plan.failureProbabilityFor(op.region, op.servicePlanName, startedAt);
    f.duration = plan.duration.draw(uD1, uD2);
    return f;
}

StepResult SimBackend::start(OrchestrationType, const Operation& op, Millis now) {
    const std::uint64_t key = hashWords(op.operationID);
    if (op.dryRun) {  // never recorded (only a repeated start of a real upgrade is recognised)
        if (ops_.contains(key)) {
            ++duplicateStarts_;
            return StepResult::again(0, "upgrade already running");
        }
        ++dryRunStarts_;
        return StepResult::done();
    }
    const auto [rec, inserted] = ops_.insert(key);  // one probe: look up and claim the slot
    if (!inserted) {
        ++duplicateStarts_;  // already started before a crash: resume, do not upgrade again
        return StepResult::again(0, "upgrade already running");
    }
    const UpgradeFate f = decideFate(plan_, seed_, op, now);
    lastFate_ = f;
    *rec = Record{now, f.duration, f.fails, f.hangs};
    ++upgrades_;
    ++perRuntime_[hashWords(op.runtimeID)];
    return StepResult::again(0, "upgrade started");
}

StepResult SimBackend::poll(OrchestrationType, const Operation& op, Millis now) {
    ++polls_;
    const Record* rec = ops_.find(hashWords(op.operationID));
    if (!rec) {
        if (op.dryRun) return StepResult::done();
        ++unknownPolls_;
        return StepResult::failed("upgrade backend: no upgrade known for operation " + op.operationID);
    }
    const Record& r = *rec;
    if (r.hangs || now < r.startedAt + r.duration) return StepResult::again(0);  // no new note: the operation keeps "upgrade started"
    if (r.fails) {
        ++failures_;
        return StepResult::failed(plan_.failureReason);
    }
    ++successes_;
    return StepResult::done();
}

bool SimBackend::started(const std::string& operationID) const { return ops_.contains(hashWords(operationID)); }

std::uint32_t SimBackend::upgradesOf(const std::string& runtimeID) const {
    const std::uint32_t* n = perRuntime_.find(hashWords(runtimeID));
    return n ? *n : 0;
}

std::size_t SimBackend::approxBytes() const { return ops_.bytes() + perRuntime_.bytes(); }

}  // namespace keb::world
