// Scenario parser: every error names the file and the JSON path of the field.
#include "keb/sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "keb/sim/checker.h"
#include "keb/sim/scenario_node.h"
#include "keb/timefmt.h"
#include "keb/validate.h"
#include "keb/wire.h"
#include "keb/windows.h"

namespace keb::sim {

std::string CountExpect::describe() const {
    if (min && max && *min == *max) return std::to_string(*min);
    if (min && max) return std::to_string(*min) + ".." + std::to_string(*max);
    if (min) return ">= " + std::to_string(*min);
    if (max) return "<= " + std::to_string(*max);
    return "any";
}

std::optional<Millis> parseOffset(std::string_view s) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    Millis total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        std::int64_t n = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            n = n * 10 + (s[i] - '0');
            if (n > 1000000000) return std::nullopt;
            ++i;
        }
        std::string_view unit;
        const std::size_t u0 = i;
        while (i < s.size() && (s[i] < '0' || s[i] > '9')) ++i;
        unit = s.substr(u0, i - u0);
        Millis mul = 0;
        if (unit == "ms") mul = 1;
        else if (unit == "s") mul = kSecond;
        else if (unit == "m") mul = kMinute;
        else if (unit == "h") mul = kHour;
        else if (unit == "d") mul = kDay;
        else return std::nullopt;
        total += n * mul;
    }
    return total;
}

