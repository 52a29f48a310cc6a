// Fleet generator and the simulated FleetSource.
#include "keb/sim/fleet_gen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "keb/sim/random.h"
#include "keb/uuid.h"

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
    if (v < 0 || v > 99) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%02d", v);
        return buf;
    }
    const char d[2] = {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
    return std::string(d, 2);
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
    auto at = [](int h) {
        std::string w = "000000+0000";
        w[0] = static_cast<char>('0' + h / 10);
        w[1] = static_cast<char>('0' + h % 10);
        return w;
    };
    return {at(hour), at((hour + 1) % 24)};
}

namespace {

// "c-" and the code as 7 lower-case hex digits (defined with its parser below).
void formatShootCode(std::uint32_t code, std::string& out);

// The generator: calls sink(const Runtime&) for each shoot, in fleet order. One Runtime
// is reused (every field is assigned for every shoot), so a large fleet never exists as
// a vector of Runtime unless the sink builds one.
template <class Sink>
void generateInto(const FleetSpec& spec, std::uint64_t seed, Sink&& sink) {
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

    // Shoot names "c-xxxxxxx": a bijection of the index on 28 bits, unique by construction.
    const std::uint32_t nameMul = static_cast<std::uint32_t>(mix64(seed) | 1u) & 0x0fffffffu;
    const std::uint32_t nameAdd = static_cast<std::uint32_t>(mix64(seed + 1)) & 0x0fffffffu;
    Runtime r;
    for (int i = 0; i < size; ++i) {
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
        formatShootCode((static_cast<std::uint32_t>(i) * nameMul + nameAdd) & 0x0fffffffu, r.shootName);
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
        sink(static_cast<const Runtime&>(r));
    }
    for (const auto& x : spec.extra) sink(x);
}

std::size_t generatedSize(const FleetSpec& spec) {
    return static_cast<std::size_t>(std::max(0, spec.size)) + spec.extra.size();
}

}  // namespace

std::vector<Runtime> generateFleet(const FleetSpec& spec, std::uint64_t seed) {
    std::vector<Runtime> fleet;
    fleet.reserve(generatedSize(spec));
    generateInto(spec, seed, [&](const Runtime& r) { fleet.push_back(r); });
    return fleet;
}

// ---------------------------------------------------------------- SimFleet

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case is not the canonical form: such ids go to the pool
}
constexpr char kHex[] = "0123456789abcdef";

// Shoot names as the generator makes them: "c-" and 7 lower-case hex digits.
bool parseShootCode(std::string_view s, std::uint32_t* code) {
    if (s.size() != 9 || s[0] != 'c' || s[1] != '-') return false;
    std::uint32_t v = 0;
    for (std::size_t i = 2; i < 9; ++i) {
        const int d = hexValue(s[i]);
        if (d < 0) return false;
        v = v << 4 | static_cast<std::uint32_t>(d);
    }
    *code = v;
    return true;
}

void formatShootCode(std::uint32_t code, std::string& out) {
    out.resize(9);
    out[0] = 'c';
    out[1] = '-';
    for (int i = 8; i >= 2; --i, code >>= 4) out[static_cast<std::size_t>(i)] = kHex[code & 15];
}

std::uint64_t poolHash(std::string_view s) { return mix64(fnv1a(s)); }

}  // namespace

std::uint32_t SimFleet::Pool::find(std::string_view s) const {
    if (slots_.empty()) return kNoId;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = poolHash(s) & mask; slots_[i] != 0; i = (i + 1) & mask)
        if (view(slots_[i] - 1) == s) return slots_[i] - 1;
    return kNoId;
}

