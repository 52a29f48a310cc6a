// Fault plan and the simulated upgrade backend (keb::UpgradeBackend).
//
// Every decision about one operation (its duration, whether it fails or hangs)
// is a pure function of (seed, operationID, region, plan, start time for bursts):
// it does not depend on the order in which events happen, so a run is
// reproducible and a restart does not change the fate of an operation.
// The backend works with any Millis (virtual time in the simulator, wall-clock
// time in the server's demo mode).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "keb/backend.h"
#include "keb/world/flat_map.h"
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

// What the backend decided for one operation.
struct UpgradeFate {
    Millis duration = 0;
    bool fails = false;
    bool hangs = false;
};

UpgradeFate decideFate(const FaultPlan& plan, std::uint64_t seed, const Operation& op, Millis startedAt);

class SimBackend : public UpgradeBackend {
public:
    SimBackend(FaultPlan plan, std::uint64_t seed) : plan_(std::move(plan)), seed_(seed) {}

    StepResult start(OrchestrationType type, const Operation& op, Millis now) override;
    StepResult poll(OrchestrationType type, const Operation& op, Millis now) override;

    FaultPlan& plan() { return plan_; }
    const FaultPlan& plan() const { return plan_; }

    // Real upgrades started (second starts of one operationID are not counted; dry runs are not upgrades).
    std::uint64_t upgrades() const { return upgrades_; }
    // The fate decided by the last start() that began a real upgrade.
    const UpgradeFate& lastFate() const { return lastFate_; }
    // start() calls for an operation that was already started (after a crash): not new upgrades.
    std::uint64_t duplicateStarts() const { return duplicateStarts_; }
    std::uint64_t dryRunStarts() const { return dryRunStarts_; }
    std::uint64_t polls() const { return polls_; }
    std::uint64_t failuresReported() const { return failures_; }
    std::uint64_t successesReported() const { return successes_; }
    std::uint64_t pollsOfUnknown() const { return unknownPolls_; }
    // True when the backend started a real upgrade for this operation.
    bool started(const std::string& operationID) const;
    // Real upgrades per runtime (all orchestrations).
    std::uint32_t upgradesOf(const std::string& runtimeID) const;
    std::size_t approxBytes() const;

private:
    struct Record {
        Millis startedAt = 0;
        Millis duration = 0;
        bool fails = false;
        bool hangs = false;
    };
    FaultPlan plan_;
    std::uint64_t seed_;
    UpgradeFate lastFate_;
    FlatMap<Record> ops_;                 // hashWords(operationID)
    FlatMap<std::uint32_t> perRuntime_;   // hashWords(runtimeID)
    std::uint64_t upgrades_ = 0, duplicateStarts_ = 0, dryRunStarts_ = 0, polls_ = 0, failures_ = 0,
                  successes_ = 0, unknownPolls_ = 0;
};

}  // namespace keb::world
