// Target resolution (SPEC 3): field semantics, include order, dedup, excludes, skips.
#include "keb/targets.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace keb {
namespace {

Runtime rt(std::string id, std::string ga, std::string sa, std::string region, std::string plan,
           std::string shoot = "", std::string instance = "") {
    Runtime r;
    r.runtimeID = std::move(id);
    r.globalAccountID = std::move(ga);
    r.subAccountID = std::move(sa);
    r.region = std::move(region);
    r.planName = std::move(plan);
    r.shootName = shoot.empty() ? "s-" + r.runtimeID : std::move(shoot);
    r.instanceID = instance.empty() ? "i-" + r.runtimeID : std::move(instance);
    return r;
}

std::vector<Runtime> sampleFleet() {
    return {
        rt("r1", "GA-alpha", "SA-1", "eu-west-1", "aws"),
        rt("r2", "GA-beta", "SA-2", "us-east-1", "azure"),
        rt("r3", "GA-alpha", "SA-3", "eu-central-1", "gcp"),
        rt("r4", "GA-gamma", "SA-4", "ap-south-1", "aws"),
        rt("r5", "GA-beta", "SA-5", "eu-west-2", "trial"),
    };
}

std::vector<std::string> ids(const std::vector<const Runtime*>& rs) {
    std::vector<std::string> out;
    for (const auto* r : rs) out.push_back(r->runtimeID);
    return out;
}

Target all() {
    Target t;
    t.all = true;
    return t;
}

using V = std::vector<std::string>;

TEST(Targets, AllAndEmptyTargetMatchEverything) {
    const auto fleet = sampleFleet();
    EXPECT_EQ(ids(resolveTargets(Targets{{all()}, {}}, fleet)), (V{"r1", "r2", "r3", "r4", "r5"}));
    EXPECT_EQ(ids(resolveTargets(Targets{{Target{}}, {}}, fleet)), (V{"r1", "r2", "r3", "r4", "r5"}));
    EXPECT_TRUE(resolveTargets(Targets{{}, {}}, fleet).empty());
    EXPECT_TRUE(resolveTargets(Targets{{all()}, {}}, {}).empty());
}

TEST(Targets, RegexFieldsAreUnanchoredSearches) {
    const auto fleet = sampleFleet();
    Target t;
    t.globalAccount = "alpha";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r1", "r3"}));
    t = {};
    t.region = "^eu-";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r1", "r3", "r5"}));
    t = {};
    t.subAccount = "[24]$";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r2", "r4"}));
    // Set fields are ANDed.
    t = {};
    t.globalAccount = "beta";
    t.region = "eu";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r5"}));
}

TEST(Targets, ExactFields) {
    const auto fleet = sampleFleet();
    Target t;
    t.planName = "aws";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r1", "r4"}));
    t.planName = "aw";  // exact, not a search
    EXPECT_TRUE(resolveTargets(Targets{{t}, {}}, fleet).empty());
    t = {};
    t.shoot = "s-r3";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r3"}));
    t = {};
    t.instanceID = "i-r2";
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r2"}));
    t.planName = "aws";  // AND with a non-matching field
    EXPECT_TRUE(resolveTargets(Targets{{t}, {}}, fleet).empty());
}

TEST(Targets, RuntimeIDIsExactAndIgnoresOtherFields) {
    const auto fleet = sampleFleet();
    Target t;
    t.runtimeID = "r4";
    t.region = "eu";   // ignored when runtimeID is set
    t.planName = "x";  // ignored too
    EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), (V{"r4"}));
    EXPECT_TRUE(targetMatches(t, fleet[3]));
    t.runtimeID = "r";
    EXPECT_TRUE(resolveTargets(Targets{{t}, {}}, fleet).empty());
}

TEST(Targets, UnionInRuleOrderDedupedMinusExcludes) {
    const auto fleet = sampleFleet();
    Target byPlan, byAccount, exRegion, exID;
    byPlan.planName = "aws";        // r1, r4
    byAccount.globalAccount = "a";  // every GA-... contains 'a': r1..r5
    exRegion.region = "central";    // r3
    exID.runtimeID = "r2";
    EXPECT_EQ(ids(resolveTargets(Targets{{byPlan, byAccount}, {}}, fleet)), (V{"r1", "r4", "r2", "r3", "r5"}));
    EXPECT_EQ(ids(resolveTargets(Targets{{byPlan, byAccount}, {exRegion, exID}}, fleet)), (V{"r1", "r4", "r5"}));
    // Exclude everything.
    EXPECT_TRUE(resolveTargets(Targets{{byPlan}, {all()}}, fleet).empty());
}

