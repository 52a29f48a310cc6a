// What the fleet map shows: one cell per shoot of the loaded scenario, its latest
// operation state, and the filters. Built at load, states refreshed every frame.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "keb/model.h"
#include "keb/windows.h"

namespace keb::sim {
class Simulation;
}

namespace keb::web {

enum class CellState : std::uint8_t { NoOperation, Pending, InProgress, Succeeded, Failed, Canceled, Skipped, Gone, Count };
constexpr int kCellStates = static_cast<int>(CellState::Count);
const char* cellStateName(CellState s);
// An operation state as the HTTP API writes it ("in progress") -> cell state; NoOperation if unknown.
CellState cellStateFromApi(const std::string& state);
// RGBA (ImGui's IM_COL32 layout: 0xAABBGGRR).
std::uint32_t cellStateColor(CellState s);

struct FleetFilter {
    int region = 0;           // 0: all, else regions()[region - 1]
    std::string account;      // substring of globalAccountID or subAccountID; empty: all
    int state = 0;            // 0: all, else CellState(state - 1)
    bool operator==(const FleetFilter&) const = default;
};

struct FleetCell {
    std::string runtimeID;
    std::string shootName;
    std::string globalAccountID;
    std::string subAccountID;
    std::string planName;
    std::string windowBegin, windowEnd;  // as on the Shoot
    std::uint16_t region = 0;            // index into regions()
    bool skipped = false;                // deprovisioning or suspended at load
    bool hasWindow = false;
    WindowSpec window;                   // effective window (policy applied)
};

class FleetView {
public:
    void rebuild(sim::Simulation& sim);
    // Live mode: the server's fleet (GET /runtimes, every page) with each runtime's state from
    // its lastOperation. Same cells, windows and filters as the simulated fleet.
    void rebuild(const std::vector<Runtime>& runtimes, const MaintenancePolicy& policy,
                 const std::vector<CellState>& states);
    // Live mode, same runtimes in the same order: only the states changed.
    void setStates(const std::vector<CellState>& states);
    // Live mode: one cell's state (a page of GET /runtimes at a time).
    void setLiveState(std::size_t i, CellState s);
    // Live mode: the runtime a cell was built from (the fields the map keeps).
    Runtime runtimeOf(std::size_t i) const;
    bool sameRuntimes(const std::vector<Runtime>& runtimes) const;
    void clear();
    // Re-reads every cell's state from the simulation (one hash lookup per shoot).
    void refresh(sim::Simulation& sim);
    // Re-reads at most maxCells cells, continuing where the last call stopped (playback:
    // spreads the cost of a 10,000-shoot map over a few frames).
    void refreshSlice(sim::Simulation& sim, std::size_t maxCells);

    std::size_t size() const { return cells_.size(); }
    const FleetCell& cell(std::size_t i) const { return cells_[i]; }
    CellState state(std::size_t i) const { return states_[i]; }
    const std::vector<std::string>& regions() const { return regions_; }
    const std::array<int, kCellStates>& counts() const { return counts_; }
    // Indices of the cells passing the filter, in fleet order (cached per filter and refresh).
    const std::vector<std::uint32_t>& visible(const FleetFilter& f);
    // Runtimes whose maintenance window covers each hour of the week (0 = Monday 00:00 UTC).
    const std::array<int, 168>& windowCoverage() const { return coverage_; }
    int maxCoverage() const { return maxCoverage_; }
    // Bumped whenever a cell's state or the cells change (the map's texture is rebuilt then).
    std::uint64_t version() const { return version_; }
    // Cells whose state changed since the last call, as an index range [lo, hi) (empty: lo >= hi);
    // resets it. All cells after rebuild/clear.
    std::pair<std::size_t, std::size_t> takeDirty() {
        auto r = std::make_pair(dirtyLo_, dirtyHi_);
        dirtyLo_ = ~std::size_t{0};
        dirtyHi_ = 0;
        return r;
    }

private:
    template <class Get>
    void buildCells(std::size_t n, Get&& get, const MaintenancePolicy& policy);
    std::vector<FleetCell> cells_;
    std::vector<CellState> states_;
    std::vector<std::uint8_t> accountMatch_;
    std::vector<std::string> regions_;
    std::array<int, kCellStates> counts_{};
    std::array<int, 168> coverage_{};
    int maxCoverage_ = 0;
    std::size_t lastFleetSize_ = 0;
    std::size_t cursor_ = 0;
    CellState readState(sim::Simulation& sim, std::size_t i, bool fleetChanged) const;
    void setState(std::size_t i, CellState s);
    // visible() cache
    FleetFilter cachedFilter_;
    std::uint64_t cachedVersion_ = ~0ull;
    std::uint64_t version_ = 0;
    std::size_t dirtyLo_ = 0, dirtyHi_ = ~std::size_t{0} >> 1;
    std::vector<std::uint32_t> visible_;
};

}  // namespace keb::web
