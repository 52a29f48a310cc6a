// Fleet generator and SimFleet.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "keb/fleet.h"
#include "keb/uuid.h"
#include "keb/world/big_alloc.h"
#include "keb/world/flat_map.h"
#include "keb/world/fleet_gen.h"
#include "keb/world/random.h"
#include "keb/targets.h"
#include "keb/windows.h"

using namespace keb;
using namespace keb::world;

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
    SimFleet fleet(spec, 1);
    fleet.addOutage(100, 200, "gardener down");
    EXPECT_TRUE(fleet.snapshot(99).ok);
    auto s = fleet.snapshot(100);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.error, "gardener down");
    EXPECT_EQ(s.runtimes, nullptr);
    EXPECT_EQ(s.list, nullptr);
    EXPECT_FALSE(fleet.snapshot(199).ok);
    auto ok = fleet.snapshot(200);
    EXPECT_TRUE(ok.ok);
    EXPECT_EQ(ok.runtimes, nullptr);  // the compact fleet is served as a RuntimeList
    ASSERT_NE(ok.list, nullptr);
    EXPECT_EQ(ok.list->size(), 10u);
    EXPECT_TRUE(fleet.find(fleet.runtimeID(3), 150).has_value());  // lookups still work
    EXPECT_EQ(fleet.failedSnapshots(), 2u);
    EXPECT_EQ(fleet.snapshotCalls(), 4u);
}

// The compact fleet gives back exactly the generator's runtimes, through every accessor.
TEST(SimFleet, CompactFleetIsTheGeneratedFleet) {
    FleetSpec spec;
    spec.size = 3000;
    spec.suspendedShare = 0.05;
    const auto want = generateFleet(spec, 11);
    SimFleet direct(spec, 11);
    SimFleet fromVector(want);
    ASSERT_EQ(direct.size(), want.size());
    EXPECT_EQ(direct.toVector(), want);
    EXPECT_EQ(fromVector.toVector(), want);
    for (std::size_t i = 0; i < want.size(); i += 7) {
        ASSERT_EQ(direct.at(i), want[i]) << i;
        ASSERT_EQ(direct.runtime(i), want[i]) << i;
        ASSERT_EQ(direct.runtimeID(i), want[i].runtimeID);
        ASSERT_EQ(direct.shootName(i), want[i].shootName);
        const Runtime* g = direct.get(want[i].runtimeID);
        ASSERT_NE(g, nullptr);
        ASSERT_EQ(*g, want[i]);
        ASSERT_EQ(direct.indexOf(want[i].runtimeID), i);
        const Runtime* b = direct.byShoot(want[i].shootName);
        ASSERT_NE(b, nullptr);
        ASSERT_EQ(*b, want[i]);
        ASSERT_EQ(direct.find(want[i].runtimeID, 0), want[i]);
        Runtime into = want[(i + 1) % want.size()];  // overwritten completely
        ASSERT_TRUE(direct.findInto(want[i].runtimeID, 0, into));
        ASSERT_EQ(into, want[i]);
    }
    Runtime none;
    EXPECT_FALSE(direct.findInto("no-such-runtime", 0, none));
    EXPECT_FALSE(direct.find("no-such-runtime", 0).has_value());
    EXPECT_EQ(direct.get("no-such-runtime"), nullptr);
    // at() reuses one buffer: the reference shows the latest runtime.
    const Runtime& first = direct.at(0);
    direct.at(1);
    EXPECT_EQ(first, want[1]);
}

