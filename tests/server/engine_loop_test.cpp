// The server's engine loop with a real worker pool and wall clock: a backend call that throws is
// tried again after the step retry interval (--step-retry), not after the poll interval.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <unistd.h>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "../common/eventually.h"
#include "../core/harness.h"
#include "engine_loop.h"
#include "keb/forwarding_store.h"
#include "keb/memory_store.h"
#include "metrics.h"
#include "sqlite_store.h"

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

using keb::testing::upgradeAll;  // an upgrade of every runtime to Kyma 2.20.0

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
    const Parameters p = upgradeAll();
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

// Every write fails while `down` (a replica fenced, or its database gone).
class LosableStore : public ForwardingStore {
public:
    explicit LosableStore(Store& inner) : ForwardingStore(inner) {}
    void apply(const WriteBatch& b) override {
        if (down) throw StoreFencedError("database gone");
        ForwardingStore::apply(b);
    }
    std::atomic<bool> down{false};
};

// start() waits until the test opens the gate, then succeeds.
class GateBackend : public UpgradeBackend {
public:
    StepResult start(OrchestrationType, const Operation&, Millis) override {
        started = true;
        while (!open) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return StepResult::done();
    }
    StepResult poll(OrchestrationType, const Operation&, Millis) override { return StepResult::done(); }
    std::atomic<bool> started{false}, open{false};
};

// A replica whose store fails under the engine thread (SPEC 11): the thread ends and reports it;
// a call posted afterwards must fail at once (the API answers 503), never wait forever. (It did
// wait forever: call() kept its own reference to the promise, so the dropped task never broke it.
// keb-server's PostgresE2E.LosingTheDatabaseWhileRunning hung on it under ThreadSanitizer.)
TEST(EngineLoop, CallsAfterAStoreFailureFailInsteadOfWaitingForever) {
    MemoryStore inner;
    LosableStore store(inner);
    OneRuntimeFleet fleet;
    GateBackend backend;
    SeededIdGenerator ids(7);
    Metrics metrics;
    EngineConfig config;
    EngineLoop loop(store, fleet, backend, ids, config, 2, metrics, nullptr);
    std::atomic<bool> failed{false};
    loop.setOnStoreFailure([&](const std::string&) { failed = true; });
    loop.start();
    const Parameters p = upgradeAll();
    loop.call([&](Engine& e, Millis now) { return e.create(OrchestrationType::UpgradeKyma, p, now); });
    auto waitFor = [](const std::atomic<bool>& flag) {
        const auto t0 = std::chrono::steady_clock::now();
        while (!flag && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10 * keb::test::kTimeScale))
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return flag.load();
    };
    ASSERT_TRUE(waitFor(backend.started));
    store.down = true;
    backend.open = true;  // its result is written by the engine thread: that write fails
    ASSERT_TRUE(waitFor(failed)) << "the engine thread did not report the store failure";
    // The call runs on a thread of its own so that a regression fails here instead of hanging.
    auto outcome = std::make_shared<std::promise<std::string>>();
    auto answered = outcome->get_future();
    std::thread([&loop, outcome] {
        try {
            loop.call([](Engine&, Millis) { return 1; });
            outcome->set_value("answered");
        } catch (const EngineStoppedError& ex) {
            outcome->set_value(std::string("EngineStoppedError: ") + ex.what());
        } catch (const std::exception& ex) {
            outcome->set_value(std::string("other exception: ") + ex.what());
        }
    }).detach();
    if (answered.wait_for(std::chrono::seconds(5 * keb::test::kTimeScale)) != std::future_status::ready) {
        ADD_FAILURE() << "a call after the store failure waits forever";
        std::fflush(nullptr);
        std::_Exit(1);  // the detached caller still refers to the loop
    }
    const std::string what = answered.get();
    EXPECT_EQ(what.rfind("EngineStoppedError", 0), 0u) << what;
    loop.stop();
}