namespace {

using Node = ScenarioNode;

world::Weighted weighted(const Node& n) {
    n.requireObject();
    world::Weighted w;
    for (auto it = n.json().begin(); it != n.json().end(); ++it) {
        if (!it.value().is_number() || it.value().get<double>() < 0) n[it.key()].fail("expected a weight >= 0");
        w.emplace_back(it.key(), it.value().get<double>());
    }
    if (w.empty()) n.fail("expected at least one entry");
    return w;
}

std::map<std::string, double> probabilities(const Node& n) {
    n.requireObject();
    std::map<std::string, double> m;
    for (auto it = n.json().begin(); it != n.json().end(); ++it) m[it.key()] = n[it.key()].probability();
    return m;
}

void checkWindowTime(const Node& n, const std::string& v) {
    if (!parseWindowTime(v)) n.fail("expected a Gardener window time HHMMSS+HHMM, e.g. \"220000+0000\"");
}

Runtime parseRuntime(const Node& n, std::size_t i) {
    n.onlyKeys({"runtimeID", "instanceID", "globalAccountID", "subAccountID", "planName", "planID", "region",
                "shootName", "windowBegin", "windowEnd", "deprovisioning", "suspended", "kubernetesVersion",
                "machineImage", "machineImageVersion"});
    if (!n.has("runtimeID")) n.fail("runtimeID is required");
    Runtime r;
    r.runtimeID = n["runtimeID"].str();
    if (r.runtimeID.empty()) n["runtimeID"].fail("must not be empty");
    auto s = [&](const char* k, std::string def) { return n.has(k) ? n[k].str() : def; };
    r.instanceID = s("instanceID", "instance-" + r.runtimeID);
    r.globalAccountID = s("globalAccountID", "ga-explicit");
    r.subAccountID = s("subAccountID", "sa-explicit");
    r.planName = s("planName", "azure");
    r.planID = s("planID", world::planIdFor(r.planName));
    r.region = s("region", "westeurope");
    r.shootName = s("shootName", "x-" + std::to_string(i));
    r.windowBegin = s("windowBegin", "000000+0000");
    r.windowEnd = s("windowEnd", "010000+0000");
    // Unparsable windows are allowed on purpose (the engine must skip them); only the type is checked.
    r.deprovisioning = n.has("deprovisioning") && n["deprovisioning"].boolean();
    r.suspended = n.has("suspended") && n["suspended"].boolean();
    r.kubernetesVersion = s("kubernetesVersion", "1.29.5");
    r.machineImage = s("machineImage", "gardenlinux");
    r.machineImageVersion = s("machineImageVersion", "1443.3.0");
    return r;
}

world::FleetSpec parseFleet(const Node& n) {
    n.onlyKeys({"size", "globalAccounts", "subAccounts", "accountSkew", "plans", "regionSkew", "operatorWindowShare",
                "windowOffsets", "kubernetesVersions", "deletingShare", "suspendedShare", "runtimes"});
    world::FleetSpec f;
    if (n.has("size")) f.size = static_cast<int>(n["size"].integer(0, 2000000));
    if (n.has("globalAccounts")) f.globalAccounts = static_cast<int>(n["globalAccounts"].integer(1, 2000000));
    if (n.has("subAccounts")) f.subAccounts = static_cast<int>(n["subAccounts"].integer(1, 2000000));
    if (n.has("accountSkew")) f.accountSkew = n["accountSkew"].number(1.0, 10.0);
    if (n.has("plans")) f.plans = weighted(n["plans"]);
    if (n.has("regionSkew")) f.regionSkew = n["regionSkew"].number(1.0, 10.0);
    if (n.has("operatorWindowShare")) f.operatorWindowShare = n["operatorWindowShare"].probability();
    if (n.has("windowOffsets")) {
        f.windowOffsets = n["windowOffsets"].strings();
        for (std::size_t i = 0; i < f.windowOffsets.size(); ++i)
            if (!parseWindowTime("000000" + f.windowOffsets[i]))
                n["windowOffsets"].at(i).fail("expected an offset like \"+0530\" or \"-0800\"");
    }
    if (n.has("kubernetesVersions")) f.kubernetesVersions = weighted(n["kubernetesVersions"]);
    if (n.has("deletingShare")) f.deletingShare = n["deletingShare"].probability();
    if (n.has("suspendedShare")) f.suspendedShare = n["suspendedShare"].probability();
    if (n.has("runtimes")) {
        Node rs = n["runtimes"];
        rs.requireArray();
        std::set<std::string> seen;
        for (std::size_t i = 0; i < rs.size(); ++i) {
            f.extra.push_back(parseRuntime(rs.at(i), i));
            if (!seen.insert(f.extra.back().runtimeID).second) rs.at(i)["runtimeID"].fail("duplicate runtimeID");
        }
    }
    return f;
}

world::DurationDist parseDurationDist(const Node& n) {
    n.onlyKeys({"distribution", "value", "min", "max", "median", "sigma", "mean"});
    world::DurationDist d;
    const std::string kind = n.has("distribution") ? n["distribution"].str() : "uniform";
    if (kind == "fixed") d.kind = world::DurationDist::Kind::Fixed;
    else if (kind == "uniform") d.kind = world::DurationDist::Kind::Uniform;
    else if (kind == "lognormal") d.kind = world::DurationDist::Kind::LogNormal;
    else if (kind == "exponential") d.kind = world::DurationDist::Kind::Exponential;
    else n["distribution"].fail("expected one of fixed, uniform, lognormal, exponential");
    if (n.has("value")) d.value = n["value"].duration();
    if (n.has("min")) d.min = n["min"].duration();
    if (n.has("max")) d.max = n["max"].duration();
    if (n.has("median")) d.median = n["median"].duration();
    if (n.has("sigma")) d.sigma = n["sigma"].number(0.0, 5.0);
    if (n.has("mean")) d.mean = n["mean"].duration();
    if (d.kind == world::DurationDist::Kind::Fixed && !n.has("value")) n.fail("a fixed distribution needs \"value\"");
    if (d.kind != world::DurationDist::Kind::Fixed && d.max < d.min) n["max"].fail("must not be below min");
    if (d.kind == world::DurationDist::Kind::LogNormal && !n.has("max")) d.max = 24 * kHour;
    if (d.kind == world::DurationDist::Kind::Exponential && !n.has("max")) d.max = 24 * kHour;
    if (d.kind != world::DurationDist::Kind::Uniform && !n.has("min")) d.min = kSecond;
    return d;
}

void parseFaults(const Node& n, Scenario& sc) {
    n.onlyKeys({"failureProbability", "failureByRegion", "failureByPlan", "failureReason", "hangProbability",
                "duration", "gardenerOutages", "disappear", "failureBursts", "backendLatency", "notificationOutages"});
    world::FaultPlan& f = sc.faults;
    if (n.has("failureProbability")) f.failureProbability = n["failureProbability"].probability();
    if (n.has("failureByRegion")) f.failureByRegion = probabilities(n["failureByRegion"]);
    if (n.has("failureByPlan")) f.failureByPlan = probabilities(n["failureByPlan"]);
    if (n.has("failureReason")) f.failureReason = n["failureReason"].str();
    if (n.has("hangProbability")) f.hangProbability = n["hangProbability"].probability();
    if (n.has("duration")) f.duration = parseDurationDist(n["duration"]);
    if (n.has("backendLatency")) f.backendLatency = n["backendLatency"].duration();
    if (n.has("gardenerOutages")) {
        Node a = n["gardenerOutages"];
        a.requireArray();
        for (std::size_t i = 0; i < a.size(); ++i) {
            Node o = a.at(i);
            o.onlyKeys({"from", "to", "error"});
            if (!o.has("from") || !o.has("to")) o.fail("from and to are required");
            Scenario::Outage out{o["from"].time(sc.start), o["to"].time(sc.start), o.has("error") ? o["error"].str() : ""};
            if (out.to <= out.from) o["to"].fail("must be after from");
            sc.outages.push_back(std::move(out));
        }
    }
    if (n.has("notificationOutages")) {  // SPEC 14: the notification service is down
        Node a = n["notificationOutages"];
        a.requireArray();
        for (std::size_t i = 0; i < a.size(); ++i) {
            Node o = a.at(i);
            o.onlyKeys({"from", "to"});
            if (!o.has("from") || !o.has("to")) o.fail("from and to are required");
            Scenario::NotificationOutage out{o["from"].time(sc.start), o["to"].time(sc.start)};
            if (out.to <= out.from) o["to"].fail("must be after from");
            sc.notificationOutages.push_back(out);
        }
    }
    if (n.has("failureBursts")) {
        Node a = n["failureBursts"];
        a.requireArray();
        for (std::size_t i = 0; i < a.size(); ++i) {
            Node o = a.at(i);
            o.onlyKeys({"from", "to", "probability", "region"});
            if (!o.has("from") || !o.has("to")) o.fail("from and to are required");
            world::FailureBurst b{o["from"].time(sc.start), o["to"].time(sc.start),
                           o.has("probability") ? o["probability"].probability() : 1.0,
                           o.has("region") ? o["region"].str() : std::string()};
            if (b.to <= b.from) o["to"].fail("must be after from");
            f.bursts.push_back(b);
        }
    }
    if (n.has("disappear")) {
        Node a = n["disappear"];
        a.requireArray();
        for (std::size_t i = 0; i < a.size(); ++i) {
            Node o = a.at(i);
            o.onlyKeys({"at", "count", "runtimeIDs"});
            if (!o.has("at")) o.fail("at is required");
            Scenario::Disappearance d;
            d.at = o["at"].time(sc.start);
            if (o.has("count")) d.count = static_cast<int>(o["count"].integer(1, 2000000));
            if (o.has("runtimeIDs")) d.runtimeIDs = o["runtimeIDs"].strings();
            if (d.count == 0 && d.runtimeIDs.empty()) o.fail("count or runtimeIDs is required");
            sc.disappearances.push_back(std::move(d));
        }
    }
}

// SPEC 10: engine.blackouts, the server-wide blackouts (keb-server --blackouts FILE). Parsed by the
// core's parseBlackouts, so errors are the server's, with the JSON path ("engine.blackouts[1].to:
// must be after from"). Besides RFC 3339, `from` and `to` may be offsets from the scenario start.
std::vector<Blackout> parseEngineBlackouts(const Node& n, Millis start) {
    Json list = n.json();
    if (list.is_array())
        for (auto& b : list)
            if (b.is_object())
                for (const char* key : {"from", "to"})
                    if (b.contains(key) && b[key].is_string()) {
                        const std::string v = b[key].get<std::string>();
                        if (v.starts_with("+"))
                            if (auto d = parseOffset(v)) b[key] = formatRfc3339(start + *d);
                    }
    std::string err;
    auto out = parseBlackouts(list, n.path(), &err);
    if (!out) n.failNamed(err.empty() ? n.path() + ": invalid blackouts" : err);
    return std::move(*out);
}

void parseEngine(const Node& n, EngineConfig& c, Millis start) {
    n.onlyKeys({"pollInterval", "stepRetryInterval", "operationTimeout", "resolveRetryInterval", "resolveTimeout",
                "maintenancePolicy", "blackouts", "notifications"});
    auto positive = [&](const char* k, Millis& out) {
        if (!n.has(k)) return;
        out = n[k].duration();
        if (out <= 0) n[k].fail("must be a positive duration");
    };
    positive("pollInterval", c.pollInterval);
    positive("stepRetryInterval", c.stepRetryInterval);
    positive("operationTimeout", c.operationTimeout);
    positive("resolveRetryInterval", c.resolveRetryInterval);
    positive("resolveTimeout", c.resolveTimeout);
    if (n.has("maintenancePolicy")) {
        Node p = n["maintenancePolicy"];
        p.requireObject();
        std::string err;
        auto policy = parseMaintenancePolicy(p.json().dump(), &err);
        if (!policy) p.fail(err.empty() ? "invalid maintenance policy" : err);
        c.policy = std::move(*policy);
    }
    if (n.has("blackouts")) c.blackouts = parseEngineBlackouts(n["blackouts"], start);
    if (n.has("notifications")) c.notifications = n["notifications"].boolean();  // SPEC 14
}

}  // namespace

