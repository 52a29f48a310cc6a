// The simulated upgrade backend (keb::UpgradeBackend): serves the fates of the fault model
// (faults.h), decided once per operation when its upgrade starts. In memory, any Millis
// (virtual time in the simulator).
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "keb/backend.h"
#include "keb/model.h"
#include "keb/world/faults.h"
#include "keb/world/flat_map.h"

namespace keb::world {

class SimBackend : public UpgradeBackend {
public:
    SimBackend(FaultPlan plan, std::uint64_t seed) : plan_(std::move(plan)), seed_(seed) {}

    StepResult start(OrchestrationType type, const Operation& op, Millis now) override;
    StepResult poll(OrchestrationType type, const Operation& op, Millis now) override;

    // Room for this many operations and runtimes without growing (the simulator reserves the
    // fleet's size: a rollout starts about one operation per runtime).
    void reserve(std::size_t operations, std::size_t runtimes) {
        ops_.reserve(operations);
        upgradedRuntimes_.reserve(operations);
        (void)runtimes;  // the per-runtime counts are only built when asked for (upgradesOf)
    }
    // A hint that start(op) or poll(op) follows soon: starts loading the table slot it reads
    // (the record of op). No effect on results.
    void prefetch(const Operation& op) const;

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
    // One started upgrade in 8 bytes (a 16-byte table slot with its key: 4 MB for 100,000
    // upgrades, four to a cache line): when it ends (startedAt + duration) and its fate bits.
    struct Record {
        std::int64_t bits = 0;  // endsAt * 4 + hangs * 2 + fails
        static Record of(Millis endsAt, bool fails, bool hangs) {
            // Beyond +-2^61 ms (73 million years) an end is as good as never.
            endsAt = std::clamp<Millis>(endsAt, INT64_MIN >> 2, INT64_MAX >> 2);
            return Record{static_cast<std::int64_t>(static_cast<std::uint64_t>(endsAt) << 2) | (hangs ? 2 : 0) |
                          (fails ? 1 : 0)};
        }
        Millis endsAt() const { return bits >> 2; }  // arithmetic shift (C++20): any Millis
        bool hangs() const { return bits & 2; }
        bool fails() const { return bits & 1; }
    };
    FaultPlan plan_;
    std::uint64_t seed_;
    UpgradeFate lastFate_;
    FlatMap<Record> ops_;                 // idKey(operationID)
    // The records of the upgrades started and not yet reported ended (polled done or failed): a
    // few hundred at a time, a table that stays in cache, so that the many polls of an upgrade
    // do not each miss in ops_ (4 MB, random). Only a copy: a key not here is looked up in ops_
    // (hung upgrades stay until the table is emptied at kLiveMax).
    FlatMap<Record> live_;
    static constexpr std::size_t kLiveMax = 4096;
    // The runtime of every real upgrade, in start order (idKey(runtimeID)): appending costs no
    // table miss per start; upgradesOf() (tests, tools) folds them into perRuntime_ when asked.
    std::vector<std::uint64_t> upgradedRuntimes_;
    mutable FlatMap<std::uint32_t> perRuntime_;  // idKey(runtimeID), upgradedRuntimes_[0, folded_)
    mutable std::size_t folded_ = 0;
    std::uint64_t upgrades_ = 0, duplicateStarts_ = 0, dryRunStarts_ = 0, polls_ = 0, failures_ = 0,
                  successes_ = 0, unknownPolls_ = 0;
};

}  // namespace keb::world
