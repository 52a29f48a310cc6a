// MemoryStore benchmarks (issue 3 memory target: <= 350 B per stored operation at 100k operations).
//   keb-bench --benchmark_filter=BM_Store
// BM_StoreInsert/N          N operations of one orchestration in one streamed insert
//                           (updateOrchestrationAddingOperations); counters: bytes/op by approxBytes()
//                           (when the store has it) and by RSS growth.
// BM_StoreInsertBatch/N     the same through updateOrchestrationWithOperations (a vector of N ops).
// BM_StoreGetOperation      getOperation of a random operation of a 100k store.
// BM_StoreReadOperation     readOperation into a reused Operation (what the engine does).
// BM_StoreUpdateOperation   readOperation, change state/description/updatedAt, updateOperation (100k store).
// BM_StoreListPage100       listOperations page of 100 (random page), no filter / filter {failed}
//                           (5% of the operations, ~50 pages).
// BM_StoreForEach           forEachOperation over all 100k operations (items/s).
// BM_StoreStats             operationStats of the 100k orchestration.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "keb/fleet.h"
#include "keb/memory_store.h"

namespace {

using namespace keb;

long storeBenchRss() {
    long pages = 0, rss = 0;
    std::ifstream in("/proc/self/statm");
    in >> pages >> rss;
    return rss * sysconf(_SC_PAGESIZE);
}

template <class S>
std::size_t approxBytesOf(const S& s) {
    if constexpr (requires { s.approxBytes(); }) return s.approxBytes();
    else return 0;
}

// Typical rollout content: UUID ids, a fleet of 2,500 global accounts and 25,000 subaccounts,
// seven plans, a dozen regions, Gardener shoot names, a maintenance window, kymaConfig.
struct OpMaker {
    SeededIdGenerator ids{42};
    std::mt19937_64 rng{9};
    std::vector<std::string> accounts, subaccounts;
    const std::vector<std::string> plans = {"azure", "aws", "gcp", "trial", "azure_lite", "free", "sap-converged-cloud"};
    const std::vector<std::string> planIds = {"4deee563-e5ec-4731-b9b1-53b42d855f0c", "361c511f-f939-4621-b228-d0fb79a1fe15",
                                              "ca6e5357-707f-4565-bbbd-b3ab732597c6", "7d55d31d-35ae-4438-bf13-6ffdfa107d9f",
                                              "bc4a90fd-1c4c-4b8d-9c3b-8d4a6ecf6a10", "b1a5764e-2ea1-4f95-94c0-2b4538b37b55",
                                              "03b812ac-c991-4528-b5bd-08b303523a63"};
    const std::vector<std::string> regions = {"westeurope", "eastus", "eu-west-1", "eu-central-1", "us-east-1",
                                              "us-west-2", "ap-southeast-1", "japaneast", "europe-west3",
                                              "switzerlandnorth", "centralus", "ap-south-1"};
    std::string orch;
    std::int64_t seq = 0;

