// kebctl: flag values -> the request body of POST /upgrade/kyma|cluster (SPEC 3 and 10).
// Pure functions; a bad value throws UsageError naming the flag (exit code 2).
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace kebctl {

using OJson = nlohmann::ordered_json;

// A usage error: bad flag value, missing flag. main() prints it and exits with 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// kcp's target string: "all" or comma-separated selectors account=RE, subaccount=RE, region=RE,
// runtime-id=ID, instance-id=ID, shoot=NAME, plan=NAME (ANDed). flag names the flag in messages
// ("--target", "--target-exclude", "--stage"). "all" is refused in an exclude.
OJson parseTarget(const std::string& text, const std::string& flag, bool include);

// SPEC 10 budget: "N" (integer >= 0) or "N%" (0..100). Returns a JSON number or string.
OJson parseBudget(const std::string& text, const std::string& flag);

// --stage NAME:TARGET[:workers=N][:soak=D][:max-failures=X]. An empty TARGET ("rest" or
// "rest::soak=1h") leaves the stage without targets: it takes the runtimes no earlier stage took.
OJson parseStage(const std::string& text);

// --blackout FROM/TO[/REASON] with RFC 3339 times, TO after FROM.
OJson parseBlackout(const std::string& text);

// Everything `kebctl upgrade kyma|cluster` puts into the body.
struct UpgradeFlags {
    std::string kind;  // "kyma" or "cluster"
    std::vector<std::string> targets, excludes;
    std::string strategy = "parallel";
    int parallelWorkers = 0;  // 0: not given (the server's default, 1)
    std::string schedule;     // "", now, immediate, maintenancewindow, RFC 3339
    bool maintenanceWindow = false;
    bool dryRun = false;
    std::string version;  // kyma
    std::string kubernetesVersion, machineImage, machineImageVersion;  // cluster
    std::vector<std::string> stages;
    std::string maxFailures;
    std::vector<std::string> blackouts;
    bool notification = false;
};

// The JSON body; throws UsageError.
OJson buildUpgradeBody(const UpgradeFlags& f);

// One line per target as kcp prints them ("account = CA.*,region = eu").
std::string describeTarget(const OJson& target);

}  // namespace kebctl
