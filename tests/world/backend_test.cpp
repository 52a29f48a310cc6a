// Fault plan and simulated upgrade backend.
#include <gtest/gtest.h>

#include "keb/world/backend.h"

using namespace keb;
using namespace keb::world;

namespace {
Operation op(const std::string& id, const std::string& runtime = "rt", const std::string& region = "westeurope",
             const std::string& plan = "azure") {
    Operation o;
    o.operationID = id;
    o.runtimeID = runtime;
    o.region = region;
    o.servicePlanName = plan;
    return o;
}
}  // namespace

TEST(FaultPlan, FateDependsOnlyOnSeedAndOperation) {
    FaultPlan plan;
    plan.failureProbability = 0.5;
    plan.hangProbability = 0.1;
    auto a = decideFate(plan, 5, op("op-1"), 1000);
    auto b = decideFate(plan, 5, op("op-1"), 999999);  // start time does not matter (no burst)
    EXPECT_EQ(a.duration, b.duration);
    EXPECT_EQ(a.fails, b.fails);
    EXPECT_EQ(a.hangs, b.hangs);
    int differ = 0;
    for (int i = 0; i < 50; ++i) {
        auto x = decideFate(plan, 5, op("op-" + std::to_string(i)), 0);
        auto y = decideFate(plan, 6, op("op-" + std::to_string(i)), 0);
        differ += x.duration != y.duration;
    }
    EXPECT_GT(differ, 40);
}

TEST(FaultPlan, FailureRatesOverallPerRegionAndPlan) {
    FaultPlan plan;
    plan.failureProbability = 0.05;
    plan.failureByRegion["eastus"] = 0.5;
    plan.failureByPlan["trial"] = 1.0;
    int overall = 0, east = 0, trial = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        const std::string id = "op-" + std::to_string(i);
        overall += decideFate(plan, 1, op(id), 0).fails;
        east += decideFate(plan, 1, op(id, "rt", "eastus"), 0).fails;
        trial += decideFate(plan, 1, op(id, "rt", "eastus", "trial"), 0).fails;
    }
    EXPECT_NEAR(overall / double(n), 0.05, 0.01);
    EXPECT_NEAR(east / double(n), 0.5, 0.02);
    EXPECT_EQ(trial, n);
}

TEST(FaultPlan, BurstsRaiseFailuresOnlyInsideTheirSpan) {
    FaultPlan plan;
    plan.bursts.push_back({1000, 2000, 1.0, ""});  // every region
    EXPECT_TRUE(decideFate(plan, 1, op("x"), 1000).fails);
    EXPECT_TRUE(decideFate(plan, 1, op("x"), 1999).fails);
    EXPECT_FALSE(decideFate(plan, 1, op("x"), 2000).fails);
    EXPECT_FALSE(decideFate(plan, 1, op("x"), 999).fails);
}

TEST(FaultPlan, DurationDistributionsStayInBounds) {
    DurationDist d;
    d.kind = DurationDist::Kind::Uniform;
    d.min = 10 * kMinute;
    d.max = 20 * kMinute;
    EXPECT_EQ(d.draw(0.0, 0.3), 10 * kMinute);
    EXPECT_EQ(d.draw(0.5, 0.3), 15 * kMinute);
    d.kind = DurationDist::Kind::Fixed;
    d.value = 7 * kMinute;
    EXPECT_EQ(d.draw(0.9, 0.1), 7 * kMinute);
    d.kind = DurationDist::Kind::LogNormal;
    d.median = 15 * kMinute;
    d.sigma = 0.5;
    d.min = kMinute;
    d.max = kHour;
    double sum = 0;
    for (int i = 1; i < 1000; ++i) {
        Millis v = d.draw(i / 1000.0, (i * 7 % 1000) / 1000.0);
        ASSERT_GE(v, kMinute);
        ASSERT_LE(v, kHour);
        sum += v;
    }
    EXPECT_GT(sum / 999, 10 * kMinute);
    EXPECT_LT(sum / 999, 25 * kMinute);
    d.kind = DurationDist::Kind::Exponential;
    d.mean = 10 * kMinute;
    EXPECT_EQ(d.draw(0.0, 0.0), kMinute);  // clamped to min
}

TEST(SimBackend, UpgradeRunsItsDurationThenSucceeds) {
    FaultPlan plan;
    plan.duration.kind = DurationDist::Kind::Fixed;
    plan.duration.value = 10 * kMinute;
    SimBackend b(plan, 1);
    auto o = op("op-1");
    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, o, 0).kind, StepResult::Kind::Again);
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeKyma, o, 10 * kMinute - 1).kind, StepResult::Kind::Again);
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeKyma, o, 10 * kMinute).kind, StepResult::Kind::Done);
    EXPECT_EQ(b.upgrades(), 1u);
    EXPECT_EQ(b.upgradesOf("rt"), 1u);
    EXPECT_TRUE(b.started("op-1"));
    EXPECT_FALSE(b.started("op-2"));
}

