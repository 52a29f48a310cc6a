// Simulated upgrade backend.
#include "keb/world/backend.h"

#include "keb/world/random.h"

namespace keb::world {

StepResult SimBackend::start(OrchestrationType, const Operation& op, Millis now) {
    const std::uint64_t key = idKey(op.operationID);
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
    *rec = Record::of(now + f.duration, f.fails, f.hangs);
    if (live_.size() >= kLiveMax) live_ = FlatMap<Record>();
    live_[key] = *rec;
    ++upgrades_;
    upgradedRuntimes_.push_back(idKey(op.runtimeID));
    return StepResult::again(0, "upgrade started");
}

StepResult SimBackend::poll(OrchestrationType, const Operation& op, Millis now) {
    ++polls_;
    const std::uint64_t key = idKey(op.operationID);
    const Record* live = live_.find(key);
    const Record* rec = live ? live : ops_.find(key);
    if (!rec) {
        if (op.dryRun) return StepResult::done();
        ++unknownPolls_;
        return StepResult::failed("upgrade backend: no upgrade known for operation " + op.operationID);
    }
    const Record r = *rec;
    if (r.hangs() || now < r.endsAt()) return StepResult::again(0);  // no new note: the operation keeps "upgrade started"
    if (live) live_.erase(key);  // reported ended now (a later poll finds it in ops_)
    if (r.fails()) {
        ++failures_;
        return StepResult::failed(plan_.failureReason);
    }
    ++successes_;
    return StepResult::done();
}

void SimBackend::prefetch(const Operation& op) const {
    const std::uint64_t key = idKey(op.operationID);
    if (!live_.contains(key)) ops_.prefetch(key);  // a start (or a poll of an upgrade no longer live)
}

bool SimBackend::started(const std::string& operationID) const { return ops_.contains(idKey(operationID)); }

std::uint32_t SimBackend::upgradesOf(const std::string& runtimeID) const {
    for (; folded_ < upgradedRuntimes_.size(); ++folded_) ++perRuntime_[upgradedRuntimes_[folded_]];
    const std::uint32_t* n = perRuntime_.find(idKey(runtimeID));
    return n ? *n : 0;
}

std::size_t SimBackend::approxBytes() const {
    return ops_.bytes() + live_.bytes() + upgradedRuntimes_.capacity() * sizeof(std::uint64_t) + perRuntime_.bytes();
}

}  // namespace keb::world