// SimFleet(spec, seed) builds its records straight from the generator's draws (no Runtime, no
// UUID text): with every knob turned it must still hold exactly generateFleet(spec, seed).
TEST(SimFleet, CompactFleetIsTheGeneratedFleetForEveryKnob) {
    FleetSpec spec;
    spec.size = 4000;
    spec.operatorWindowShare = 0.6;
    spec.suspendedShare = 0.3;
    spec.deletingShare = 0.2;
    spec.plans = {{"azure", 1}, {"no-such-plan", 2}, {"sap-converged-cloud", 1}, {"gcp", 0.5}, {"trial", 1}};
    spec.kubernetesVersions = {{"1.31.0", 1}, {"1.32.1", 3}};
    spec.windowOffsets = {"+0200", "-1100", "+0545"};
    spec.globalAccounts = 3;
    spec.subAccounts = 7;
    spec.regionSkew = 1.0;
    spec.accountSkew = 5;
    Runtime odd;
    odd.runtimeID = "Not-A-UUID";
    odd.shootName = "odd";
    spec.extra = {odd};
    for (std::uint64_t seed : {1ull, 99ull}) {
        const auto want = generateFleet(spec, seed);
        SimFleet direct(spec, seed);
        ASSERT_EQ(direct.size(), want.size());
        EXPECT_EQ(direct.toVector(), want);
        EXPECT_EQ(direct.generation(), SimFleet(want).generation());
        for (std::size_t i = 0; i < want.size(); i += 13) ASSERT_EQ(direct.indexOf(want[i].runtimeID), i);
    }
    spec.size = 0;  // only the explicit runtime
    EXPECT_EQ(SimFleet(spec, 3).toVector(), std::vector<Runtime>{odd});
}

// Ids and names of any shape round-trip exactly (only canonical lower-case UUIDs and
// "c-xxxxxxx" names are stored as numbers).
TEST(SimFleet, ExplicitRuntimesOfAnyShapeRoundTrip) {
    FleetSpec spec;
    spec.size = 20;
    const auto generated = generateFleet(spec, 5);
    std::vector<Runtime> odd(6);
    odd[0].runtimeID = "explicit-1";
    odd[0].shootName = "my-shoot";
    odd[0].windowBegin = "not a window";
    odd[1].runtimeID = generated[0].runtimeID;  // upper case of a generated id: another runtime
    for (char& c : odd[1].runtimeID) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    odd[1].instanceID = "0123456789abcdef0123456789abcdef0123";  // 36 chars, no dashes
    odd[1].shootName = "c-ABCDEF1";                              // upper-case hex
    odd[2].runtimeID = "";                                       // empty everything
    odd[2].shootName = "c-00000000";                             // one digit too many
    odd[3].runtimeID = "explicit-1";                             // duplicate id: the first one is found
    odd[3].planName = "second";
    odd[3].deprovisioning = true;
    odd[4].runtimeID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    odd[4].shootName = "c-0000000";
    odd[4].suspended = true;
    odd[5].runtimeID = std::string("nul\0byte", 8);
    spec.extra = odd;
    const auto want = generateFleet(spec, 5);
    ASSERT_EQ(want.size(), 26u);
    SimFleet fleet(spec, 5);
    EXPECT_EQ(fleet.toVector(), want);
    EXPECT_EQ(fleet.indexOf("explicit-1"), 20u);
    EXPECT_EQ(fleet.get("explicit-1")->planName, "");
    EXPECT_EQ(fleet.indexOf(odd[1].runtimeID), 21u);
    EXPECT_EQ(fleet.indexOf(generated[0].runtimeID), 0u);
    EXPECT_EQ(fleet.indexOf(""), 22u);
    EXPECT_EQ(fleet.indexOf(odd[4].runtimeID), 24u);
    EXPECT_EQ(fleet.indexOf(odd[5].runtimeID), 25u);
    EXPECT_FALSE(fleet.contains("nul"));
    EXPECT_FALSE(fleet.contains("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeef"));
    EXPECT_FALSE(fleet.contains("never-seen"));
    EXPECT_EQ(fleet.byShoot("my-shoot")->runtimeID, "explicit-1");
    EXPECT_EQ(fleet.byShoot("c-ABCDEF1")->runtimeID, odd[1].runtimeID);
    EXPECT_EQ(fleet.byShoot("c-0000000")->runtimeID, odd[4].runtimeID);
    EXPECT_EQ(fleet.byShoot("c-00000000")->runtimeID, "");
    EXPECT_EQ(fleet.byShoot("c-fffffff"), nullptr);
    EXPECT_EQ(fleet.byShoot("no-such-shoot"), nullptr);
    // Removing the duplicated id removes its first runtime; the second is found next.
    EXPECT_EQ(fleet.remove({"explicit-1"}), 1u);
    EXPECT_EQ(fleet.get("explicit-1")->planName, "second");
    EXPECT_TRUE(fleet.get("explicit-1")->deprovisioning);
}

