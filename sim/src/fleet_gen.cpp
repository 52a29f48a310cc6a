// Fleet generator and the simulated FleetSource.
#include "keb/sim/fleet_gen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "keb/sim/random.h"

namespace keb::sim {
namespace {

struct PlanInfo {
    const char* name;
    const char* id;
    const char* provider;
};

// Plan ids as KEB registers them.
const PlanInfo kPlans[] = {
    {"azure", "4deee563-e5ec-4731-b9b1-53b42d855f0c", "azure"},
    {"azure_lite", "8cb22518-aa26-44c5-91a0-e669ec9bf443", "azure"},
    {"aws", "361c511f-f939-4621-b228-d0fb79a1fe15", "aws"},
    {"gcp", "ca6e5357-707f-4565-bbbd-b3ab732597c6", "gcp"},
    {"trial", "7d55d31d-35ae-4438-bf13-6ffdfa107d9f", "aws"},
    {"free", "b1a5764e-2ea1-4f95-94c0-2b4538b37b55", "aws"},
    {"sap-converged-cloud", "03b812ac-c991-4528-b5bd-08b303523a63", "openstack"},
};

// Regions by provider, most used first (the generator skews toward the front).
const std::vector<std::string>& regionsFor(const std::string& provider) {
    static const std::vector<std::string> azure = {"westeurope", "eastus", "northeurope", "centralus",
                                                   "westus2", "uksouth", "australiaeast", "japaneast",
                                                   "southeastasia", "switzerlandnorth"};
    static const std::vector<std::string> aws = {"eu-central-1", "us-east-1", "eu-west-2", "us-west-2",
                                                 "ap-southeast-1", "ap-northeast-1", "ap-southeast-2",
                                                 "ca-central-1", "sa-east-1", "ap-south-1"};
    static const std::vector<std::string> gcp = {"europe-west3", "us-central1", "asia-south1",
                                                 "europe-west4", "us-east4", "asia-northeast1"};
    static const std::vector<std::string> openstack = {"eu-de-1", "eu-de-2", "ap-jp-1", "na-us-1"};
    if (provider == "azure") return azure;
    if (provider == "gcp") return gcp;
    if (provider == "openstack") return openstack;
    return aws;
}

const PlanInfo* planInfo(const std::string& name) {
    for (const auto& p : kPlans)
        if (name == p.name) return &p;
    return nullptr;
}

// Skewed index in [0, n): u^skew pushes mass toward 0.
std::size_t skewedIndex(Rng& rng, std::size_t n, double skew) {
    if (n <= 1) return 0;
    const double u = std::pow(rng.uniform(), std::max(1.0, skew));
    return std::min<std::size_t>(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)));
}

std::size_t weightedIndex(Rng& rng, const std::vector<double>& cumulative) {
    const double r = rng.uniform() * cumulative.back();
    return std::min<std::size_t>(cumulative.size() - 1,
                                 std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin());
}

std::vector<double> cumulativeOf(const Weighted& w) {
    std::vector<double> c;
    double sum = 0;
    for (const auto& [_, weight] : w) c.push_back(sum += std::max(0.0, weight));
    if (c.empty() || c.back() <= 0) c.assign(w.size(), 1.0), std::partial_sum(c.begin(), c.end(), c.begin());
    return c;
}

std::string twoDigits(int v) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02d", v);
    return buf;
}

std::string uuid(Rng& rng) {
    const std::uint64_t hi = rng.next();
    return formatUuid(hi, rng.next());
}

}  // namespace

const std::string& planIdFor(const std::string& planName) {
    static const std::string unknown = "00000000-0000-4000-8000-000000000000";
    static std::vector<std::pair<std::string, std::string>> ids = [] {
        std::vector<std::pair<std::string, std::string>> v;
        for (const auto& p : kPlans) v.emplace_back(p.name, p.id);
        return v;
    }();
    for (const auto& [name, id] : ids)
        if (name == planName) return id;
    return unknown;
}

std::pair<std::string, std::string> gardenerDefaultWindow(int hour) {
    hour = ((hour % 24) + 24) % 24;
    return {twoDigits(hour) + "0000+0000", twoDigits((hour + 1) % 24) + "0000+0000"};
}

