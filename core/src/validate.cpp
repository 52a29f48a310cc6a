// Request validation (SPEC 3): JSON body -> normalised Parameters, or a 400 message
// naming the offending field with a dotted path. Never throws.
//
// Conventions (see docs/decisions-core.md and docs/request-body.md):
// - strict fields: every object of a request lists the fields it may have, and any other
//   field is a 400 naming its path, so a typo such as {"runtimeId": "rt-1"} cannot drop a
//   filter and widen a rollout to the whole fleet. The lists hold every field KEB's own Go
//   client (kcp) marshals from orchestration.Parameters; those this broker has no use for
//   (strategy.ScheduleTime, retryoperation) are type-checked and ignored;
// - a target with no field set ({} or only empty values) is a 400: it would select every
//   runtime, which must be asked for explicitly with {"target": "all"};
// - a JSON null is treated like an absent field, and so is an empty string in a Target field
//   (KEB's Go structs could not tell "" from absent);
// - the kyma object of an upgradeCluster request and the kubernetes object of an upgradeKyma
//   request (KEB's DTO has both) are checked like the real ones and accepted when they set
//   nothing; a value in them is a 400, because this request would not apply it;
// - a missing kyma / kubernetes object is accepted as an empty one (the broker's default
//   version applies).
#include "keb/validate.h"

#include <algorithm>
#include <climits>
#include <span>
#include <stdexcept>
#include <vector>

#include "keb/regex.h"
#include "keb/timefmt.h"

namespace keb {
namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ": drop that tag.
std::string cleanParserMessage(const char* what) {
    std::string m = what;
    if (!m.empty() && m[0] == '[') {
        const auto close = m.find("] ");
        if (close != std::string::npos) m.erase(0, close + 2);
    }
    return m;
}

// ---- strict fields

// The objects of a request body and the fields each may have (KEB's orchestration.Parameters
// DTO as kcp marshals it; a Go field without a json tag, ScheduleTime, keeps its Go name).
enum class Level { Top, Targets, Target, Strategy, Parallel, Kyma, Kubernetes, RetryOperation, Stage, Blackout };

constexpr std::string_view kTopFields[] = {"targets",    "strategy",       "dryRun",      "kyma",
                                           "kubernetes", "retryoperation", "notification"};
constexpr std::string_view kTargetsFields[] = {"include", "exclude"};
constexpr std::string_view kTargetFields[] = {"target",    "globalAccount", "subAccount", "region",
                                              "runtimeID", "planName",      "shoot",      "instanceID"};
constexpr std::string_view kStrategyFields[] = {"type",     "schedule", "ScheduleTime", "maintenanceWindow",
                                                "parallel", "stages",   "maxFailures",  "blackouts"};
constexpr std::string_view kStageFields[] = {"name", "targets", "workers", "soak", "maxFailures"};
constexpr std::string_view kBlackoutFields[] = {"from", "to", "reason"};
constexpr std::string_view kParallelFields[] = {"workers"};
constexpr std::string_view kKymaFields[] = {"version"};
constexpr std::string_view kKubernetesFields[] = {"kubernetesVersion", "machineImage", "machineImageVersion"};
constexpr std::string_view kRetryOperationFields[] = {"retryoperations", "immediate"};

struct LevelFields {
    Level level;
    std::string_view where;  // how a hint names the object: "strategy.parallel"
    std::span<const std::string_view> fields;
};
constexpr LevelFields kLevels[] = {
    {Level::Top, "the top level", kTopFields},
    {Level::Targets, "targets", kTargetsFields},
    {Level::Target, "a targets.include or targets.exclude entry", kTargetFields},
    {Level::Strategy, "strategy", kStrategyFields},
    {Level::Parallel, "strategy.parallel", kParallelFields},
    {Level::Kyma, "kyma", kKymaFields},
    {Level::Kubernetes, "kubernetes", kKubernetesFields},
    {Level::RetryOperation, "retryoperation", kRetryOperationFields},
    {Level::Stage, "a strategy.stages entry", kStageFields},
    {Level::Blackout, "a strategy.blackouts entry", kBlackoutFields},
};

const LevelFields& levelFields(Level level) {
    for (const LevelFields& l : kLevels)
        if (l.level == level) return l;
    return kLevels[0];
}

bool isKnown(Level level, std::string_view key) {
    for (std::string_view f : levelFields(level).fields)
        if (f == key) return true;
    return false;
}

// Longer keys get no hint (and are cut in messages): no field name comes near this length.
constexpr std::size_t kMaxShownKey = 64;

char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Edit distance with adjacent transpositions (optimal string alignment), ASCII case ignored:
// "runtimeId" is 0 from "runtimeID", "workres" 1 from "workers".
std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const bool same = asciiLower(a[i - 1]) == asciiLower(b[j - 1]);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
            if (i > 1 && j > 1 && asciiLower(a[i - 1]) == asciiLower(b[j - 2]) &&
                asciiLower(a[i - 2]) == asciiLower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        prev2.swap(prev);
        prev.swap(cur);
    }
    return prev[b.size()];
}

