// Target resolution (SPEC 3).
//
// One pass over the fleet listing: each runtime is read once (a RuntimeList may build it
// into a buffer that the next read overwrites, so nothing is borrowed from it), and gets
// the first include rule that matches it. Regex results are memoised per distinct field
// value: a fleet of 100,000 runtimes has only a few thousand global accounts and a dozen
// regions, so each regex runs once per distinct value, and the per-runtime work is an
// exact-field comparison plus a hash lookup per regex field. The distinct values are
// interned as owned copies. The result (rule order, then fleet order) comes from a
// counting sort of the matched positions by rule; duplicate runtime ids are found
// through 64-bit hashes, confirmed by comparing the ids themselves.
#include "keb/targets.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "keb/big_alloc.h"
#include "keb/bits.h"
#include "keb/regex.h"

namespace keb {
namespace {


constexpr std::uint32_t kNone = 0xffffffffu;

// Open-addressing string interner: value -> dense id (0, 1, 2, ...). Owns its values
// (a materialising RuntimeList gives no string that outlives the next read).
class Interner {
public:
    std::vector<std::string> values;

    // Returns the id of v and whether it was new.
    std::pair<std::uint32_t, bool> intern(std::string_view v) {
        if ((values.size() + 1) * 2 > slots_.size()) grow();
        const std::uint64_t h = hashBytes(v);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.id == kNone) {
                s = Slot{h, static_cast<std::uint32_t>(values.size())};
                values.emplace_back(v);
                return {s.id, true};
            }
            if (s.hash == h && values[s.id] == v) return {s.id, false};
        }
    }

    // The id of v, or kNone.
    std::uint32_t find(std::string_view v) const {
        if (values.empty()) return kNone;
        const std::uint64_t h = hashBytes(v);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.id == kNone) return kNone;
            if (s.hash == h && values[s.id] == v) return s.id;
        }
    }

private:
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t id = kNone;
    };
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const Slot& s : old) {
            if (s.id == kNone) continue;
            std::size_t i = s.hash & mask;
            while (slots_[i].id != kNone) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }
    std::vector<Slot> slots_;
};

// The three regex fields of a runtime.
enum Field : int { kAccount = 0, kSubAccount = 1, kRegion = 2, kFields = 3 };
const std::string& fieldOf(const Runtime& r, int f) {
    return f == kAccount ? r.globalAccountID : f == kSubAccount ? r.subAccountID : r.region;
}

// The runtime being looked at, with the ids of its regex field values (interned on demand).
struct Current {
    const Runtime* r = nullptr;
    std::uint32_t ids[kFields] = {kNone, kNone, kNone};
    Interner* fields = nullptr;  // kFields interners

    void reset(const Runtime& rt) {
        r = &rt;
        ids[0] = ids[1] = ids[2] = kNone;
    }
    std::uint32_t id(int f) {
        if (ids[f] == kNone) ids[f] = fields[f].intern(fieldOf(*r, f)).first;
        return ids[f];
    }
};

// One regex field of one target: compiled once, results cached per distinct value.
struct RegexField {
    int field = -1;                // -1: not set
    std::optional<Regex> re;       // nullopt when set but invalid: matches nothing
    std::vector<std::int8_t> memo;  // by value id: -1 unknown, 0 no, 1 yes

    void init(const std::optional<std::string>& pattern, int f) {
        if (!pattern) return;
        field = f;
        re = Regex::compile(*pattern);
    }
    bool matches(Current& c, const Interner* fields) {
        if (field < 0) return true;
        if (!re) return false;
        const std::uint32_t v = c.id(field);
        if (v >= memo.size()) memo.resize(fields[field].values.size(), -1);
        std::int8_t& m = memo[v];
        if (m < 0) m = re->search(fields[field].values[v]) ? 1 : 0;
        return m == 1;
    }
};

struct CompiledTarget {
    const Target* target = nullptr;
    RegexField regex[kFields];

    bool matches(Current& c, const Interner* fields) {
        const Target& t = *target;
        const Runtime& r = *c.r;
        if (t.all) return true;
        if (t.runtimeID) return r.runtimeID == *t.runtimeID;
        if (t.planName && r.planName != *t.planName) return false;
        if (t.shoot && r.shootName != *t.shoot) return false;
        if (t.instanceID && r.instanceID != *t.instanceID) return false;
        return regex[kAccount].matches(c, fields) && regex[kSubAccount].matches(c, fields) &&
               regex[kRegion].matches(c, fields);
    }
};