TEST(Targets, DuplicateRuntimeIDsInTheFleetAppearOnce) {
    auto fleet = sampleFleet();
    fleet.push_back(rt("r1", "GA-zeta", "SA-9", "eu-west-1", "aws"));
    const auto got = resolveTargets(Targets{{all()}, {}}, fleet);
    EXPECT_EQ(ids(got), (V{"r1", "r2", "r3", "r4", "r5"}));
    EXPECT_EQ(got[0], &fleet[0]);
}

TEST(Targets, DeprovisioningAndSuspendedAreSkipped) {
    auto fleet = sampleFleet();
    fleet[1].deprovisioning = true;
    fleet[3].suspended = true;
    std::vector<const Runtime*> skipped;
    Target ex;
    ex.runtimeID = "r4";  // excluded and suspended: not reported as skipped
    EXPECT_EQ(ids(resolveTargets(Targets{{all()}, {}}, fleet, &skipped)), (V{"r1", "r3", "r5"}));
    EXPECT_EQ(ids(skipped), (V{"r2", "r4"}));
    EXPECT_EQ(ids(resolveTargets(Targets{{all()}, {ex}}, fleet, &skipped)), (V{"r1", "r3", "r5"}));
    EXPECT_EQ(ids(skipped), (V{"r2"}));
}

TEST(Targets, InvalidRegexMatchesNothing) {
    const auto fleet = sampleFleet();
    Target bad;
    bad.region = "(eu";
    EXPECT_TRUE(resolveTargets(Targets{{bad}, {}}, fleet).empty());
    EXPECT_FALSE(targetMatches(bad, fleet[0]));
    // ...and as an exclude it excludes nothing.
    EXPECT_EQ(resolveTargets(Targets{{all()}, {bad}}, fleet).size(), 5u);
}

TEST(Targets, TargetMatchesAgreesWithResolve) {
    const auto fleet = sampleFleet();
    std::vector<Target> rules(6);
    rules[0].globalAccount = "^GA-(alpha|gamma)$";
    rules[1].subAccount = "SA-[135]";
    rules[1].planName = "aws";
    rules[2].region = "(?i)EU-WEST";
    rules[3].shoot = "s-r5";
    rules[4].instanceID = "i-r9";
    rules[5].runtimeID = "r2";
    for (const auto& t : rules) {
        std::vector<std::string> expected;
        for (const auto& r : fleet)
            if (targetMatches(t, r)) expected.push_back(r.runtimeID);
        EXPECT_EQ(ids(resolveTargets(Targets{{t}, {}}, fleet)), expected);
    }
    EXPECT_EQ(ids(resolveTargets(Targets{{rules[2]}, {}}, fleet)), (V{"r1", "r5"}));
}

TEST(Targets, LargeFleetMemoisedResolution) {
    std::vector<Runtime> fleet;
    for (int i = 0; i < 20000; ++i)
        fleet.push_back(rt("rt-" + std::to_string(i), "ga-" + std::to_string(i % 100), "sa-" + std::to_string(i % 1000),
                           i % 2 ? "eu-west-1" : "us-east-1", i % 4 == 0 ? "aws" : "azure"));
    Target inc, ex;
    inc.globalAccount = "^ga-1\\d$";  // ga-10..ga-19: 10 of 100 accounts
    inc.region = "eu";
    ex.subAccount = "^sa-11$";  // i % 1000 == 11 (ga-11, odd: eu)
    const auto got = resolveTargets(Targets{{inc}, {ex}}, fleet);
    std::size_t expected = 0;
    for (int i = 0; i < 20000; ++i) {
        const int ga = i % 100;
        if (ga >= 10 && ga <= 19 && i % 2 == 1 && i % 1000 != 11) ++expected;
    }
    EXPECT_EQ(got.size(), expected);
    for (const auto* r : got) EXPECT_NE(r->subAccountID, "sa-11");
}