// " (did you mean \"runtimeID\"?)" for a case-only difference or a near miss among the fields
// of the same object, " (workers belongs in strategy.parallel)" for a field of another object
// written in the wrong place, or "" when nothing is close.
std::string unknownFieldHint(Level level, std::string_view key) {
    if (key.empty() || key.size() > kMaxShownKey) return "";
    std::string_view best;
    std::size_t bestDistance = SIZE_MAX;
    bool tie = false;
    for (std::string_view f : levelFields(level).fields) {
        const std::size_t d = editDistance(key, f);
        if (d < bestDistance) {
            best = f;
            bestDistance = d;
            tie = false;
        } else if (d == bestDistance) {
            tie = true;
        }
    }
    const auto didYouMean = [&] { return " (did you mean \"" + std::string(best) + "\"?)"; };
    if (bestDistance == 0 && !tie) return didYouMean();
    for (const LevelFields& other : kLevels) {
        if (other.level == level) continue;
        for (std::string_view f : other.fields)
            if (f.size() == key.size() && editDistance(key, f) == 0)
                return " (" + std::string(f) + " belongs in " + std::string(other.where) + ")";
    }
    const std::size_t limit = best.size() <= 5 ? 1 : 2;
    if (!tie && bestDistance <= limit) return didYouMean();
    return "";
}

// The path of a member: "parent.key" for plain names, parent["odd key"] otherwise (JSON
// quoted, cut to 64 bytes, so a huge or binary key cannot blow up the message).
std::string memberPath(const std::string& parent, const std::string& key) {
    bool plain = !key.empty() && key.size() <= kMaxShownKey;
    for (char c : key)
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                          c == '-' || c == '$');
    if (plain) return parent.empty() ? key : parent + "." + key;
    const std::string shown = key.size() > kMaxShownKey ? key.substr(0, kMaxShownKey) + "..." : key;
    return parent + "[" + Json(shown).dump(-1, ' ', false, Json::error_handler_t::replace) + "]";
}

// Go's zero time.Time as encoding/json writes it: what kcp sends in strategy.ScheduleTime.
Millis goZeroTime() {
    static const Millis zero = *parseRfc3339("0001-01-01T00:00:00Z");
    return zero;
}

class Validator {
public:
    std::string error;

    bool fail(std::string msg) {
        if (error.empty()) error = std::move(msg);
        return false;
    }

    // Returns the member or nullptr when absent or null.
    static const Json* field(const Json& obj, const char* key) {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return nullptr;
        return &*it;
    }

    // The first member of obj (an object) that level does not list is a 400 naming it.
    // Checked before the known members, so a typo is reported as such and not as the
    // consequence it would have (e.g. an empty target).
    bool knownFields(const Json& obj, Level level, const std::string& path) {
        for (auto it = obj.begin(); it != obj.end(); ++it)
            if (!isKnown(level, it.key()))
                return fail(memberPath(path, it.key()) + ": unknown field" + unknownFieldHint(level, it.key()));
        return true;
    }

    bool optString(const Json& obj, const char* key, const std::string& path, std::optional<std::string>* out) {
        const Json* v = field(obj, key);
        if (!v) return true;
        if (!v->is_string()) return fail(path + " must be a string");
        std::string s = v->get<std::string>();
        if (!s.empty()) *out = std::move(s);
        return true;
    }

