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

// One stage of strategy.stages (SPEC 10). Text fields are sent as typed, so the router's 400
// names what is wrong: workers and budgets that are integers go as numbers, anything else
// ("5%", "abc") as a string.
struct StageRow {
    std::string name;
    // targets.include rows; none with a value: the stage has no targets (it takes the rest; only
    // the last stage may). Exact-value fields (runtimeID, shoot, instanceID, subAccount,
    // planName) may hold a comma-separated list: one include target per entry.
    std::vector<RuleRow> include;
    std::string workers;      // empty: strategy's workers
    std::string soak;         // empty: none; else a duration such as "24h"
    std::string maxFailures;  // empty: none; "2" or "5%"
};

// One entry of strategy.blackouts.
struct BlackoutRow {
    std::string from, to;  // RFC 3339
    std::string reason;
};

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
    // SPEC 10 (all optional; left out of the body when empty)
    std::vector<StageRow> stages;
    std::string maxFailures;  // budget of the whole orchestration: "10" or "1%"
    std::vector<BlackoutRow> blackouts;
};

// A new stage row for the form: named stage-<n> (n = stages so far + 1), one empty region rule.
StageRow newStageRow(const RequestForm& f);
// A budget or count typed into the form: integers (optionally signed) as JSON numbers, anything
// else as a string; empty (or only blanks): null (left out).
Json typedNumberOrString(const std::string& text);

// "/upgrade/kyma" or "/upgrade/cluster".
std::string requestPath(const RequestForm& f);
// The JSON body of the request (see SPEC 3, and SPEC 10 for stages, maxFailures, blackouts);
// rows with an empty value (other than "all") are left out.
Json requestBody(const RequestForm& f);

}  // namespace keb::web