std::vector<Runtime> generateFleet(const FleetSpec& spec, std::uint64_t seed) {
    Rng rng(mix64(seed ^ 0x666c656574ull));  // "fleet"
    const int size = std::max(0, spec.size);
    const int accounts = spec.globalAccounts > 0 ? spec.globalAccounts : std::max(1, size / 40);
    const int subs = std::max(accounts, spec.subAccounts > 0 ? spec.subAccounts : std::max(1, size / 4));

    Weighted plans = spec.plans;
    if (plans.empty())
        plans = {{"azure", 35}, {"aws", 30}, {"gcp", 15}, {"trial", 10}, {"azure_lite", 5}, {"free", 3},
                 {"sap-converged-cloud", 2}};
    Weighted versions = spec.kubernetesVersions;
    if (versions.empty()) versions = {{"1.28.10", 40}, {"1.29.5", 45}, {"1.30.2", 15}};
    std::vector<std::string> offsets = spec.windowOffsets;
    if (offsets.empty()) offsets = {"+0530", "-0800", "+0100", "+0900", "-0500", "+1000", "+0000", "-0300"};
    const auto planCum = cumulativeOf(plans);
    const auto versionCum = cumulativeOf(versions);

    // Accounts and subaccounts: each subaccount belongs to one (skew-chosen) account.
    std::vector<std::string> accountIds(accounts);
    for (auto& a : accountIds) a = uuid(rng);
    std::vector<std::string> subIds(subs);
    std::vector<std::uint32_t> subOwner(subs);
    for (int i = 0; i < subs; ++i) {
        subIds[i] = uuid(rng);
        subOwner[i] = i < accounts ? i : static_cast<std::uint32_t>(skewedIndex(rng, accounts, spec.accountSkew));
    }

    std::vector<Runtime> fleet;
    fleet.reserve(size + spec.extra.size());
    // Shoot names "c-xxxxxxx": a bijection of the index on 28 bits, unique by construction.
    const std::uint32_t nameMul = static_cast<std::uint32_t>(mix64(seed) | 1u) & 0x0fffffffu;
    const std::uint32_t nameAdd = static_cast<std::uint32_t>(mix64(seed + 1)) & 0x0fffffffu;
    for (int i = 0; i < size; ++i) {
        Runtime r;
        r.runtimeID = uuid(rng);
        r.instanceID = uuid(rng);
        const std::size_t sub = skewedIndex(rng, subIds.size(), spec.accountSkew);
        r.subAccountID = subIds[sub];
        r.globalAccountID = accountIds[subOwner[sub]];
        const std::string& plan = plans[weightedIndex(rng, planCum)].first;
        r.planName = plan;
        r.planID = planIdFor(plan);
        const PlanInfo* info = planInfo(plan);
        const auto& regions = regionsFor(info ? info->provider : "aws");
        r.region = regions[skewedIndex(rng, regions.size(), spec.regionSkew)];
        char name[16];
        std::snprintf(name, sizeof name, "c-%07x",
                      (static_cast<std::uint32_t>(i) * nameMul + nameAdd) & 0x0fffffffu);
        r.shootName = name;
        if (rng.chance(spec.operatorWindowShare)) {
            // Operator-set: local begin hour, 1..4 h long, in some offset (may cross midnight).
            const std::string& off = offsets[rng.below(offsets.size())];
            const int begin = static_cast<int>(rng.below(24));
            const int len = 1 + static_cast<int>(rng.below(4));
            const int halfHour = rng.chance(0.25) ? 30 : 0;
            r.windowBegin = twoDigits(begin) + twoDigits(halfHour) + "00" + off;
            r.windowEnd = twoDigits((begin + len) % 24) + twoDigits(halfHour) + "00" + off;
        } else {
            auto [b, e] = gardenerDefaultWindow(static_cast<int>(rng.below(24)));
            r.windowBegin = std::move(b);
            r.windowEnd = std::move(e);
        }
        r.deprovisioning = rng.chance(spec.deletingShare);
        r.suspended = rng.chance(spec.suspendedShare);
        r.kubernetesVersion = versions[weightedIndex(rng, versionCum)].first;
        r.machineImage = "gardenlinux";
        r.machineImageVersion = rng.chance(0.7) ? "1443.3.0" : "1312.4.0";
        fleet.push_back(std::move(r));
    }
    for (const auto& r : spec.extra) fleet.push_back(r);
    return fleet;
}

