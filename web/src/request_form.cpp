#include "request_form.h"

namespace keb::web {

std::string requestPath(const RequestForm& f) { return f.type == 1 ? "/upgrade/cluster" : "/upgrade/kyma"; }

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