    bool target(const Json& j, const std::string& path, bool include, Target* t) {
        if (!j.is_object()) return fail(path + " must be an object");
        if (!knownFields(j, Level::Target, path)) return false;
        if (const Json* v = field(j, "target")) {
            if (!v->is_string() || v->get<std::string>() != "all") return fail(path + ".target must be \"all\"");
            t->all = true;
        }
        struct RegexField {
            const char* key;
            std::optional<std::string> Target::*member;
        };
        for (const RegexField& f : {RegexField{"globalAccount", &Target::globalAccount},
                                    RegexField{"subAccount", &Target::subAccount},
                                    RegexField{"region", &Target::region}}) {
            const std::string fp = path + "." + f.key;
            if (!optString(j, f.key, fp, &(t->*f.member))) return false;
            if (t->*f.member) {
                std::string reErr;
                if (!Regex::compile(*(t->*f.member), &reErr)) return fail(fp + ": invalid regex: " + reErr);
            }
        }
        if (!optString(j, "runtimeID", path + ".runtimeID", &t->runtimeID) ||
            !optString(j, "planName", path + ".planName", &t->planName) ||
            !optString(j, "shoot", path + ".shoot", &t->shoot) ||
            !optString(j, "instanceID", path + ".instanceID", &t->instanceID))
            return false;
        // Matching ANDs the set fields, so a target without any matches every runtime: a
        // rollout to the whole fleet must be asked for by name.
        if (*t == Target{})
            return fail(path + (include ? ": empty target would select every runtime; write {\"target\": \"all\"} "
                                          "if that is meant, or set runtimeID, globalAccount, subAccount, region, "
                                          "planName, shoot or instanceID"
                                        : ": empty target would exclude every runtime; set the field(s) to exclude"));
        return true;
    }

    bool targetList(const Json& targets, const char* key, bool required, std::vector<Target>* out,
                    const std::string& prefix = "targets") {
        const std::string path = prefix + "." + key;
        const Json* list = field(targets, key);
        if (!list) return required ? fail(path + " must be a non-empty array") : true;
        if (!list->is_array()) return fail(path + (required ? " must be a non-empty array" : " must be an array"));
        if (required && list->empty()) return fail(path + " must be a non-empty array");
        for (std::size_t i = 0; i < list->size(); ++i) {
            Target t;
            if (!target((*list)[i], path + "[" + std::to_string(i) + "]", required, &t)) return false;
            out->push_back(std::move(t));
        }
        return true;
    }

    bool strategy(const Json& body, Strategy* s) {
        const Json* st = field(body, "strategy");
        if (!st) return true;
        if (!st->is_object()) return fail("strategy must be an object");
        if (!knownFields(*st, Level::Strategy, "strategy")) return false;
        if (const Json* v = field(*st, "type")) {
            if (!v->is_string()) return fail("strategy.type must be a string");
            const std::string type = v->get<std::string>();
            if (!type.empty() && type != "parallel")
                return fail("strategy.type: unsupported strategy " + Json(type).dump(-1, ' ', false, Json::error_handler_t::replace) + " (only \"parallel\")");
        }
        bool windowFromSchedule = false;
        if (const Json* v = field(*st, "schedule")) {
            if (!v->is_string()) return fail("strategy.schedule must be a string");
            const std::string sched = v->get<std::string>();
            if (sched.empty() || sched == "immediate") {
                s->schedule = ScheduleKind::Immediate;
            } else if (sched == "now") {
                s->schedule = ScheduleKind::Now;
            } else if (sched == "maintenanceWindow") {
                s->schedule = ScheduleKind::Immediate;
                windowFromSchedule = true;
            } else if (auto t = parseRfc3339(sched)) {
                s->schedule = ScheduleKind::Time;
                s->scheduleTime = *t;
            } else {
                return fail("strategy.schedule: invalid time " + Json(sched).dump(-1, ' ', false, Json::error_handler_t::replace) +
                            " (want immediate, now, maintenanceWindow or RFC 3339)");
            }
        }
        if (!scheduleTime(*st, *s)) return false;
        if (const Json* v = field(*st, "maintenanceWindow")) {
            if (!v->is_boolean()) return fail("strategy.maintenanceWindow must be a boolean");
            s->maintenanceWindow = v->get<bool>();
        }
        if (windowFromSchedule) s->maintenanceWindow = true;
        if (const Json* p = field(*st, "parallel")) {
            if (!p->is_object()) return fail("strategy.parallel must be an object");
            if (!knownFields(*p, Level::Parallel, "strategy.parallel")) return false;
            if (const Json* w = field(*p, "workers")) {
                if (!w->is_number_integer()) return fail("strategy.parallel.workers must be an integer >= 1");
                if (w->is_number_unsigned()) {
                    const auto u = w->get<std::uint64_t>();
                    if (u < 1) return fail("strategy.parallel.workers must be an integer >= 1");
                    if (u > static_cast<std::uint64_t>(INT_MAX))
                        return fail("strategy.parallel.workers is too large (max " + std::to_string(INT_MAX) + ")");
                    s->workers = static_cast<int>(u);
                } else {
                    const auto i = w->get<std::int64_t>();
                    if (i < 1) return fail("strategy.parallel.workers must be an integer >= 1");
                    if (i > INT_MAX)
                        return fail("strategy.parallel.workers is too large (max " + std::to_string(INT_MAX) + ")");
                    s->workers = static_cast<int>(i);
                }
            }
        }
        return strategyExtras(*st, s);
    }

