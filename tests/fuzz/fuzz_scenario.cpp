// Fuzz target: the scenario loader (sim/include/keb/sim/scenario.h) and, for small worlds, the
// simulator running what it loaded. The input is a scenario file's text.
// Checks: parseScenario either returns or throws ScenarioError with a message (no other
// exception, crash, leak or UB); parseOffset never crashes; a scenario with at most 40 runtimes
// runs (at most 3,000 events) and produces its summary and checks without crashing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keb/sim/scenario.h"
#include "keb/sim/simulation.h"

using namespace keb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)sim::parseOffset(text.substr(0, 64));

    sim::Scenario sc;
    try {
        sc = sim::parseScenario(text, "fuzz.json");
    } catch (const sim::ScenarioError& e) {
        if (std::string_view(e.what()).empty()) {
            std::fprintf(stderr, "fuzz_scenario: ScenarioError without a message\n");
            std::abort();
        }
        return 0;
    }
    // Small worlds only: the simulator's cost grows with the fleet.
    if (sc.fleet.size > 40 || sc.fleet.extra.size() > 40 || sc.timeline.size() > 32) return 0;
    try {
        sim::Simulation s(sc);
        s.setLogCapacity(16);
        s.run(3000);
        (void)s.checks(s.finished());
        (void)s.summary();
    } catch (const sim::ScenarioError&) {
        // Errors a scenario can only show when run (reported like a parse error).
    }
    return 0;
}
