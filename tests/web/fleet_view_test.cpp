// The fleet map's model: one cell per shoot with the state of its latest operation, filters,
// and maintenance-window coverage per hour of the week.
#include <gtest/gtest.h>

#include <numeric>

#include "fleet_view.h"
#include "keb/sim/scenario.h"
#include "keb/sim/simulation.h"

namespace keb::web {
namespace {

// Three explicit runtimes with known windows (plus nothing generated).
const char* kScenario = R"({
  "name": "fleet view", "maxDuration": "3d",
  "fleet": {"size": 0, "runtimes": [
    {"runtimeID": "rt-a", "globalAccountID": "ga-alpha", "subAccountID": "sa-1", "region": "westeurope",
     "shootName": "c-a", "windowBegin": "100000+0000", "windowEnd": "110000+0000"},
    {"runtimeID": "rt-b", "globalAccountID": "ga-beta", "subAccountID": "sa-2", "region": "eu-central-1",
     "shootName": "c-b", "windowBegin": "230000+0000", "windowEnd": "010000+0000"},
    {"runtimeID": "rt-c", "globalAccountID": "ga-alpha", "subAccountID": "sa-3", "region": "westeurope",
     "shootName": "c-c", "windowBegin": "bad", "windowEnd": "bad", "deprovisioning": true}
  ]},
  "faults": {"duration": {"distribution": "fixed", "value": "20m"}}
})";

TEST(FleetView, CellsRegionsAndWindowCoverage) {
    sim::Simulation s(sim::parseScenario(kScenario, "fv.json"));
    FleetView v;
    v.rebuild(s);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v.regions(), (std::vector<std::string>{"eu-central-1", "westeurope"}));
    EXPECT_EQ(v.cell(0).shootName, "c-a");
    EXPECT_TRUE(v.cell(0).hasWindow);
    EXPECT_FALSE(v.cell(2).hasWindow);  // unparsable window
    EXPECT_EQ(v.state(2), CellState::Skipped);
    EXPECT_EQ(v.state(0), CellState::NoOperation);
    // rt-a: 10-11 every day (7 hours a week); rt-b: 23-01 crossing midnight (14 hours a week).
    const auto& cov = v.windowCoverage();
    EXPECT_EQ(std::accumulate(cov.begin(), cov.end(), 0), 7 + 14);
    EXPECT_EQ(cov[10], 1);        // Monday 10:00
    EXPECT_EQ(cov[23], 1);        // Monday 23:00 (rt-b)
    EXPECT_EQ(cov[24], 1);        // Tuesday 00:00 (rt-b, crossed midnight)
    EXPECT_EQ(cov[12], 0);
    EXPECT_EQ(v.maxCoverage(), 1);
}

TEST(FleetView, StatesFollowTheSimulationAndFiltersSelect) {
    sim::Simulation s(sim::parseScenario(kScenario, "fv.json"));
    FleetView v;
    v.rebuild(s);
    ApiResponse r = s.api("POST", "/upgrade/kyma",
                          R"({"targets":{"include":[{"runtimeID":"rt-a"}]},"strategy":{"schedule":"immediate"},"kyma":{"version":"2.20.0"}})");
    ASSERT_EQ(r.status, 202) << r.body.dump();
    s.advanceTo(s.now() + 5 * kMinute);
    v.refresh(s);
    EXPECT_EQ(v.state(0), CellState::InProgress);
    EXPECT_EQ(v.state(1), CellState::NoOperation);
    EXPECT_EQ(v.counts()[static_cast<int>(CellState::InProgress)], 1);
    s.advanceTo(s.now() + kHour);
    // A slice refresh walks the cells round-robin: after size() cells everything is current.
    v.refreshSlice(s, 1);
    v.refreshSlice(s, 2);
    EXPECT_EQ(v.state(0), CellState::Succeeded);
    EXPECT_EQ(v.counts()[static_cast<int>(CellState::Succeeded)], 1);
    EXPECT_EQ(v.counts()[static_cast<int>(CellState::InProgress)], 0);

    FleetFilter f;
    EXPECT_EQ(v.visible(f).size(), 3u);
    f.region = 2;  // westeurope
    EXPECT_EQ(v.visible(f), (std::vector<std::uint32_t>{0, 2}));
    f.account = "sa-3";
    EXPECT_EQ(v.visible(f), (std::vector<std::uint32_t>{2}));
    f = FleetFilter{};
    f.account = "alpha";
    EXPECT_EQ(v.visible(f), (std::vector<std::uint32_t>{0, 2}));
    f = FleetFilter{};
    f.state = static_cast<int>(CellState::Succeeded) + 1;
    EXPECT_EQ(v.visible(f), (std::vector<std::uint32_t>{0}));
}

TEST(FleetView, ShootsThatDisappearAreShownAsGone) {
    sim::Simulation s(sim::parseScenario(kScenario, "fv.json"));
    FleetView v;
    v.rebuild(s);
    ASSERT_EQ(s.disappear(std::vector<std::string>{"rt-b"}), 1u);
    v.refreshSlice(s, 1);  // the fleet shrank: every cell is looked up again
    EXPECT_EQ(v.state(1), CellState::Gone);
    EXPECT_EQ(v.state(0), CellState::NoOperation);
    EXPECT_EQ(v.counts()[static_cast<int>(CellState::Gone)], 1);
}

}  // namespace
}  // namespace keb::web