std::uint32_t SimFleet::Pool::intern(std::string_view s) {
    if ((size() + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = poolHash(s) & mask;
    for (; slots_[i] != 0; i = (i + 1) & mask)
        if (view(slots_[i] - 1) == s) return slots_[i] - 1;
    const auto id = static_cast<std::uint32_t>(size());
    bytes_.append(s);
    offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
    slots_[i] = id + 1;
    return id;
}

void SimFleet::Pool::grow() {
    std::size_t cap = slots_.empty() ? 64 : slots_.size() * 2;
    slots_.assign(cap, 0);
    for (std::uint32_t id = 0; id < size(); ++id) {
        std::size_t i = poolHash(view(id)) & (cap - 1);
        while (slots_[i] != 0) i = (i + 1) & (cap - 1);
        slots_[i] = id + 1;
    }
}

std::size_t SimFleet::Pool::approxBytes() const {
    return bytes_.capacity() + offsets_.capacity() * sizeof(std::uint32_t) + slots_.capacity() * sizeof(std::uint32_t);
}

SimFleet::SimFleet(const std::vector<Runtime>& runtimes) {
    recs_.reserve(runtimes.size());
    for (const auto& r : runtimes) add(r);
    reindex();
}

SimFleet::SimFleet(const FleetSpec& spec, std::uint64_t seed) {
    recs_.reserve(generatedSize(spec));
    generateInto(spec, seed, [this](const Runtime& r) { add(r); });
    reindex();
}

void SimFleet::add(const Runtime& r) {
    ++generation_;
    Rec rec{};
    auto id = [&](const std::string& s, std::uint8_t* out, std::uint8_t pooledFlag) {
        if (packUuid(s, out)) return;
        const std::uint32_t p = pool_.intern(s);
        std::memcpy(out, &p, sizeof p);
        rec.flags |= pooledFlag;
    };
    id(r.runtimeID, rec.runtimeID, kRuntimeIDPooled);
    id(r.instanceID, rec.instanceID, kInstanceIDPooled);
    if (!parseShootCode(r.shootName, &rec.shoot)) {
        rec.shoot = pool_.intern(r.shootName);
        rec.flags |= kShootPooled;
    }
    rec.account = pool_.intern(r.globalAccountID);
    rec.subAccount = pool_.intern(r.subAccountID);
    rec.planID = pool_.intern(r.planID);
    rec.planName = pool_.intern(r.planName);
    rec.region = pool_.intern(r.region);
    rec.windowBegin = pool_.intern(r.windowBegin);
    rec.windowEnd = pool_.intern(r.windowEnd);
    rec.kubernetesVersion = pool_.intern(r.kubernetesVersion);
    rec.machineImage = pool_.intern(r.machineImage);
    rec.machineImageVersion = pool_.intern(r.machineImageVersion);
    if (r.deprovisioning) rec.flags |= kDeprovisioning;
    if (r.suspended) rec.flags |= kSuspended;
    recs_.push_back(rec);
}

void SimFleet::build(const Rec& r, Runtime& out) const {
    auto id = [&](const std::uint8_t* in, bool pooled, std::string& s) {
        if (!pooled) return unpackUuid(in, s);
        std::uint32_t p;
        std::memcpy(&p, in, sizeof p);
        s.assign(pool_.view(p));
    };
    id(r.runtimeID, r.flags & kRuntimeIDPooled, out.runtimeID);
    id(r.instanceID, r.flags & kInstanceIDPooled, out.instanceID);
    if (r.flags & kShootPooled)
        out.shootName.assign(pool_.view(r.shoot));
    else
        formatShootCode(r.shoot, out.shootName);
    out.globalAccountID.assign(pool_.view(r.account));
    out.subAccountID.assign(pool_.view(r.subAccount));
    out.planID.assign(pool_.view(r.planID));
    out.planName.assign(pool_.view(r.planName));
    out.region.assign(pool_.view(r.region));
    out.windowBegin.assign(pool_.view(r.windowBegin));
    out.windowEnd.assign(pool_.view(r.windowEnd));
    out.kubernetesVersion.assign(pool_.view(r.kubernetesVersion));
    out.machineImage.assign(pool_.view(r.machineImage));
    out.machineImageVersion.assign(pool_.view(r.machineImageVersion));
    out.deprovisioning = r.flags & kDeprovisioning;
    out.suspended = r.flags & kSuspended;
}

const Runtime& SimFleet::at(std::size_t i) const {
    build(recs_[i], atBuf_);
    return atBuf_;
}

Runtime SimFleet::runtime(std::size_t i) const {
    Runtime r;
    build(recs_[i], r);
    return r;
}

std::string SimFleet::runtimeID(std::size_t i) const {
    const Rec& r = recs_[i];
    if (!(r.flags & kRuntimeIDPooled)) {
        std::string s;
        unpackUuid(r.runtimeID, s);
        return s;
    }
    std::uint32_t p;
    std::memcpy(&p, r.runtimeID, sizeof p);
    return std::string(pool_.view(p));
}

std::string SimFleet::shootName(std::size_t i) const {
    const Rec& r = recs_[i];
    if (r.flags & kShootPooled) return std::string(pool_.view(r.shoot));
    std::string s;
    formatShootCode(r.shoot, s);
    return s;
}

std::vector<Runtime> SimFleet::toVector() const {
    std::vector<Runtime> v(recs_.size());
    for (std::size_t i = 0; i < recs_.size(); ++i) build(recs_[i], v[i]);
    return v;
}

std::uint64_t SimFleet::hashOf(const std::uint8_t* bytes, bool pooled) {
    if (pooled) {
        std::uint32_t p;
        std::memcpy(&p, bytes, sizeof p);
        return mix64(0x706f6f6cull ^ (static_cast<std::uint64_t>(p) << 8));
    }
    std::uint64_t a, b;
    std::memcpy(&a, bytes, 8);
    std::memcpy(&b, bytes + 8, 8);
    return mix64(a ^ mix64(b));
}

bool SimFleet::keyOf(std::string_view runtimeID, IdKey* key) const {
    if (packUuid(runtimeID, key->bytes)) {
        key->pooled = false;
        return true;
    }
    const std::uint32_t p = pool_.find(runtimeID);
    if (p == kNoId) return false;
    std::memset(key->bytes, 0, sizeof key->bytes);
    std::memcpy(key->bytes, &p, sizeof p);
    key->pooled = true;
    return true;
}

bool SimFleet::sameKey(const Rec& r, const IdKey& k) {
    if (static_cast<bool>(r.flags & kRuntimeIDPooled) != k.pooled) return false;
    return std::memcmp(r.runtimeID, k.bytes, k.pooled ? 4 : 16) == 0;
}

void SimFleet::reindex() {
    std::size_t cap = 16;
    while (cap < 2 * recs_.size()) cap *= 2;
    index_.assign(cap, 0);
    for (std::size_t i = 0; i < recs_.size(); ++i) {
        const Rec& r = recs_[i];
        std::size_t slot = hashOf(r.runtimeID, r.flags & kRuntimeIDPooled) & (cap - 1);
        while (index_[slot] != 0) slot = (slot + 1) & (cap - 1);
        index_[slot] = static_cast<std::uint32_t>(i + 1);
    }
}

std::optional<std::size_t> SimFleet::indexOf(const std::string& runtimeID) const {
    IdKey key;
    if (!keyOf(runtimeID, &key)) return std::nullopt;
    const std::size_t mask = index_.size() - 1;
    for (std::size_t slot = hashOf(key.bytes, key.pooled) & mask; index_[slot] != 0; slot = (slot + 1) & mask)
        if (sameKey(recs_[index_[slot] - 1], key)) return index_[slot] - 1;
    return std::nullopt;
}

const Runtime* SimFleet::get(const std::string& runtimeID) const {
    const auto i = indexOf(runtimeID);
    if (!i) return nullptr;
    build(recs_[*i], getBuf_);
    return &getBuf_;
}

const Runtime* SimFleet::byShoot(const std::string& shootName) const {
    std::uint32_t code;
    std::uint8_t pooled = 0;
    if (!parseShootCode(shootName, &code)) {
        code = pool_.find(shootName);
        if (code == kNoId) return nullptr;
        pooled = kShootPooled;
    }
    for (const Rec& r : recs_)
        if (r.shoot == code && (r.flags & kShootPooled) == pooled) {
            build(r, shootBuf_);
            return &shootBuf_;
        }
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
    s.list = this;
    return s;
}

std::optional<Runtime> SimFleet::find(const std::string& runtimeID, Millis) {
    const auto i = indexOf(runtimeID);
    if (!i) return std::nullopt;
    return runtime(*i);
}

bool SimFleet::findInto(const std::string& runtimeID, Millis, Runtime& out) {
    const auto i = indexOf(runtimeID);
    if (!i) return false;
    build(recs_[*i], out);
    return true;
}

bool SimFleet::windowFieldsInto(const std::string& runtimeID, Runtime& out) const {
    const auto i = indexOf(runtimeID);
    if (!i) return false;
    const Rec& r = recs_[*i];
    out.globalAccountID.assign(pool_.view(r.account));
    out.planName.assign(pool_.view(r.planName));
    out.region.assign(pool_.view(r.region));
    out.windowBegin.assign(pool_.view(r.windowBegin));
    out.windowEnd.assign(pool_.view(r.windowEnd));
    return true;
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
    std::vector<std::uint8_t> gone(recs_.size(), 0);
    std::size_t n = 0;
    for (const auto& id : runtimeIDs)
        if (const auto i = indexOf(id); i && !gone[*i]) {
            gone[*i] = 1;
            ++n;
        }
    if (n == 0) return 0;
    std::size_t w = 0;
    for (std::size_t i = 0; i < recs_.size(); ++i)
        if (!gone[i]) recs_[w++] = recs_[i];
    recs_.resize(w);
    reindex();
    ++generation_;
    return n;
}

bool SimFleet::setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end) {
    const auto i = indexOf(runtimeID);
    if (!i) return false;
    recs_[*i].windowBegin = pool_.intern(begin);
    recs_[*i].windowEnd = pool_.intern(end);
    ++generation_;
    return true;
}

std::size_t SimFleet::approxBytes() const {
    auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
    auto buf = [&](const Runtime& r) {
        return sizeof(Runtime) + heap(r.runtimeID) + heap(r.instanceID) + heap(r.globalAccountID) +
               heap(r.subAccountID) + heap(r.planID) + heap(r.planName) + heap(r.region) + heap(r.shootName) +
               heap(r.windowBegin) + heap(r.windowEnd) + heap(r.kubernetesVersion) + heap(r.machineImage) +
               heap(r.machineImageVersion);
    };
    std::size_t b = recs_.capacity() * sizeof(Rec) + index_.capacity() * sizeof(std::uint32_t) + pool_.approxBytes() +
                    buf(atBuf_) + buf(getBuf_) + buf(shootBuf_) + outages_.capacity() * sizeof(Outage);
    for (const auto& o : outages_) b += heap(o.error);
    return b;
}

}  // namespace keb::sim
