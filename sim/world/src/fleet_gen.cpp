// Fleet generator and the simulated FleetSource.
#include "keb/world/fleet_gen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "keb/bits.h"
#include "keb/world/random.h"
#include "keb/uuid.h"

namespace keb::world {
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

// What the generator drew for one shoot, as indexes into its Tables: the two ways of building
// a fleet (a vector of Runtime, the compact SimFleet) turn one sequence of draws into strings
// or into pool ids, so they cannot disagree.
struct Draw {
    std::uint64_t runtimeHi, runtimeLo, instanceHi, instanceLo;  // formatUuid(hi, lo)
    std::uint32_t sub, account;  // subIds / accountIds
    std::uint32_t plan;          // plans
    std::uint32_t region;        // regions[plan]
    std::uint32_t shootCode;     // formatShootCode
    bool operatorWindow;
    std::uint32_t offset;        // operator window: offsets
    int beginHour, endHour;      // operator window: local hours; else Gardener's default at beginHour
    int halfHour;                // operator window: 0 or 30
    bool deprovisioning, suspended;
    std::uint32_t version;       // versions
    bool newImage;               // machineImageVersion "1443.3.0", else "1312.4.0"
};

// UUID texts end to end, 36 characters each: one block instead of a heap string per id (27,500
// of them at 100,000 shoots).
class UuidTexts {
public:
    static constexpr std::size_t kLen = 36;
    void reserve(std::size_t n) { bytes_.reserve(n * kLen); }
    void add(Rng& rng) {  // a random one: hi, then lo
        const std::uint64_t hi = rng.next();
        const std::string text = formatUuid(hi, rng.next());
        bytes_.insert(bytes_.end(), text.begin(), text.end());
    }
    std::size_t size() const { return bytes_.size() / kLen; }
    std::string_view operator[](std::size_t i) const { return std::string_view(bytes_.data() + i * kLen, kLen); }

private:
    std::vector<char> bytes_;
};

struct Tables {
    UuidTexts accountIds, subIds;
    Weighted plans, versions;
    std::vector<std::string> offsets;
    std::vector<const std::string*> planIds;               // per plan
    std::vector<const std::vector<std::string>*> regions;  // per plan
};

const char* const kMachineImage = "gardenlinux";
const char* imageVersion(bool newImage) { return newImage ? "1443.3.0" : "1312.4.0"; }

// An operator-set window bound: "HHMM00" and the offset.
void operatorWindowText(int hour, int minute, const std::string& offset, std::string& out) {
    out = twoDigits(hour);
    out += twoDigits(minute);
    out += "00";
    out += offset;
}

// The generator: onTables(const Tables&) once, then onShoot(const Tables&, const Draw&) for each
// generated shoot and onExtra(const Runtime&) for each explicit one, in fleet order.
template <class OnShoot, class OnExtra>
void generateInto(const FleetSpec& spec, std::uint64_t seed, OnShoot&& onShoot, OnExtra&& onExtra) {
    Rng rng(mix64(seed ^ 0x666c656574ull));  // "fleet"
    const int size = std::max(0, spec.size);
    const int accounts = spec.globalAccounts > 0 ? spec.globalAccounts : std::max(1, size / 40);
    const int subs = std::max(accounts, spec.subAccounts > 0 ? spec.subAccounts : std::max(1, size / 4));

    Tables t;
    t.plans = spec.plans;
    if (t.plans.empty())
        t.plans = {{"azure", 35}, {"aws", 30}, {"gcp", 15}, {"trial", 10}, {"azure_lite", 5}, {"free", 3},
                   {"sap-converged-cloud", 2}};
    t.versions = spec.kubernetesVersions;
    if (t.versions.empty()) t.versions = {{"1.28.10", 40}, {"1.29.5", 45}, {"1.30.2", 15}};
    t.offsets = spec.windowOffsets;
    if (t.offsets.empty()) t.offsets = {"+0530", "-0800", "+0100", "+0900", "-0500", "+1000", "+0000", "-0300"};
    const auto planCum = cumulativeOf(t.plans);
    const auto versionCum = cumulativeOf(t.versions);
    for (const auto& [plan, _] : t.plans) {
        t.planIds.push_back(&planIdFor(plan));
        const PlanInfo* info = planInfo(plan);
        t.regions.push_back(&regionsFor(info ? info->provider : "aws"));
    }

    // Accounts and subaccounts: each subaccount belongs to one (skew-chosen) account.
    t.accountIds.reserve(static_cast<std::size_t>(accounts));
    for (int i = 0; i < accounts; ++i) t.accountIds.add(rng);
    t.subIds.reserve(static_cast<std::size_t>(subs));
    std::vector<std::uint32_t> subOwner(static_cast<std::size_t>(subs));
    for (int i = 0; i < subs; ++i) {
        t.subIds.add(rng);
        subOwner[i] = i < accounts ? i : static_cast<std::uint32_t>(skewedIndex(rng, accounts, spec.accountSkew));
    }

    // Shoot names "c-xxxxxxx": a bijection of the index on 28 bits, unique by construction.
    const std::uint32_t nameMul = static_cast<std::uint32_t>(mix64(seed) | 1u) & 0x0fffffffu;
    const std::uint32_t nameAdd = static_cast<std::uint32_t>(mix64(seed + 1)) & 0x0fffffffu;
    Draw d{};
    for (int i = 0; i < size; ++i) {
        d.runtimeHi = rng.next();
        d.runtimeLo = rng.next();
        d.instanceHi = rng.next();
        d.instanceLo = rng.next();
        d.sub = static_cast<std::uint32_t>(skewedIndex(rng, t.subIds.size(), spec.accountSkew));
        d.account = subOwner[d.sub];
        d.plan = static_cast<std::uint32_t>(weightedIndex(rng, planCum));
        d.region = static_cast<std::uint32_t>(skewedIndex(rng, t.regions[d.plan]->size(), spec.regionSkew));
        d.shootCode = (static_cast<std::uint32_t>(i) * nameMul + nameAdd) & 0x0fffffffu;
        d.operatorWindow = rng.chance(spec.operatorWindowShare);
        if (d.operatorWindow) {
            // Operator-set: local begin hour, 1..4 h long, in some offset (may cross midnight).
            d.offset = static_cast<std::uint32_t>(rng.below(t.offsets.size()));
            d.beginHour = static_cast<int>(rng.below(24));
            const int len = 1 + static_cast<int>(rng.below(4));
            d.halfHour = rng.chance(0.25) ? 30 : 0;
            d.endHour = (d.beginHour + len) % 24;
        } else {
            d.beginHour = static_cast<int>(rng.below(24));
        }
        d.deprovisioning = rng.chance(spec.deletingShare);
        d.suspended = rng.chance(spec.suspendedShare);
        d.version = static_cast<std::uint32_t>(weightedIndex(rng, versionCum));
        d.newImage = rng.chance(0.7);
        onShoot(static_cast<const Tables&>(t), static_cast<const Draw&>(d));
    }
    for (const auto& x : spec.extra) onExtra(x);
}

std::size_t generatedSize(const FleetSpec& spec) {
    return static_cast<std::size_t>(std::max(0, spec.size)) + spec.extra.size();
}

}  // namespace

