// Target resolution (SPEC 3).
//
// resolveTargets compiles every regex once per call and memoises regex results per
// distinct field value: a fleet of 100,000 runtimes has only a few thousand global
// accounts and a dozen regions, so each regex runs once per distinct value, and the
// per-runtime work is an exact-field comparison plus array lookups.
#include "keb/targets.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "keb/regex.h"

namespace keb {
namespace {

std::uint64_t hashBytes(std::string_view s) {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    std::uint64_t tail = 0;
    if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

// Open-addressing string interner: value -> dense id (0, 1, 2, ...). The strings are
// borrowed (the fleet outlives one resolveTargets call).
class Interner {
public:
    std::vector<std::string_view> values;

    // Returns the id of v and whether it was new.
    std::pair<std::uint32_t, bool> intern(std::string_view v) {
        if ((values.size() + 1) * 2 > slots_.size()) grow();
        const std::uint64_t h = hashBytes(v);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.id == kEmpty) {
                s = Slot{h, static_cast<std::uint32_t>(values.size())};
                values.push_back(v);
                return {s.id, true};
            }
            if (s.hash == h && values[s.id] == v) return {s.id, false};
        }
    }

    // The id of v, or kNone.
    static constexpr std::uint32_t kNone = 0xffffffffu;
    std::uint32_t find(std::string_view v) const {
        if (slots_.empty()) return kNone;
        const std::uint64_t h = hashBytes(v);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.id == kEmpty) return kNone;
            if (s.hash == h && values[s.id] == v) return s.id;
        }
    }

private:
    static constexpr std::uint32_t kEmpty = 0xffffffffu;
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t id = kEmpty;
    };
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const Slot& s : old) {
            if (s.id == kEmpty) continue;
            std::size_t i = s.hash & mask;
            while (slots_[i].id != kEmpty) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }
    std::vector<Slot> slots_;
};

// Distinct values of one runtime field, each runtime mapped to its value's index.
struct FieldIndex {
    std::vector<std::string_view> values;
    std::vector<std::uint32_t> ofRuntime;

    FieldIndex(const std::vector<Runtime>& fleet, const std::string Runtime::*field) {
        Interner ids;
        ofRuntime.reserve(fleet.size());
        for (const auto& r : fleet) ofRuntime.push_back(ids.intern(r.*field).first);
        values = std::move(ids.values);
    }
};

// One regex field of one target: compiled once, results cached per distinct value.
struct RegexField {
    bool set = false;
    std::optional<Regex> re;              // nullopt when set but invalid: matches nothing
    const FieldIndex* index = nullptr;
    std::vector<std::int8_t> memo;        // -1 unknown, 0 no, 1 yes

    void init(const std::optional<std::string>& pattern, const FieldIndex* idx) {
        if (!pattern) return;
        set = true;
        re = Regex::compile(*pattern);
        index = idx;
        memo.assign(idx->values.size(), -1);
    }
    bool matches(std::size_t runtimeIdx) {
        if (!set) return true;
        if (!re) return false;
        const std::uint32_t v = index->ofRuntime[runtimeIdx];
        std::int8_t& m = memo[v];
        if (m < 0) m = re->search(index->values[v]) ? 1 : 0;
        return m == 1;
    }
};

struct CompiledTarget {
    const Target* target;
    RegexField globalAccount, subAccount, region;

    bool matches(const Runtime& r, std::size_t idx) {
        const Target& t = *target;
        if (t.all) return true;
        if (t.runtimeID) return r.runtimeID == *t.runtimeID;
        if (t.planName && r.planName != *t.planName) return false;
        if (t.shoot && r.shootName != *t.shoot) return false;
        if (t.instanceID && r.instanceID != *t.instanceID) return false;
        return globalAccount.matches(idx) && subAccount.matches(idx) && region.matches(idx);
    }
};

bool usesRegex(const Target& t) {
    return !t.all && !t.runtimeID && (t.globalAccount || t.subAccount || t.region);
}

bool isRuntimeIDRule(const Target& t) { return !t.all && t.runtimeID.has_value(); }

// Above this many runtimeID rules, they are matched through a hash lookup (one pass over
// the fleet) instead of one fleet scan per rule: operators list thousands of runtime ids.
constexpr std::size_t kIdLookupThreshold = 8;

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

