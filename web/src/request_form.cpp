#include "request_form.h"

namespace keb::web {

std::string requestPath(const RequestForm& f) { return f.type == 1 ? "/upgrade/cluster" : "/upgrade/kyma"; }

namespace {

std::string trimmed(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Stage targets: exact-value fields (planName, runtimeID, shoot, instanceID) may list several
// values separated by commas, one include target each.
Json stageRulesJson(const std::vector<RuleRow>& rows) {
    Json out = Json::array();
    for (const RuleRow& r : rows) {
        if (r.field < 0 || r.field >= kRuleFieldCount) continue;
        if (r.field == 0) {
            out.push_back(Json{{"target", "all"}});
            continue;
        }
        if (r.field < 4) {
            if (!r.value.empty()) out.push_back(Json{{kRuleFields[r.field], r.value}});
            continue;
        }
        std::size_t pos = 0;
        while (pos <= r.value.size()) {
            std::size_t comma = r.value.find(',', pos);
            if (comma == std::string::npos) comma = r.value.size();
            std::string v = trimmed(r.value.substr(pos, comma - pos));
            if (!v.empty()) out.push_back(Json{{kRuleFields[r.field], v}});
            pos = comma + 1;
        }
    }
    return out;
}

}  // namespace

StageRow newStageRow(const RequestForm& f) {
    StageRow r;
    r.name = "stage-" + std::to_string(f.stages.size() + 1);
    r.include.push_back(RuleRow{3, ""});
    return r;
}

Json typedNumberOrString(const std::string& text) {
    const std::string t = trimmed(text);
    if (t.empty()) return nullptr;
    std::size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
    bool digits = i < t.size() && t.size() - i <= 18;
    for (std::size_t k = i; digits && k < t.size(); ++k) digits = t[k] >= '0' && t[k] <= '9';
    if (digits) return std::stoll(t);
    return t;
}

static Json rulesJson(const std::vector<RuleRow>& rows) {
    Json out = Json::array();
    for (const RuleRow& r : rows) {
        if (r.field < 0 || r.field >= kRuleFieldCount) continue;
        if (r.field == 0) {
            out.push_back(Json{{"target", "all"}});
        } else if (!r.value.empty()) {
            out.push_back(Json{{kRuleFields[r.field], r.value}});
        }
    }
    return out;
}

Json requestBody(const RequestForm& f) {
    Json strategy = {{"type", "parallel"}, {"parallel", {{"workers", f.workers}}}};
    switch (f.schedule) {
        case 1: strategy["schedule"] = "now"; break;
        case 2: strategy["schedule"] = "maintenanceWindow"; break;
        case 3: strategy["schedule"] = f.scheduleTime; break;
        default: strategy["schedule"] = "immediate"; break;
    }
    if (f.maintenanceWindow) strategy["maintenanceWindow"] = true;
    if (!f.stages.empty()) {
        Json stages = Json::array();
        for (const StageRow& r : f.stages) {
            Json st = {{"name", r.name}};
            Json include = stageRulesJson(r.include);
            if (!include.empty()) st["targets"] = {{"include", include}};
            if (Json w = typedNumberOrString(r.workers); !w.is_null()) st["workers"] = w;
            if (!trimmed(r.soak).empty()) st["soak"] = trimmed(r.soak);
            if (Json b = typedNumberOrString(r.maxFailures); !b.is_null()) st["maxFailures"] = b;
            stages.push_back(std::move(st));
        }
        strategy["stages"] = std::move(stages);
    }
    if (Json b = typedNumberOrString(f.maxFailures); !b.is_null()) strategy["maxFailures"] = b;
    if (!f.blackouts.empty()) {
        Json list = Json::array();
        for (const BlackoutRow& r : f.blackouts) {
            Json b = {{"from", trimmed(r.from)}, {"to", trimmed(r.to)}};
            if (!r.reason.empty()) b["reason"] = r.reason;
            list.push_back(std::move(b));
        }
        strategy["blackouts"] = std::move(list);
    }
    Json body = {{"targets", {{"include", rulesJson(f.include)}}}, {"strategy", strategy}, {"dryRun", f.dryRun}};
    Json exclude = rulesJson(f.exclude);
    if (!exclude.empty()) body["targets"]["exclude"] = exclude;
    if (f.type == 1) {
        body["kubernetes"] = {{"kubernetesVersion", f.kubernetesVersion},
                              {"machineImage", f.machineImage},
                              {"machineImageVersion", f.machineImageVersion}};
    } else {
        body["kyma"] = {{"version", f.kymaVersion}};
    }
    return body;
}

}  // namespace keb::web
