// The fault model: duration distributions, failure probabilities, fates.
#include "keb/world/faults.h"

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
        if (now >= b.from && now < b.to && (b.region.empty() || b.region == region)) p = std::max(p, b.probability);
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

}  // namespace keb::world
