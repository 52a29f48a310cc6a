// Simulator benchmarks (issue 3):
//   BM_SimRollout/N          7-day maintenance-window rollout of N shoots, 5% failures, two restarts.
//   BM_SimRolloutStaged/N    the same rollout in three stages (free plan, azure, the rest; 30m soak)
//                            with failure budgets (10% per stage and of the orchestration, never
//                            passed at 5% failures): SPEC 10's cost; issue 11 bounds it at 1.2x.
//   BM_EventQueueBaseline/N  a bare std::priority_queue "hold" loop (pop one, push one) over as many
//                            events as BM_SimRollout/N processed: the floor of any discrete-event loop.
// Counters: events, events/s, ratio to the bare heap loop (measured inline on the same event count),
// peak RSS growth per shoot and the simulator's own bytes per shoot.
#ifdef KEB_HAVE_SIM
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <queue>
#include <unistd.h>

#include "keb/world/random.h"
#include "keb/sim/simulation.h"

namespace {

std::map<std::int64_t, std::uint64_t>& eventsBySize() {
    static std::map<std::int64_t, std::uint64_t> m;
    return m;
}

// SPEC 10: the strategy of the staged variant (inserted after "parallel").
constexpr const char* kStagedStrategy =
    R"(, "maxFailures": "10%", "stages": [)"
    R"({"name": "canary", "targets": {"include": [{"planName": "free"}]}, "soak": "30m", "maxFailures": "10%"},)"
    R"({"name": "azure", "targets": {"include": [{"planName": "azure"}]}, "soak": "30m", "maxFailures": "10%"},)"
    R"({"name": "rest", "maxFailures": "10%"}])";

keb::sim::Scenario rolloutScenario(int shoots, bool staged = false) {
    const int workers = std::max(1, shoots / 500);
    char text[4096];
    std::snprintf(text, sizeof text, R"({
      "name": "bench rollout", "seed": %d, "start": "2026-01-05T00:00:00Z", "end": "%s",
      "fleet": {"size": %d},
      "faults": {"failureProbability": 0.05,
                 "duration": {"distribution": "lognormal", "median": "15m", "sigma": 0.5, "min": "3m", "max": "2h"}},
      "timeline": [
        {"at": "+0s", "event": "submit", "kind": "kyma",
         "body": {"targets": {"include": [{"target": "all"}]},
                  "strategy": {"type": "parallel", "schedule": "immediate", "maintenanceWindow": true,
                               "parallel": {"workers": %d}%s},
                  "kyma": {"version": "2.20.0"}}},
        {"at": "+1d6h", "event": "restart"},
        {"at": "+3d14h30m", "event": "restart"}
      ],
      "expect": {"allStartedInsideWindow": true, "noRuntimeUpgradedTwice": true, "nothingLostAcrossRestarts": true%s}
    })",
                  shoots, staged ? "+12d" : "+8d", shoots, workers, staged ? kStagedStrategy : "",
                  staged ? R"(, "stagesInOrder": true, "workersNeverExceeded": true, "allFinished": true)" : "");
    return keb::sim::parseScenario(text, "bench");
}

long currentRssBytes() {
    long pages = 0, rss = 0;
    std::ifstream in("/proc/self/statm");
    in >> pages >> rss;
    return rss * sysconf(_SC_PAGESIZE);
}

long peakRssBytes() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss * 1024L;
}

// The bare loop: a heap of `live` pending events; each step pops the earliest and pushes a later one.
std::uint64_t holdLoop(std::uint64_t events, std::size_t live) {
    struct Ev {
        std::int64_t at;
        std::uint64_t seq;
        bool operator>(const Ev& o) const { return at != o.at ? at > o.at : seq > o.seq; }
    };
    std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> q;
    keb::world::Rng rng(1);
    std::uint64_t seq = 0, checksum = 0;
    for (std::size_t i = 0; i < live; ++i) q.push({static_cast<std::int64_t>(rng.below(60000)), seq++});
    for (std::uint64_t i = 0; i < events; ++i) {
        Ev e = q.top();
        q.pop();
        checksum += static_cast<std::uint64_t>(e.at);
        q.push({e.at + 1 + static_cast<std::int64_t>(rng.below(60000)), seq++});
    }
    return checksum;
}

void simRollout(benchmark::State& state, bool staged) {
    const int shoots = static_cast<int>(state.range(0));
    std::uint64_t events = 0;
    double simSeconds = 0;
    long rssBefore = 0, peakAfter = 0;
    std::size_t ownBytes = 0;
    bool passed = true;
    std::uint64_t perRunStaged = 0;
    for (auto _ : state) {
        state.PauseTiming();
        keb::sim::Scenario sc = rolloutScenario(shoots, staged);
        rssBefore = currentRssBytes();
        state.ResumeTiming();
        const auto t0 = std::chrono::steady_clock::now();
        keb::sim::Simulation sim(std::move(sc));
        sim.setLogCapacity(0);
        sim.runToEnd();
        simSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        events += sim.eventsProcessed();
        state.PauseTiming();
        peakAfter = peakRssBytes();
        ownBytes = sim.approxBytes();
        const keb::Json summary = sim.summary();
        passed = passed && summary["passed"].get<bool>();
        if (!summary["passed"].get<bool>()) std::fprintf(stderr, "%s\n", summary["checks"].dump(1).c_str());
        if (!staged) eventsBySize()[shoots] = sim.eventsProcessed();
        else perRunStaged = sim.eventsProcessed();
        state.ResumeTiming();
    }
    if (!passed) state.SkipWithError("rollout expectations failed");
    const std::uint64_t perRun = staged ? perRunStaged : eventsBySize()[shoots];
    // The bare loop's best of three (one run is easily disturbed on a shared machine).
    double heapSeconds = 1e9;
    for (int k = 0; k < 3; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(holdLoop(perRun, 4096));
        heapSeconds = std::min(heapSeconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double runs = static_cast<double>(state.iterations());
    state.counters["events"] = static_cast<double>(perRun);
    state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
    state.counters["ratio_to_bare_heap"] = (simSeconds / runs) / std::max(heapSeconds, 1e-9);
    state.counters["peak_rss_MB"] = static_cast<double>(peakAfter) / (1024.0 * 1024.0);
    state.counters["rss_growth_B_per_shoot"] = static_cast<double>(peakAfter - rssBefore) / shoots;
    state.counters["sim_own_B_per_shoot"] = static_cast<double>(ownBytes) / shoots;
}
void BM_SimRollout(benchmark::State& state) { simRollout(state, false); }
BENCHMARK(BM_SimRollout)->Arg(10000)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SimRolloutStaged(benchmark::State& state) { simRollout(state, true); }
BENCHMARK(BM_SimRolloutStaged)->Arg(10000)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EventQueueBaseline(benchmark::State& state) {
    const std::int64_t shoots = state.range(0);
    auto it = eventsBySize().find(shoots);
    if (it == eventsBySize().end()) {  // run alone: measure the rollout's event count first
        keb::sim::Simulation sim(rolloutScenario(static_cast<int>(shoots)));
        sim.setLogCapacity(0);
        sim.runToEnd();
        it = eventsBySize().emplace(shoots, sim.eventsProcessed()).first;
    }
    for (auto _ : state) benchmark::DoNotOptimize(holdLoop(it->second, 4096));
    state.counters["events"] = static_cast<double>(it->second);
    state.counters["events_per_s"] =
        benchmark::Counter(static_cast<double>(it->second) * static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EventQueueBaseline)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
#endif  // KEB_HAVE_SIM
