// The server's engine loop with a real worker pool and wall clock: a backend call that throws is
// tried again after the step retry interval (--step-retry), not after the poll interval.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "engine_loop.h"
#include "keb/memory_store.h"
#include "metrics.h"

namespace keb::server {
namespace {

class OneRuntimeFleet : public FleetSource {
public:
    OneRuntimeFleet() {
        Runtime r;
        r.runtimeID = "rt-1";
        r.instanceID = "inst-1";
        r.globalAccountID = "ga-1";
        r.subAccountID = "sa-1";
        r.planName = "azure";
        r.region = "westeurope";
        r.shootName = "shoot-1";
        runtimes_.push_back(r);
    }
    FleetSnapshot snapshot(Millis) override { return {true, "", &runtimes_, nullptr}; }
    std::optional<Runtime> find(const std::string& id, Millis) override {
        if (id == runtimes_[0].runtimeID) return runtimes_[0];
        return std::nullopt;
    }

private:
    std::vector<Runtime> runtimes_;
};

// start() throws the first `throws` times (a broken connection); every later call succeeds.
class FlakyBackend : public UpgradeBackend {
public:
    explicit FlakyBackend(int throws) : throws_(throws) {}
    StepResult start(OrchestrationType, const Operation&, Millis) override { return step(); }
    StepResult poll(OrchestrationType, const Operation&, Millis) override { return step(); }
    std::atomic<int> calls{0};

private:
    StepResult step() {
        if (++calls <= throws_) throw std::runtime_error("connection reset by peer");
        return StepResult::done();
    }
    int throws_;
};

TEST(EngineLoop, ABackendCallThatThrowsIsTriedAgainAfterTheStepRetryInterval) {
    MemoryStore store;
    OneRuntimeFleet fleet;
    FlakyBackend backend(2);
    SeededIdGenerator ids(7);
    Metrics metrics;
    EngineConfig config;
    config.pollInterval = 10 * kMinute;  // were the retry to wait for this, the test would time out
    config.stepRetryInterval = 50;
    EngineLoop loop(store, fleet, backend, ids, config, 2, metrics, nullptr);
    loop.start();
    Parameters p;
    Target all;
    all.all = true;
    p.targets.include.push_back(all);
    p.kyma = KymaParams{"2.20.0"};
    const auto t0 = std::chrono::steady_clock::now();
    const std::string id =
        loop.call([&](Engine& e, Millis now) { return e.create(OrchestrationType::UpgradeKyma, p, now); });
    OrchestrationState state = OrchestrationState::Pending;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
        // Read on the engine thread: the loop owns the store while it runs (reading it from here
        // raced with the engine's writes; ThreadSanitizer reported it).
        state = loop.call([&](Engine&, Millis) { return store.getOrchestration(id)->state; });
        if (isFinished(state)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    loop.stop();
    EXPECT_EQ(state, OrchestrationState::Succeeded);
    EXPECT_EQ(backend.calls.load(), 3);  // two throws, then done
    EXPECT_LT(seconds, 20.0);
    const auto ops = store.operationsOf(id);
    ASSERT_EQ(ops.size(), 1u);
    EXPECT_EQ(ops[0].state, OperationState::Succeeded);
}

}  // namespace
}  // namespace keb::server