    // SPEC 10: stages, maxFailures, blackouts of a strategy object.
    bool strategyExtras(const Json& st, Strategy* s) {
        if (!stages(st, s)) return false;
        if (const Json* v = field(st, "maxFailures")) {
            FailureBudget b;
            if (!budget(*v, "strategy.maxFailures", &b)) return false;
            s->maxFailures = b;
        }
        return blackouts(st, "strategy.blackouts", &s->blackouts);
    }

    // An integer >= 1 (workers).
    bool positiveInt(const Json& w, const std::string& path, int* out) {
        if (!w.is_number_integer()) return fail(path + " must be an integer >= 1");
        if (w.is_number_unsigned()) {
            const auto u = w.get<std::uint64_t>();
            if (u < 1) return fail(path + " must be an integer >= 1");
            if (u > static_cast<std::uint64_t>(INT_MAX)) return fail(path + " is too large (max " + std::to_string(INT_MAX) + ")");
            *out = static_cast<int>(u);
            return true;
        }
        const auto i = w.get<std::int64_t>();
        if (i < 1) return fail(path + " must be an integer >= 1");
        if (i > INT_MAX) return fail(path + " is too large (max " + std::to_string(INT_MAX) + ")");
        *out = static_cast<int>(i);
        return true;
    }

    // SPEC 10 budget: an integer >= 0 or "N%" with N an integer 0..100.
    bool budget(const Json& v, const std::string& path, FailureBudget* out) {
        static const std::string kWant = " must be an integer >= 0 or a percent \"0%\"..\"100%\"";
        if (v.is_number_integer()) {
            if (v.is_number_unsigned()) {
                const auto u = v.get<std::uint64_t>();
                if (u > static_cast<std::uint64_t>(INT64_MAX / 2)) return fail(path + " is too large");
                out->value = static_cast<std::int64_t>(u);
            } else {
                const auto i = v.get<std::int64_t>();
                if (i < 0) return fail(path + kWant);
                out->value = i;
            }
            out->percent = false;
            return true;
        }
        if (!v.is_string()) return fail(path + kWant);
        const std::string& t = v.get_ref<const std::string&>();
        if (t.size() < 2 || t.size() > 4 || t.back() != '%') return fail(path + ": invalid percent " + quoted(t) + "," + kWant);
        std::int64_t n = 0;
        for (std::size_t i = 0; i + 1 < t.size(); ++i) {
            if (t[i] < '0' || t[i] > '9') return fail(path + ": invalid percent " + quoted(t) + "," + kWant);
            n = n * 10 + (t[i] - '0');
        }
        if (n > 100) return fail(path + ": invalid percent " + quoted(t) + " (at most \"100%\")");
        out->percent = true;
        out->value = n;
        return true;
    }

    static std::string quoted(const std::string& t) {
        return Json(t.size() > kMaxShownKey ? t.substr(0, kMaxShownKey) + "..." : t)
            .dump(-1, ' ', false, Json::error_handler_t::replace);
    }

    static bool stageNameOk(const std::string& n) {
        if (n.empty() || n.size() > 40) return false;
        for (char c : n)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
        return true;
    }