// Shoot names "c-" + 7 lower-case hex digits are kept as numbers and written back digit for
// digit (every digit value in every position); the same Runtime is reused by at().
TEST(SimFleet, ShootNamesComeBackDigitForDigit) {
    std::vector<Runtime> rts;
    const char* names[] = {"c-0000000", "c-fffffff", "c-0123456", "c-789abcd", "c-ef01234", "c-a5a5a5a", "c-1000000",
                           "c-000000f", "c-9f9f9f9", "c-bcdef01"};
    for (const char* n : names) {
        Runtime r;
        r.runtimeID = std::string("id-") + n;
        r.shootName = n;
        rts.push_back(r);
    }
    SimFleet fleet(rts);
    EXPECT_EQ(fleet.toVector(), rts);
    for (std::size_t i = 0; i < rts.size(); ++i) {
        EXPECT_EQ(fleet.at(i).shootName, rts[i].shootName);
        EXPECT_EQ(fleet.shootName(i), rts[i].shootName);
        ASSERT_NE(fleet.byShoot(rts[i].shootName), nullptr);
        EXPECT_EQ(fleet.byShoot(rts[i].shootName)->runtimeID, rts[i].runtimeID);
    }
}

// The simulator caches effective windows by windowKeyOf: equal keys exactly when the deciding
// strings are equal, and setWindow gives the runtime the key of its new strings.
TEST(SimFleet, WindowKeysFollowTheDecidingStrings) {
    std::vector<Runtime> rts(4);
    for (std::size_t i = 0; i < rts.size(); ++i) {
        rts[i].runtimeID = "r" + std::to_string(i);
        rts[i].globalAccountID = "ga";
        rts[i].planName = "aws";
        rts[i].region = "eu-central-1";
        rts[i].windowBegin = "020000+0000";
        rts[i].windowEnd = "030000+0000";
    }
    rts[1].region = "us-east-1";
    rts[2].windowEnd = "040000+0000";
    SimFleet fleet(rts);
    SimFleet::WindowKey k0, k1, k2, k3;
    ASSERT_TRUE(fleet.windowKeyOf("r0", &k0));
    ASSERT_TRUE(fleet.windowKeyOf("r1", &k1));
    ASSERT_TRUE(fleet.windowKeyOf("r2", &k2));
    ASSERT_TRUE(fleet.windowKeyOf("r3", &k3));
    EXPECT_EQ(k0, k3);
    EXPECT_FALSE(k0 == k1);
    EXPECT_EQ(k0.windowBegin, k1.windowBegin);
    EXPECT_EQ(k0.windowEnd, k1.windowEnd);
    EXPECT_FALSE(k0 == k2);
    EXPECT_FALSE(fleet.windowKeyOf("nope", &k0));
    ASSERT_TRUE(fleet.setWindow("r3", "020000+0000", "040000+0000"));
    ASSERT_TRUE(fleet.windowKeyOf("r3", &k3));
    EXPECT_EQ(k3, k2);
    ASSERT_TRUE(fleet.setWindow("r3", "100000+0100", "110000+0100"));
    ASSERT_TRUE(fleet.windowKeyOf("r3", &k3));
    EXPECT_FALSE(k3 == k2);
    EXPECT_FALSE(k3 == k0);
}