CountExpect parseCount(const Node& n) {
    CountExpect c;
    if (n.json().is_object()) {
        n.onlyKeys({"min", "max"});
        if (n.has("min")) c.min = n["min"].integer(0, INT64_MAX / 2);
        if (n.has("max")) c.max = n["max"].integer(0, INT64_MAX / 2);
        if (!c.min && !c.max) n.fail("expected min and/or max");
        if (c.min && c.max && *c.max < *c.min) n["max"].fail("must not be below min");
        return c;
    }
    c.min = c.max = n.integer(0, INT64_MAX / 2);
    return c;
}

std::map<OperationState, CountExpect> parseStateCounts(const Node& n) {
    n.requireObject();
    std::map<OperationState, CountExpect> m;
    for (auto it = n.json().begin(); it != n.json().end(); ++it) {
        Node v = n[it.key()];
        auto s = parseOperationState(it.key());
        if (!s) v.fail("unknown operation state (pending, in progress, succeeded, failed, canceled)");
        m[*s] = parseCount(v);
    }
    return m;
}

OrchestrationExpect parseOrchExpect(const Node& n, int defaultIndex, int submitCount, bool allowIndex) {
    OrchestrationExpect e;
    e.index = defaultIndex;
    if (allowIndex && n.has("index")) e.index = static_cast<int>(n["index"].integer(0, 1000000));
    if (e.index >= submitCount)
        (allowIndex && n.has("index") ? n["index"] : n)
            .fail("refers to submit #" + std::to_string(e.index) + " but the timeline has " +
                  std::to_string(submitCount) + " submit event(s)");
    if (n.has("state")) {
        auto s = parseOrchestrationState(n["state"].str());
        if (!s) n["state"].fail("unknown orchestration state");
        e.state = s;
    }
    if (n.has("description")) e.description = n["description"].str();
    if (n.has("operations")) e.operations = parseStateCounts(n["operations"]);
    if (n.has("totalOperations")) e.totalOperations = parseCount(n["totalOperations"]);
    return e;
}