std::vector<Runtime> generateFleet(const FleetSpec& spec, std::uint64_t seed) {
    std::vector<Runtime> fleet;
    fleet.reserve(generatedSize(spec));
    generateInto(
        spec, seed,
        [&](const Tables& t, const Draw& d) {
            Runtime& r = fleet.emplace_back();
            r.runtimeID = formatUuid(d.runtimeHi, d.runtimeLo);
            r.instanceID = formatUuid(d.instanceHi, d.instanceLo);
            r.subAccountID.assign(t.subIds[d.sub]);
            r.globalAccountID.assign(t.accountIds[d.account]);
            r.planName = t.plans[d.plan].first;
            r.planID = *t.planIds[d.plan];
            r.region = (*t.regions[d.plan])[d.region];
            formatShootCode(d.shootCode, r.shootName);
            if (d.operatorWindow) {
                operatorWindowText(d.beginHour, d.halfHour, t.offsets[d.offset], r.windowBegin);
                operatorWindowText(d.endHour, d.halfHour, t.offsets[d.offset], r.windowEnd);
            } else {
                auto [b, e] = gardenerDefaultWindow(d.beginHour);
                r.windowBegin = std::move(b);
                r.windowEnd = std::move(e);
            }
            r.deprovisioning = d.deprovisioning;
            r.suspended = d.suspended;
            r.kubernetesVersion = t.versions[d.version].first;
            r.machineImage = kMachineImage;
            r.machineImageVersion = imageVersion(d.newImage);
        },
        [&](const Runtime& x) { fleet.push_back(x); });
    return fleet;
}