bool usesRegex(const Target& t) {
    return !t.all && !t.runtimeID && (t.globalAccount || t.subAccount || t.region);
}

bool isRuntimeIDRule(const Target& t) { return !t.all && t.runtimeID.has_value(); }

// Above this many runtimeID rules, they are matched through a hash lookup instead of
// one comparison per rule and runtime: operators list thousands of runtime ids.
constexpr std::size_t kIdLookupThreshold = 8;

std::vector<CompiledTarget> compile(const std::vector<Target>& list) {
    std::vector<CompiledTarget> out(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        out[i].target = &list[i];
        if (!usesRegex(list[i])) continue;
        out[i].regex[kAccount].init(list[i].globalAccount, kAccount);
        out[i].regex[kSubAccount].init(list[i].subAccount, kSubAccount);
        out[i].regex[kRegion].init(list[i].region, kRegion);
    }
    return out;
}

// A runtime matched by some include rule.
struct Candidate {
    std::uint64_t idHash;  // hash of its runtimeID (duplicates)
    std::uint32_t index;   // position in the list
    std::uint32_t rule;    // first include rule matching it
    bool excluded;
    bool inactive;  // deprovisioning or suspended
};

}  // namespace

bool targetMatches(const Target& t, const Runtime& r) {
    if (t.all) return true;
    if (t.runtimeID) return r.runtimeID == *t.runtimeID;
    if (t.planName && r.planName != *t.planName) return false;
    if (t.shoot && r.shootName != *t.shoot) return false;
    if (t.instanceID && r.instanceID != *t.instanceID) return false;
    auto regexOk = [](const std::optional<std::string>& pattern, const std::string& value) {
        if (!pattern) return true;
        auto re = Regex::compile(*pattern);
        return re && re->search(value);
    };
    return regexOk(t.globalAccount, r.globalAccountID) && regexOk(t.subAccount, r.subAccountID) &&
           regexOk(t.region, r.region);
}

