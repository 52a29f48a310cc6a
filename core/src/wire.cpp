// Wire JSON (SPEC 2) and the lossless store form of the model.
#include "keb/wire.h"

#include <stdexcept>

#include "keb/timefmt.h"
#include "keb/validate.h"

namespace keb {
namespace {

std::string timeOrEmpty(Millis t) { return t == 0 ? std::string() : formatRfc3339(t); }

Json kymaJson(const KymaParams& k) { return Json{{"version", k.version}}; }

Json kubernetesJson(const KubernetesParams& k) {
    return Json{{"kubernetesVersion", k.kubernetesVersion},
                {"machineImage", k.machineImage},
                {"machineImageVersion", k.machineImageVersion}};
}

// Store readers: a missing key takes the default; a present key of the wrong type throws.
const Json& member(const Json& j, const char* key) {
    if (!j.is_object()) throw std::invalid_argument("store record is not a JSON object");
    auto it = j.find(key);
    if (it == j.end()) throw std::invalid_argument(std::string("store record lacks \"") + key + "\"");
    return *it;
}

template <class T>
void read(const Json& j, const char* key, T* out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    *out = it->get<T>();
}

KymaParams kymaFromJson(const Json& j) {
    KymaParams k;
    read(j, "version", &k.version);
    return k;
}

KubernetesParams kubernetesFromJson(const Json& j) {
    KubernetesParams k;
    read(j, "kubernetesVersion", &k.kubernetesVersion);
    read(j, "machineImage", &k.machineImage);
    read(j, "machineImageVersion", &k.machineImageVersion);
    return k;
}

template <class E>
E stateFrom(const Json& j, const char* key, std::optional<E> (*parse)(std::string_view)) {
    const std::string s = member(j, key).get<std::string>();
    auto v = parse(s);
    if (!v) throw std::invalid_argument(std::string("store record has unknown ") + key + " \"" + s + "\"");
    return *v;
}

}  // namespace

Json errorJson(std::string_view message) { return Json{{"error", std::string(message)}}; }

Json toJson(const Target& t) {
    Json j = Json::object();
    if (t.all) j["target"] = "all";
    if (t.globalAccount) j["globalAccount"] = *t.globalAccount;
    if (t.subAccount) j["subAccount"] = *t.subAccount;
    if (t.region) j["region"] = *t.region;
    if (t.runtimeID) j["runtimeID"] = *t.runtimeID;
    if (t.planName) j["planName"] = *t.planName;
    if (t.shoot) j["shoot"] = *t.shoot;
    if (t.instanceID) j["instanceID"] = *t.instanceID;
    return j;
}

Json toJson(const Targets& t) {
    Json include = Json::array(), exclude = Json::array();
    for (const auto& x : t.include) include.push_back(toJson(x));
    for (const auto& x : t.exclude) exclude.push_back(toJson(x));
    return Json{{"include", std::move(include)}, {"exclude", std::move(exclude)}};
}

Json toJson(const FailureBudget& b) {
    if (b.percent) return Json(std::to_string(b.value) + "%");
    return Json(b.value);
}

Json toJson(const Blackout& b) {
    return Json{{"from", formatRfc3339(b.from)}, {"to", formatRfc3339(b.to)}, {"reason", b.reason}};
}

Json toJson(const Parameters& p) {
    Json include = Json::array(), exclude = Json::array();
    for (const auto& t : p.targets.include) include.push_back(toJson(t));
    for (const auto& t : p.targets.exclude) exclude.push_back(toJson(t));
    std::string schedule;
    switch (p.strategy.schedule) {
        case ScheduleKind::Immediate: schedule = "immediate"; break;
        case ScheduleKind::Now: schedule = "now"; break;
        case ScheduleKind::Time:
            schedule = p.strategy.scheduleTime ? formatRfc3339(*p.strategy.scheduleTime) : "immediate";
            break;
    }
    Json j{{"targets", {{"include", std::move(include)}, {"exclude", std::move(exclude)}}},
           {"strategy",
            {{"type", p.strategy.type},
             {"schedule", schedule},
             {"maintenanceWindow", p.strategy.maintenanceWindow},
             {"parallel", {{"workers", p.strategy.workers}}}}},
           {"dryRun", p.dryRun}};
    // SPEC 10 fields only when used: parameters of a Part I request stay byte-identical.
    Json& st = j["strategy"];
    if (!p.strategy.stages.empty()) {
        Json stages = Json::array();
        for (const Stage& s : p.strategy.stages) {
            Json js{{"name", s.name}, {"workers", s.workers.value_or(p.strategy.workers)}, {"soak", formatDuration(s.soak)}};
            if (s.targets) js["targets"] = toJson(*s.targets);
            if (s.maxFailures) js["maxFailures"] = toJson(*s.maxFailures);
            stages.push_back(std::move(js));
        }
        st["stages"] = std::move(stages);
    }
    if (p.strategy.maxFailures) st["maxFailures"] = toJson(*p.strategy.maxFailures);
    if (!p.strategy.blackouts.empty()) {
        Json list = Json::array();
        for (const Blackout& b : p.strategy.blackouts) list.push_back(toJson(b));
        st["blackouts"] = std::move(list);
    }
    if (p.notification) j["notification"] = true;  // SPEC 14: only when set
    if (p.kyma) j["kyma"] = kymaJson(*p.kyma);
    if (p.kubernetes) j["kubernetes"] = kubernetesJson(*p.kubernetes);
    return j;
}

Json toJson(const OperationStats& stats) {
    Json j = Json::object();
    for (auto s : {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                   OperationState::Failed, OperationState::Canceled}) {
        auto it = stats.find(s);
        j[toString(s)] = it == stats.end() ? std::int64_t{0} : it->second;
    }
    return j;
}

Json toJson(const Orchestration& o, const OperationStats* stats, const std::vector<StageStatus>* stages) {
    Json j{{"orchestrationID", o.orchestrationID},
           {"type", toString(o.type)},
           {"state", toString(o.state)},
           {"description", o.description},
           {"createdAt", formatRfc3339(o.createdAt)},
           {"updatedAt", formatRfc3339(o.updatedAt)},
           {"parameters", toJson(o.parameters)}};
    if (stats) j["operationStats"] = toJson(*stats);
    if (stages) {
        Json list = Json::array();
        for (const StageStatus& s : *stages) list.push_back(toJson(s));
        j["stages"] = std::move(list);
    }
    return j;
}

Json toJson(const StageStatus& s) {
    auto timeOrNull = [](Millis t) { return t == 0 ? Json(nullptr) : Json(formatRfc3339(t)); };
    return Json{{"name", s.name},
                {"state", toString(s.state)},
                {"operationStats", toJson(s.operationStats)},
                {"failures", s.failures},
                {"maxFailures", s.maxFailures < 0 ? Json(nullptr) : Json(s.maxFailures)},
                {"startedAt", timeOrNull(s.startedAt)},
                {"finishedAt", timeOrNull(s.finishedAt)},
                {"soakUntil", timeOrNull(s.soakUntil)}};
}

Json toJson(const Operation& op, bool detail) {
    Json j{{"operationID", op.operationID},
           {"runtimeID", op.runtimeID},
           {"globalAccountID", op.globalAccountID},
           {"subAccountID", op.subAccountID},
           {"orchestrationID", op.orchestrationID},
           {"servicePlanID", op.servicePlanID},
           {"servicePlanName", op.servicePlanName},
           {"dryRun", op.dryRun},
           {"shootName", op.shootName},
           {"maintenanceWindowBegin", timeOrEmpty(op.maintenanceWindowBegin)},
           {"maintenanceWindowEnd", timeOrEmpty(op.maintenanceWindowEnd)},
           {"state", toString(op.state)},
           {"description", op.description}};
    if (!op.stage.empty()) j["stage"] = op.stage;
    if (detail) {
        if (op.kymaConfig) j["kymaConfig"] = kymaJson(*op.kymaConfig);
        if (op.clusterConfig) j["clusterConfig"] = kubernetesJson(*op.clusterConfig);
    }
    return j;
}

// ---- store form ----

Json rolloutToStoreJson(const RolloutProgress& r) {
    Json stages = Json::array();
    for (const StageProgress& s : r.stages)
        stages.push_back(Json{{"state", toString(s.state)},
                              {"firstSeq", s.firstSeq},
                              {"operations", s.operations},
                              {"startedAt", s.startedAt},
                              {"finishedAt", s.finishedAt},
                              {"soakUntil", s.soakUntil},
                              {"acknowledgedFailures", s.acknowledgedFailures}});
    return Json{{"stages", std::move(stages)},
                {"operations", r.operations},
                {"unstaged", r.unstaged},
                {"acknowledgedFailures", r.acknowledgedFailures}};
}

RolloutProgress rolloutFromStoreJson(const Json& j) {
    RolloutProgress r;
    if (!j.is_object()) throw std::invalid_argument("store record: rollout is not an object");
    if (auto it = j.find("stages"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) throw std::invalid_argument("store record: rollout.stages is not an array");
        for (const Json& js : *it) {
            StageProgress s;
            s.state = stateFrom<StageState>(js, "state", &parseStageState);
            read(js, "firstSeq", &s.firstSeq);
            read(js, "operations", &s.operations);
            read(js, "startedAt", &s.startedAt);
            read(js, "finishedAt", &s.finishedAt);
            read(js, "soakUntil", &s.soakUntil);
            read(js, "acknowledgedFailures", &s.acknowledgedFailures);
            r.stages.push_back(s);
        }
    }
    read(j, "operations", &r.operations);
    read(j, "unstaged", &r.unstaged);
    read(j, "acknowledgedFailures", &r.acknowledgedFailures);
    return r;
}

Json toStoreJson(const Orchestration& o) {
    Json j{{"orchestrationID", o.orchestrationID},
                {"type", toString(o.type)},
                {"state", toString(o.state)},
                {"description", o.description},
                {"createdAt", o.createdAt},
                {"updatedAt", o.updatedAt},
                {"parameters", toJson(o.parameters)},
                {"seq", o.seq}};
    // The wire's parameters show each stage's effective workers; the store form keeps whether the
    // request set them (a stage without workers reads back without them: lossless).
    const std::vector<Stage>& stages = o.parameters.strategy.stages;
    for (std::size_t k = 0; k < stages.size(); ++k)
        if (!stages[k].workers) j["parameters"]["strategy"]["stages"][k].erase("workers");
    if (!o.rollout.empty()) j["rollout"] = rolloutToStoreJson(o.rollout);
    return j;
}

Orchestration orchestrationFromStoreJson(const Json& j) {
    Orchestration o;
    o.orchestrationID = member(j, "orchestrationID").get<std::string>();
    o.type = stateFrom<OrchestrationType>(j, "type", &parseOrchestrationType);
    o.state = stateFrom<OrchestrationState>(j, "state", &parseOrchestrationState);
    read(j, "description", &o.description);
    read(j, "createdAt", &o.createdAt);
    read(j, "updatedAt", &o.updatedAt);
    o.parameters = parametersFromJson(member(j, "parameters"));
    read(j, "seq", &o.seq);
    if (auto it = j.find("rollout"); it != j.end() && !it->is_null()) o.rollout = rolloutFromStoreJson(*it);
    return o;
}

Json toStoreJson(const Operation& op) {
    Json j{{"operationID", op.operationID},
           {"orchestrationID", op.orchestrationID},
           {"runtimeID", op.runtimeID},
           {"instanceID", op.instanceID},
           {"globalAccountID", op.globalAccountID},
           {"subAccountID", op.subAccountID},
           {"servicePlanID", op.servicePlanID},
           {"servicePlanName", op.servicePlanName},
           {"region", op.region},
           {"shootName", op.shootName},
           {"dryRun", op.dryRun},
           {"maintenanceWindowBegin", op.maintenanceWindowBegin},
           {"maintenanceWindowEnd", op.maintenanceWindowEnd},
           {"state", toString(op.state)},
           {"description", op.description},
           {"createdAt", op.createdAt},
           {"updatedAt", op.updatedAt},
           {"seq", op.seq},
           {"startAt", op.startAt},
           {"startedAt", op.startedAt},
           {"upgradeStarted", op.upgradeStarted},
           {"immediate", op.immediate},
           {"retryOf", op.retryOf}};
    if (!op.stage.empty()) j["stage"] = op.stage;
    if (op.kymaConfig) j["kymaConfig"] = kymaJson(*op.kymaConfig);
    if (op.clusterConfig) j["clusterConfig"] = kubernetesJson(*op.clusterConfig);
    return j;
}

Operation operationFromStoreJson(const Json& j) {
    Operation op;
    op.operationID = member(j, "operationID").get<std::string>();
    op.orchestrationID = member(j, "orchestrationID").get<std::string>();
    op.runtimeID = member(j, "runtimeID").get<std::string>();
    read(j, "instanceID", &op.instanceID);
    read(j, "globalAccountID", &op.globalAccountID);
    read(j, "subAccountID", &op.subAccountID);
    read(j, "servicePlanID", &op.servicePlanID);
    read(j, "servicePlanName", &op.servicePlanName);
    read(j, "region", &op.region);
    read(j, "shootName", &op.shootName);
    read(j, "dryRun", &op.dryRun);
    read(j, "maintenanceWindowBegin", &op.maintenanceWindowBegin);
    read(j, "maintenanceWindowEnd", &op.maintenanceWindowEnd);
    op.state = stateFrom<OperationState>(j, "state", &parseOperationState);
    read(j, "description", &op.description);
    read(j, "createdAt", &op.createdAt);
    read(j, "updatedAt", &op.updatedAt);
    read(j, "seq", &op.seq);
    read(j, "startAt", &op.startAt);
    read(j, "startedAt", &op.startedAt);
    read(j, "upgradeStarted", &op.upgradeStarted);
    read(j, "immediate", &op.immediate);
    read(j, "retryOf", &op.retryOf);
    read(j, "stage", &op.stage);
    if (auto it = j.find("kymaConfig"); it != j.end() && !it->is_null()) op.kymaConfig = kymaFromJson(*it);
    if (auto it = j.find("clusterConfig"); it != j.end() && !it->is_null()) op.clusterConfig = kubernetesFromJson(*it);
    return op;
}

Json toStoreJson(const Runtime& r) {
    return Json{{"runtimeID", r.runtimeID},
                {"instanceID", r.instanceID},
                {"globalAccountID", r.globalAccountID},
                {"subAccountID", r.subAccountID},
                {"planID", r.planID},
                {"planName", r.planName},
                {"region", r.region},
                {"shootName", r.shootName},
                {"windowBegin", r.windowBegin},
                {"windowEnd", r.windowEnd},
                {"deprovisioning", r.deprovisioning},
                {"suspended", r.suspended},
                {"kubernetesVersion", r.kubernetesVersion},
                {"machineImage", r.machineImage},
                {"machineImageVersion", r.machineImageVersion}};
}

Runtime runtimeFromStoreJson(const Json& j) {
    Runtime r;
    r.runtimeID = member(j, "runtimeID").get<std::string>();
    read(j, "instanceID", &r.instanceID);
    read(j, "globalAccountID", &r.globalAccountID);
    read(j, "subAccountID", &r.subAccountID);
    read(j, "planID", &r.planID);
    read(j, "planName", &r.planName);
    read(j, "region", &r.region);
    read(j, "shootName", &r.shootName);
    read(j, "windowBegin", &r.windowBegin);
    read(j, "windowEnd", &r.windowEnd);
    read(j, "deprovisioning", &r.deprovisioning);
    read(j, "suspended", &r.suspended);
    read(j, "kubernetesVersion", &r.kubernetesVersion);
    read(j, "machineImage", &r.machineImage);
    read(j, "machineImageVersion", &r.machineImageVersion);
    return r;
}

bool jsonNestedDeeperThan(std::string_view s, int limit) {
    int depth = 0;
    bool inString = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (inString) {
            if (c == '\\') ++i;
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') inString = true;
        else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

// ---- direct serialisation ----

std::string dumpWire(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

namespace {
// 0: copied as is; 1: needs a backslash ('"', '\\'); 2: anything else (control byte, non-ASCII).
struct EscapeTable {
    unsigned char kind[256];
    constexpr EscapeTable() : kind() {
        for (int c = 0; c < 256; ++c) kind[c] = (c < 0x20 || c >= 0x7f) ? 2 : (c == '"' || c == '\\') ? 1 : 0;
    }
};
constexpr EscapeTable kEscape;
}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
    // Fast path: printable ASCII needs no escape but '"' and '\\'. Anything else (control bytes,
    // non-ASCII, possibly invalid UTF-8) goes through nlohmann, so the bytes always match dumpWire.
    unsigned char worst = 0;
    for (unsigned char c : s) worst |= kEscape.kind[c];
    if (worst & 2) {
        out += dumpWire(Json(std::string(s)));
        return;
    }
    out += '"';
    if (worst == 0) {
        out.append(s.data(), s.size());
    } else {
        for (char c : s) {
            if (kEscape.kind[static_cast<unsigned char>(c)]) out += '\\';
            out += c;
        }
    }
    out += '"';
}

OperationItemView itemView(const Operation& op) {
    OperationItemView v;
    v.operationID = op.operationID;
    v.runtimeID = op.runtimeID;
    v.globalAccountID = op.globalAccountID;
    v.subAccountID = op.subAccountID;
    v.orchestrationID = op.orchestrationID;
    v.servicePlanID = op.servicePlanID;
    v.servicePlanName = op.servicePlanName;
    v.shootName = op.shootName;
    v.description = op.description;
    v.dryRun = op.dryRun;
    v.maintenanceWindowBegin = op.maintenanceWindowBegin;
    v.maintenanceWindowEnd = op.maintenanceWindowEnd;
    v.state = op.state;
    v.stage = op.stage;
    return v;
}

void appendOperationItem(std::string& out, const OperationItemView& v) {
    using namespace std::string_view_literals;
    // Keys in nlohmann's (std::map) order, i.e. sorted bytewise.
    out += "{\"description\":"sv;
    appendJsonString(out, v.description);
    out += v.dryRun ? ",\"dryRun\":true,\"globalAccountID\":"sv : ",\"dryRun\":false,\"globalAccountID\":"sv;
    appendJsonString(out, v.globalAccountID);
    out += ",\"maintenanceWindowBegin\":"sv;
    if (v.maintenanceWindowBegin == 0) out += "\"\""sv;
    else appendJsonString(out, formatRfc3339(v.maintenanceWindowBegin));
    out += ",\"maintenanceWindowEnd\":"sv;
    if (v.maintenanceWindowEnd == 0) out += "\"\""sv;
    else appendJsonString(out, formatRfc3339(v.maintenanceWindowEnd));
    out += ",\"operationID\":"sv;
    appendJsonString(out, v.operationID);
    out += ",\"orchestrationID\":"sv;
    appendJsonString(out, v.orchestrationID);
    out += ",\"runtimeID\":"sv;
    appendJsonString(out, v.runtimeID);
    out += ",\"servicePlanID\":"sv;
    appendJsonString(out, v.servicePlanID);
    out += ",\"servicePlanName\":"sv;
    appendJsonString(out, v.servicePlanName);
    out += ",\"shootName\":"sv;
    appendJsonString(out, v.shootName);
    if (!v.stage.empty()) {  // SPEC 10: only on staged operations
        out += ",\"stage\":"sv;
        appendJsonString(out, v.stage);
    }
    out += ",\"state\":"sv;
    appendJsonString(out, toString(v.state));
    out += ",\"subAccountID\":"sv;
    appendJsonString(out, v.subAccountID);
    out += '}';
}

void appendPagePrefix(std::string& out, std::int64_t count) {
    out += "{\"count\":";
    out += std::to_string(count);
    out += ",\"data\":[";
}

void appendPageSuffix(std::string& out, std::int64_t totalCount) {
    out += "],\"totalCount\":";
    out += std::to_string(totalCount);
    out += '}';
}

void appendOperationStats(std::string& out, const OperationStats& stats) {
    // nlohmann's key order: "canceled", "failed", "in progress", "pending", "succeeded".
    static constexpr OperationState kSorted[] = {OperationState::Canceled, OperationState::Failed,
                                                 OperationState::InProgress, OperationState::Pending,
                                                 OperationState::Succeeded};
    char sep = '{';
    for (OperationState s : kSorted) {
        out += sep;
        sep = ',';
        appendJsonString(out, toString(s));
        out += ':';
        auto it = stats.find(s);
        out += std::to_string(it == stats.end() ? std::int64_t{0} : it->second);
    }
    out += '}';
}

std::string orchestrationWireText(const Orchestration& o, std::size_t* split) {
    std::string text = dumpWire(toJson(o));
    // {"createdAt":"..","description":".."} is a prefix of text up to its closing brace.
    const std::string head = dumpWire(Json{{"createdAt", formatRfc3339(o.createdAt)}, {"description", o.description}});
    const std::size_t at = head.size() - 1;
    if (text.compare(0, at, head, 0, at) != 0 || text.compare(at, 2, ",\"") != 0)
        throw std::logic_error("orchestrationWireText: unexpected key order");
    *split = at;
    return text;
}

std::string operationPageText(const Page<Operation>& page) {
    std::string out;
    out.reserve(64 + page.data.size() * 400);
    appendPagePrefix(out, page.count);
    bool first = true;
    for (const Operation& op : page.data) {
        if (!first) out += ',';
        first = false;
        appendOperationItem(out, itemView(op));
    }
    appendPageSuffix(out, page.totalCount);
    return out;
}

}  // namespace keb