    OpMaker() {
        accounts.resize(2500);
        subaccounts.resize(25000);
        for (auto& a : accounts) a = ids.newId();
        for (auto& s : subaccounts) s = ids.newId();
        orch = ids.newId();
    }
    Orchestration orchestration() const {
        Orchestration o;
        o.orchestrationID = orch;
        o.state = OrchestrationState::InProgress;
        o.description = "Scheduled operations";
        o.createdAt = 1767571200000;
        o.updatedAt = o.createdAt;
        Target t;
        t.all = true;
        o.parameters.targets.include.push_back(t);
        o.parameters.strategy.maintenanceWindow = true;
        o.parameters.strategy.workers = 200;
        o.parameters.kyma = KymaParams{"2.20.0"};
        return o;
    }
    void fill(Operation& op) {
        const std::size_t p = rng() % plans.size();
        op.operationID = ids.newId();
        op.orchestrationID = orch;
        op.runtimeID = ids.newId();
        op.instanceID = ids.newId();
        op.globalAccountID = accounts[rng() % accounts.size()];
        op.subAccountID = subaccounts[rng() % subaccounts.size()];
        op.servicePlanID = planIds[p];
        op.servicePlanName = plans[p];
        op.region = regions[rng() % regions.size()];
        char name[16];
        std::snprintf(name, sizeof name, "c-%07x", static_cast<unsigned>(rng() & 0x0fffffff));
        op.shootName = name;
        op.createdAt = 1767571200000;
        op.updatedAt = op.createdAt;
        op.maintenanceWindowBegin = op.createdAt + static_cast<Millis>(rng() % 24) * kHour;
        op.maintenanceWindowEnd = op.maintenanceWindowBegin + kHour;
        op.startAt = op.maintenanceWindowBegin;
        op.state = seq % 20 == 7 ? OperationState::Failed : OperationState::Pending;  // 5% failed
        op.seq = seq++;
        op.description = "scheduled for the maintenance window";
        op.kymaConfig = KymaParams{"2.20.0"};
    }
};

struct Filled {
    std::unique_ptr<MemoryStore> store;
    std::string orch;
    std::vector<std::string> opIds;
};

Filled& filledStore() {
    static Filled f = [] {
        Filled out;
        OpMaker m;
        out.store = std::make_unique<MemoryStore>();
        out.orch = m.orch;
        Orchestration o = m.orchestration();
        out.store->insertOrchestration(o);
        int n = 0;
        out.store->updateOrchestrationAddingOperations(o, [&](Operation& op) {
            if (n == 100000) return false;
            m.fill(op);
            out.opIds.push_back(op.operationID);
            ++n;
            return true;
        });
        return out;
    }();
    return f;
}

void BM_StoreInsert(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    double bytes = 0, rssBytes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        OpMaker m;
        malloc_trim(0);
        const long before = storeBenchRss();
        state.ResumeTiming();
        auto store = std::make_unique<MemoryStore>();
        Orchestration o = m.orchestration();
        store->insertOrchestration(o);
        int i = 0;
        store->updateOrchestrationAddingOperations(o, [&](Operation& op) {
            if (i == n) return false;
            m.fill(op);
            ++i;
            return true;
        });
        state.PauseTiming();
        rssBytes = static_cast<double>(storeBenchRss() - before);
        bytes = static_cast<double>(approxBytesOf(*store));
        store.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["approx_B_per_op"] = bytes / n;
    state.counters["rss_B_per_op"] = rssBytes / n;
}
BENCHMARK(BM_StoreInsert)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_StoreInsertBatch(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    for (auto _ : state) {
        state.PauseTiming();
        OpMaker m;
        std::vector<Operation> ops(static_cast<std::size_t>(n));
        for (auto& op : ops) m.fill(op);
        auto store = std::make_unique<MemoryStore>();
        Orchestration o = m.orchestration();
        store->insertOrchestration(o);
        state.ResumeTiming();
        store->updateOrchestrationWithOperations(o, ops, {});
        state.PauseTiming();
        store.reset();
        ops.clear();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_StoreInsertBatch)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_StoreGetOperation(benchmark::State& state) {
    Filled& f = filledStore();
    std::mt19937 rng(3);
    std::size_t found = 0;
    for (auto _ : state) {
        auto op = f.store->getOperation(f.orch, f.opIds[rng() % f.opIds.size()]);
        found += op.has_value();
        benchmark::DoNotOptimize(op);
    }
    if (found != static_cast<std::size_t>(state.iterations())) state.SkipWithError("an operation was not found");
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreGetOperation)->Unit(benchmark::kNanosecond);

void BM_StoreReadOperation(benchmark::State& state) {
    Filled& f = filledStore();
    std::mt19937 rng(3);
    Operation buf;
    std::size_t found = 0;
    for (auto _ : state) found += f.store->readOperation(f.orch, f.opIds[rng() % f.opIds.size()], buf);
    if (found != static_cast<std::size_t>(state.iterations())) state.SkipWithError("an operation was not found");
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreReadOperation)->Unit(benchmark::kNanosecond);

void BM_StoreUpdateOperation(benchmark::State& state) {
    Filled& f = filledStore();
    std::mt19937 rng(5);
    const OperationState states[] = {OperationState::InProgress, OperationState::Succeeded, OperationState::Failed};
    const char* texts[] = {"upgrade started", "upgrade succeeded", "upgrade failed: timeout"};
    Millis t = 1767571300000;
    Operation op;
    for (auto _ : state) {
        const std::size_t k = rng() % 3;
        f.store->readOperation(f.orch, f.opIds[rng() % f.opIds.size()], op);
        op.state = states[k];
        op.description = texts[k];
        op.updatedAt = ++t;
        f.store->updateOperation(op);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreUpdateOperation)->Unit(benchmark::kNanosecond);

void BM_StoreListPage100(benchmark::State& state) {
    Filled& f = filledStore();
    std::mt19937 rng(7);
    OperationQuery q;
    q.pageSize = 100;
    if (state.range(0)) q.states = {OperationState::Failed};
    std::int64_t total = 0;
    for (auto _ : state) {
        // Any page: the filtered walk stops at the page, so later pages cost more.
        q.page = 1 + static_cast<int>(rng() % (state.range(0) ? 50 : 1000));
        auto page = f.store->listOperations(f.orch, q);
        total = page.totalCount;
        benchmark::DoNotOptimize(page);
    }
    state.counters["totalCount"] = static_cast<double>(total);
    state.SetLabel(state.range(0) ? "filter failed" : "no filter");
}
BENCHMARK(BM_StoreListPage100)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_StoreForEach(benchmark::State& state) {
    Filled& f = filledStore();
    std::size_t n = 0;
    for (auto _ : state) {
        n = 0;
        f.store->forEachOperation(f.orch, [&](const Operation& op) { n += op.runtimeID.size() != 0; });
    }
    if (n != f.opIds.size()) state.SkipWithError("forEachOperation missed operations");
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_StoreForEach)->Unit(benchmark::kMillisecond);

void BM_StoreStats(benchmark::State& state) {
    Filled& f = filledStore();
    for (auto _ : state) benchmark::DoNotOptimize(f.store->operationStats(f.orch));
}
BENCHMARK(BM_StoreStats)->Unit(benchmark::kMicrosecond);

}  // namespace