std::vector<std::uint32_t> resolveTargetIndices(const Targets& targets, const RuntimeList& fleet,
                                                std::vector<std::uint32_t>* skipped) {
    std::vector<std::uint32_t> result;
    if (skipped) skipped->clear();
    const std::size_t n = fleet.size();
    if (targets.include.empty() || n == 0) return result;

    Interner fields[kFields];
    std::vector<CompiledTarget> includes = compile(targets.include);
    std::vector<CompiledTarget> excludes = compile(targets.exclude);

    // Many runtimeID rules: a hash lookup from the id to its rules (include) or a set (exclude).
    Interner excludedIDs;
    std::vector<CompiledTarget*> scannedExcludes;
    {
        std::size_t idRules = 0;
        for (const auto& t : targets.exclude) idRules += isRuntimeIDRule(t) ? 1 : 0;
        const bool lookup = idRules > kIdLookupThreshold;
        for (auto& ex : excludes) {
            if (lookup && isRuntimeIDRule(*ex.target))
                excludedIDs.intern(*ex.target->runtimeID);
            else
                scannedExcludes.push_back(&ex);
        }
    }
    Interner includedIDs;
    std::vector<std::uint32_t> firstRuleOfID;  // by includedIDs id: the lowest rule naming it
    std::vector<std::uint32_t> scannedIncludes;
    {
        std::size_t idRules = 0;
        for (const auto& t : targets.include) idRules += isRuntimeIDRule(t) ? 1 : 0;
        const bool lookup = idRules > kIdLookupThreshold;
        for (std::size_t k = 0; k < includes.size(); ++k) {
            if (lookup && isRuntimeIDRule(targets.include[k])) {
                if (includedIDs.intern(*targets.include[k].runtimeID).second)
                    firstRuleOfID.push_back(static_cast<std::uint32_t>(k));
            } else {
                scannedIncludes.push_back(static_cast<std::uint32_t>(k));
            }
        }
    }

    // The pass: each runtime read once.
    std::vector<Candidate, BigAllocator<Candidate>> candidates;  // 2.4 MB at 100,000: huge pages
    candidates.reserve(n);  // a rollout targets most of the fleet: no copies while it grows
    std::vector<std::uint32_t> perRule(includes.size() + 1, 0);
    Current cur;
    cur.fields = fields;
    // Only what the rules read is built (a materialising list then copies no other text): the
    // runtime id always (duplicates), the flags always.
    unsigned wanted = RuntimeList::kRuntimeIDField;
    auto need = [&wanted](const Target& t) {
        if (t.all || t.runtimeID) return;
        if (t.planName) wanted |= RuntimeList::kPlanFields;
        if (t.shoot) wanted |= RuntimeList::kShootField;
        if (t.instanceID) wanted |= RuntimeList::kInstanceIDField;
        if (t.globalAccount || t.subAccount) wanted |= RuntimeList::kAccountFields;
        if (t.region) wanted |= RuntimeList::kRegionField;
    };
    for (const Target& t : targets.include) need(t);
    for (const Target& t : targets.exclude) need(t);
    for (std::size_t i = 0; i < n; ++i) {
        const Runtime& r = fleet.fieldsAt(i, wanted);
        cur.reset(r);
        std::uint32_t best = kNone;
        if (!includedIDs.values.empty())
            if (const std::uint32_t id = includedIDs.find(r.runtimeID); id != kNone) best = firstRuleOfID[id];
        for (std::uint32_t k : scannedIncludes) {
            if (k >= best) break;
            if (includes[k].matches(cur, fields)) {
                best = k;
                break;
            }
        }
        if (best == kNone) continue;
        bool excluded = !excludedIDs.values.empty() && excludedIDs.find(r.runtimeID) != kNone;
        for (std::size_t e = 0; !excluded && e < scannedExcludes.size(); ++e)
            excluded = scannedExcludes[e]->matches(cur, fields);
        candidates.push_back(Candidate{hashBytes(r.runtimeID), static_cast<std::uint32_t>(i), best, excluded,
                                       r.deprovisioning || r.suspended});
        ++perRule[best + 1];
    }

    // Rule order, fleet order inside a rule: a stable counting sort by rule.
    for (std::size_t k = 1; k < perRule.size(); ++k) perRule[k] += perRule[k - 1];
    std::vector<std::uint32_t> order(candidates.size());
    for (std::uint32_t c = 0; c < candidates.size(); ++c) order[perRule[candidates[c].rule]++] = c;

    // The first of each runtimeID in that order is taken (even if excluded); later ones are not.
    std::size_t cap = 16;
    while (cap < 2 * candidates.size()) cap *= 2;
    std::vector<std::uint32_t, BigAllocator<std::uint32_t>> seen(cap, kNone);  // candidate numbers, keyed by idHash
    std::string firstID;
    auto firstOfItsID = [&](std::uint32_t c) {
        const std::uint64_t h = candidates[c].idHash;
        for (std::size_t s = h & (cap - 1);; s = (s + 1) & (cap - 1)) {
            if (seen[s] == kNone) {
                seen[s] = c;
                return true;
            }
            const Candidate& other = candidates[seen[s]];
            if (other.idHash != h) continue;
            // Same hash: compare the ids (copy one: the list may build both into one buffer).
            firstID = fleet.at(other.index).runtimeID;
            if (fleet.at(candidates[c].index).runtimeID == firstID) return false;
        }
    };
    result.reserve(candidates.size());
    for (std::uint32_t c : order) {
        if (!firstOfItsID(c)) continue;
        const Candidate& x = candidates[c];
        if (x.excluded) continue;
        if (x.inactive) {
            if (skipped) skipped->push_back(x.index);
            continue;
        }
        result.push_back(x.index);
    }
    return result;
}

std::vector<const Runtime*> resolveTargets(const Targets& targets, const std::vector<Runtime>& fleet,
                                           std::vector<const Runtime*>* skipped) {
    const VectorRuntimeList list(fleet);
    std::vector<std::uint32_t> sk;
    const std::vector<std::uint32_t> idx = resolveTargetIndices(targets, list, skipped ? &sk : nullptr);
    std::vector<const Runtime*> out;
    out.reserve(idx.size());
    for (std::uint32_t i : idx) out.push_back(&fleet[i]);
    if (skipped) {
        skipped->clear();
        for (std::uint32_t i : sk) skipped->push_back(&fleet[i]);
    }
    return out;
}

}  // namespace keb