namespace {

// An HTTP status, or a non-empty list of statuses any of which is expected.
std::vector<int> statuses(const Node& n) {
    if (!n.json().is_array()) return {static_cast<int>(n.integer(100, 599))};
    if (n.size() == 0) n.fail("expected an HTTP status or a non-empty list of them");
    std::vector<int> out;
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(static_cast<int>(n.at(i).integer(100, 599)));
    return out;
}

// A submit the scenario expects to be accepted: no expectStatus (202), or only 2xx statuses.
bool expectsAcceptance(const std::vector<int>& expectStatus) {
    for (int s : expectStatus)
        if (s < 200 || s > 299) return false;
    return true;
}

// The body of a submit that is expected to be accepted must be a valid request: a typo in a
// scenario (e.g. a bad stage) is the file's error (exit 2), named by its JSON path, e.g.
// "timeline[0].body.strategy.stages[1].maxFailures: invalid percent \"5\"", not a failed check
// at run time. The core's validator (the server's 400 messages) decides.
void validateBody(const Node& body, OrchestrationType type) {
    std::string err;
    if (parseUpgradeRequest(type, body.json(), &err)) return;
    // The validator names the field from the body's root ("strategy.stages[1].maxFailures: ...");
    // when its first segment is a key of the body, the message continues the body's path.
    std::size_t end = 0;
    while (end < err.size() && err[end] != '.' && err[end] != '[' && err[end] != ':' && err[end] != ' ') ++end;
    const std::string first = err.substr(0, end);
    if (!first.empty() && body.json().is_object() && body.json().contains(first))
        body.failNamed(body.path() + "." + err);
    body.fail(err.empty() ? "invalid request body" : err);
}

int orchestrationRef(const Node& ev, TimelineEvent& t, int submitsSoFar) {
    if (ev.has("orchestrationID")) {
        t.orchestrationID = ev["orchestrationID"].str();
        return -1;
    }
    if (!ev.has("orchestration")) ev.fail("orchestration (index of a submit event) or orchestrationID is required");
    const int i = static_cast<int>(ev["orchestration"].integer(0, 1000000));
    if (i >= submitsSoFar)
        ev["orchestration"].fail("refers to submit #" + std::to_string(i) + " but only " +
                                 std::to_string(submitsSoFar) + " submit event(s) come before it");
    return i;
}

void parseTimeline(const Node& n, Scenario& sc) {
    n.requireArray();
    // Sort by time first (stable), then validate references in time order.
    std::vector<std::pair<Millis, std::size_t>> order;
    for (std::size_t i = 0; i < n.size(); ++i) {
        Node ev = n.at(i);
        ev.requireObject();
        if (!ev.has("at")) ev.fail("at is required");
        order.emplace_back(ev["at"].time(sc.start), i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    int submits = 0;
    for (auto [at, i] : order) {
        Node ev = n.at(i);
        TimelineEvent t;
        t.at = at;
        t.path = ev.path();
        if (at < sc.start) ev["at"].fail("is before the scenario start");
        if (!ev.has("event")) ev.fail("event is required");
        const std::string kind = ev["event"].str();
        if (kind == "submit") {
            ev.onlyKeys({"at", "event", "kind", "body", "expectStatus", "comment"});
            t.kind = TimelineEvent::Kind::Submit;
            const std::string k = ev.has("kind") ? ev["kind"].str() : "kyma";
            if (k == "kyma") t.type = OrchestrationType::UpgradeKyma;
            else if (k == "cluster") t.type = OrchestrationType::UpgradeCluster;
            else ev["kind"].fail("expected \"kyma\" or \"cluster\"");
            if (!ev.has("body")) ev.fail("body is required (the request body of POST /upgrade/" + k + ")");
            // Any JSON is passed to the API as is (a string is sent verbatim, for malformed bodies).
            t.body = ev["body"].json().is_string() ? ev["body"].json().get<std::string>() : ev["body"].json().dump();
            if (ev.has("expectStatus")) t.expectStatus = statuses(ev["expectStatus"]);
            if (!ev["body"].json().is_string() && expectsAcceptance(t.expectStatus))
                validateBody(ev["body"], t.type);
            t.submitIndex = submits++;
        } else if (kind == "api") {
            ev.onlyKeys({"at", "event", "method", "path", "body", "expectStatus", "comment"});
            t.kind = TimelineEvent::Kind::Api;
            if (!ev.has("method") || !ev.has("path")) ev.fail("method and path are required");
            t.method = ev["method"].str();
            t.apiPath = ev["path"].str();
            if (ev.has("body"))
                t.body = ev["body"].json().is_string() ? ev["body"].json().get<std::string>() : ev["body"].json().dump();
            if (ev.has("expectStatus")) t.expectStatus = statuses(ev["expectStatus"]);
        } else if (kind == "cancel") {
            ev.onlyKeys({"at", "event", "orchestration", "orchestrationID", "expectStatus", "comment"});
            t.kind = TimelineEvent::Kind::Cancel;
            t.orchestration = orchestrationRef(ev, t, submits);
            if (ev.has("expectStatus")) t.expectStatus = statuses(ev["expectStatus"]);
        } else if (kind == "retry") {
            ev.onlyKeys({"at", "event", "orchestration", "orchestrationID", "operationIDs", "all", "immediate",
                         "expectStatus", "comment"});
            t.kind = TimelineEvent::Kind::Retry;
            t.orchestration = orchestrationRef(ev, t, submits);
            if (ev.has("operationIDs")) t.operationIDs = ev["operationIDs"].strings();
            if (ev.has("all") && !ev["all"].boolean() && t.operationIDs.empty())
                ev["all"].fail("all=false needs operationIDs");
            if (ev.has("all") && ev["all"].boolean() && !t.operationIDs.empty())
                ev["all"].fail("all=true and operationIDs exclude each other");
            if (ev.has("immediate")) t.immediate = ev["immediate"].boolean();
            if (ev.has("expectStatus")) t.expectStatus = statuses(ev["expectStatus"]);
        } else if (kind == "pause" || kind == "resume") {
            ev.onlyKeys({"at", "event", "orchestration", "orchestrationID", "expectStatus", "comment"});
            t.kind = kind == "pause" ? TimelineEvent::Kind::Pause : TimelineEvent::Kind::Resume;
            t.orchestration = orchestrationRef(ev, t, submits);
            if (ev.has("expectStatus")) t.expectStatus = statuses(ev["expectStatus"]);
        } else if (kind == "restart") {
            ev.onlyKeys({"at", "event", "comment"});
            t.kind = TimelineEvent::Kind::Restart;
        } else if (kind == "setWindow") {
            ev.onlyKeys({"at", "event", "runtimeID", "shoot", "begin", "end", "comment"});
            t.kind = TimelineEvent::Kind::SetWindow;
            if (ev.has("runtimeID")) t.runtimeIDs.push_back(ev["runtimeID"].str());
            else if (ev.has("shoot")) t.shoots.push_back(ev["shoot"].str());
            else ev.fail("runtimeID or shoot is required");
            if (!ev.has("begin") || !ev.has("end")) ev.fail("begin and end are required");
            t.windowBegin = ev["begin"].str();
            t.windowEnd = ev["end"].str();
            checkWindowTime(ev["begin"], t.windowBegin);
            checkWindowTime(ev["end"], t.windowEnd);
        } else if (kind == "advance") {
            ev.onlyKeys({"at", "event", "comment"});
            t.kind = TimelineEvent::Kind::Advance;
        } else if (kind == "outage") {
            ev.onlyKeys({"at", "event", "for", "error", "comment"});
            t.kind = TimelineEvent::Kind::Outage;
            if (!ev.has("for")) ev.fail("for (a duration) is required");
            t.span = ev["for"].duration();
            if (ev.has("error")) t.error = ev["error"].str();
        } else if (kind == "failureBurst") {
            ev.onlyKeys({"at", "event", "for", "probability", "region", "comment"});
            t.kind = TimelineEvent::Kind::FailureBurst;
            if (!ev.has("for")) ev.fail("for (a duration) is required");
            t.span = ev["for"].duration();
            if (ev.has("probability")) t.probability = ev["probability"].probability();
            if (ev.has("region")) t.region = ev["region"].str();
        } else if (kind == "disappear") {
            ev.onlyKeys({"at", "event", "count", "runtimeIDs", "comment"});
            t.kind = TimelineEvent::Kind::Disappear;
            if (ev.has("count")) t.count = static_cast<int>(ev["count"].integer(1, 2000000));
            if (ev.has("runtimeIDs")) t.runtimeIDs = ev["runtimeIDs"].strings();
            if (t.count == 0 && t.runtimeIDs.empty()) ev.fail("count or runtimeIDs is required");
        } else if (kind == "storeFailure") {
            ev.onlyKeys({"at", "event", "writes", "comment"});
            t.kind = TimelineEvent::Kind::StoreFailure;
            t.count = ev.has("writes") ? static_cast<int>(ev["writes"].integer(1, 1000)) : 1;
        } else if (kind == "check") {
            ev.onlyKeys({"at", "event", "orchestration", "state", "description", "operations", "totalOperations",
                         "comment"});
            t.kind = TimelineEvent::Kind::Check;
            if (!ev.has("orchestration")) ev.fail("orchestration (index of a submit event) is required");
            t.check = parseOrchExpect(ev, static_cast<int>(ev["orchestration"].integer(0, 1000000)), submits, false);
            t.orchestration = t.check.index;
        } else {
            ev["event"].fail("unknown event (submit, api, cancel, retry, pause, resume, restart, setWindow, advance, "
                             "outage, failureBurst, disappear, storeFailure, check)");
        }
        sc.timeline.push_back(std::move(t));
    }
    sc.submitCount = submits;
}

// Every key of "expect" is a checker's name (checker.h); the checker parses its own value.
void parseExpect(const Node& n, Scenario& sc) {
    n.requireObject();
    const auto& checkers = checkerRegistry();
    for (auto it = n.json().begin(); it != n.json().end(); ++it) {
        const CheckerSpec* spec = findChecker(it.key());
        if (!spec) {
            std::string list;
            for (const CheckerSpec* c : checkers) list += std::string(list.empty() ? "" : ", ") + c->name;
            n[it.key()].fail("unknown field (allowed: " + list + ")");
        }
        if (it.value().is_null()) continue;
        spec->parse(n[it.key()], sc);
    }
}

}  // namespace

Scenario parseScenario(const std::string& jsonText, const std::string& file) {
    if (jsonNestedDeeperThan(jsonText))
        throw ScenarioError(file + ": invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    Json j;
    try {
        j = Json::parse(jsonText);
    } catch (const std::exception& ex) {
        std::string msg = ex.what();
        // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> keep from "parse error".
        if (auto p = msg.find("parse error"); p != std::string::npos) msg = msg.substr(p);
        throw ScenarioError(file + ": invalid JSON: " + msg);
    }
    Scenario sc;
    sc.file = file;
    Node root(j, "", file);
    root.onlyKeys({"name", "description", "long", "seed", "start", "end", "maxDuration", "fleet", "faults", "engine",
                   "timeline", "expect", "comment"});
    sc.name = root.has("name") ? root["name"].str() : file;
    if (root.has("description")) sc.description = root["description"].str();
    if (root.has("long")) sc.longRunning = root["long"].boolean();
    if (root.has("seed")) sc.seed = static_cast<std::uint64_t>(root["seed"].integer(0, INT64_MAX));
    sc.start = parseRfc3339("2026-01-05T00:00:00Z").value_or(0);  // a Monday
    if (root.has("start")) {
        auto t = root["start"].json().is_string() ? parseRfc3339(root["start"].str()) : std::nullopt;
        if (!t) root["start"].fail("expected RFC 3339 time, e.g. \"2026-01-05T00:00:00Z\"");
        sc.start = *t;
    }
    sc.end = sc.start + 30 * kDay;
    if (root.has("maxDuration")) sc.end = sc.start + root["maxDuration"].duration();
    if (root.has("end")) sc.end = root["end"].time(sc.start);
    if (sc.end <= sc.start) (root.has("end") ? root["end"] : root["maxDuration"]).fail("must be after the start");
    if (root.has("fleet")) sc.fleet = parseFleet(root["fleet"]);
    if (root.has("faults")) parseFaults(root["faults"], sc);
    if (root.has("engine")) parseEngine(root["engine"], sc.engine, sc.start);
    if (root.has("timeline")) parseTimeline(root["timeline"], sc);
    if (root.has("expect")) parseExpect(root["expect"], sc);
    for (const auto& t : sc.timeline)
        if (t.at > sc.end) throw ScenarioError(file + ": " + t.path + ".at: is after the scenario end");
    return sc;
}

Scenario loadScenarioFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ScenarioError(path + ": cannot read the file");
    std::stringstream ss;
    ss << in.rdbuf();
    return parseScenario(ss.str(), path);
}

}  // namespace keb::sim