    static constexpr std::size_t kMaxStages = 100;
    static constexpr std::size_t kMaxBlackouts = 1000;

    bool stages(const Json& st, Strategy* s) {
        const Json* list = field(st, "stages");
        if (!list) return true;
        if (!list->is_array()) return fail("strategy.stages must be an array");
        if (list->size() > kMaxStages) return fail("strategy.stages: at most " + std::to_string(kMaxStages) + " stages");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string path = "strategy.stages[" + std::to_string(i) + "]";
            const Json& j = (*list)[i];
            if (!j.is_object()) return fail(path + " must be an object");
            if (!knownFields(j, Level::Stage, path)) return false;
            Stage stage;
            const Json* name = field(j, "name");
            if (!name) return fail(path + ".name is required ([a-z0-9-]{1,40})");
            if (!name->is_string()) return fail(path + ".name must be a string ([a-z0-9-]{1,40})");
            stage.name = name->get<std::string>();
            if (!stageNameOk(stage.name))
                return fail(path + ".name: invalid name " + quoted(stage.name) + " (want [a-z0-9-]{1,40})");
            for (const Stage& other : s->stages)
                if (other.name == stage.name) return fail(path + ".name: duplicate " + quoted(stage.name));
            if (const Json* t = field(j, "targets")) {
                const std::string tp = path + ".targets";
                if (!t->is_object()) return fail(tp + " must be an object");
                if (!knownFields(*t, Level::Targets, tp)) return false;
                Targets targets;
                if (!targetList(*t, "include", true, &targets.include, tp)) return false;
                if (!targetList(*t, "exclude", false, &targets.exclude, tp)) return false;
                stage.targets = std::move(targets);
            } else if (i + 1 != list->size()) {
                return fail(path + ".targets: only the last stage may omit targets (it takes the runtimes no "
                                   "earlier stage took)");
            }
            if (const Json* w = field(j, "workers")) {
                int workers = 0;
                if (!positiveInt(*w, path + ".workers", &workers)) return false;
                stage.workers = workers;
            }
            if (const Json* v = field(j, "soak")) {
                if (!v->is_string()) return fail(path + ".soak must be a duration string such as \"24h\" or \"30m\"");
                const auto d = parseDuration(v->get_ref<const std::string&>());
                if (!d || *d < 0)
                    return fail(path + ".soak: invalid duration " + quoted(v->get<std::string>()) +
                                " (want e.g. \"30m\", \"24h\", \"2d\"; units ms s m h d)");
                stage.soak = *d;
            }
            if (const Json* v = field(j, "maxFailures")) {
                FailureBudget b;
                if (!budget(*v, path + ".maxFailures", &b)) return false;
                stage.maxFailures = b;
            }
            s->stages.push_back(std::move(stage));
        }
        return true;
    }