// ---------------------------------------------------------------- SimFleet

SimFleet::SimFleet(std::vector<Runtime> runtimes) : runtimes_(std::move(runtimes)) { reindex(); }

void SimFleet::reindex() {
    std::size_t cap = 16;
    while (cap < 2 * runtimes_.size()) cap *= 2;
    index_.assign(cap, {0, 0});
    for (std::size_t i = 0; i < runtimes_.size(); ++i) {
        const std::uint64_t h = fnv1a(runtimes_[i].runtimeID);
        std::size_t slot = h & (cap - 1);
        while (index_[slot].second != 0) slot = (slot + 1) & (cap - 1);
        index_[slot] = {h, static_cast<std::uint32_t>(i + 1)};
    }
}

const Runtime* SimFleet::get(const std::string& runtimeID) const {
    const std::uint64_t h = fnv1a(runtimeID);
    const std::size_t mask = index_.size() - 1;
    for (std::size_t slot = h & mask; index_[slot].second != 0; slot = (slot + 1) & mask)
        if (index_[slot].first == h && runtimes_[index_[slot].second - 1].runtimeID == runtimeID)
            return &runtimes_[index_[slot].second - 1];
    return nullptr;
}

const Runtime* SimFleet::byShoot(const std::string& shootName) const {
    for (const auto& r : runtimes_)
        if (r.shootName == shootName) return &r;
    return nullptr;
}

FleetSnapshot SimFleet::snapshot(Millis now) {
    ++snapshotCalls_;
    FleetSnapshot s;
    std::string error;
    if (inOutage(now, &error)) {
        ++failedSnapshots_;
        s.ok = false;
        s.error = std::move(error);
        return s;
    }
    s.runtimes = &runtimes_;
    return s;
}

std::optional<Runtime> SimFleet::find(const std::string& runtimeID, Millis) {
    const Runtime* r = get(runtimeID);
    if (!r) return std::nullopt;
    return *r;
}

void SimFleet::addOutage(Millis from, Millis to, std::string error) {
    if (error.empty()) error = "gardener: listing shoots failed: 503 ServiceUnavailable";
    outages_.push_back({from, to, std::move(error)});
}

bool SimFleet::inOutage(Millis now, std::string* error) const {
    for (const auto& o : outages_)
        if (now >= o.from && now < o.to) {
            if (error) *error = o.error;
            return true;
        }
    return false;
}

std::size_t SimFleet::remove(const std::vector<std::string>& runtimeIDs) {
    std::vector<std::uint8_t> gone(runtimes_.size(), 0);
    std::size_t n = 0;
    for (const auto& id : runtimeIDs)
        if (const Runtime* r = get(id); r && !gone[r - runtimes_.data()]) {
            gone[r - runtimes_.data()] = 1;
            ++n;
        }
    if (n == 0) return 0;
    std::size_t w = 0;
    for (std::size_t i = 0; i < runtimes_.size(); ++i)
        if (!gone[i]) {
            if (w != i) runtimes_[w] = std::move(runtimes_[i]);
            ++w;
        }
    runtimes_.resize(w);
    reindex();
    return n;
}

bool SimFleet::setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end) {
    const Runtime* r = get(runtimeID);
    if (!r) return false;
    Runtime& m = runtimes_[r - runtimes_.data()];
    m.windowBegin = begin;
    m.windowEnd = end;
    return true;
}

std::size_t SimFleet::approxBytes() const {
    auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
    std::size_t b = runtimes_.capacity() * sizeof(Runtime) + index_.capacity() * sizeof(index_[0]);
    for (const auto& r : runtimes_)
        b += heap(r.runtimeID) + heap(r.instanceID) + heap(r.globalAccountID) + heap(r.subAccountID) +
             heap(r.planID) + heap(r.planName) + heap(r.region) + heap(r.shootName) + heap(r.windowBegin) +
             heap(r.windowEnd) + heap(r.kubernetesVersion) + heap(r.machineImage) + heap(r.machineImageVersion);
    return b;
}

}  // namespace keb::sim
