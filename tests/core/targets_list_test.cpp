// resolveTargetIndices over a RuntimeList that builds each runtime into one buffer
// (like the simulator's compact fleet): the same answers as resolveTargets over a
// vector, nothing borrowed from a runtime after the next read, one read per runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "keb/targets.h"

namespace keb {
namespace {

// Every at() overwrites the same Runtime: a reference (or string_view) kept across two
// reads sees the second runtime. Counts the reads.
class MaterialisingList final : public RuntimeList {
public:
    explicit MaterialisingList(const std::vector<Runtime>& src) : src_(src) {}
    std::size_t size() const override { return src_.size(); }
    const Runtime& at(std::size_t i) const override {
        ++reads;
        buffer_ = Runtime{};  // clear first, so stale views see garbage or other values
        buffer_ = src_.at(i);
        return buffer_;
    }
    // Fills only the groups asked for: every other text field gets a value no rule matches, so a
    // reader that asks for too little selects differently from resolveTargets over the vector.
    const Runtime& fieldsAt(std::size_t i, unsigned fields) const override {
        const Runtime& r = at(i);
        const std::string stale = "stale-" + std::to_string(i % 7);
        if (!(fields & kRuntimeIDField)) buffer_.runtimeID = stale;
        if (!(fields & kInstanceIDField)) buffer_.instanceID = stale;
        if (!(fields & kAccountFields)) buffer_.globalAccountID = buffer_.subAccountID = stale;
        if (!(fields & kPlanFields)) buffer_.planID = buffer_.planName = stale;
        if (!(fields & kRegionField)) buffer_.region = stale;
        if (!(fields & kShootField)) buffer_.shootName = stale;
        if (!(fields & kWindowFields)) buffer_.windowBegin = buffer_.windowEnd = stale;
        if (!(fields & kVersionFields)) buffer_.kubernetesVersion = buffer_.machineImage = buffer_.machineImageVersion = stale;
        ++partialReads;
        return r;
    }
    mutable std::size_t reads = 0;
    mutable std::size_t partialReads = 0;  // of the reads, through fieldsAt

private:
    const std::vector<Runtime>& src_;
    mutable Runtime buffer_;
};

std::vector<std::uint32_t> positions(const std::vector<const Runtime*>& rs, const std::vector<Runtime>& fleet) {
    std::vector<std::uint32_t> out;
    for (const Runtime* r : rs) out.push_back(static_cast<std::uint32_t>(r - fleet.data()));
    return out;
}

Runtime rt(const std::string& id, const std::string& ga, const std::string& sa, const std::string& region,
           const std::string& plan) {
    Runtime r;
    r.runtimeID = id;
    r.globalAccountID = ga;
    r.subAccountID = sa;
    r.region = region;
    r.planName = plan;
    r.shootName = "s-" + id;
    r.instanceID = "i-" + id;
    return r;
}

TEST(TargetsList, SmallExampleThroughBothEntryPoints) {
    std::vector<Runtime> fleet = {rt("r1", "GA-alpha", "SA-1", "eu-west-1", "aws"),
                                  rt("r2", "GA-beta", "SA-2", "us-east-1", "azure"),
                                  rt("r3", "GA-alpha", "SA-3", "eu-central-1", "gcp"),
                                  rt("r4", "GA-gamma", "SA-4", "ap-south-1", "aws"),
                                  rt("r5", "GA-beta", "SA-5", "eu-west-2", "trial"),
                                  rt("r1", "GA-zeta", "SA-9", "eu-west-1", "aws")};  // duplicate id
    fleet[4].suspended = true;
    Target byPlan, byAccount, exRegion;
    byPlan.planName = "aws";        // r1, r4, r1 (dup)
    byAccount.globalAccount = "a";  // all
    exRegion.region = "central";    // r3
    const Targets t{{byPlan, byAccount}, {exRegion}};
    MaterialisingList list(fleet);
    std::vector<std::uint32_t> skipped;
    EXPECT_EQ(resolveTargetIndices(t, list, &skipped), (std::vector<std::uint32_t>{0, 3, 1}));
    EXPECT_EQ(skipped, (std::vector<std::uint32_t>{4}));
    std::vector<const Runtime*> skippedPtrs;
    EXPECT_EQ(positions(resolveTargets(t, fleet, &skippedPtrs), fleet), (std::vector<std::uint32_t>{0, 3, 1}));
    EXPECT_EQ(positions(skippedPtrs, fleet), (std::vector<std::uint32_t>{4}));
}

// Random fleets with short (inline-stored) strings and duplicate ids; random rules of every
// kind, often above the runtimeID lookup threshold. Both entry points must agree, and the
// list is read once per runtime plus two reads per duplicate-id comparison.
TEST(TargetsList, AgreesWithVectorResolutionOnRandomFleets) {
    std::mt19937 rng(4242);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    std::size_t totalSelected = 0;
    for (int trial = 0; trial < 80; ++trial) {
        std::vector<Runtime> fleet;
        int duplicates = 0;
        for (int i = 0; i < 250; ++i) {
            const bool dup = pick(25) == 0 && i > 0;
            duplicates += dup ? 1 : 0;
            Runtime r = rt("r" + std::to_string(dup ? pick(i) : i), "G" + std::to_string(pick(15)),
                           "S" + std::to_string(pick(40)), pick(2) ? "eu-" + std::to_string(pick(3)) : "us-1",
                           pick(3) ? "aws" : "trial");
            r.suspended = pick(20) == 0;
            r.deprovisioning = pick(20) == 0;
            fleet.push_back(r);
        }
        auto randomRule = [&](bool allowAll) {
            Target t;
            switch (pick(allowAll ? 9 : 8)) {
                case 0: case 1: case 2: t.runtimeID = "r" + std::to_string(pick(270)); break;
                case 3: t.globalAccount = "^G" + std::to_string(pick(15)) + "$"; break;
                case 4: t.region = pick(2) ? "eu-[12]" : "(?i)US"; t.planName = pick(2) ? "aws" : "trial"; break;
                case 5: t.subAccount = "S" + std::to_string(pick(10)); t.globalAccount = "G1"; break;
                case 6: t.shoot = "s-r" + std::to_string(pick(250)); break;
                case 7: t.instanceID = "i-r" + std::to_string(pick(250)); t.region = "eu"; break;
                default: t.all = true; break;
            }
            return t;
        };
        Targets t;
        const int includes = 1 + pick(30), excludes = pick(20);
        for (int k = 0; k < includes; ++k) t.include.push_back(randomRule(k > 0 && pick(10) == 0));
        for (int k = 0; k < excludes; ++k) t.exclude.push_back(randomRule(false));

        MaterialisingList list(fleet);
        std::vector<std::uint32_t> skipped;
        const auto got = resolveTargetIndices(t, list, &skipped);
        EXPECT_LE(list.reads, fleet.size() + 2 * static_cast<std::size_t>(duplicates) * 3) << "trial " << trial;
        EXPECT_GE(list.reads, fleet.size());
        EXPECT_EQ(list.partialReads, fleet.size()) << "trial " << trial;  // the pass asks for what it reads
        std::vector<const Runtime*> skippedPtrs;
        const auto want = resolveTargets(t, fleet, &skippedPtrs);
        ASSERT_EQ(got, positions(want, fleet)) << "trial " << trial;
        ASSERT_EQ(skipped, positions(skippedPtrs, fleet)) << "trial " << trial;
        // And against the definition, rule by rule.
        std::vector<std::uint32_t> ref;
        std::vector<bool> taken(fleet.size());
        std::vector<std::string> seen;
        for (const auto& inc : t.include)
            for (std::size_t i = 0; i < fleet.size(); ++i) {
                if (taken[i] || !targetMatches(inc, fleet[i])) continue;
                taken[i] = true;
                if (std::find(seen.begin(), seen.end(), fleet[i].runtimeID) != seen.end()) continue;
                seen.push_back(fleet[i].runtimeID);
                bool ex = false;
                for (const auto& e : t.exclude) ex = ex || targetMatches(e, fleet[i]);
                if (!ex && !fleet[i].deprovisioning && !fleet[i].suspended) ref.push_back(static_cast<std::uint32_t>(i));
            }
        ASSERT_EQ(got, ref) << "trial " << trial;
        totalSelected += got.size();
    }
    EXPECT_GT(totalSelected, 1000u);  // the trials select something
}

TEST(TargetsList, OneReadPerRuntimeWithoutDuplicates) {
    std::vector<Runtime> fleet;
    for (int i = 0; i < 5000; ++i)
        fleet.push_back(rt("rt-" + std::to_string(i), "ga-" + std::to_string(i % 50), "sa-" + std::to_string(i % 500),
                           i % 3 ? "eu-west-1" : "us-east-1", i % 2 ? "aws" : "azure"));
    Targets t;
    t.include.emplace_back().globalAccount = "^ga-1";
    t.include.emplace_back().planName = "azure";
    for (int i = 0; i < 20; ++i) t.include.emplace_back().runtimeID = "rt-" + std::to_string(i * 7);
    t.exclude.emplace_back().region = "us";
    MaterialisingList list(fleet);
    const auto got = resolveTargetIndices(t, list);
    EXPECT_EQ(list.reads, fleet.size());
    EXPECT_EQ(got, positions(resolveTargets(t, fleet), fleet));
    ASSERT_FALSE(got.empty());
    for (std::uint32_t i : got) EXPECT_NE(fleet[i].region, "us-east-1");
}

TEST(TargetsList, EmptyIncludesOrEmptyListSelectNothing) {
    std::vector<Runtime> fleet = {rt("a", "g", "s", "eu", "aws")};
    MaterialisingList list(fleet);
    std::vector<std::uint32_t> skipped = {7};
    EXPECT_TRUE(resolveTargetIndices(Targets{}, list, &skipped).empty());
    EXPECT_TRUE(skipped.empty());
    std::vector<Runtime> none;
    MaterialisingList empty(none);
    Target all;
    all.all = true;
    EXPECT_TRUE(resolveTargetIndices(Targets{{all}, {}}, empty).empty());
    EXPECT_EQ(resolveTargetIndices(Targets{{all}, {}}, list), (std::vector<std::uint32_t>{0}));
}

}  // namespace
}  // namespace keb