std::vector<const Runtime*> resolveTargets(const Targets& targets, const std::vector<Runtime>& fleet,
                                           std::vector<const Runtime*>* skipped) {
    std::vector<const Runtime*> result;
    if (skipped) skipped->clear();
    if (targets.include.empty() || fleet.empty()) return result;

    // Field indexes are built only when some rule has a regex on that field.
    bool needAccount = false, needSub = false, needRegion = false;
    for (const auto* list : {&targets.include, &targets.exclude})
        for (const auto& t : *list)
            if (usesRegex(t)) {
                needAccount |= t.globalAccount.has_value();
                needSub |= t.subAccount.has_value();
                needRegion |= t.region.has_value();
            }
    std::unique_ptr<FieldIndex> accounts, subs, regions;
    if (needAccount) accounts = std::make_unique<FieldIndex>(fleet, &Runtime::globalAccountID);
    if (needSub) subs = std::make_unique<FieldIndex>(fleet, &Runtime::subAccountID);
    if (needRegion) regions = std::make_unique<FieldIndex>(fleet, &Runtime::region);

    auto compile = [&](const std::vector<Target>& list) {
        std::vector<CompiledTarget> out(list.size());
        for (std::size_t i = 0; i < list.size(); ++i) {
            out[i].target = &list[i];
            if (!usesRegex(list[i])) continue;
            out[i].globalAccount.init(list[i].globalAccount, accounts.get());
            out[i].subAccount.init(list[i].subAccount, subs.get());
            out[i].region.init(list[i].region, regions.get());
        }
        return out;
    };
    std::vector<CompiledTarget> includes = compile(targets.include);
    std::vector<CompiledTarget> excludes = compile(targets.exclude);

    // Exclude rules naming a runtimeID go into a set when there are many of them.
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

    // excluded[i]: -1 not yet known, 0 kept, 1 excluded.
    std::vector<std::int8_t> excluded(fleet.size(), -1);
    auto isExcluded = [&](std::size_t i) {
        if (excluded[i] < 0) {
            excluded[i] = 0;
            if (!excludedIDs.values.empty() && excludedIDs.find(fleet[i].runtimeID) != Interner::kNone) {
                excluded[i] = 1;
            } else {
                for (auto* ex : scannedExcludes)
                    if (ex->matches(fleet[i], i)) {
                        excluded[i] = 1;
                        break;
                    }
            }
        }
        return excluded[i] == 1;
    };

    // Include rules naming a runtimeID: when there are many, one pass over the fleet
    // collects, per rule, the fleet indices carrying its id (in fleet order).
    std::vector<std::vector<std::uint32_t>> idMatches;
    bool idLookup = false;
    {
        std::size_t idRules = 0;
        for (const auto& t : targets.include) idRules += isRuntimeIDRule(t) ? 1 : 0;
        if (idRules > kIdLookupThreshold) {
            idLookup = true;
            idMatches.resize(includes.size());
            Interner ruleIDs;
            std::vector<std::vector<std::uint32_t>> rulesOfID;
            for (std::size_t k = 0; k < targets.include.size(); ++k) {
                if (!isRuntimeIDRule(targets.include[k])) continue;
                const auto [id, isNew] = ruleIDs.intern(*targets.include[k].runtimeID);
                if (isNew) rulesOfID.emplace_back();
                rulesOfID[id].push_back(static_cast<std::uint32_t>(k));
            }
            for (std::size_t i = 0; i < fleet.size(); ++i) {
                const std::uint32_t id = ruleIDs.find(fleet[i].runtimeID);
                if (id == Interner::kNone) continue;
                for (std::uint32_t k : rulesOfID[id]) idMatches[k].push_back(static_cast<std::uint32_t>(i));
            }
        }
    }

    std::vector<std::uint8_t> taken(fleet.size(), 0);
    Interner seenIDs;
    auto take = [&](std::size_t i) {
        taken[i] = 1;
        const Runtime& r = fleet[i];
        if (!seenIDs.intern(r.runtimeID).second) return;  // duplicate runtimeID in the fleet
        if (isExcluded(i)) return;
        if (r.deprovisioning || r.suspended) {
            if (skipped) skipped->push_back(&r);
            return;
        }
        result.push_back(&r);
    };
    for (std::size_t k = 0; k < includes.size(); ++k) {
        auto& inc = includes[k];
        if (idLookup && isRuntimeIDRule(*inc.target)) {
            for (std::uint32_t i : idMatches[k])
                if (!taken[i]) take(i);
            continue;
        }
        for (std::size_t i = 0; i < fleet.size(); ++i)
            if (!taken[i] && inc.matches(fleet[i], i)) take(i);
    }
    return result;
}

// TEMPORARY (being replaced by a streaming implementation): copies the list.
std::vector<std::uint32_t> resolveTargetIndices(const Targets& targets, const RuntimeList& fleet,
                                                std::vector<std::uint32_t>* skipped) {
    std::vector<Runtime> copy;
    copy.reserve(fleet.size());
    for (std::size_t i = 0; i < fleet.size(); ++i) copy.push_back(fleet.at(i));
    std::vector<const Runtime*> sk;
    std::vector<const Runtime*> r = resolveTargets(targets, copy, skipped ? &sk : nullptr);
    std::vector<std::uint32_t> out;
    out.reserve(r.size());
    for (const Runtime* p : r) out.push_back(static_cast<std::uint32_t>(p - copy.data()));
    if (skipped) {
        skipped->clear();
        for (const Runtime* p : sk) skipped->push_back(static_cast<std::uint32_t>(p - copy.data()));
    }
    return out;
}

}  // namespace keb