TEST(SimFleet, RemoveAndSetWindow) {
    FleetSpec spec;
    spec.size = 50;
    SimFleet fleet(spec, 2);
    const std::string gone = fleet.runtimeID(10);
    const std::string kept = fleet.runtimeID(11);
    const Runtime last = fleet.runtime(49);
    EXPECT_EQ(fleet.remove({gone, "unknown", gone}), 1u);
    EXPECT_EQ(fleet.remove({gone}), 0u);
    EXPECT_EQ(fleet.size(), 49u);
    EXPECT_FALSE(fleet.find(gone, 0).has_value());
    EXPECT_FALSE(fleet.contains(gone));
    EXPECT_EQ(fleet.runtimeID(10), kept);  // fleet order kept
    EXPECT_EQ(fleet.at(48), last);
    ASSERT_TRUE(fleet.find(kept, 0).has_value());
    EXPECT_TRUE(fleet.setWindow(kept, "220000+0530", "010000+0530"));
    EXPECT_EQ(fleet.find(kept, 0)->windowBegin, "220000+0530");
    EXPECT_EQ(fleet.at(10).windowEnd, "010000+0530");
    EXPECT_EQ(fleet.runtime(9).windowBegin, generateFleet(spec, 2)[9].windowBegin);  // others unchanged
    EXPECT_FALSE(fleet.setWindow(gone, "220000+0530", "010000+0530"));
    const std::string shoot = fleet.shootName(0);
    ASSERT_NE(fleet.byShoot(shoot), nullptr);
    EXPECT_EQ(fleet.byShoot(shoot)->runtimeID, fleet.runtimeID(0));
    // Everything gone.
    std::vector<std::string> all;
    for (std::size_t i = 0; i < fleet.size(); ++i) all.push_back(fleet.runtimeID(i));
    EXPECT_EQ(fleet.remove(all), 49u);
    EXPECT_EQ(fleet.size(), 0u);
    EXPECT_EQ(fleet.get(kept), nullptr);
    EXPECT_EQ(fleet.byShoot(shoot), nullptr);
}

// Target resolution over the compact fleet (a list that builds runtimes into one buffer)
// selects what resolution over the generated vector selects.
TEST(SimFleet, TargetsResolveLikeTheVector) {
    FleetSpec spec;
    spec.size = 5000;
    spec.suspendedShare = 0.02;
    const auto vec = generateFleet(spec, 21);
    SimFleet fleet(spec, 21);
    Targets t;
    t.include.emplace_back().region = "^eu-|west";
    t.include.emplace_back().planName = "trial";
    t.include.emplace_back().globalAccount = vec[17].globalAccountID.substr(0, 3);
    t.include.emplace_back().runtimeID = vec[4000].runtimeID;
    t.exclude.emplace_back().subAccount = vec[5].subAccountID;
    t.exclude.emplace_back().shoot = vec[6].shootName;
    std::vector<std::uint32_t> skipped;
    const auto snap = fleet.snapshot(0);
    ASSERT_NE(snap.list, nullptr);
    const auto got = resolveTargetIndices(t, *snap.list, &skipped);
    std::vector<const Runtime*> skippedWant;
    const auto want = resolveTargets(t, vec, &skippedWant);
    ASSERT_EQ(got.size(), want.size());
    ASSERT_GT(got.size(), 1000u);
    for (std::size_t k = 0; k < got.size(); ++k) ASSERT_EQ(&vec[got[k]], want[k]) << k;
    ASSERT_EQ(skipped.size(), skippedWant.size());
    EXPECT_FALSE(skipped.empty());
    for (std::size_t k = 0; k < skipped.size(); ++k) ASSERT_EQ(&vec[skipped[k]], skippedWant[k]);
}

