// SPEC 10, the pure parts of a progressive rollout: which stage takes a runtime, failure
// budgets, blackout calendars, and the per-stage status GET /orchestrations/{id} shows.
// The engine (core/src/engine.cpp) drives stages, soak and pauses with these; the simulator and
// the preview use the same functions.
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "keb/fleet.h"
#include "keb/model.h"
#include "keb/store.h"
#include "keb/wire.h"

namespace keb {

// The stage of each resolved target (positions into `fleet`, in resolution order): the index of
// the FIRST stage whose targets match it (a stage without targets takes any runtime), or -1 when
// no stage takes it. Empty `stages`: every entry -1.
std::vector<int> assignStages(const std::vector<Stage>& stages, const RuntimeList& fleet,
                              const std::vector<std::uint32_t>& targets);

// Blackouts as merged, sorted spans [from, to): "when may something start".
class BlackoutCalendar {
public:
    BlackoutCalendar() = default;
    explicit BlackoutCalendar(const std::vector<Blackout>& a, const std::vector<Blackout>& b = {});
    bool empty() const { return spans_.empty(); }
    // The first time >= t outside every blackout (t itself when it is outside).
    Millis clearAt(Millis t) const;
    bool contains(Millis t) const { return clearAt(t) != t; }
    const std::vector<std::pair<Millis, Millis>>& spans() const { return spans_; }

private:
    std::vector<std::pair<Millis, Millis>> spans_;
};

// The stage of operation seq of an orchestration with this progress: index, or -1 (not staged,
// e.g. a retry).
int stageOfSeq(const RolloutProgress& r, std::int64_t seq);

// The budget of stage k as a number (percent applied), or -1 when the stage has none.
std::int64_t stageBudget(const Strategy& s, const RolloutProgress& r, std::size_t k);
// The budget of the whole orchestration as a number, or -1 when it has none.
std::int64_t orchestrationBudget(const Strategy& s, const RolloutProgress& r);

// The `stages` of GET /orchestrations/{id} (empty when the request has no stages or it is not
// resolved yet): stored progress plus per-stage operation counts read from `store`.
std::vector<StageStatus> stageStatuses(const Orchestration& o, StoreReader& store);

}  // namespace keb
