// The demo upgrade backend of `--demo-fleet` (in process): each upgrade's duration and failure
// come from keb_world's fault model, so --demo-failure-rate is honoured in every build (a build
// without the simulator library once ignored it and every demo upgrade succeeded).
#include "demo_backend.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

#include "keb/world/faults.h"

namespace keb::server {
namespace {

Operation op(int i) {
    Operation o;
    o.operationID = "op-" + std::to_string(i);
    o.orchestrationID = "orch-1";
    o.runtimeID = "rt-" + std::to_string(i);
    o.region = "westeurope";
    o.servicePlanName = "azure";
    return o;
}

DemoBackendOptions options(double failureRate, std::uint64_t seed = 1) {
    DemoBackendOptions o;
    o.upgradeDuration = 100;
    o.failureProbability = failureRate;
    o.seed = seed;
    o.fsync = false;
    return o;
}

// A journal path of this process in the temp folder, with no file at it yet.
std::string freshJournalPath(const std::string& tag) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("keb-demo-backend-" + tag + "-" + std::to_string(::getpid()) + ".jsonl"))
                                 .string();
    std::remove(path.c_str());
    return path;
}

// Starts op at t=0 and polls it once its upgrade is over: Done or Failed.
StepResult runUpgrade(DemoBackend& b, const Operation& o) {
    const StepResult started = b.start(OrchestrationType::UpgradeKyma, o, 0);
    EXPECT_EQ(started.kind, StepResult::Kind::Again);
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeKyma, o, 99).kind, StepResult::Kind::Again) << "still upgrading";
    return b.poll(OrchestrationType::UpgradeKyma, o, 100);
}

TEST(DemoBackend, FailureRateOneFailsEveryUpgrade) {
    DemoBackend b(options(1.0));
    for (int i = 0; i < 50; ++i) {
        const StepResult r = runUpgrade(b, op(i));
        ASSERT_EQ(r.kind, StepResult::Kind::Failed) << op(i).operationID;
        EXPECT_EQ(r.reason, "upgrade failed: simulated backend error");
    }
    EXPECT_EQ(b.upgrades(), 50u);
}

TEST(DemoBackend, FailureRateZeroFailsNone) {
    DemoBackend b(options(0.0));
    for (int i = 0; i < 50; ++i) EXPECT_EQ(runUpgrade(b, op(i)).kind, StepResult::Kind::Done) << op(i).operationID;
}

TEST(DemoBackend, PartialRateGivesTheFaultModelsFates) {
    // Each operation fails exactly when keb_world's decideFate says so for the demo's plan and
    // seed; over 400 upgrades that is about the rate asked for, and another seed draws others.
    world::FaultPlan plan;
    plan.failureProbability = 0.3;
    plan.duration.kind = world::DurationDist::Kind::Fixed;
    plan.duration.value = 100;
    DemoBackend b(options(0.3, 7)), other(options(0.3, 8));
    int failed = 0, differ = 0;
    for (int i = 0; i < 400; ++i) {
        const bool fails = runUpgrade(b, op(i)).kind == StepResult::Kind::Failed;
        EXPECT_EQ(fails, world::decideFate(plan, 7, op(i), 0).fails) << op(i).operationID;
        failed += fails;
        differ += fails != (runUpgrade(other, op(i)).kind == StepResult::Kind::Failed);
    }
    EXPECT_GE(failed, 80);
    EXPECT_LE(failed, 160);
    EXPECT_GT(differ, 50) << "the seed decides the fates";
}

TEST(DemoBackend, FateSurvivesARestartThroughTheJournal) {
    const std::string path = freshJournalPath("test");
    DemoBackendOptions o = options(1.0);
    o.journalPath = path;
    {
        DemoBackend b(o);
        EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, op(1), 0).kind, StepResult::Kind::Again);
    }
    // A restarted server with the failure rate lowered still reports the recorded fate.
    o.failureProbability = 0.0;
    DemoBackend again(o);
    EXPECT_EQ(again.loadedFromJournal(), 1u);
    EXPECT_EQ(again.poll(OrchestrationType::UpgradeKyma, op(1), 100).kind, StepResult::Kind::Failed);
    std::remove(path.c_str());
}

// Many workers start upgrades at once with fsync on (the server's --workers): every start is in
// the journal when start() returns and survives a restart, and the syncs are shared (the
// journal's group commit), never more than one per start.
TEST(DemoBackend, ConcurrentStartsAreAllJournaledWithSharedSyncs) {
    const std::string path = freshJournalPath("conc");
    DemoBackendOptions o = options(0.0);
    o.journalPath = path;
    o.fsync = true;
    constexpr int kThreads = 16, kEach = 50;
    {
        DemoBackend b(o);
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t)
            ts.emplace_back([&b, t] {
                for (int i = 0; i < kEach; ++i) {
                    const Operation o1 = op(t * kEach + i);
                    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, o1, 0).kind, StepResult::Kind::Again);
                }
            });
        for (auto& t : ts) t.join();
        // A start again (a restarted engine) is a duplicate, also journaled and synced.
        EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, op(7), 50).kind, StepResult::Kind::Again);
        EXPECT_EQ(b.upgrades(), static_cast<std::size_t>(kThreads * kEach));
        EXPECT_GE(b.journalSyncs(), 1u);
        EXPECT_LE(b.journalSyncs(), static_cast<std::uint64_t>(kThreads * kEach + 1));
        std::printf("%d starts on %d threads: %llu journal syncs\n", kThreads * kEach, kThreads,
                    static_cast<unsigned long long>(b.journalSyncs()));
    }
    std::ifstream in(path);
    std::string line;
    int upgrades = 0, duplicates = 0;
    while (std::getline(in, line)) {
        upgrades += line.find("\"kind\":\"upgrade\"") != std::string::npos;
        duplicates += line.find("\"kind\":\"duplicate-start\"") != std::string::npos;
    }
    EXPECT_EQ(upgrades, kThreads * kEach);
    EXPECT_EQ(duplicates, 1);
    DemoBackend again(o);
    EXPECT_EQ(again.loadedFromJournal(), static_cast<std::size_t>(kThreads * kEach));
    for (int i = 0; i < kThreads * kEach; i += 37)
        EXPECT_EQ(again.poll(OrchestrationType::UpgradeKyma, op(i), 100).kind, StepResult::Kind::Done) << i;
    std::remove(path.c_str());
}

}  // namespace
}  // namespace keb::server
