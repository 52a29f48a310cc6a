// SPEC 10: stage assignment, budgets, blackout calendars and stage status (keb/rollout.h).
#include "keb/rollout.h"

#include <algorithm>

#include "keb/targets.h"

namespace keb {

std::vector<int> assignStages(const std::vector<Stage>& stages, const RuntimeList& fleet,
                              const std::vector<std::uint32_t>& targets) {
    std::vector<int> out(targets.size(), -1);
    if (stages.empty() || targets.empty()) return out;
    // One pass of the (fast) resolution per stage with targets, marked in a bitmap over the fleet.
    const std::size_t n = fleet.size();
    std::vector<std::vector<bool>> takes(stages.size());
    for (std::size_t k = 0; k < stages.size(); ++k) {
        if (!stages[k].targets) continue;
        takes[k].assign(n, false);
        for (std::uint32_t i : resolveTargetIndices(*stages[k].targets, fleet)) takes[k][i] = true;
    }
    for (std::size_t t = 0; t < targets.size(); ++t) {
        const std::uint32_t i = targets[t];
        for (std::size_t k = 0; k < stages.size(); ++k) {
            if (!stages[k].targets || takes[k][i]) {
                out[t] = static_cast<int>(k);
                break;
            }
        }
    }
    return out;
}

BlackoutCalendar::BlackoutCalendar(const std::vector<Blackout>& a, const std::vector<Blackout>& b) {
    for (const auto* list : {&a, &b})
        for (const Blackout& x : *list)
            if (x.to > x.from) spans_.emplace_back(x.from, x.to);
    std::sort(spans_.begin(), spans_.end());
    std::vector<std::pair<Millis, Millis>> merged;
    for (const auto& s : spans_) {
        if (!merged.empty() && s.first <= merged.back().second) merged.back().second = std::max(merged.back().second, s.second);
        else merged.push_back(s);
    }
    spans_ = std::move(merged);
}

Millis BlackoutCalendar::clearAt(Millis t) const {
    // The last span starting at or before t; merged spans do not touch, so one look is enough.
    auto it = std::upper_bound(spans_.begin(), spans_.end(), t,
                               [](Millis v, const std::pair<Millis, Millis>& s) { return v < s.first; });
    if (it == spans_.begin()) return t;
    --it;
    return t < it->second ? it->second : t;
}

int stageOfSeq(const RolloutProgress& r, std::int64_t seq) {
    if (r.stages.empty() || seq < 0) return -1;
    auto it = std::upper_bound(r.stages.begin(), r.stages.end(), seq,
                               [](std::int64_t v, const StageProgress& s) { return v < s.firstSeq; });
    if (it == r.stages.begin()) return -1;
    --it;
    if (seq >= it->firstSeq + it->operations) {
        // Empty stages share their firstSeq with the next one: find the one that holds seq.
        return -1;
    }
    return static_cast<int>(it - r.stages.begin());
}

std::int64_t stageBudget(const Strategy& s, const RolloutProgress& r, std::size_t k) {
    if (k >= s.stages.size() || !s.stages[k].maxFailures) return -1;
    const std::int64_t ops = k < r.stages.size() ? r.stages[k].operations : 0;
    return s.stages[k].maxFailures->allowed(ops);
}

std::int64_t orchestrationBudget(const Strategy& s, const RolloutProgress& r) {
    if (!s.maxFailures) return -1;
    return s.maxFailures->allowed(r.operations);
}

std::vector<StageStatus> stageStatuses(const Orchestration& o, StoreReader& store) {
    std::vector<StageStatus> out;
    const auto& stages = o.parameters.strategy.stages;
    if (stages.empty()) return out;
    const RolloutProgress& r = o.rollout;
    std::vector<std::int64_t> failed(stages.size(), 0);
    out.resize(stages.size());
    for (std::size_t k = 0; k < stages.size(); ++k) {
        StageStatus& s = out[k];
        s.name = stages[k].name;
        for (auto st : {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                        OperationState::Failed, OperationState::Canceled})
            s.operationStats[st] = 0;
        s.maxFailures = stageBudget(o.parameters.strategy, r, k);
        if (k < r.stages.size()) {
            const StageProgress& p = r.stages[k];
            s.state = p.state;
            s.startedAt = p.startedAt;
            s.finishedAt = p.finishedAt;
            s.soakUntil = p.soakUntil;
        }
    }
    if (!r.stages.empty()) {
        store.forEachOperationBrief(o.orchestrationID, [&](const StoreReader::OperationBrief& op) {
            const int k = stageOfSeq(r, op.seq);
            if (k < 0 || static_cast<std::size_t>(k) >= out.size()) return;
            ++out[static_cast<std::size_t>(k)].operationStats[op.state];
            if (op.state == OperationState::Failed) ++failed[static_cast<std::size_t>(k)];
        });
    }
    for (std::size_t k = 0; k < out.size() && k < r.stages.size(); ++k)
        out[k].failures = std::max<std::int64_t>(0, failed[k] - r.stages[k].acknowledgedFailures);
    return out;
}

}  // namespace keb