// ---------------------------------------------------------------- SimFleet

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case is not the canonical form: such ids go to the pool
}

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
    char text[10] = {'c', '-'};
    writeHex8(text + 1, code & 0x0fffffffu);  // 8 digits, the first one '0'; then "c-" over it
    text[1] = '-';
    if (out.size() == 9)
        std::memcpy(out.data(), text, 9);
    else
        out.assign(text, 9);
}

// s = v; when the length is the same (ids, plan ids, versions: nearly always in a reused
// Runtime) one memcpy instead of std::string's general replace.
inline void setText(std::string& s, std::string_view v) {
    if (s.size() != v.size()) {
        s.assign(v.data(), v.size());
        return;
    }
    char* d = s.data();
    const char* p = v.data();
    const std::size_t n = v.size();
    if (n >= 8 && n <= 16) {  // plan names, regions, windows, versions: two overlapping words, no call
        std::uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + n - 8, 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
    } else {
        std::memcpy(d, p, n);
    }
}

std::uint64_t poolHash(std::string_view s) { return mix64(hashWords(s)); }

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
    bytes_.insert(bytes_.end(), s.begin(), s.end());  // s is not in bytes_: the probe would have found it
    offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
    slots_[i] = id + 1;
    return id;
}

void SimFleet::Pool::reserve(std::size_t texts, std::size_t bytes) {
    bytes_.reserve(bytes);
    offsets_.reserve(texts + 1);
    std::size_t cap = std::max<std::size_t>(64, slots_.size());
    while (texts * 2 > cap) cap *= 2;
    if (cap != slots_.size()) rehash(cap);
}

void SimFleet::Pool::grow() { rehash(slots_.empty() ? 64 : slots_.size() * 2); }

void SimFleet::Pool::rehash(std::size_t cap) {
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
    instanceIDs_.reserve(runtimes.size());
    for (const auto& r : runtimes) add(r);
    reindex();
}

// Straight from the generator's draws to records: no Runtime, no UUID text, and each table entry
// (account, plan, region, window, version...) interned once, on first use.
SimFleet::SimFleet(const FleetSpec& spec, std::uint64_t seed) {
    recs_.reserve(generatedSize(spec));
    instanceIDs_.reserve(generatedSize(spec));
    std::vector<std::uint32_t> accounts, subs, planIDs, planNames, regions, windows, defaultWindows, versions;
    std::uint32_t image = kNoId, imageVersions[2] = {kNoId, kNoId};
    auto cached = [this](std::vector<std::uint32_t>& cache, std::size_t i, auto&& text) {
        if (i >= cache.size()) cache.resize(i + 1, kNoId);
        if (cache[i] == kNoId) cache[i] = pool_.intern(text());
        return cache[i];
    };
    generateInto(
        spec, seed,
        [&](const Tables& t, const Draw& d) {
            if (recs_.empty()) {  // the pool will hold (nearly) every account and subaccount id
                const std::size_t ids = t.accountIds.size() + t.subIds.size();
                pool_.reserve(ids + 256, ids * UuidTexts::kLen + 4096);
            }
            ++generation_;
            Rec& rec = recs_.emplace_back();
            formatUuidBytes(d.runtimeHi, d.runtimeLo, rec.runtimeID);
            formatUuidBytes(d.instanceHi, d.instanceLo, instanceIDs_.emplace_back().bytes);
            rec.shoot = d.shootCode;  // < 2^28: formatShootCode's form
            rec.flags = 0;
            rec.account = cached(accounts, d.account, [&] { return t.accountIds[d.account]; });
            rec.subAccount = cached(subs, d.sub, [&] { return t.subIds[d.sub]; });
            rec.planID = cached(planIDs, d.plan, [&] { return std::string_view(*t.planIds[d.plan]); });
            rec.planName = cached(planNames, d.plan, [&] { return std::string_view(t.plans[d.plan].first); });
            rec.region = cached(regions, std::size_t{d.plan} * 64 + d.region,
                                [&] { return std::string_view((*t.regions[d.plan])[d.region]); });
            if (d.operatorWindow) {
                auto bound = [&](int hour) {
                    return cached(windows, (std::size_t{d.offset} * 24 + static_cast<std::size_t>(hour)) * 2 + (d.halfHour != 0),
                                  [&] {
                                      std::string text;
                                      operatorWindowText(hour, d.halfHour, t.offsets[d.offset], text);
                                      return text;
                                  });
                };
                rec.windowBegin = bound(d.beginHour);
                rec.windowEnd = bound(d.endHour);
            } else {
                auto bound = [&](int hour) {
                    return cached(defaultWindows, static_cast<std::size_t>(hour),
                                  [&] { return gardenerDefaultWindow(hour).first; });
                };
                rec.windowBegin = bound(d.beginHour);
                rec.windowEnd = bound((d.beginHour + 1) % 24);
            }
            rec.kubernetesVersion = cached(versions, d.version, [&] { return std::string_view(t.versions[d.version].first); });
            if (image == kNoId) image = pool_.intern(kMachineImage);
            rec.machineImage = image;
            std::uint32_t& iv = imageVersions[d.newImage ? 1 : 0];
            if (iv == kNoId) iv = pool_.intern(imageVersion(d.newImage));
            rec.machineImageVersion = iv;
            if (d.deprovisioning) rec.flags |= kDeprovisioning;
            if (d.suspended) rec.flags |= kSuspended;
        },
        [&](const Runtime& x) { add(x); });
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
    PackedId instance{};
    id(r.instanceID, instance.bytes, kInstanceIDPooled);
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
    instanceIDs_.push_back(instance);
}

