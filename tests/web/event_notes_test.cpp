#include <gtest/gtest.h>

#include "event_notes.h"
#include "keb/sim/scenario.h"
#include "keb/sim/simulation.h"

using namespace keb;
using namespace keb::web;

TEST(EventNotes, NewestFirstWithCountsAndOtherLinesIgnored) {
    std::deque<std::string> log = {
        R"({"at":"2026-01-05T00:00:00Z","kind":"sim.start"})",
        R"({"at":"2026-01-05T01:00:00Z","kind":"operation.waiting","runtimeID":"rt-1","detail":"another upgrade of the runtime is running"})",
        R"({"at":"2026-01-05T02:00:00Z","kind":"operation.superseded","runtimeID":"rt-2","detail":"superseded by operation o of orchestration b"})",
        "not json \"kind\":\"operation.skipped\"",
        R"({"at":"2026-01-05T03:00:00Z","kind":"operation.state","runtimeID":"rt-3"})"};
    const EventNotes n = collectEventNotes(log, 5);
    EXPECT_EQ(n.superseded, 1u);
    EXPECT_EQ(n.waiting, 1u);
    EXPECT_EQ(n.skipped, 1u);  // counted; not parsable, so not listed
    ASSERT_EQ(n.latest.size(), 2u);
    EXPECT_EQ(n.latest[0].kind, "superseded");
    EXPECT_EQ(n.latest[0].runtime, "rt-2");
    EXPECT_EQ(n.latest[0].detail, "superseded by operation o of orchestration b");
    EXPECT_EQ(n.latest[1].kind, "waiting");
    EXPECT_EQ(collectEventNotes(log, 1).latest.size(), 1u);
}

// The browser's simulation of a never-back scenario explains the operations that did not run.
TEST(EventNotes, SupersededOperationsOfAScenarioAreExplained) {
    // scenarios/never_back_pending_superseded.json (inline: the wasm build of this test reads no files)
    const std::string text = R"({"name":"pending window operations superseded by a newer immediate orchestration, with a restart","seed":173,"fleet":{"size":0,"runtimes":[{"runtimeID":"rt-a","shootName":"c-a","windowBegin":"220000+0000","windowEnd":"230000+0000"},{"runtimeID":"rt-b","shootName":"c-b","windowBegin":"220000+0000","windowEnd":"230000+0000"},{"runtimeID":"rt-c","shootName":"c-c","windowBegin":"220000+0000","windowEnd":"230000+0000"}]},"faults":{"duration":{"distribution":"fixed","value":"10m"}},"timeline":[{"at":"+0s","event":"submit","body":{"targets":{"include":[{"runtimeID":"rt-a"},{"runtimeID":"rt-b"},{"runtimeID":"rt-c"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":3},"maintenanceWindow":true},"kyma":{"version":"2.20.0"}}},{"at":"+1h","event":"submit","body":{"targets":{"include":[{"runtimeID":"rt-a"},{"runtimeID":"rt-b"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":2}},"kyma":{"version":"2.21.0"}}},{"at":"+2h","event":"check","orchestration":1,"state":"succeeded","operations":{"succeeded":2}},{"at":"+3h","event":"restart"},{"at":"+21h","event":"check","orchestration":0,"state":"in progress","operations":{"pending":3}},{"at":"+22h1m","event":"check","orchestration":0,"state":"in progress","operations":{"succeeded":2,"in progress":1}}],"expect":{"orchestrations":[{"state":"succeeded","operations":{"succeeded":3},"totalOperations":3},{"state":"succeeded","operations":{"succeeded":2}}],"upgrades":3,"allStartedInsideWindow":true,"noRuntimeUpgradedTwice":true,"nothingLostAcrossRestarts":true,"allFinished":true}})";
    auto sc = sim::parseScenario(text, "never_back_pending_superseded.json");
    sim::Simulation s(sc);
    s.runToEnd();
    const EventNotes n = collectEventNotes(s.recentLog(), 3);
    EXPECT_EQ(n.superseded, 2u);
    ASSERT_FALSE(n.latest.empty());
    EXPECT_EQ(n.latest[0].kind, "superseded");
    EXPECT_EQ(n.latest[0].detail.rfind("superseded by operation ", 0), 0u) << n.latest[0].detail;
}