// fieldsAt(i, groups) fills the asked-for groups exactly as at(i) does, whatever an earlier read
// of another runtime left in the buffer; the flags always.
TEST(SimFleet, FieldsAtFillsTheAskedGroups) {
    FleetSpec spec;
    spec.size = 400;
    spec.suspendedShare = 0.1;
    spec.deletingShare = 0.1;
    SimFleet fleet(spec, 8);
    const auto vec = fleet.toVector();
    using L = RuntimeList;
    const unsigned groups[] = {L::kRuntimeIDField, L::kInstanceIDField, L::kAccountFields, L::kPlanFields,
                               L::kRegionField,    L::kShootField,      L::kWindowFields,  L::kVersionFields};
    int flagged = 0;
    for (std::size_t i = 0; i < vec.size(); ++i) {
        for (unsigned g : groups) {
            (void)fleet.at((i * 7 + 3) % vec.size());  // another runtime in the buffer first
            const Runtime& r = fleet.fieldsAt(i, g);
            const Runtime& w = vec[i];
            EXPECT_EQ(r.deprovisioning, w.deprovisioning);
            EXPECT_EQ(r.suspended, w.suspended);
            switch (g) {
                case L::kRuntimeIDField: ASSERT_EQ(r.runtimeID, w.runtimeID); break;
                case L::kInstanceIDField: ASSERT_EQ(r.instanceID, w.instanceID); break;
                case L::kAccountFields:
                    ASSERT_EQ(r.globalAccountID, w.globalAccountID);
                    ASSERT_EQ(r.subAccountID, w.subAccountID);
                    break;
                case L::kPlanFields:
                    ASSERT_EQ(r.planID, w.planID);
                    ASSERT_EQ(r.planName, w.planName);
                    break;
                case L::kRegionField: ASSERT_EQ(r.region, w.region); break;
                case L::kShootField: ASSERT_EQ(r.shootName, w.shootName); break;
                case L::kWindowFields:
                    ASSERT_EQ(r.windowBegin, w.windowBegin);
                    ASSERT_EQ(r.windowEnd, w.windowEnd);
                    break;
                default:
                    ASSERT_EQ(r.kubernetesVersion, w.kubernetesVersion);
                    ASSERT_EQ(r.machineImage, w.machineImage);
                    ASSERT_EQ(r.machineImageVersion, w.machineImageVersion);
            }
        }
        ASSERT_EQ(fleet.fieldsAt(i, L::kAllFields), vec[i]);
        flagged += vec[i].deprovisioning || vec[i].suspended;
    }
    EXPECT_GT(flagged, 20);  // the flags were exercised
}

// Issue 3 budget: the fleet is at most 250 bytes per shoot at 100,000 shoots.
TEST(SimFleet, LeanMemoryPerShoot) {
    FleetSpec spec;
    spec.size = 100000;
    SimFleet fleet(spec, 3);
    ASSERT_EQ(fleet.size(), 100000u);
    const double perShoot = static_cast<double>(fleet.approxBytes()) / 100000.0;
    EXPECT_LT(perShoot, 250.0) << perShoot;
    EXPECT_GT(perShoot, 32.0) << perShoot;  // two 16-byte ids per shoot at least: the count is real
    RecordProperty("bytes_per_shoot", std::to_string(perShoot));
}

// formatUuid (core/src/fleet.cpp) writes eight hex digits at a time: against printf's text.
TEST(FleetGen, FormatUuidIsThePrintfText) {
    Rng rng(77);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> cases = {
        {0, 0}, {~0ull, ~0ull}, {0x0123456789abcdefull, 0xfedcba9876543210ull}, {0xa0a0a0a0a0a0a0a0ull, 0x0909090909090909ull}};
    for (int i = 0; i < 20000; ++i) cases.emplace_back(rng.next(), rng.next());
    for (auto [hi, lo] : cases) {
        const std::uint64_t h = (hi & ~0xf000ull) | 0x4000ull;
        const std::uint64_t l = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;
        char want[40];
        std::snprintf(want, sizeof want, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(h >> 32),
                      static_cast<unsigned long long>((h >> 16) & 0xffff), static_cast<unsigned long long>(h & 0xffff),
                      static_cast<unsigned long long>(l >> 48), static_cast<unsigned long long>(l & 0xffffffffffffull));
        ASSERT_EQ(formatUuid(hi, lo), want) << std::hex << hi << " " << lo;
        unsigned char packed[16], direct[16];
        ASSERT_TRUE(packUuid(want, packed));
        formatUuidBytes(hi, lo, direct);  // the same bytes without the text
        ASSERT_EQ(std::memcmp(packed, direct, 16), 0) << std::hex << hi << " " << lo;
    }
}

// The big tables' allocator: blocks of 1 MiB and more come 2 MiB aligned (huge-page advice on
// Linux), small ones from operator new; contents survive growth across the threshold either way.
TEST(BigAllocator, LargeBlocksAlignedContentsKept) {
    std::vector<std::uint64_t, BigAllocator<std::uint64_t>> v;
    for (std::uint64_t i = 0; i < 600000; ++i) v.push_back(i * 2654435761u);  // 4.8 MB: crosses 2 MiB
    for (std::uint64_t i = 0; i < v.size(); i += 997) ASSERT_EQ(v[i], i * 2654435761u);
#if defined(__linux__)
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % kBigBlock, 0u);
#endif
    std::vector<std::uint32_t, BigAllocator<std::uint32_t>> small(10, 7);
    EXPECT_EQ(small[9], 7u);
    std::vector<std::uint64_t, BigAllocator<std::uint64_t>> mid(160000, 5);  // 1.28 MB: rounded up to 2 MiB
    EXPECT_EQ(mid[159999], 5u);
