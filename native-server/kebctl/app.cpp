// kebctl: the command line and the commands. See app.h and docs/kebctl.md.
#include "app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "client.h"
#include "config.h"
#include "output.h"
#include "request.h"

namespace kebctl {
namespace {

constexpr int kExitOk = 0, kExitApi = 1, kExitUsage = 2;
constexpr int kPageSize = 100;          // SPEC 13: orchestrations and operations
constexpr int kRuntimesPageSize = 1000;  // SPEC 12: /runtimes pages up to 1000

const char* kGlobalHelp = R"(Configuration (flags > environment > config file):
  config file   --config FILE, else $KCPCONFIG, else $HOME/.kcp/config.yaml; keys as the flags:
                keb-api-url, token, token-file, ca-cert, timeout (other keys are ignored)
  environment   KCP_KEB_API_URL, KCP_TOKEN, KCP_TOKEN_FILE, KCP_CA_CERT, KCP_TIMEOUT
Exit codes: 0 ok, 1 API or network error, 2 usage error.)";

// CLI state of every command (CLI11 binds into it).
struct Cli {
    GlobalFlags global;
    // orchestrations
    std::vector<std::string> oArgs, oStates, oOperations;
    std::string oOutput = "table";
    bool oNow = false, oYes = false;
    // upgrade
    UpgradeFlags up;
    std::string upOutput = "table";
    bool upPreview = false, upYes = false;
    // runtimes
    std::string rOutput = "table";
    std::vector<std::string> rAccounts, rRegions, rPlans, rStates;
};

void printJson(const OJson& j) { std::cout << j.dump(2, ' ', false, OJson::error_handler_t::replace) << '\n'; }

// Asks on the terminal; true when the answer is y/Y/yes. Without a terminal on stdin: true (no prompt).
bool confirm(const std::string& question, bool yes) {
    if (yes || !::isatty(STDIN_FILENO)) return true;
    std::cerr << question << "Do you want to continue? (Y/N) " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) answer.clear();
    while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
    if (answer == "Y" || answer == "y" || answer == "yes" || answer == "Yes") return true;
    std::cerr << "Aborted.\n";
    return false;
}

ApiClient makeClient(const Cli& cli) {
    return ApiClient(resolveSettings(cli.global, [](const char* n) { return std::getenv(n); }));
}

// -s/--state values (kcp's CLI names) -> API states.
std::string apiState(const std::string& s) {
    static const std::map<std::string, std::string> kStates = {
        {"pending", "pending"},     {"inprogress", "in progress"}, {"in progress", "in progress"},
        {"canceling", "canceling"}, {"canceled", "canceled"},      {"retrying", "retrying"},
        {"succeeded", "succeeded"}, {"failed", "failed"},          {"paused", "paused"}};
    auto it = kStates.find(s);
    if (it == kStates.end())
        throw UsageError("--state: invalid value \"" + s +
                         "\" (want canceled, canceling, failed, inprogress, paused, pending, retrying, succeeded)");
    return it->second;
}

// ------------------------------------------------------------------ orchestrations

int showList(ApiClient& api, const OutputFormat& out, const std::string& path, const Query& q,
             const std::vector<TableColumn>& columns) {
    OJson list = api.listAll(path, q, kPageSize);
    if (out.kind == OutputFormat::Json) printJson(list);
    else if (out.kind == OutputFormat::Custom) std::cout << renderCustom(out, list["data"]);
    else std::cout << renderItems(columns, list["data"]);
    return kExitOk;
}