public:
    bool blackouts(const Json& st, const std::string& path, std::vector<Blackout>* out) {
        const Json* list = field(st, "blackouts");
        if (!list) return true;
        return blackoutList(*list, path, out);
    }
    bool blackoutList(const Json& list, const std::string& listPath, std::vector<Blackout>* out) {
        if (!list.is_array()) return fail(listPath + " must be an array");
        if (list.size() > kMaxBlackouts) return fail(listPath + ": at most " + std::to_string(kMaxBlackouts) + " blackouts");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string path = listPath + "[" + std::to_string(i) + "]";
            const Json& j = list[i];
            if (!j.is_object()) return fail(path + " must be an object");
            if (!knownFields(j, Level::Blackout, path)) return false;
            Blackout b;
            for (const auto& [key, member] : {std::pair{"from", &b.from}, std::pair{"to", &b.to}}) {
                const Json* v = field(j, key);
                if (!v) return fail(path + "." + key + " is required (RFC 3339 time)");
                if (!v->is_string()) return fail(path + "." + key + " must be a string (RFC 3339 time)");
                const auto t = parseRfc3339(v->get_ref<const std::string&>());
                if (!t) return fail(path + "." + key + ": invalid time " + quoted(v->get<std::string>()) + " (want RFC 3339)");
                *member = *t;
            }
            if (b.to <= b.from) return fail(path + ".to: must be after from");
            if (!stringField(j, "reason", path + ".reason", &b.reason)) return false;
            out->push_back(std::move(b));
        }
        return true;
    }

    // strategy.ScheduleTime: KEB's Go field without a json tag, so kcp always sends it, as Go's
    // zero time. KEB's server overwrote it from `schedule` for "now" and a time, so it is
    // ignored then. With any other schedule a real time there would be a start time this
    // broker silently drops (the rollout would start at once): 400, pointing at `schedule`.
    bool scheduleTime(const Json& st, const Strategy& s) {
        const Json* v = field(st, "ScheduleTime");
        if (!v) return true;
        if (!v->is_string()) return fail("strategy.ScheduleTime must be a string (an RFC 3339 time)");
        const std::string text = v->get<std::string>();
        const auto t = parseRfc3339(text);
        if (!t)
            return fail("strategy.ScheduleTime: invalid time " +
                        Json(text).dump(-1, ' ', false, Json::error_handler_t::replace) + " (want RFC 3339)");
        if (*t != goZeroTime() && s.schedule == ScheduleKind::Immediate)
            return fail("strategy.ScheduleTime is not used as a start time: put it in strategy.schedule "
                        "(ScheduleTime is accepted as KEB's client sends it, 0001-01-01T00:00:00Z)");
        return true;
    }

    bool stringField(const Json& obj, const char* key, const std::string& path, std::string* out) {
        const Json* v = field(obj, key);
        if (!v) return true;
        if (!v->is_string()) return fail(path + " must be a string");
        *out = v->get<std::string>();
        return true;
    }

    bool booleanField(const Json& obj, const char* key, const std::string& path, bool* out) {
        const Json* v = field(obj, key);
        if (!v) return true;
        if (!v->is_boolean()) return fail(path + " must be a boolean");
        *out = v->get<bool>();
        return true;
    }

    // Present (not null) kyma object -> *out; absent leaves *out empty.
    bool kyma(const Json& body, std::optional<KymaParams>* out) {
        const Json* v = field(body, "kyma");
        if (!v) return true;
        if (!v->is_object()) return fail("kyma must be an object");
        if (!knownFields(*v, Level::Kyma, "kyma")) return false;
        KymaParams k;
        if (!stringField(*v, "version", "kyma.version", &k.version)) return false;
        *out = k;
        return true;
    }

    bool kubernetes(const Json& body, std::optional<KubernetesParams>* out) {
        const Json* v = field(body, "kubernetes");
        if (!v) return true;
        if (!v->is_object()) return fail("kubernetes must be an object");
        if (!knownFields(*v, Level::Kubernetes, "kubernetes")) return false;
        KubernetesParams k;
        if (!stringField(*v, "kubernetesVersion", "kubernetes.kubernetesVersion", &k.kubernetesVersion) ||
            !stringField(*v, "machineImage", "kubernetes.machineImage", &k.machineImage) ||
            !stringField(*v, "machineImageVersion", "kubernetes.machineImageVersion", &k.machineImageVersion))
            return false;
        *out = k;
        return true;
    }

    // retryoperation (KEB's RetryOperationParameters; kcp always sends it, usually as {}):
    // checked against KEB's types and ignored, a retry is POST /orchestrations/{id}/retry.
    bool retryOperation(const Json& body) {
        const Json* r = field(body, "retryoperation");
        if (!r) return true;
        if (!r->is_object()) return fail("retryoperation must be an object");
        if (!knownFields(*r, Level::RetryOperation, "retryoperation")) return false;
        if (const Json* ids = field(*r, "retryoperations")) {
            if (!ids->is_array()) return fail("retryoperation.retryoperations must be an array of strings");
            for (std::size_t i = 0; i < ids->size(); ++i)
                if (!(*ids)[i].is_string())
                    return fail("retryoperation.retryoperations[" + std::to_string(i) + "] must be a string");
        }
        if (const Json* v = field(*r, "immediate")) {
            // KEB's stringBoolean: the JSON text with quotes trimmed, read by Go's strconv.ParseBool.
            static constexpr std::string_view kGoBools[] = {"1", "t", "T", "TRUE", "true", "True",
                                                            "0", "f", "F", "FALSE", "false", "False"};
            bool ok = v->is_boolean() || (v->is_number_integer() && (*v == 0 || *v == 1));
            if (v->is_string())
                for (std::string_view b : kGoBools) ok = ok || v->get_ref<const std::string&>() == b;
            if (!ok) return fail("retryoperation.immediate must be a boolean (or \"true\"/\"false\")");
        }
        return true;
    }

    bool parse(OrchestrationType type, const Json& body, Parameters* p) {
        if (!body.is_object()) return fail("body must be a JSON object");
        if (!knownFields(body, Level::Top, "")) return false;
        const Json* targets = field(body, "targets");
        if (!targets) return fail("targets.include must be a non-empty array");
        if (!targets->is_object()) return fail("targets must be an object");
        if (!knownFields(*targets, Level::Targets, "targets")) return false;
        if (!targetList(*targets, "include", true, &p->targets.include)) return false;
        if (!targetList(*targets, "exclude", false, &p->targets.exclude)) return false;
        if (!strategy(body, &p->strategy)) return false;
        if (!booleanField(body, "dryRun", "dryRun", &p->dryRun)) return false;
        if (!booleanField(body, "notification", "notification", &p->notification)) return false;
        if (!retryOperation(body)) return false;
        std::optional<KymaParams> kymaParams;
        std::optional<KubernetesParams> kubernetesParams;
        if (!kyma(body, &kymaParams) || !kubernetes(body, &kubernetesParams)) return false;
        // The other type's object: KEB's DTO has both, so a client may send an empty one; a
        // value in it would be dropped without a word by this request (an operator who sends
        // kyma.version to /upgrade/cluster expects Kyma to change), so it is refused.
        if (type == OrchestrationType::UpgradeKyma) {
            if (kubernetesParams) {
                for (const auto& [key, value] : {std::pair{"kubernetesVersion", &kubernetesParams->kubernetesVersion},
                                                 std::pair{"machineImage", &kubernetesParams->machineImage},
                                                 std::pair{"machineImageVersion", &kubernetesParams->machineImageVersion}})
                    if (!value->empty())
                        return fail(std::string("kubernetes.") + key +
                                    ": an upgradeKyma request does not change the cluster; send it to POST "
                                    "/upgrade/cluster or leave kubernetes out");
            }
            p->kyma = kymaParams.value_or(KymaParams{});
        } else {
            if (kymaParams && !kymaParams->version.empty())
                return fail("kyma.version: an upgradeCluster request does not change Kyma; send it to POST "
                            "/upgrade/kyma or leave kyma out");
            p->kubernetes = kubernetesParams.value_or(KubernetesParams{});
        }
        return true;
    }
};