TEST(SimBackend, SecondStartOfSameOperationIsNotANewUpgrade) {
    SimBackend b(FaultPlan{}, 1);
    auto o = op("op-1");
    b.start(OrchestrationType::UpgradeKyma, o, 0);
    auto again = b.start(OrchestrationType::UpgradeKyma, o, 5000);  // after a crash
    EXPECT_EQ(again.kind, StepResult::Kind::Again);
    EXPECT_EQ(b.upgrades(), 1u);
    EXPECT_EQ(b.duplicateStarts(), 1u);
    auto o2 = op("op-2");  // a retry: new operation, same runtime, is a new upgrade
    b.start(OrchestrationType::UpgradeKyma, o2, 6000);
    EXPECT_EQ(b.upgradesOf("rt"), 2u);
}

TEST(SimBackend, FailuresHangsDryRunsAndUnknownPolls) {
    FaultPlan fail;
    fail.failureProbability = 1.0;
    fail.failureReason = "boom";
    fail.duration.kind = DurationDist::Kind::Fixed;
    fail.duration.value = kMinute;
    SimBackend b(fail, 1);
    b.start(OrchestrationType::UpgradeCluster, op("f"), 0);
    auto r = b.poll(OrchestrationType::UpgradeCluster, op("f"), kMinute);
    EXPECT_EQ(r.kind, StepResult::Kind::Failed);
    EXPECT_EQ(r.reason, "boom");

    FaultPlan hang;
    hang.hangProbability = 1.0;
    SimBackend h(hang, 1);
    h.start(OrchestrationType::UpgradeKyma, op("h"), 0);
    EXPECT_EQ(h.poll(OrchestrationType::UpgradeKyma, op("h"), 1000 * kDay).kind, StepResult::Kind::Again);

    Operation dry = op("d");
    dry.dryRun = true;
    EXPECT_EQ(h.start(OrchestrationType::UpgradeKyma, dry, 0).kind, StepResult::Kind::Done);
    EXPECT_EQ(h.upgrades(), 1u);  // the hanging one only

    auto unknown = h.poll(OrchestrationType::UpgradeKyma, op("never-started"), 0);
    EXPECT_EQ(unknown.kind, StepResult::Kind::Failed);
    EXPECT_NE(unknown.reason.find("never-started"), std::string::npos);
}

TEST(SimBackend, WorksWithWallClockMillis) {
    FaultPlan plan;
    plan.duration.kind = DurationDist::Kind::Fixed;
    plan.duration.value = 30 * keb::kSecond;
    SimBackend b(plan, 1);
    const Millis wall = 1795000000000;  // 2026-11 in epoch ms
    b.start(OrchestrationType::UpgradeKyma, op("w"), wall);
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeKyma, op("w"), wall + 29999).kind, StepResult::Kind::Again);
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeKyma, op("w"), wall + 30000).kind, StepResult::Kind::Done);
}

// start() claims the operation's record with one probe: a dry run is never recorded (its
// repeated start is again a dry run), a repeated start of a recorded upgrade is recognised
// whatever its flags, and a recognised repeat leaves the recorded fate alone.
TEST(SimBackend, DryRunsAreNotRecordedRepeatsAreRecognised) {
    FaultPlan plan;
    plan.duration.kind = DurationDist::Kind::Fixed;
    plan.duration.value = kMinute;
    SimBackend b(plan, 3);
    Operation dry = op("d");
    dry.dryRun = true;
    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, dry, 0).kind, StepResult::Kind::Done);
    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, dry, 10).kind, StepResult::Kind::Done);
    EXPECT_FALSE(b.started("d"));
    EXPECT_EQ(b.duplicateStarts(), 0u);
    EXPECT_EQ(b.upgrades(), 0u);

    const Operation real = op("r");
    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, real, 0).kind, StepResult::Kind::Again);
    Operation realAsDry = real;
    realAsDry.dryRun = true;
    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, realAsDry, 20).kind, StepResult::Kind::Again);
    EXPECT_EQ(b.start(OrchestrationType::UpgradeKyma, real, 30 * kSecond).reason, "upgrade already running");
    EXPECT_EQ(b.duplicateStarts(), 2u);
    EXPECT_EQ(b.upgrades(), 1u);
    // Still the fate recorded at 0: done after one minute from then, not from the repeats.
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeKyma, real, kMinute).kind, StepResult::Kind::Done);
}
