// Randomised runs in the style of FoundationDB's simulator / TigerBeetle's VOPR: many seeds, each a
// random small world (fleet, faults, submits, cancels, retries, restarts, outages, bursts, deleted
// shoots). Whatever happens, the invariants must hold: workers never exceeded, no runtime upgraded
// twice, every start inside its window, everything finished, nothing lost across restarts, and the
// API never answers outside its documented statuses. A failing seed is printed for replay.
// KEB_LONG_TESTS=1 runs 500 seeds instead of 40.
#include <gtest/gtest.h>

#include <cstdlib>

#include "keb/world/random.h"
#include "keb/sim/simulation.h"

using namespace keb;
using namespace keb::sim;

namespace {

std::string randomBody(world::Rng& rng, bool cluster) {
    Json body;
    body["targets"]["include"] = Json::array({Json{{"target", "all"}}});
    if (rng.chance(0.3)) body["targets"]["exclude"] = Json::array({Json{{"planName", "trial"}}});
    Json strategy{{"type", "parallel"}, {"parallel", {{"workers", 1 + static_cast<int>(rng.below(8))}}}};
    switch (rng.below(3)) {
        case 0: strategy["schedule"] = "immediate"; break;
        case 1: strategy["schedule"] = "maintenanceWindow"; break;
        default: strategy["schedule"] = "now"; strategy["maintenanceWindow"] = true; break;
    }
    body["strategy"] = strategy;
    body["dryRun"] = rng.chance(0.1);
    if (cluster) body["kubernetes"] = {{"kubernetesVersion", "1.30.2"}};
    else body["kyma"] = {{"version", "2.20.0"}};
    return body.dump();
}

void runOne(std::uint64_t seed) {
    world::Rng rng(mix64(seed));
    Json sc;
    sc["seed"] = seed;
    sc["end"] = "+20d";
    sc["fleet"] = {{"size", 10 + static_cast<int>(rng.below(60))},
                   {"operatorWindowShare", rng.uniform()},
                   {"deletingShare", 0.05}};
    sc["faults"] = {{"failureProbability", rng.uniform() * 0.3},
                    {"hangProbability", rng.chance(0.5) ? 0.05 : 0.0},
                    {"backendLatency", std::to_string(rng.below(90)) + "s"},
                    {"duration", {{"distribution", "uniform"}, {"min", "2m"}, {"max", std::to_string(5 + rng.below(120)) + "m"}}}};
    sc["engine"] = {{"operationTimeout", "90m"}};
    Scenario scenario = parseScenario(sc.dump(), "random-" + std::to_string(seed));
    scenario.expect.workersNeverExceeded = true;
    scenario.expect.noRuntimeUpgradedTwice = true;
    scenario.expect.allStartedInsideWindow = true;
    scenario.expect.allFinished = true;

    Simulation sim(std::move(scenario));
    std::vector<std::string> ids;
    const int actions = 3 + static_cast<int>(rng.below(10));
    bool restarted = false;
    for (int i = 0; i < actions; ++i) {
        sim.advanceTo(sim.now() + static_cast<Millis>(rng.below(6 * kHour)));
        const auto pick = [&]() { return ids[rng.below(ids.size())]; };
        int status = 0;
        switch (rng.below(ids.empty() ? 1 : 8)) {
            case 0:
            case 1: {
                const bool cluster = rng.chance(0.4);
                auto r = sim.api("POST", cluster ? "/upgrade/cluster" : "/upgrade/kyma", randomBody(rng, cluster));
                status = r.status;
                ASSERT_EQ(status, 202) << r.body.dump();
                ids.push_back(r.body["orchestrationID"]);
                break;
            }
            case 2: status = sim.api("PUT", "/orchestrations/" + pick() + "/cancel").status; break;
            case 3:
                status = sim.api("POST", "/orchestrations/" + pick() + "/retry",
                                 rng.chance(0.5) ? "immediate=true" : "", "application/x-www-form-urlencoded")
                             .status;
                break;
            case 4: sim.restart(); restarted = true; break;
            case 5: sim.gardenerOutage(static_cast<Millis>(rng.below(2 * kHour)), "injected"); break;
            case 6: sim.failureBurst(static_cast<Millis>(rng.below(3 * kHour)), rng.uniform()); break;
            default: sim.disappear(static_cast<int>(rng.below(4))); break;
        }
        if (status) {
            ASSERT_TRUE(status == 200 || status == 202 || status == 409) << "status " << status;
        }
        auto list = sim.api("GET", "/orchestrations?page_size=100");
        ASSERT_EQ(list.status, 200);
        ASSERT_EQ(list.body["totalCount"].get<std::size_t>(), ids.size());
    }
    sim.runToEnd();
    for (const auto& c : sim.checks()) EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
    if (restarted) {
        // Nothing accepted is lost: every orchestration is still there, finished.
        for (const auto& id : ids) {
            auto o = sim.store().getOrchestration(id);
            ASSERT_TRUE(o.has_value());
            EXPECT_TRUE(isFinished(o->state)) << toString(o->state);
        }
    }
    EXPECT_EQ(sim.workersInUse(), 0);
}

}  // namespace

TEST(RandomScenarios, InvariantsHoldForManySeeds) {
    const char* longTests = std::getenv("KEB_LONG_TESTS");
    const int seeds = longTests && std::string(longTests) == "1" ? 500 : 40;
    for (int s = 1; s <= seeds; ++s) {
        SCOPED_TRACE("replay with seed " + std::to_string(s));
        runOne(static_cast<std::uint64_t>(s));
        if (HasFailure()) {
            std::fprintf(stderr, "random scenario failed: seed %d\n", s);
            break;
        }
    }
}