#if defined(__linux__)
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(mid.data()) % kBigBlock, 0u);
#endif
    FlatMap<int> m;
    for (std::uint64_t k = 1; k <= 300000; ++k) m[k * 0x9e3779b97f4a7c15ull] = static_cast<int>(k);
    EXPECT_GE(m.bytes(), kBigBlock);
    for (std::uint64_t k = 1; k <= 300000; k += 101) ASSERT_EQ(*m.find(k * 0x9e3779b97f4a7c15ull), static_cast<int>(k));
    EXPECT_EQ(m.find(12345), nullptr);
    FlatMap<int> r;  // reserve: room for n keys, no growth while they come
    r.reserve(1000);
    EXPECT_EQ(r.capacity(), 2048u);
    for (std::uint64_t k = 1; k <= 1000; ++k) r[k] = static_cast<int>(k);
    EXPECT_EQ(r.capacity(), 2048u);
    EXPECT_EQ(r.size(), 1000u);
    for (std::uint64_t k = 1001; k <= 1024; ++k) r[k] = 1;  // up to half full
    EXPECT_EQ(r.capacity(), 2048u);
    r[1025] = 1;
    EXPECT_EQ(r.capacity(), 4096u);
    for (std::uint64_t k = 1; k <= 1000; ++k) ASSERT_EQ(*r.find(k), static_cast<int>(k));
}

// FlatMap::erase (the simulator's tables of what is in progress): removing keys from clusters
// that wrap around the end of the table keeps every other key findable (backward shift), against
// a std::map doing the same inserts and erases.
TEST(FlatMap, EraseKeepsTheOtherKeysFindable) {
    FlatMap<int> m;
    std::map<std::uint64_t, int> ref;
    Rng rng(7);
    for (int round = 0; round < 20000; ++round) {
        // Keys crowd the home slots around the end of the table whatever its size (low bits
        // 4096 - 20 .. 4096 + 19, modulo the table), so probe runs cluster and wrap around.
        const std::uint64_t key = ((4096 - 20 + rng.below(40)) & 4095) | (rng.below(4) << 60);
        if (rng.below(3) == 0) {
            EXPECT_EQ(m.erase(key), ref.erase(key) == 1) << round;
        } else {
            m[key] = round;
            ref[key] = round;
        }
        ASSERT_EQ(m.size(), ref.size());
        if (round % 97 == 0) {
            for (const auto& [k, v] : ref) ASSERT_TRUE(m.find(k) && *m.find(k) == v) << round << " " << k;
        }
    }
    for (const auto& [k, v] : ref) ASSERT_EQ(*m.find(k), v);
    for (std::uint64_t d = 0; d < 40; ++d)
        for (std::uint64_t hi = 0; hi < 4; ++hi) {
            const std::uint64_t key = ((4096 - 20 + d) & 4095) | (hi << 60);
            if (!ref.count(key)) {
                EXPECT_EQ(m.find(key), nullptr);
            }
        }
    EXPECT_FALSE(FlatMap<int>().erase(5));
}

// idKey: the simulator's table key of an id. Deterministic, spreads UUIDs that differ in one
// character anywhere (also in the overlapping last word), and short ids fall back to hashWords.
TEST(IdKey, DistinctForIdsDifferingAnywhere) {
    const std::string base = "0f8e2c4a-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
    std::set<std::uint64_t> keys{idKey(base)};
    for (std::size_t i = 0; i < base.size(); ++i) {
        std::string s = base;
        s[i] = s[i] == 'a' ? 'b' : 'a';
        keys.insert(idKey(s));
    }
    EXPECT_EQ(keys.size(), base.size() + 1);
    EXPECT_EQ(idKey(base), idKey(std::string(base)));
    EXPECT_EQ(idKey("op-1"), hashWords("op-1"));
    EXPECT_NE(idKey("runtime-00000001"), idKey("runtime-00000002"));
}
