// SPEC 12: a preview of 100,000 runtimes with maintenance windows (target: under 2 s wall and
// under 300 MB peak extra memory). Reports wall time and the peak resident memory the preview
// added (Linux: VmHWM after resetting it through /proc/self/clear_refs).
//   keb-bench --benchmark_filter=BM_Preview
#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <string>

#include "keb/memory_store.h"
#include "keb/preview.h"
#include "keb/validate.h"
#include "keb/world/fleet_gen.h"

namespace {

using namespace keb;

// kB of a /proc/self/status line ("VmRSS", "VmHWM"); -1 where there is none.
long statusKb(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(line.find(':') + 1));
    return -1;
}

void resetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

void BM_Preview(benchmark::State& state) {
    world::FleetSpec spec;
    spec.size = static_cast<int>(state.range(0));
    world::SimFleet fleet(spec, 1);
    MemoryStore store;
    EngineConfig config;
    std::string err;
    auto params = parseUpgradeRequest(OrchestrationType::UpgradeKyma,
                                      R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel",
        "schedule":"maintenanceWindow","parallel":{"workers":500}},"kyma":{"version":"2.21.0"}})",
                                      &err);
    if (!params) {
        state.SkipWithError(err.c_str());
        return;
    }
    const Millis now = 1'764'928'800'000;  // 2025-12-05T10:00:00Z
    double peakExtraMB = 0, wallMs = 0;
    std::int64_t runtimes = 0;
    for (auto _ : state) {
        const long before = statusKb("VmRSS:");
        resetPeak();
        const auto t0 = std::chrono::steady_clock::now();
        PreviewAnswer a = previewUpgrade(OrchestrationType::UpgradeKyma, *params, store, fleet, config, now);
        wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const long peak = statusKb("VmHWM:");
        if (before > 0 && peak > 0) peakExtraMB = static_cast<double>(peak - before) / 1024.0;
        runtimes = a.body.value("runtimes", std::int64_t{0});
        benchmark::DoNotOptimize(a);
    }
    state.counters["wall_ms"] = wallMs;
    state.counters["peak_extra_MB"] = peakExtraMB;
    state.counters["runtimes"] = static_cast<double>(runtimes);
}
BENCHMARK(BM_Preview)->Arg(100'000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