int orchestrations(const Cli& cli) {
    const OutputFormat out = parseOutput(cli.oOutput);
    if (cli.oArgs.size() > 2) throw UsageError("orchestrations: at most 2 arguments (ID and ops|operations|cancel|retry|pause|resume)");
    const std::string id = cli.oArgs.empty() ? "" : cli.oArgs[0];
    const std::string sub = cli.oArgs.size() > 1 ? cli.oArgs[1] : "";
    if (!sub.empty() && sub != "ops" && sub != "operations" && sub != "cancel" && sub != "retry" && sub != "pause" &&
        sub != "resume")
        throw UsageError("orchestrations: invalid subcommand \"" + sub + "\" (want ops, operations, cancel, retry, pause or resume)");
    Query states;
    for (const auto& s : cli.oStates) states.emplace_back("state", apiState(s));
    if (!cli.oOperations.empty() && id.empty())
        throw UsageError("--operation: only with an orchestration ID (kebctl orchestrations ID --operation OID)");
    if (!cli.oOperations.empty() && !states.empty()) throw UsageError("--state: not together with --operation");
    if (!cli.oOperations.empty() && !sub.empty() && sub != "retry")
        throw UsageError("--operation: only with no subcommand (details) or with retry");
    if (cli.oNow && sub != "retry") throw UsageError("--now: only with retry (kebctl orchestrations ID retry --now)");
    if (!states.empty() && !(id.empty() || sub == "ops" || sub == "operations"))
        throw UsageError("--state: only when listing orchestrations or operations");
    if (out.kind == OutputFormat::Custom && (sub == "cancel" || sub == "pause" || sub == "resume" || sub == "retry"))
        throw UsageError("--output custom=...: not for " + sub + " (use table or json)");

    ApiClient api = makeClient(cli);
    if (id.empty()) return showList(api, out, "/orchestrations", states, orchestrationColumns());
    const std::string base = "/orchestrations/" + urlEncode(id);

    if (sub.empty() && cli.oOperations.empty()) {
        OJson o = api.get(base);
        if (out.kind == OutputFormat::Json) printJson(o);
        else if (out.kind == OutputFormat::Custom) std::cout << renderCustom(out, o);
        else std::cout << orchestrationDetails(o);
        return kExitOk;
    }
    if (sub.empty()) {  // --operation details
        OJson ops = OJson::array();
        for (const auto& op : cli.oOperations) ops.push_back(api.get(base + "/operations/" + urlEncode(op)));
        if (out.kind == OutputFormat::Json) printJson(ops.size() == 1 ? ops[0] : ops);
        else if (out.kind == OutputFormat::Custom) std::cout << renderCustom(out, ops);
        else
            for (std::size_t i = 0; i < ops.size(); ++i) std::cout << (i ? "\n" : "") << operationDetails(ops[i]);
        return kExitOk;
    }
    if (sub == "ops" || sub == "operations") return showList(api, out, base + "/operations", states, operationColumns());

    if (sub == "cancel") {
        OJson o = api.get(base);
        const std::string state = o.value("state", "");
        if (state == "canceling" || state == "canceled") {
            std::cout << "Orchestration is already canceled.\n";
            return kExitOk;
        }
        if (state == "succeeded" || state == "failed") {
            std::cerr << "Error: orchestration " << id << " is already " << state << "\n";
            return kExitApi;
        }
        const OJson stats = o.value("operationStats", OJson::object());
        auto count = [&](const char* k) { return stats.contains(k) && stats[k].is_number() ? stats[k].get<long long>() : 0LL; };
        if (!confirm(std::to_string(count("pending") + count("retrying")) + " pending operation(s) will be canceled, " +
                         std::to_string(count("in progress")) + " in progress operation(s) will still be completed.\n",
                     cli.oYes))
            return kExitOk;
        OJson r = api.put(base + "/cancel");
        if (out.kind == OutputFormat::Json) printJson(r);
        else std::cout << "Orchestration " << id << ": cancel accepted.\n";
        return kExitOk;
    }
    if (sub == "pause" || sub == "resume") {
        OJson r = api.put(base + "/" + sub);
        if (out.kind == OutputFormat::Json) printJson(r);
        else std::cout << "Orchestration " << id << (sub == "pause" ? " paused.\n" : " resumed.\n");
        return kExitOk;
    }
    // retry: KEB's form, operation-id (repeated) and immediate.
    std::string form;
    for (const auto& op : cli.oOperations) form += (form.empty() ? "" : "&") + std::string("operation-id=") + urlEncode(op);
    if (cli.oNow) form += (form.empty() ? "" : "&") + std::string("immediate=true");
    OJson r = api.post(base + "/retry", {}, form, "application/x-www-form-urlencoded");
    if (out.kind == OutputFormat::Json) printJson(r);
    else std::cout << retryResult(r);
    return kExitOk;
}

