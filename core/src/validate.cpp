// Request validation (SPEC 3): JSON body -> normalised Parameters, or a 400 message
// naming the offending field with a dotted path. Never throws.
//
// Conventions (see docs/decisions-core.md):
// - a JSON null is treated like an absent field, and so is an empty string in a
//   Target field (KEB's Go structs could not tell "" from absent);
// - unknown fields are ignored, including the kyma object of an upgradeCluster
//   request and the kubernetes object of an upgradeKyma request;
// - a missing kyma / kubernetes object is accepted as an empty one (the broker's
//   default version applies).
#include "keb/validate.h"

#include <climits>
#include <stdexcept>

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

    bool optString(const Json& obj, const char* key, const std::string& path, std::optional<std::string>* out) {
        const Json* v = field(obj, key);
        if (!v) return true;
        if (!v->is_string()) return fail(path + " must be a string");
        std::string s = v->get<std::string>();
        if (!s.empty()) *out = std::move(s);
        return true;
    }

    bool target(const Json& j, const std::string& path, Target* t) {
        if (!j.is_object()) return fail(path + " must be an object");
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
        return optString(j, "runtimeID", path + ".runtimeID", &t->runtimeID) &&
               optString(j, "planName", path + ".planName", &t->planName) &&
               optString(j, "shoot", path + ".shoot", &t->shoot) &&
               optString(j, "instanceID", path + ".instanceID", &t->instanceID);
    }

    bool targetList(const Json& targets, const char* key, bool required, std::vector<Target>* out) {
        const std::string path = std::string("targets.") + key;
        const Json* list = field(targets, key);
        if (!list) return required ? fail(path + " must be a non-empty array") : true;
        if (!list->is_array()) return fail(path + (required ? " must be a non-empty array" : " must be an array"));
        if (required && list->empty()) return fail(path + " must be a non-empty array");
        for (std::size_t i = 0; i < list->size(); ++i) {
            Target t;
            if (!target((*list)[i], path + "[" + std::to_string(i) + "]", &t)) return false;
            out->push_back(std::move(t));
        }
        return true;
    }

    bool strategy(const Json& body, Strategy* s) {
        const Json* st = field(body, "strategy");
        if (!st) return true;
        if (!st->is_object()) return fail("strategy must be an object");
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
        if (const Json* v = field(*st, "maintenanceWindow")) {
            if (!v->is_boolean()) return fail("strategy.maintenanceWindow must be a boolean");
            s->maintenanceWindow = v->get<bool>();
        }
        if (windowFromSchedule) s->maintenanceWindow = true;
        if (const Json* p = field(*st, "parallel")) {
            if (!p->is_object()) return fail("strategy.parallel must be an object");
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
        return true;
    }

    bool stringField(const Json& obj, const char* key, const std::string& path, std::string* out) {
        const Json* v = field(obj, key);
        if (!v) return true;
        if (!v->is_string()) return fail(path + " must be a string");
        *out = v->get<std::string>();
        return true;
    }

    bool parse(OrchestrationType type, const Json& body, Parameters* p) {
        if (!body.is_object()) return fail("body must be a JSON object");
        const Json* targets = field(body, "targets");
        if (!targets) return fail("targets.include must be a non-empty array");
        if (!targets->is_object()) return fail("targets must be an object");
        if (!targetList(*targets, "include", true, &p->targets.include)) return false;
        if (!targetList(*targets, "exclude", false, &p->targets.exclude)) return false;
        if (!strategy(body, &p->strategy)) return false;
        if (const Json* v = field(body, "dryRun")) {
            if (!v->is_boolean()) return fail("dryRun must be a boolean");
            p->dryRun = v->get<bool>();
        }
        if (type == OrchestrationType::UpgradeKyma) {
            KymaParams k;
            if (const Json* v = field(body, "kyma")) {
                if (!v->is_object()) return fail("kyma must be an object");
                if (!stringField(*v, "version", "kyma.version", &k.version)) return false;
            }
            p->kyma = k;
        } else {
            KubernetesParams k;
            if (const Json* v = field(body, "kubernetes")) {
                if (!v->is_object()) return fail("kubernetes must be an object");
                if (!stringField(*v, "kubernetesVersion", "kubernetes.kubernetesVersion", &k.kubernetesVersion) ||
                    !stringField(*v, "machineImage", "kubernetes.machineImage", &k.machineImage) ||
                    !stringField(*v, "machineImageVersion", "kubernetes.machineImageVersion", &k.machineImageVersion))
                    return false;
            }
            p->kubernetes = k;
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
    if (auto it = j.find("dryRun"); it != j.end()) p.dryRun = it->get<bool>();
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