void SimFleet::build(std::size_t i, Runtime& out, unsigned fields) const {
    static_assert(sizeof(Rec) == 64, "a fleet record is one cache line");
    const Rec& r = recs_[i];
    auto id = [&](const std::uint8_t* in, bool pooled, std::string& s) {
        if (!pooled) return unpackUuid(in, s);
        std::uint32_t p;
        std::memcpy(&p, in, sizeof p);
        setText(s, pool_.view(p));
    };
    if (fields & kRuntimeIDField) id(r.runtimeID, r.flags & kRuntimeIDPooled, out.runtimeID);
    if (fields & kInstanceIDField) id(instanceIDs_[i].bytes, r.flags & kInstanceIDPooled, out.instanceID);
    if (fields & kShootField) {
        if (r.flags & kShootPooled)
            setText(out.shootName, pool_.view(r.shoot));
        else
            formatShootCode(r.shoot, out.shootName);
    }
    if (fields & kAccountFields) {
        setText(out.globalAccountID, pool_.view(r.account));
        setText(out.subAccountID, pool_.view(r.subAccount));
    }
    if (fields & kPlanFields) {
        setText(out.planID, pool_.view(r.planID));
        setText(out.planName, pool_.view(r.planName));
    }
    if (fields & kRegionField) setText(out.region, pool_.view(r.region));
    if (fields & kWindowFields) {
        setText(out.windowBegin, pool_.view(r.windowBegin));
        setText(out.windowEnd, pool_.view(r.windowEnd));
    }
    if (fields & kVersionFields) {
        setText(out.kubernetesVersion, pool_.view(r.kubernetesVersion));
        setText(out.machineImage, pool_.view(r.machineImage));
        setText(out.machineImageVersion, pool_.view(r.machineImageVersion));
    }
    out.deprovisioning = r.flags & kDeprovisioning;
    out.suspended = r.flags & kSuspended;
}

const Runtime& SimFleet::at(std::size_t i) const { return SimFleet::fieldsAt(i, kAllFields); }

const Runtime& SimFleet::fieldsAt(std::size_t i, unsigned fields) const {
    build(i, atBuf_, fields);
    return atBuf_;
}

RuntimeList::Uuids SimFleet::uuidsAt(std::size_t i) const {
    const Rec& r = recs_[i];
    Uuids u;
    if (!(r.flags & kRuntimeIDPooled)) u.runtimeID = r.runtimeID;
    if (!(r.flags & kInstanceIDPooled)) u.instanceID = instanceIDs_[i].bytes;
    return u;
}