// ------------------------------------------------------------------ upgrade

std::string upgradeSummary(const OJson& body, const std::string& kind) {
    std::string s = kind == "kyma" ? "Upgrade Kyma" : "Upgrade the cluster (Kubernetes)";
    if (body.contains("kyma")) s += " to " + body["kyma"].value("version", "");
    if (body.contains("kubernetes")) {
        const OJson& k = body["kubernetes"];
        if (k.contains("kubernetesVersion")) s += " to Kubernetes " + k["kubernetesVersion"].get<std::string>();
        if (k.contains("machineImage")) s += ", machine image " + k["machineImage"].get<std::string>();
        if (k.contains("machineImageVersion")) s += " " + k["machineImageVersion"].get<std::string>();
    }
    s += " on:\n";
    for (const auto& t : body["targets"]["include"]) s += "  " + describeTarget(t) + "\n";
    if (body["targets"].contains("exclude")) {
        s += "excluding:\n";
        for (const auto& t : body["targets"]["exclude"]) s += "  " + describeTarget(t) + "\n";
    }
    const OJson& st = body["strategy"];
    s += "strategy parallel, schedule " + st.value("schedule", std::string("(server default)"));
    if (st.value("maintenanceWindow", false)) s += " in maintenance windows";
    if (st.contains("parallel")) s += ", " + st["parallel"]["workers"].dump() + " workers";
    if (st.contains("stages")) {
        s += ", stages";
        for (const auto& g : st["stages"]) s += " " + g["name"].get<std::string>();
    }
    if (st.contains("maxFailures")) s += ", max failures " + (st["maxFailures"].is_string() ? st["maxFailures"].get<std::string>() : st["maxFailures"].dump());
    if (st.contains("blackouts")) s += ", " + std::to_string(st["blackouts"].size()) + " blackout(s)";
    return s + ".\n";
}

int upgrade(const Cli& cli, const std::string& kind) {
    UpgradeFlags f = cli.up;
    f.kind = kind;
    const OJson body = buildUpgradeBody(f);
    const OutputFormat out = parseOutput(cli.upOutput);
    if (out.kind == OutputFormat::Custom) throw UsageError("--output: upgrade prints table or json");
    ApiClient api = makeClient(cli);
    const std::string path = "/upgrade/" + kind;
    if (cli.upPreview) {
        OJson p;
        try {
            p = api.post(path, {{"preview", "true"}}, body.dump(), "application/json");
        } catch (const ApiError& e) {
            const std::string m = e.what();
            if (e.status == 400 && m.find("preview") != std::string::npos)
                throw ApiError(m + " (this server does not support --preview yet)", e.status);
            throw;
        }
        if (out.kind == OutputFormat::Json) printJson(p);
        else std::cout << previewText(p);
        return kExitOk;
    }
    if (!f.dryRun && !confirm(upgradeSummary(body, kind), cli.upYes)) return kExitOk;
    OJson r = api.post(path, {}, body.dump(), "application/json");
    if (out.kind == OutputFormat::Json) printJson(r);
    else std::cout << "OrchestrationID: " << r.value("orchestrationID", "") << '\n';
    return kExitOk;
}

// ------------------------------------------------------------------ runtimes