// Strict readers for the store form (throw on malformed input).
const Json& need(const Json& j, const char* key, const char* what) {
    if (!j.is_object()) throw std::invalid_argument(std::string("parameters: ") + what + " is not an object");
    auto it = j.find(key);
    if (it == j.end()) throw std::invalid_argument(std::string("parameters: ") + what + " lacks \"" + key + "\"");
    return *it;
}

Target targetFromJson(const Json& j) {
    if (!j.is_object()) throw std::invalid_argument("parameters: target is not an object");
    Target t;
    if (auto it = j.find("target"); it != j.end()) {
        if (it->get<std::string>() != "all") throw std::invalid_argument("parameters: target must be \"all\"");
        t.all = true;
    }
    auto opt = [&](const char* key, std::optional<std::string>* out) {
        if (auto it = j.find(key); it != j.end() && !it->is_null()) *out = it->get<std::string>();
    };
    opt("globalAccount", &t.globalAccount);
    opt("subAccount", &t.subAccount);
    opt("region", &t.region);
    opt("runtimeID", &t.runtimeID);
    opt("planName", &t.planName);
    opt("shoot", &t.shoot);
    opt("instanceID", &t.instanceID);
    return t;
}

}  // namespace

std::optional<std::vector<Blackout>> parseBlackouts(const Json& list, const std::string& path, std::string* error) {
    try {
        Validator v;
        std::vector<Blackout> out;
        if (!v.blackoutList(list, path, &out)) {
            if (error) *error = v.error;
            return std::nullopt;
        }
        return out;
    } catch (const std::exception& e) {
        if (error) *error = path + ": " + e.what();
        return std::nullopt;
    }
}

