// The swarm (keb-sim swarm; TigerBeetle's VOPR, FoundationDB's simulation): random small worlds,
// each derived from one seed: a fleet, a fault plan, a timeline of submits, cancels, retries,
// restarts, outages, failure bursts, deleted shoots and store failures, and the invariants that
// must hold whatever happens. A world is written as an ordinary scenario file, so a failing seed
// becomes a file that `keb-sim run` replays exactly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "keb/sim/checker.h"
#include "keb/wire.h"

namespace keb::sim {

struct SwarmOptions {
    // Store failures may also hit cancels and retries (answered 500), not only the engine.
    bool storeFailuresUnderRequests = false;
};

// The scenario of world `seed` (a pure function of seed and options). Invariants: no operation
// pending or in progress at the end (operationStates), workersNeverExceeded,
// noRuntimeUpgradedTwice, allStartedInsideWindow, allFinished, stagesInOrder, noStartWhilePaused,
// noStartInBlackout, and nothingLostAcrossRestarts when the timeline restarts the broker; cancels
// and retries accept 200, 202 or 409. SPEC 10's stages, budgets, blackouts and pauses come from a
// second random stream of the seed (the rest of the world does not depend on them). With
// KEB_SIM_TEST_CHECKERS=1 also the deliberately wrong testOnlyNoFailedOperations.
Json swarmScenario(std::uint64_t seed, const SwarmOptions& options = {});

struct SwarmResult {
    std::uint64_t seed = 0;
    std::string scenarioText;  // the scenario file's text (what was run)
    bool passed = false;
    std::uint64_t eventLogHash = 0;
    std::uint64_t events = 0;
    int restarts = 0;
    int fatalRestarts = 0;  // restarts after a store write failed under the engine
    int orchestrations = 0;
    // SPEC 10 coverage: staged orchestrations, orchestrations with a budget, pauses (budget or
    // operator), and whether the world has blackouts (the engine's or a request's).
    int staged = 0;
    int budgeted = 0;
    int pauses = 0;
    bool blackouts = false;
    std::vector<CheckResult> failed;  // the failed checks
};

// Generates world `seed`, runs it to its end from its file text, checks it.
SwarmResult runSwarmWorld(std::uint64_t seed, const SwarmOptions& options = {});

}  // namespace keb::sim
