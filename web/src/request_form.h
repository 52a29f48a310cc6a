// The "new orchestration" form: its state and the request body it produces. The body is
// sent to POST /upgrade/kyma or /upgrade/cluster through the core's API router, exactly
// as an HTTP client would; validation errors come back from the router.
#pragma once
#include <string>
#include <vector>

#include "keb/wire.h"

namespace keb::web {

// One include/exclude rule row: a Target with one field set (or "all").
struct RuleRow {
    int field = 0;  // index into kRuleFields
    std::string value;
};

// Target fields in the order of the form's combo box; "all" takes no value.
inline constexpr const char* kRuleFields[] = {"all", "globalAccount", "subAccount", "region",
                                              "planName", "runtimeID", "shoot", "instanceID"};
inline constexpr int kRuleFieldCount = 8;

inline constexpr const char* kSchedules[] = {"immediate", "now", "maintenanceWindow (seed form)", "time (RFC 3339)"};

struct RequestForm {
    int type = 0;  // 0: upgradeKyma, 1: upgradeCluster
    std::vector<RuleRow> include{RuleRow{0, ""}};
    std::vector<RuleRow> exclude;
    int schedule = 0;                // index into kSchedules
    std::string scheduleTime;        // for schedule 3
    bool maintenanceWindow = false;  // KEB's later form: maintenanceWindow: true + schedule
    int workers = 10;
    bool dryRun = false;
    std::string kymaVersion = "2.20.0";
    std::string kubernetesVersion = "1.30.2";
    std::string machineImage = "gardenlinux";
    std::string machineImageVersion = "1443.3.0";
};

// "/upgrade/kyma" or "/upgrade/cluster".
std::string requestPath(const RequestForm& f);
// The JSON body of the request (see SPEC 3); rows with an empty value (other than "all") are left out.
Json requestBody(const RequestForm& f);

}  // namespace keb::web