int runtimes(const Cli& cli) {
    const OutputFormat out = parseOutput(cli.rOutput);
    Query q;
    for (const auto& v : cli.rAccounts) q.emplace_back("globalAccountID", v);
    for (const auto& v : cli.rRegions) q.emplace_back("region", v);
    for (const auto& v : cli.rPlans) q.emplace_back("planName", v);
    for (const auto& v : cli.rStates) q.emplace_back("state", apiState(v));
    ApiClient api = makeClient(cli);
    OJson list;
    try {
        list = api.listAll("/runtimes", q, kRuntimesPageSize);
    } catch (const ApiError& e) {
        if (e.status == 404 || e.status == 405)
            throw ApiError(std::string(e.what()) + " (this server does not serve GET /runtimes yet)", e.status);
        throw;
    }
    if (out.kind == OutputFormat::Json) printJson(list);
    else if (out.kind == OutputFormat::Custom) std::cout << renderCustom(out, list["data"]);
    else std::cout << renderItems(runtimeColumns(), list["data"]);
    return kExitOk;
}

// ------------------------------------------------------------------ the command line

void addOutput(CLI::App* c, std::string* target) {
    c->add_option("-o,--output", *target, "Output: table, json, or custom=<HEADER>:<jsonpath>,... (e.g. custom=\"ID:.orchestrationID,STATE:{.state}\")")
        ->default_str("table");
}

}  // namespace

