// Mocked Gardener fleet: a generator for large fleets (100,000+ shoots) and a
// FleetSource over it that the simulator can disturb (listing outages, shoots
// disappearing, maintenance windows changing).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keb/fleet.h"
#include "keb/model.h"

namespace keb::sim {

// A weighted choice: (value, weight). Weights need not sum to 1.
using Weighted = std::vector<std::pair<std::string, double>>;

// Knobs of the generator. Every field has a realistic default; a scenario's
// "fleet" object overrides them (see scenarios/README.md).
struct FleetSpec {
    int size = 100;                    // generated shoots (explicit runtimes come on top)
    int globalAccounts = 0;            // 0: size / 40, at least 1
    int subAccounts = 0;               // 0: size / 4, at least globalAccounts
    double accountSkew = 2.0;          // >= 1; higher: a few accounts own most runtimes
    Weighted plans;                    // empty: azure 35, aws 30, gcp 15, trial 10, azure_lite 5, free 3, sap-converged-cloud 2
    double regionSkew = 1.6;           // >= 1; higher: the first region of a provider dominates
    double operatorWindowShare = 0.2;  // share of shoots with an operator-set window (else Gardener's default)
    std::vector<std::string> windowOffsets;  // operator offsets; empty: +0530 -0800 +0100 +0900 -0500 +1000 +0000 -0300
    Weighted kubernetesVersions;       // empty: 1.28.10 40, 1.29.5 45, 1.30.2 15
    double deletingShare = 0.01;       // shoots with a deletionTimestamp (deprovisioning)
    double suspendedShare = 0.0;       // suspended runtimes
    std::vector<Runtime> extra;        // explicit runtimes appended after the generated ones
};

// Plans KEB knows and their plan ids; providers decide the regions.
const std::string& planIdFor(const std::string& planName);

// Generates spec.size shoots (+ spec.extra). Pure function of (spec, seed).
std::vector<Runtime> generateFleet(const FleetSpec& spec, std::uint64_t seed);

// Gardener's default window: one random hour "HH0000+0000" - "(HH+1)0000+0000".
std::pair<std::string, std::string> gardenerDefaultWindow(int hour);

// The simulated fleet served to the engine.
class SimFleet : public FleetSource {
public:
    explicit SimFleet(std::vector<Runtime> runtimes);

    // FleetSource. snapshot() fails (ok=false) inside an outage span.
    FleetSnapshot snapshot(Millis now) override;
    std::optional<Runtime> find(const std::string& runtimeID, Millis now) override;

    // A span [from, to) during which listing fails with `error`.
    void addOutage(Millis from, Millis to, std::string error);
    bool inOutage(Millis now, std::string* error = nullptr) const;

    // Removes shoots (they disappear from Gardener). Returns how many were removed.
    std::size_t remove(const std::vector<std::string>& runtimeIDs);
    // Changes a shoot's maintenance window; false when the runtime is unknown.
    bool setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end);

    const std::vector<Runtime>& runtimes() const { return runtimes_; }
    const Runtime* get(const std::string& runtimeID) const;
    // Runtime id lookup by shoot name (scenario convenience); nullptr when unknown.
    const Runtime* byShoot(const std::string& shootName) const;
    std::size_t snapshotCalls() const { return snapshotCalls_; }
    std::size_t failedSnapshots() const { return failedSnapshots_; }
    // Approximate heap bytes held (runtimes + index), for memory reports.
    std::size_t approxBytes() const;

private:
    void reindex();
    std::vector<Runtime> runtimes_;
    // Open addressing (linear probing) of (fnv1a(runtimeID), position + 1); 0 marks a free slot.
    // Capacity is a power of two >= 2x the shoots: ~32 bytes per shoot, one or two cache misses.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> index_;
    struct Outage {
        Millis from, to;
        std::string error;
    };
    std::vector<Outage> outages_;
    std::size_t snapshotCalls_ = 0;
    std::size_t failedSnapshots_ = 0;
};

}  // namespace keb::sim