// N runtimes rt-0 .. rt-(N-1).
class ManyRuntimeFleet : public FleetSource {
public:
    explicit ManyRuntimeFleet(int n) {
        for (int i = 0; i < n; ++i) {
            Runtime r;
            r.runtimeID = "rt-" + std::to_string(i);
            r.instanceID = "inst-" + std::to_string(i);
            r.globalAccountID = "ga-1";
            r.subAccountID = "sa-" + std::to_string(i);
            r.planName = "azure";
            r.region = "westeurope";
            r.shootName = "shoot-" + std::to_string(i);
            runtimes_.push_back(r);
        }
    }
    FleetSnapshot snapshot(Millis) override { return {true, "", &runtimes_, nullptr}; }
    std::optional<Runtime> find(const std::string& id, Millis) override {
        for (const auto& r : runtimes_)
            if (r.runtimeID == id) return r;
        return std::nullopt;
    }

private:
    std::vector<Runtime> runtimes_;
};

// At every start() the operation is read from the database file through a connection of its own:
// only committed writes are visible there.
class CommittedStateBackend : public UpgradeBackend {
public:
    explicit CommittedStateBackend(const std::string& path) : reader_(path, readOnly()) {}
    StepResult start(OrchestrationType, const Operation& op, Millis) override {
        std::lock_guard<std::mutex> lk(mu_);
        ++starts;
        const auto stored = reader_.getOperation(op.orchestrationID, op.operationID);
        if (!stored || stored->state != OperationState::InProgress)
            notCommitted.push_back(op.operationID + (stored ? " " + std::string(toString(stored->state)) : " missing"));
        return StepResult::done();
    }
    StepResult poll(OrchestrationType, const Operation&, Millis) override { return StepResult::done(); }
    int starts = 0;
    std::vector<std::string> notCommitted;
    std::mutex mu_;

private:
    static SqliteOptions readOnly() {
        SqliteOptions o;
        o.readOnly = true;
        return o;
    }
    SqliteStore reader_;
};

// Group commit (issue 15): a call's answer (the 202), and a start to a worker, come only after the
// round that wrote them (the orchestration; the operation `in progress`) is committed. Each commit here takes 20 ms longer, so a start handed out before
// its round's commit finds the operation not yet `in progress` in the file, every time (unlike
// CrashTest's kill -9, which needs a kill inside that window).
TEST(EngineLoop, AnswersAndStartsAreHandedOutOnlyAfterTheirRoundIsCommitted) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("keb-loop-commit-" + std::to_string(::getpid()) + ".db")).string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    {
        SqliteStore store(path);
        ManyRuntimeFleet fleet(24);
        CommittedStateBackend backend(path);
        SeededIdGenerator ids(7);
        Metrics metrics;
        EngineConfig config;
        config.pollInterval = 10;
        EngineLoop loop(store, fleet, backend, ids, config, 4, metrics, nullptr);
        loop.setCommitGroup([&] { store.beginGroup(); },
                            [&] {
                                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                store.commitGroup();
                            });
        loop.start();
        Parameters p = upgradeAll();
        p.strategy.workers = 6;
        const std::string id =
            loop.call([&](Engine& e, Millis now) { return e.create(OrchestrationType::UpgradeKyma, p, now); });
        {
            // The answer (the API's 202) follows the commit too: the orchestration is in the file.
            SqliteOptions ro;
            ro.readOnly = true;
            SqliteStore check(path, ro);
            EXPECT_TRUE(check.getOrchestration(id).has_value()) << "the call returned before its commit";
        }
        OrchestrationState state = OrchestrationState::Pending;
        const auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30 * keb::test::kTimeScale)) {
            state = loop.call([&](Engine&, Millis) { return store.getOrchestration(id)->state; });
            if (isFinished(state)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        loop.stop();
        EXPECT_EQ(state, OrchestrationState::Succeeded);
        std::lock_guard<std::mutex> lk(backend.mu_);
        EXPECT_EQ(backend.starts, 24);
        EXPECT_TRUE(backend.notCommitted.empty())
            << backend.notCommitted.size() << " starts before their commit, e.g. " << backend.notCommitted.front();
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace keb::server