int run(int argc, char** argv) {
    Cli cli;
    CLI::App app{"kebctl: orchestrations of Kyma runtime upgrades over the KEB API, in kcp's conventions."};
    app.name("kebctl");
    app.fallthrough();  // global flags also after the command
    app.require_subcommand(1);
    app.footer(std::string(kGlobalHelp) + R"(

Examples:
  kebctl orchestrations --state inprogress
  kebctl upgrade kyma --target all --version 2.20.0 --parallel-workers 5 --schedule now
  kebctl --keb-api-url http://127.0.0.1:8080 --token-file ~/keb.token o)");
    app.add_option("--config", cli.global.config, "Config file (default: $KCPCONFIG, else $HOME/.kcp/config.yaml)");
    app.add_option("--keb-api-url", cli.global.kebApiUrl, "KEB API URL, e.g. https://keb.example.com (env KCP_KEB_API_URL)");
    app.add_option("--token", cli.global.token, "Bearer token (env KCP_TOKEN)");
    app.add_option("--token-file", cli.global.tokenFile, "File holding the bearer token (env KCP_TOKEN_FILE)");
    app.add_option("--ca-cert", cli.global.caCert, "CA certificates (PEM) that sign the server's HTTPS certificate (env KCP_CA_CERT; default: the system's)");
    app.add_option("--timeout", cli.global.timeout, "Timeout of each request, e.g. 30s (env KCP_TIMEOUT; default 60s)");

    // orchestrations
    CLI::App* o = app.add_subcommand("orchestrations", "Displays orchestrations, their operations; cancels, retries, pauses, resumes them.");
    o->alias("orchestration")->alias("o");
    o->add_option("args", cli.oArgs, "[ID] [ops|operations|cancel|retry|pause|resume]");
    addOutput(o, &cli.oOutput);
    o->add_option("-s,--state", cli.oStates,
                  "Filter by state (repeat or comma list): pending, inprogress, canceling, canceled, retrying, succeeded, failed, paused")
        ->delimiter(',')
        ->allow_extra_args(false);
    o->add_option("--operation", cli.oOperations,
                  "Operation ID(s), comma list: details of these operations (with ID), or the operations to retry (with retry)")
        ->delimiter(',')
        ->allow_extra_args(false);
    o->add_flag("-n,--now", cli.oNow, "retry: run the retried operations now instead of in their next maintenance window");
    o->add_flag("--yes", cli.oYes, "cancel: no confirmation question (there is none without a terminal)");
    o->footer(R"(Modes:
  kebctl orchestrations                      list orchestrations (all pages), filtered by --state
  kebctl orchestrations ID                   details of one orchestration (stages, budgets, blackouts)
  kebctl orchestrations ID --operation OID   details of operations of that orchestration
  kebctl orchestrations ID ops|operations    its operations (all pages), filtered by --state
  kebctl orchestrations ID cancel            cancel: pending operations are canceled, those in progress end
  kebctl orchestrations ID retry             retry failed operations (all, or --operation OID,...; --now)
  kebctl orchestrations ID pause|resume      pause / resume a staged or running orchestration

Examples:
  kebctl orchestrations --state inprogress,paused
  kebctl o -o custom="ORCHESTRATION ID:{.orchestrationID},STATE:.state,WORKERS:.parameters.strategy.parallel.workers"
  kebctl o 0c4357f5-83e0-4b72-9472-49b5cd417c00 ops -s failed
  kebctl o 0c4357f5-83e0-4b72-9472-49b5cd417c00 --operation OID1,OID2 -o json
  kebctl o 0c4357f5-83e0-4b72-9472-49b5cd417c00 retry --operation OID1 --now
  kebctl o 0c4357f5-83e0-4b72-9472-49b5cd417c00 pause)");

    // upgrade kyma|cluster
    CLI::App* u = app.add_subcommand("upgrade", "Starts an upgrade orchestration (kyma or cluster).");
    u->alias("u");
    u->require_subcommand(1);
    u->footer(R"(Examples:
  kebctl upgrade kyma --target all --version 2.20.0 --schedule maintenancewindow
  kebctl upgrade cluster --target "region=europe|eu-" --kubernetes-version 1.28.3 --parallel-workers 10)");
    auto addUpgradeFlags = [&](CLI::App* c) {
        c->add_option("-t,--target", cli.up.targets,
                      "Runtimes to include (repeatable, at least one): all, or comma-separated (ANDed) account=RE, "
                      "subaccount=RE, region=RE, runtime-id=ID, instance-id=ID, shoot=NAME, plan=NAME")
            ->allow_extra_args(false);
        c->add_option("-e,--target-exclude", cli.up.excludes, "Runtimes to exclude (repeatable), selectors as --target")
            ->allow_extra_args(false);
        c->add_option("--strategy", cli.up.strategy, "Orchestration strategy (parallel)")->default_str("parallel");
        c->add_option("--parallel-workers", cli.up.parallelWorkers, "Operations running at once (default: the server's, 1)");
        c->add_option("--schedule", cli.up.schedule, "When to start: now, immediate, maintenancewindow, or an RFC 3339 time");
        c->add_flag("--maintenancewindow", cli.up.maintenanceWindow, "Upgrade each runtime in its own maintenance window");
        c->add_flag("--dry-run", cli.up.dryRun, "Resolve, schedule and record everything, change no runtime");
        c->add_option("--stage", cli.up.stages,
                      "A stage, in order (repeatable): NAME:TARGET[:workers=N][:soak=D][:max-failures=X]; the last "
                      "stage may leave TARGET empty (NAME or NAME::soak=1h) to take the rest")
            ->allow_extra_args(false);
        c->add_option("--max-failures", cli.up.maxFailures, "Failure budget of the orchestration: N or N% (paused above it)");
        c->add_option("--blackout", cli.up.blackouts, "No operation starts in FROM/TO (RFC 3339, repeatable), optional /REASON")
            ->allow_extra_args(false);
        c->add_flag("--notification", cli.up.notification, "Notify customers of the maintenance (\"notification\": true)");
        c->add_flag("--preview", cli.upPreview, "Print the server's prediction (POST ...?preview=true); nothing is started");
        c->add_flag("--yes", cli.upYes, "No confirmation question (there is none without a terminal)");
        c->add_option("-o,--output", cli.upOutput, "Output: table or json")->default_str("table");
    };
    CLI::App* uk = u->add_subcommand("kyma", "Upgrades Kyma on the target runtimes (POST /upgrade/kyma).");
    addUpgradeFlags(uk);
    uk->add_option("--version", cli.up.version, "Kyma version, e.g. 2.20.0 (default: the server's)");
    uk->footer(R"(Prints "OrchestrationID: <id>". On a terminal it asks for confirmation first (not with --yes, --dry-run, --preview).

Examples:
  kebctl upgrade kyma --target all --version 2.20.0 --parallel-workers 5 --schedule now
  kebctl upgrade kyma -t "account=CA.*" -e "region=us-" --version 2.20.0 --maintenancewindow
  kebctl upgrade kyma -t all --version 2.20.0 --parallel-workers 20 \
      --stage canary:region=westeurope:workers=2:soak=24h:max-failures=0 \
      --stage wave1:plan=azure:soak=12h:max-failures=2% --stage rest --max-failures 1%
  kebctl upgrade kyma -t all --version 2.20.0 --blackout 2026-12-24T00:00:00Z/2026-12-27T00:00:00Z/christmas
  kebctl upgrade kyma -t runtime-id=7a2e1c0f --version 2.20.0 --dry-run --yes)");
    CLI::App* uc = u->add_subcommand("cluster", "Upgrades Kubernetes (and the machine image) of the target runtimes (POST /upgrade/cluster).");
    addUpgradeFlags(uc);
    uc->add_option("--kubernetes-version", cli.up.kubernetesVersion, "Kubernetes version, e.g. 1.28.3");
    uc->add_option("--machine-image", cli.up.machineImage, "Machine image name, e.g. gardenlinux");
    uc->add_option("--machine-image-version", cli.up.machineImageVersion, "Machine image version, e.g. 1312.3.0");
    uc->footer(R"(Prints "OrchestrationID: <id>". On a terminal it asks for confirmation first (not with --yes, --dry-run, --preview).

Examples:
  kebctl upgrade cluster --target all --kubernetes-version 1.28.3 --maintenancewindow
  kebctl upgrade cluster -t "region=eu-" --kubernetes-version 1.28.3 --machine-image gardenlinux --machine-image-version 1312.3.0
  kebctl upgrade cluster -t all --kubernetes-version 1.28.3 --stage canary:plan=trial:soak=2h --stage rest --preview)");

    // runtimes
    CLI::App* r = app.add_subcommand("runtimes", "Displays the runtimes of the fleet as the server sees them (GET /runtimes).");
    r->alias("runtime")->alias("rt");
    addOutput(r, &cli.rOutput);
    r->add_option("-g,--account,--globalAccountID", cli.rAccounts, "Filter by global account ID (repeat or comma list)")->delimiter(',')->allow_extra_args(false);
    r->add_option("-R,--region", cli.rRegions, "Filter by region (repeat or comma list)")->delimiter(',')->allow_extra_args(false);
    r->add_option("-p,--plan,--planName", cli.rPlans, "Filter by plan name (repeat or comma list)")->delimiter(',')->allow_extra_args(false);
    r->add_option("-S,--state", cli.rStates, "Filter by the state of the latest operation (repeat or comma list)")->delimiter(',')->allow_extra_args(false);
    r->footer(R"(Examples:
  kebctl runtimes
  kebctl rt --region westeurope,northeurope -o json
  kebctl runtimes -S failed -o custom="RUNTIME:runtimeID,SHOOT:shootName,OPERATION:{.lastOperation.operationID}")");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUsage;
    }
    try {
        if (o->parsed()) return orchestrations(cli);
        if (uk->parsed()) return upgrade(cli, "kyma");
        if (uc->parsed()) return upgrade(cli, "cluster");
        if (r->parsed()) return runtimes(cli);
        std::cerr << app.help();
        return kExitUsage;
    } catch (const UsageError& e) {
        std::cerr << "Error: " << e.what() << "\nRun with --help for more information.\n";
        return kExitUsage;
    } catch (const ApiError& e) {
        std::cerr << "Error: " << e.what() << "\n";
        return kExitApi;
    }
}

}  // namespace kebctl
