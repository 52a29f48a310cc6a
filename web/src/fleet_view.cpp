#include "fleet_view.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "keb/sim/simulation.h"

namespace keb::web {

const char* cellStateName(CellState s) {
    switch (s) {
        case CellState::NoOperation: return "no operation";
        case CellState::Pending: return "pending";
        case CellState::InProgress: return "in progress";
        case CellState::Succeeded: return "succeeded";
        case CellState::Failed: return "failed";
        case CellState::Canceled: return "canceled";
        case CellState::Skipped: return "deprovisioning/suspended";
        case CellState::Gone: return "gone from Gardener";
        default: return "?";
    }
}

std::uint32_t cellStateColor(CellState s) {
    auto rgb = [](std::uint32_t r, std::uint32_t g, std::uint32_t b) { return 0xff000000u | (b << 16) | (g << 8) | r; };
    switch (s) {
        case CellState::NoOperation: return rgb(70, 76, 88);
        case CellState::Pending: return rgb(66, 135, 245);
        case CellState::InProgress: return rgb(245, 196, 44);
        case CellState::Succeeded: return rgb(56, 176, 92);
        case CellState::Failed: return rgb(226, 60, 60);
        case CellState::Canceled: return rgb(160, 100, 220);
        case CellState::Skipped: return rgb(40, 42, 48);
        case CellState::Gone: return rgb(20, 20, 22);
        default: return rgb(255, 0, 255);
    }
}

static CellState fromOperation(OperationState s) {
    switch (s) {
        case OperationState::Pending: return CellState::Pending;
        case OperationState::InProgress: return CellState::InProgress;
        case OperationState::Succeeded: return CellState::Succeeded;
        case OperationState::Failed: return CellState::Failed;
        case OperationState::Canceled: return CellState::Canceled;
    }
    return CellState::NoOperation;
}

void FleetView::clear() {
    cells_.clear();
    states_.clear();
    accountMatch_.clear();
    regions_.clear();
    counts_.fill(0);
    coverage_.fill(0);
    maxCoverage_ = 0;
    lastFleetSize_ = 0;
    visible_.clear();
    cachedVersion_ = ~0ull;  // account matches are recomputed for the new cells
    ++version_;
    dirtyLo_ = 0;
    dirtyHi_ = ~std::size_t{0} >> 1;
}

template <class Get>
void FleetView::buildCells(std::size_t n, Get&& get, const MaintenancePolicy& policy) {
    clear();
    std::map<std::string, std::uint16_t> regionIndex;
    for (std::size_t i = 0; i < n; ++i) regionIndex.emplace(get(i).region, 0);
    std::uint16_t next = 0;
    for (auto& [name, idx] : regionIndex) {
        idx = next++;
        regions_.push_back(name);
    }
    cells_.reserve(n);
    // Monday 1970-01-05 00:00 UTC: hour-of-week buckets are sampled at their middle.
    constexpr Millis kMonday = 4 * kDay;
    std::map<std::tuple<int, int, std::uint8_t>, int> windows;
    for (std::size_t i = 0; i < n; ++i) {
        const Runtime& r = get(i);
        FleetCell c;
        c.runtimeID = r.runtimeID;
        c.shootName = r.shootName;
        c.globalAccountID = r.globalAccountID;
        c.subAccountID = r.subAccountID;
        c.planName = r.planName;
        c.windowBegin = r.windowBegin;
        c.windowEnd = r.windowEnd;
        c.region = regionIndex[r.region];
        c.skipped = r.deprovisioning || r.suspended;
        if (auto w = effectiveWindow(r, policy)) {
            c.hasWindow = true;
            c.window = *w;
            ++windows[{w->beginSec, w->endSec, w->days}];
        }
        cells_.push_back(std::move(c));
    }
    // Coverage per distinct window (a fleet has a few hundred distinct windows at most).
    for (const auto& [key, count] : windows) {
        WindowSpec w;
        w.beginSec = std::get<0>(key);
        w.endSec = std::get<1>(key);
        w.days = std::get<2>(key);
        for (int h = 0; h < 168; ++h)
            if (insideWindow(w, kMonday + h * kHour + 30 * kMinute)) coverage_[h] += count;
    }
    for (int v : coverage_) maxCoverage_ = std::max(maxCoverage_, v);
    states_.assign(cells_.size(), CellState::NoOperation);
    counts_.fill(0);
    counts_[static_cast<int>(CellState::NoOperation)] = static_cast<int>(cells_.size());
    accountMatch_.assign(cells_.size(), 1);
}

void FleetView::rebuild(sim::Simulation& sim) {
    const world::SimFleet& fleet = sim.fleet();  // at(i): a runtime built into one buffer
    buildCells(fleet.size(), [&](std::size_t i) -> const Runtime& { return fleet.at(i); }, sim.scenario().engine.policy);
    lastFleetSize_ = fleet.size();
    refresh(sim);
}

void FleetView::rebuild(const std::vector<Runtime>& runtimes, const MaintenancePolicy& policy,
                        const std::vector<CellState>& states) {
    buildCells(runtimes.size(), [&](std::size_t i) -> const Runtime& { return runtimes[i]; }, policy);
    lastFleetSize_ = runtimes.size();
    setStates(states);
}

bool FleetView::sameRuntimes(const std::vector<Runtime>& runtimes) const {
    if (runtimes.size() != cells_.size()) return false;
    for (std::size_t i = 0; i < runtimes.size(); ++i)
        if (runtimes[i].runtimeID != cells_[i].runtimeID) return false;
    return true;
}

void FleetView::setStates(const std::vector<CellState>& states) {
    for (std::size_t i = 0; i < cells_.size() && i < states.size(); ++i) setLiveState(i, states[i]);
}

void FleetView::setLiveState(std::size_t i, CellState s) {
    if (i >= cells_.size()) return;
    setState(i, cells_[i].skipped && s == CellState::NoOperation ? CellState::Skipped : s);
}

Runtime FleetView::runtimeOf(std::size_t i) const {
    const FleetCell& c = cells_[i];
    Runtime r;
    r.runtimeID = c.runtimeID;
    r.shootName = c.shootName;
    r.globalAccountID = c.globalAccountID;
    r.subAccountID = c.subAccountID;
    r.planName = c.planName;
    r.region = c.region < regions_.size() ? regions_[c.region] : std::string();
    r.windowBegin = c.windowBegin;
    r.windowEnd = c.windowEnd;
    return r;
}

CellState cellStateFromApi(const std::string& s) {
    if (s == "pending") return CellState::Pending;
    if (s == "in progress") return CellState::InProgress;
    if (s == "succeeded") return CellState::Succeeded;
    if (s == "failed") return CellState::Failed;
    if (s == "canceled") return CellState::Canceled;
    return CellState::NoOperation;
}

CellState FleetView::readState(sim::Simulation& sim, std::size_t i, bool fleetChanged) const {
    if (auto st = sim.runtimeStatus(cells_[i].runtimeID)) return fromOperation(st->state);
    if (states_[i] == CellState::Gone || (fleetChanged && !sim.fleet().contains(cells_[i].runtimeID))) return CellState::Gone;
    if (cells_[i].skipped) return CellState::Skipped;
    return CellState::NoOperation;
}

void FleetView::setState(std::size_t i, CellState s) {
    if (s == states_[i]) return;
    --counts_[static_cast<int>(states_[i])];
    ++counts_[static_cast<int>(s)];
    states_[i] = s;
    ++version_;
    dirtyLo_ = std::min(dirtyLo_, i);
    dirtyHi_ = std::max(dirtyHi_, i + 1);
}

void FleetView::refresh(sim::Simulation& sim) {
    const bool fleetChanged = sim.fleet().size() != lastFleetSize_;
    lastFleetSize_ = sim.fleet().size();
    counts_.fill(0);
    for (CellState s : states_) ++counts_[static_cast<int>(s)];
    for (std::size_t i = 0; i < cells_.size(); ++i) setState(i, readState(sim, i, fleetChanged));
    cursor_ = 0;
}

void FleetView::refreshSlice(sim::Simulation& sim, std::size_t maxCells) {
    if (cells_.empty()) return;
    if (sim.fleet().size() != lastFleetSize_) {
        refresh(sim);  // shoots disappeared: look every cell up once
        return;
    }
    for (std::size_t k = 0; k < maxCells && k < cells_.size(); ++k) {
        setState(cursor_, readState(sim, cursor_, false));
        if (++cursor_ == cells_.size()) cursor_ = 0;
    }
}

const std::vector<std::uint32_t>& FleetView::visible(const FleetFilter& f) {
    if (f == cachedFilter_ && cachedVersion_ == version_) return visible_;
    // No filter: every cell in fleet order, whatever the states (no rescan while playing).
    if (f == FleetFilter{} && cachedFilter_ == f && cachedVersion_ != ~0ull && visible_.size() == cells_.size()) {
        cachedVersion_ = version_;
        return visible_;
    }
    if (f.account != cachedFilter_.account || cachedVersion_ == ~0ull || accountMatch_.size() != cells_.size()) {
        accountMatch_.assign(cells_.size(), 1);
        if (!f.account.empty())
            for (std::size_t i = 0; i < cells_.size(); ++i)
                accountMatch_[i] = cells_[i].globalAccountID.find(f.account) != std::string::npos ||
                                   cells_[i].subAccountID.find(f.account) != std::string::npos;
    }
    visible_.clear();
    for (std::size_t i = 0; i < cells_.size(); ++i) {
        if (f.region > 0 && cells_[i].region != f.region - 1) continue;
        if (f.state > 0 && static_cast<int>(states_[i]) != f.state - 1) continue;
        if (!accountMatch_[i]) continue;
        visible_.push_back(static_cast<std::uint32_t>(i));
    }
    cachedFilter_ = f;
    cachedVersion_ = version_;
    return visible_;
}

}  // namespace keb::web
