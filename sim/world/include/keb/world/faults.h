// The fault model of the simulated world: how long an upgrade takes and whether it fails or
// hangs.
//
// Every decision about one operation (its duration, whether it fails or hangs) is a pure
// function of (seed, operationID, region, plan, start time for bursts): it does not depend on
// the order in which events happen, so a run is reproducible and a restart does not change the
// fate of an operation. Works with any Millis (virtual time in the simulator, wall-clock time
// in the server's demo mode).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "keb/model.h"

namespace keb::world {

// How long an upgrade takes once started.
struct DurationDist {
    enum class Kind { Fixed, Uniform, LogNormal, Exponential };
    Kind kind = Kind::Uniform;
    Millis value = 15 * kMinute;  // Fixed
    Millis min = 10 * kMinute;    // Uniform lower bound; lower clamp for the others
    Millis max = 30 * kMinute;    // Uniform upper bound; upper clamp for the others
    Millis median = 15 * kMinute; // LogNormal
    double sigma = 0.5;           // LogNormal
    Millis mean = 15 * kMinute;   // Exponential
    // Draws a duration from two independent uniforms in [0,1).
    Millis draw(double u1, double u2) const;
};

// A span in which upgrades that start fail with the given probability.
struct FailureBurst {
    Millis from = 0;
    Millis to = 0;
    double probability = 1.0;
    std::string region;  // only upgrades of runtimes in this region (empty: every region)
};

struct FaultPlan {
    double failureProbability = 0.0;                 // every upgrade
    std::map<std::string, double> failureByRegion;   // overrides failureProbability for a region
    std::map<std::string, double> failureByPlan;     // overrides (after region) for a plan name
    std::string failureReason = "upgrade failed: simulated backend error";
    double hangProbability = 0.0;                    // never finishes (the engine's timeout ends it)
    DurationDist duration;
    std::vector<FailureBurst> bursts;                // added at run time too (interactive "failure burst")
    Millis backendLatency = 2 * kSecond;             // time between an action being handed out and its result

    // Failure probability for an upgrade of this runtime starting at `now`.
    double failureProbabilityFor(const std::string& region, const std::string& plan, Millis now) const;
};

// The fate of one operation's upgrade.
struct UpgradeFate {
    Millis duration = 0;
    bool fails = false;
    bool hangs = false;
};

// The fate of op's upgrade when it starts at startedAt: from independent streams keyed by
// (seed, op.operationID), compared with the plan's probabilities for op's region and plan name.
UpgradeFate decideFate(const FaultPlan& plan, std::uint64_t seed, const Operation& op, Millis startedAt);

}  // namespace keb::world