// The straightforward definition, rule by rule with targetMatches: the optimised
// resolver (memoised regexes, runtimeID hash lookups, exclude id set) must agree.
std::vector<const Runtime*> referenceResolve(const Targets& t, const std::vector<Runtime>& fleet,
                                             std::vector<const Runtime*>* skipped) {
    std::vector<const Runtime*> out;
    std::set<std::string> seen;
    std::vector<bool> taken(fleet.size(), false);
    for (const auto& inc : t.include)
        for (std::size_t i = 0; i < fleet.size(); ++i) {
            if (taken[i] || !targetMatches(inc, fleet[i])) continue;
            taken[i] = true;
            if (!seen.insert(fleet[i].runtimeID).second) continue;
            bool ex = false;
            for (const auto& e : t.exclude) ex = ex || targetMatches(e, fleet[i]);
            if (ex) continue;
            if (fleet[i].deprovisioning || fleet[i].suspended) {
                skipped->push_back(&fleet[i]);
                continue;
            }
            out.push_back(&fleet[i]);
        }
    return out;
}

TEST(Targets, OptimisedResolverAgreesWithReference) {
    std::mt19937 rng(777);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    for (int trial = 0; trial < 60; ++trial) {
        std::vector<Runtime> fleet;
        for (int i = 0; i < 300; ++i) {
            // ~3% duplicate runtime ids, with different other fields
            const int id = pick(30) == 0 && i > 0 ? pick(i) : i;
            Runtime r = rt("rt-" + std::to_string(id), "GA-" + std::to_string(pick(20)), "SA-" + std::to_string(pick(60)),
                           pick(2) ? "eu-west-" + std::to_string(pick(3)) : "us-east-1", pick(3) ? "aws" : "trial");
            r.suspended = pick(25) == 0;
            r.deprovisioning = pick(25) == 0;
            fleet.push_back(r);
        }
        auto randomRule = [&](bool allowAll) {
            Target t;
            switch (pick(allowAll ? 7 : 6)) {
                case 0: case 1: case 2: t.runtimeID = "rt-" + std::to_string(pick(320)); break;
                case 3: t.globalAccount = "^GA-" + std::to_string(pick(20)) + "$"; break;
                case 4: t.region = pick(2) ? "west-[12]" : "(?i)US"; t.planName = pick(2) ? "aws" : "trial"; break;
                case 5: t.subAccount = "SA-" + std::to_string(pick(10)); break;
                default: t.all = true; break;
            }
            return t;
        };
        Targets t;
        const int includes = 1 + pick(40), excludes = pick(25);  // often above the id lookup threshold
        for (int k = 0; k < includes; ++k) t.include.push_back(randomRule(k > 0 && pick(10) == 0));
        for (int k = 0; k < excludes; ++k) t.exclude.push_back(randomRule(false));
        std::vector<const Runtime*> skipA, skipB;
        const auto a = resolveTargets(t, fleet, &skipA);
        const auto b = referenceResolve(t, fleet, &skipB);
        ASSERT_EQ(a, b) << "trial " << trial;
        ASSERT_EQ(skipA, skipB) << "trial " << trial;
    }
}

TEST(Targets, ManyRuntimeIDRulesUseTheirOrder) {
    std::vector<Runtime> fleet;
    for (int i = 0; i < 100; ++i) fleet.push_back(rt("rt-" + std::to_string(i), "GA", "SA", "eu", "aws"));
    Targets t;
    for (int i = 99; i >= 50; --i) {  // 50 id rules, in reverse fleet order
        Target x;
        x.runtimeID = "rt-" + std::to_string(i);
        t.include.push_back(x);
    }
    for (int i = 60; i < 80; ++i) {  // 20 id excludes
        Target x;
        x.runtimeID = "rt-" + std::to_string(i);
        t.exclude.push_back(x);
    }
    const auto got = ids(resolveTargets(t, fleet));
    V expected;
    for (int i = 99; i >= 50; --i)
        if (i < 60 || i >= 80) expected.push_back("rt-" + std::to_string(i));
    EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace keb
