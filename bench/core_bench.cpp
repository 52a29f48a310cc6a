// Benchmarks of the core's pure pieces: target resolution over a large fleet, and
// the maintenance-window computation for one runtime.
//   keb-bench --benchmark_filter='BM_Resolve|BM_SimFleet|BM_NextWindow|BM_Regex'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "keb/fleet.h"
#include "keb/regex.h"
#include "keb/targets.h"
#include "keb/timefmt.h"
#include "keb/windows.h"
#include "keb/world/fleet_gen.h"
#ifdef __linux__
#include <unistd.h>
#endif

namespace {

using namespace keb;

// A fleet shaped like a large KEB installation: ~2,000 global accounts, 20,000
// subaccounts, 12 regions, 4 plans, UUID ids. Deterministic (seeded).
std::vector<Runtime> makeFleet(std::size_t n) {
    SeededIdGenerator ids(7);
    std::mt19937_64 rng(11);
    std::vector<std::string> accounts(2000), subaccounts(20000);
    for (auto& a : accounts) a = ids.newId();
    for (auto& s : subaccounts) s = ids.newId();
    const std::vector<std::string> regions = {"eu-west-1",      "eu-central-1", "us-east-1",  "us-west-2",
                                              "ap-southeast-1", "ap-south-1",   "ca-central-1", "sa-east-1",
                                              "westeurope",     "eastus",       "japaneast",  "europe-west3"};
    const std::vector<std::string> plans = {"aws", "azure", "gcp", "trial"};
    std::vector<Runtime> fleet(n);
    for (std::size_t i = 0; i < n; ++i) {
        Runtime& r = fleet[i];
        r.runtimeID = ids.newId();
        r.instanceID = ids.newId();
        const std::size_t sub = rng() % subaccounts.size();
        r.subAccountID = subaccounts[sub];
        r.globalAccountID = accounts[sub % accounts.size()];  // a subaccount belongs to one global account
        r.region = regions[rng() % regions.size()];
        r.planName = plans[rng() % plans.size()];
        r.planID = "plan-" + r.planName;
        r.shootName = "c-" + r.runtimeID.substr(0, 7);
        r.windowBegin = "220000+0000";
        r.windowEnd = "230000+0000";
        r.suspended = rng() % 200 == 0;
    }
    return fleet;
}

Targets makeTargets(const std::vector<Runtime>& fleet) {
    Targets t;
    auto add = [](std::vector<Target>& list) -> Target& { return list.emplace_back(); };
    add(t.include).globalAccount = "^0[0-3]";
    add(t.include).subAccount = "a1b|ff$";
    {
        Target& x = add(t.include);
        x.region = "^eu-(west|central)-1$";
        x.planName = "aws";
    }
    add(t.include).runtimeID = fleet[fleet.size() / 2].runtimeID;
    add(t.include).globalAccount = "(?i)^ABC";
    add(t.include).planName = "trial";
    add(t.include).subAccount = "[0-9]{4}-4";
    add(t.exclude).region = "us-east";
    add(t.exclude).runtimeID = fleet[1].runtimeID;
    {
        Target& x = add(t.exclude);
        x.globalAccount = "^f";
        x.planName = "azure";
    }
    return t;
}

void BM_ResolveTargets(benchmark::State& state) {
    const auto fleet = makeFleet(static_cast<std::size_t>(state.range(0)));
    const Targets targets = makeTargets(fleet);
    std::size_t selected = 0, skipped = 0;
    std::vector<const Runtime*> skippedList;
    for (auto _ : state) {
        auto result = resolveTargets(targets, fleet, &skippedList);
        selected = result.size();
        skipped = skippedList.size();
        benchmark::DoNotOptimize(result.data());
    }
    state.counters["selected"] = static_cast<double>(selected);
    state.counters["skipped"] = static_cast<double>(skipped);
    state.counters["runtimes/s"] =
        benchmark::Counter(static_cast<double>(fleet.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ResolveTargets)->Arg(100000)->Unit(benchmark::kMillisecond);

// The same resolution through the RuntimeList entry point (what the engine calls): over a
// borrowed vector, and over a list that builds every runtime into one buffer (a copy per
// read: the cost a materialising list adds on top).
void BM_ResolveTargetIndices(benchmark::State& state) {
    const auto fleet = makeFleet(static_cast<std::size_t>(state.range(0)));
    const Targets targets = makeTargets(fleet);
    const VectorRuntimeList list(fleet);
    std::size_t selected = 0;
    std::vector<std::uint32_t> skipped;
    for (auto _ : state) {
        auto result = resolveTargetIndices(targets, list, &skipped);
        selected = result.size();
        benchmark::DoNotOptimize(result.data());
    }
    state.counters["selected"] = static_cast<double>(selected);
    state.counters["runtimes/s"] =
        benchmark::Counter(static_cast<double>(fleet.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ResolveTargetIndices)->Arg(100000)->Unit(benchmark::kMillisecond);

class CopyingList final : public RuntimeList {
public:
    explicit CopyingList(const std::vector<Runtime>& v) : v_(v) {}
    std::size_t size() const override { return v_.size(); }
    const Runtime& at(std::size_t i) const override {
        buf_ = v_[i];
        return buf_;
    }

private:
    const std::vector<Runtime>& v_;
    mutable Runtime buf_;
};

void BM_ResolveTargetIndicesMaterialised(benchmark::State& state) {
    const auto fleet = makeFleet(static_cast<std::size_t>(state.range(0)));
    const Targets targets = makeTargets(fleet);
    const CopyingList list(fleet);
    std::size_t selected = 0;
    for (auto _ : state) {
        auto result = resolveTargetIndices(targets, list);
        selected = result.size();
        benchmark::DoNotOptimize(result.data());
    }
    state.counters["selected"] = static_cast<double>(selected);
    state.counters["runtimes/s"] =
        benchmark::Counter(static_cast<double>(fleet.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ResolveTargetIndicesMaterialised)->Arg(100000)->Unit(benchmark::kMillisecond);

// Over the simulator's compact fleet (the engine's path in BM_SimRollout): every read
// builds a Runtime from 16-byte ids and pool ids.
void BM_ResolveTargetsSimFleet(benchmark::State& state) {
    world::FleetSpec spec;
    spec.size = static_cast<int>(state.range(0));
    world::SimFleet fleet(spec, 7);
    const auto vec = fleet.toVector();
    Targets targets = makeTargets(vec);
    targets.include[3].runtimeID = vec[vec.size() / 2].runtimeID;
    std::size_t selected = 0;
    for (auto _ : state) {
        auto result = resolveTargetIndices(targets, fleet);
        selected = result.size();
        benchmark::DoNotOptimize(result.data());
    }
    state.counters["selected"] = static_cast<double>(selected);
    state.counters["runtimes/s"] =
        benchmark::Counter(static_cast<double>(fleet.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ResolveTargetsSimFleet)->Arg(100000)->Unit(benchmark::kMillisecond);

// Resident set size now (Linux; 0 elsewhere).
long residentBytes() {
#ifdef __linux__
    long pages = 0, rss = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        std::fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
#else
    return 0;
#endif
}

// Building the compact fleet (generator straight into SimFleet). fleet_B_per_shoot is
// SimFleet::approxBytes(); rss_B_per_shoot is the resident memory the live fleet adds
// (the first iteration of the process: google-benchmark calls a benchmark function more
// than once, and later calls reuse freed memory; run this benchmark alone for a clean number:
// keb-bench --benchmark_filter=BM_SimFleetGenerate). BM_FleetVector is the same fleet as
// generateFleet's std::vector<Runtime>, for comparison.
void BM_SimFleetGenerate(benchmark::State& state) {
    world::FleetSpec spec;
    spec.size = static_cast<int>(state.range(0));
    std::size_t bytes = 0;
    static long rss = -1;  // first call of the process only
    for (auto _ : state) {
        const long before = residentBytes();
        world::SimFleet fleet(spec, 7);
        if (rss < 0) rss = residentBytes() - before;
        bytes = fleet.approxBytes();
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["fleet_B_per_shoot"] = static_cast<double>(bytes) / static_cast<double>(spec.size);
    state.counters["rss_B_per_shoot"] = static_cast<double>(rss) / static_cast<double>(spec.size);
}
BENCHMARK(BM_SimFleetGenerate)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_FleetVector(benchmark::State& state) {
    world::FleetSpec spec;
    spec.size = static_cast<int>(state.range(0));
    static long rss = -1;  // first call of the process only
    for (auto _ : state) {
        const long before = residentBytes();
        auto fleet = world::generateFleet(spec, 7);
        if (rss < 0) rss = residentBytes() - before;
        benchmark::DoNotOptimize(fleet.data());
    }
    state.counters["rss_B_per_shoot"] = static_cast<double>(rss) / static_cast<double>(spec.size);
}
BENCHMARK(BM_FleetVector)->Arg(100000)->Unit(benchmark::kMillisecond);

// An operator listing runtimes by id: 5,000 runtimeID includes and 1,000 runtimeID
// excludes over the fleet (hash lookups instead of one fleet scan per rule).
void BM_ResolveTargetsManyIDs(benchmark::State& state) {
    const auto fleet = makeFleet(static_cast<std::size_t>(state.range(0)));
    Targets targets;
    for (std::size_t i = 0; i < 5000; ++i) targets.include.emplace_back().runtimeID = fleet[(i * 17) % fleet.size()].runtimeID;
    for (std::size_t i = 0; i < 1000; ++i) targets.exclude.emplace_back().runtimeID = fleet[(i * 85) % fleet.size()].runtimeID;
    std::size_t selected = 0;
    for (auto _ : state) {
        auto result = resolveTargets(targets, fleet);
        selected = result.size();
        benchmark::DoNotOptimize(result.data());
    }
    state.counters["selected"] = static_cast<double>(selected);
}
BENCHMARK(BM_ResolveTargetsManyIDs)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_NextWindow(benchmark::State& state) {
    std::string err;
    const auto policy = parseMaintenancePolicy(R"J({
      "rules": [
        {"match": {"globalAccountID": "^0[0-3]", "region": "eu"}, "days": ["Sat", "Sun"]},
        {"match": {"plan": "^trial$"}, "timeBegin": "010000+0000", "timeEnd": "020000+0000"},
        {"match": {"region": "(us|ca)-"}, "days": ["Mon", "Wed", "Fri"]}
      ],
      "default": {"days": ["Tue", "Thu"]}
    })J",
                                               &err);
    if (!policy) {
        state.SkipWithError(err.c_str());
        return;
    }
    Runtime r;
    r.globalAccountID = "7d0c3e4a-1f2b-4c5d-9e8f-0a1b2c3d4e5f";
    r.region = "ca-central-1";
    r.planName = "aws";
    r.windowBegin = "013000+0530";
    r.windowEnd = "023000+0530";
    Millis now = *parseRfc3339("2026-11-27T17:05:25Z");
    for (auto _ : state) {
        auto w = effectiveWindow(r, *policy, &err);
        const WindowInstance inst = nextWindow(*w, now);
        benchmark::DoNotOptimize(inst);
        now += 37 * kMinute;  // walk through the week
    }
}
BENCHMARK(BM_NextWindow)->Unit(benchmark::kMicrosecond);

// The regex engine on its own: a non-literal pattern over a UUID-sized string.
void BM_RegexSearch(benchmark::State& state) {
    const auto re = Regex::compile("(?i)^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-0{12}$");
    const std::string text = "7d0c3e4a-1f2b-4c5d-9e8f-0a1b2c3d4e5f";
    for (auto _ : state) benchmark::DoNotOptimize(re->search(text));
}
BENCHMARK(BM_RegexSearch)->Unit(benchmark::kNanosecond);

// A pathological pattern for backtracking engines, over 100,000 characters.
void BM_RegexCatastrophic(benchmark::State& state) {
    const auto re = Regex::compile("(a*)*b");
    const std::string text(static_cast<std::size_t>(state.range(0)), 'a');
    for (auto _ : state) benchmark::DoNotOptimize(re->search(text));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RegexCatastrophic)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
