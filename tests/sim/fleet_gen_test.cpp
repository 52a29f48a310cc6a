// Fleet generator and SimFleet.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "keb/sim/fleet_gen.h"
#include "keb/windows.h"

using namespace keb;
using namespace keb::sim;

TEST(FleetGen, SameSeedSameFleetOtherSeedOtherFleet) {
    FleetSpec spec;
    spec.size = 500;
    auto a = generateFleet(spec, 42);
    auto b = generateFleet(spec, 42);
    auto c = generateFleet(spec, 43);
    ASSERT_EQ(a.size(), 500u);
    EXPECT_EQ(a, b);
    EXPECT_NE(a[0].runtimeID, c[0].runtimeID);
}

TEST(FleetGen, HundredThousandUniqueIdsAndValidWindows) {
    FleetSpec spec;
    spec.size = 100000;
    auto fleet = generateFleet(spec, 7);
    ASSERT_EQ(fleet.size(), 100000u);
    std::set<std::string> ids, shoots;
    int defaults = 0, crossing = 0, offsets = 0, deleting = 0;
    for (const auto& r : fleet) {
        ids.insert(r.runtimeID);
        shoots.insert(r.shootName);
        ASSERT_EQ(r.runtimeID.size(), 36u) << r.runtimeID;
        ASSERT_EQ(r.runtimeID[14], '4');
        auto b = parseWindowTime(r.windowBegin);
        auto e = parseWindowTime(r.windowEnd);
        ASSERT_TRUE(b && e) << r.windowBegin << " " << r.windowEnd;
        int len = (*e - *b + 86400) % 86400;
        ASSERT_GE(len, 30 * 60) << r.windowBegin << "-" << r.windowEnd;  // Gardener: 30 min .. 6 h
        ASSERT_LE(len, 6 * 3600);
        if (r.windowBegin.ends_with("0000+0000") && len == 3600) ++defaults;
        if (!r.windowBegin.ends_with("+0000")) ++offsets;
        if (*e <= *b) ++crossing;
        if (r.deprovisioning) ++deleting;
        ASSERT_FALSE(r.planID.empty());
        ASSERT_FALSE(r.region.empty());
        ASSERT_FALSE(r.kubernetesVersion.empty());
    }
    EXPECT_EQ(ids.size(), fleet.size());
    EXPECT_EQ(shoots.size(), fleet.size());
    EXPECT_GT(defaults, 75000);  // ~80% Gardener defaults
    EXPECT_GT(offsets, 12000);   // operator windows in other offsets
    EXPECT_GT(crossing, 5000);   // some cross midnight UTC
    EXPECT_GT(deleting, 700);    // ~1% being deleted
    EXPECT_LT(deleting, 1300);
}

TEST(FleetGen, SkewedAccountsPlansAndRegions) {
    FleetSpec spec;
    spec.size = 20000;
    auto fleet = generateFleet(spec, 9);
    std::map<std::string, int> accounts, plans, azureRegions;
    for (const auto& r : fleet) {
        ++accounts[r.globalAccountID];
        ++plans[r.planName];
        if (r.planName == "azure") ++azureRegions[r.region];
    }
    EXPECT_EQ(accounts.size(), 500u);  // size / 40
    int maxAccount = 0;
    for (auto& [_, n] : accounts) maxAccount = std::max(maxAccount, n);
    EXPECT_GT(maxAccount, 5 * 20000 / 500);  // a few accounts own far more than the mean
    EXPECT_GT(plans["azure"], plans["gcp"]);
    EXPECT_GT(plans["gcp"], plans["free"]);
    EXPECT_GT(azureRegions["westeurope"], azureRegions["japaneast"] * 2);
}

TEST(FleetGen, ExplicitRuntimesAppendedAndKnobsRespected) {
    FleetSpec spec;
    spec.size = 1000;
    spec.plans = {{"trial", 1}};
    spec.operatorWindowShare = 0;
    spec.deletingShare = 0;
    Runtime extra;
    extra.runtimeID = "explicit-1";
    spec.extra.push_back(extra);
    auto fleet = generateFleet(spec, 1);
    ASSERT_EQ(fleet.size(), 1001u);
    EXPECT_EQ(fleet.back().runtimeID, "explicit-1");
    for (std::size_t i = 0; i < 1000; ++i) {
        EXPECT_EQ(fleet[i].planName, "trial");
        EXPECT_EQ(fleet[i].planID, planIdFor("trial"));
        EXPECT_FALSE(fleet[i].deprovisioning);
        EXPECT_TRUE(fleet[i].windowBegin.ends_with("0000+0000"));
    }
}

TEST(FleetGen, GardenerDefaultWindowWrapsAtMidnight) {
    EXPECT_EQ(gardenerDefaultWindow(23), std::make_pair(std::string("230000+0000"), std::string("000000+0000")));
    EXPECT_EQ(gardenerDefaultWindow(4), std::make_pair(std::string("040000+0000"), std::string("050000+0000")));
}

TEST(SimFleet, OutageSpansFailSnapshotsOnly) {
    FleetSpec spec;
    spec.size = 10;
    SimFleet fleet(generateFleet(spec, 1));
    fleet.addOutage(100, 200, "gardener down");
    EXPECT_TRUE(fleet.snapshot(99).ok);
    auto s = fleet.snapshot(100);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.error, "gardener down");
    EXPECT_EQ(s.runtimes, nullptr);
    EXPECT_FALSE(fleet.snapshot(199).ok);
    EXPECT_TRUE(fleet.snapshot(200).ok);
    EXPECT_EQ(fleet.snapshot(200).runtimes->size(), 10u);
    EXPECT_TRUE(fleet.find(fleet.runtimes()[3].runtimeID, 150).has_value());  // lookups still work
    EXPECT_EQ(fleet.failedSnapshots(), 2u);
}

TEST(SimFleet, RemoveAndSetWindow) {
    FleetSpec spec;
    spec.size = 50;
    SimFleet fleet(generateFleet(spec, 2));
    const std::string gone = fleet.runtimes()[10].runtimeID;
    const std::string kept = fleet.runtimes()[11].runtimeID;
    EXPECT_EQ(fleet.remove({gone, "unknown", gone}), 1u);
    EXPECT_EQ(fleet.runtimes().size(), 49u);
    EXPECT_FALSE(fleet.find(gone, 0).has_value());
    ASSERT_TRUE(fleet.find(kept, 0).has_value());
    EXPECT_TRUE(fleet.setWindow(kept, "220000+0530", "010000+0530"));
    EXPECT_EQ(fleet.find(kept, 0)->windowBegin, "220000+0530");
    EXPECT_FALSE(fleet.setWindow(gone, "220000+0530", "010000+0530"));
    EXPECT_EQ(fleet.byShoot(fleet.runtimes()[0].shootName), &fleet.runtimes()[0]);
}

TEST(SimFleet, LeanMemoryPerShoot) {
    FleetSpec spec;
    spec.size = 20000;
    SimFleet fleet(generateFleet(spec, 3));
    const double perShoot = static_cast<double>(fleet.approxBytes()) / 20000.0;
    EXPECT_LT(perShoot, 1024.0) << perShoot;
}