std::optional<Parameters> parseUpgradeRequest(OrchestrationType type, const Json& body, std::string* error) {
    try {
        Validator v;
        Parameters p;
        if (!v.parse(type, body, &p)) {
            if (error) *error = v.error;
            return std::nullopt;
        }
        return p;
    } catch (const std::exception& e) {
        if (error) *error = std::string("invalid request: ") + e.what();
        return std::nullopt;
    } catch (...) {
        if (error) *error = "invalid request";
        return std::nullopt;
    }
}

std::optional<Parameters> parseUpgradeRequest(OrchestrationType type, std::string_view body, std::string* error) {
    try {
        if (jsonNestedDeeperThan(body)) {
            if (error) *error = "body is nested too deeply";
            return std::nullopt;
        }
        Json j;
        try {
            j = Json::parse(body.begin(), body.end());
        } catch (const Json::exception& e) {
            if (error) *error = "body is not valid JSON: " + cleanParserMessage(e.what());
            return std::nullopt;
        }
        return parseUpgradeRequest(type, j, error);
    } catch (const std::exception& e) {
        if (error) *error = std::string("invalid request: ") + e.what();
        return std::nullopt;
    } catch (...) {
        if (error) *error = "invalid request";
        return std::nullopt;
    }
}

Parameters parametersFromJson(const Json& j) {
    Parameters p;
    const Json& targets = need(j, "targets", "parameters");
    for (const auto& t : need(targets, "include", "targets")) p.targets.include.push_back(targetFromJson(t));
    if (auto it = targets.find("exclude"); it != targets.end() && !it->is_null())
        for (const auto& t : *it) p.targets.exclude.push_back(targetFromJson(t));
    const Json& st = need(j, "strategy", "parameters");
    p.strategy.type = need(st, "type", "strategy").get<std::string>();
    const std::string sched = need(st, "schedule", "strategy").get<std::string>();
    if (sched == "immediate") {
        p.strategy.schedule = ScheduleKind::Immediate;
    } else if (sched == "now") {
        p.strategy.schedule = ScheduleKind::Now;
    } else if (auto t = parseRfc3339(sched)) {
        p.strategy.schedule = ScheduleKind::Time;
        p.strategy.scheduleTime = *t;
    } else {
        throw std::invalid_argument("parameters: strategy.schedule \"" + sched + "\" is not immediate, now or RFC 3339");
    }
    p.strategy.maintenanceWindow = need(st, "maintenanceWindow", "strategy").get<bool>();
    p.strategy.workers = need(need(st, "parallel", "strategy"), "workers", "strategy.parallel").get<int>();
    // SPEC 10 fields: the normalised form is valid request input, so the request's checks read it.
    if (st.contains("stages") || st.contains("maxFailures") || st.contains("blackouts")) {
        Validator v;
        Strategy extra;
        Json only = Json::object();
        for (const char* key : {"stages", "maxFailures", "blackouts"})
            if (auto it = st.find(key); it != st.end()) only[key] = *it;
        if (!v.strategyExtras(only, &extra)) throw std::invalid_argument("parameters: " + v.error);
        p.strategy.stages = std::move(extra.stages);
        p.strategy.maxFailures = extra.maxFailures;
        p.strategy.blackouts = std::move(extra.blackouts);
    }
    if (auto it = j.find("dryRun"); it != j.end()) p.dryRun = it->get<bool>();
    if (auto it = j.find("notification"); it != j.end()) p.notification = it->get<bool>();
    if (auto it = j.find("kyma"); it != j.end() && !it->is_null()) {
        KymaParams k;
        if (auto v = it->find("version"); v != it->end()) k.version = v->get<std::string>();
        p.kyma = k;
    }
    if (auto it = j.find("kubernetes"); it != j.end() && !it->is_null()) {
        KubernetesParams k;
        if (auto v = it->find("kubernetesVersion"); v != it->end()) k.kubernetesVersion = v->get<std::string>();
        if (auto v = it->find("machineImage"); v != it->end()) k.machineImage = v->get<std::string>();
        if (auto v = it->find("machineImageVersion"); v != it->end()) k.machineImageVersion = v->get<std::string>();
        p.kubernetes = k;
    }
    return p;
}

}  // namespace keb