Runtime SimFleet::runtime(std::size_t i) const {
    Runtime r;
    build(i, r);
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
    for (std::size_t i = 0; i < recs_.size(); ++i) build(i, v[i]);
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

bool SimFleet::packCached(std::string_view text, std::uint8_t out[16]) const {
    if (text.size() != 36) return false;  // never a UUID
    std::uint64_t w[4];
    std::uint32_t tail;
    std::memcpy(w, text.data(), sizeof w);
    std::memcpy(&tail, text.data() + sizeof w, sizeof tail);
    // The text's leading hex digits are random: they pick the entry.
    const std::size_t at = static_cast<std::size_t>((w[0] * 0x9E3779B97F4A7C15ULL) >> 32) % kPackCache;
    if (packCache_.empty()) {  // every entry starts as the nil UUID: a true entry, nothing to mark empty
        PackCacheEntry nil{};
        std::memcpy(nil.text, "00000000-0000-0000-0000-000000000000", 36);
        packCache_.assign(kPackCache, nil);
    }
    PackCacheEntry& e = packCache_[at];
    std::uint64_t c[4];
    std::uint32_t ctail;
    std::memcpy(c, e.text, sizeof c);
    std::memcpy(&ctail, e.text + sizeof c, sizeof ctail);
    if (((c[0] ^ w[0]) | (c[1] ^ w[1]) | (c[2] ^ w[2]) | (c[3] ^ w[3]) | (ctail ^ tail)) == 0) {
        std::memcpy(out, e.bytes, 16);
        return true;
    }
    if (!packUuid(text, out)) return false;
    std::memcpy(e.text, text.data(), 36);
    std::memcpy(e.bytes, out, 16);
    return true;
}

bool SimFleet::keyOf(std::string_view runtimeID, IdKey* key) const {
    if (packCached(runtimeID, key->bytes)) {
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
    build(*i, getBuf_);
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
    for (std::size_t i = 0; i < recs_.size(); ++i)
        if (recs_[i].shoot == code && (recs_[i].flags & kShootPooled) == pooled) {
            build(i, shootBuf_);
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
    build(*i, out);
    return true;
}

void SimFleet::windowFieldsOf(const Rec& r, Runtime& out) const {
    setText(out.globalAccountID, pool_.view(r.account));
    setText(out.planName, pool_.view(r.planName));
    setText(out.region, pool_.view(r.region));
    setText(out.windowBegin, pool_.view(r.windowBegin));
    setText(out.windowEnd, pool_.view(r.windowEnd));
}

bool SimFleet::windowFieldsInto(const std::string& runtimeID, Runtime& out) const {
    const auto i = indexOf(runtimeID);
    if (!i) return false;
    windowFieldsOf(recs_[*i], out);
    return true;
}

bool SimFleet::findWindowInto(const std::string& runtimeID, Millis, Runtime& out) {
    const auto i = indexOf(runtimeID);
    if (!i) return false;
    const Rec& r = recs_[*i];
    windowFieldsOf(r, out);
    out.deprovisioning = r.flags & kDeprovisioning;
    out.suspended = r.flags & kSuspended;
    return true;
}

const std::uint32_t* SimFleet::firstIndexSlot(std::string_view runtimeID) const {
    std::uint8_t bytes[16];
    if (index_.empty() || !packCached(runtimeID, bytes)) return nullptr;  // ids of other shapes: no hint
    return &index_[hashOf(bytes, false) & (index_.size() - 1)];
}

void SimFleet::prefetchIndex(std::string_view runtimeID) const {
#if defined(__GNUC__) || defined(__clang__)
    if (const std::uint32_t* slot = firstIndexSlot(runtimeID)) keb::prefetch(slot);
#else
    (void)runtimeID;
#endif
}

void SimFleet::prefetch(std::string_view runtimeID) const {
#if defined(__GNUC__) || defined(__clang__)
    // The slot's record too, when the slot is already in (out-of-order execution goes on past
    // a missing load, so this rarely stalls): usually the first slot probed is the runtime's.
    const std::uint32_t* slot = firstIndexSlot(runtimeID);
    if (slot && *slot != 0) keb::prefetch(&recs_[*slot - 1]);
#else
    (void)runtimeID;
#endif
}

bool SimFleet::windowKeyOf(const std::string& runtimeID, WindowKey* key) const {
    const auto i = indexOf(runtimeID);
    if (!i) return false;
    const Rec& r = recs_[*i];
    *key = WindowKey{r.account, r.planName, r.region, r.windowBegin, r.windowEnd};
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
        if (!gone[i]) {
            recs_[w] = recs_[i];
            instanceIDs_[w++] = instanceIDs_[i];
        }
    recs_.resize(w);
    instanceIDs_.resize(w);
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
    std::size_t b = recs_.capacity() * sizeof(Rec) + instanceIDs_.capacity() * sizeof(PackedId) + index_.capacity() * sizeof(std::uint32_t) + pool_.approxBytes() +
                    buf(atBuf_) + buf(getBuf_) + buf(shootBuf_) + outages_.capacity() * sizeof(Outage);
    for (const auto& o : outages_) b += heap(o.error);
    return b;
}

}  // namespace keb::world
