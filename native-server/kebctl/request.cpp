// kebctl: flag values -> upgrade request body. See request.h.
#include "request.h"

#include <climits>
#include <utility>

#include "keb/timefmt.h"

namespace kebctl {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

// kcp's selector names -> SPEC 3's target fields.
const std::pair<const char*, const char*> kSelectors[] = {
    {"account", "globalAccount"}, {"subaccount", "subAccount"}, {"region", "region"},
    {"runtime-id", "runtimeID"},  {"instance-id", "instanceID"}, {"shoot", "shoot"},
    {"plan", "planName"},
};

std::string selectorList() {
    std::string s = "all";
    for (const auto& [k, v] : kSelectors) s += std::string(", ") + k + "=...";
    return s;
}

bool parsePositiveInt(const std::string& s, int* out) {
    if (s.empty() || s.size() > 10) return false;
    long long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v < 1 || v > INT_MAX) return false;
    *out = static_cast<int>(v);
    return true;
}

}  // namespace

OJson parseTarget(const std::string& text, const std::string& flag, bool include) {
    if (text.empty()) throw UsageError(flag + ": empty target (want " + selectorList() + ")");
    OJson t = OJson::object();
    for (const std::string& sel : split(text, ',')) {
        const auto eq = sel.find('=');
        const std::string key = sel.substr(0, eq);
        if (key == "all" && eq == std::string::npos) {
            if (!include) throw UsageError(flag + ": \"all\" cannot be used in an exclude");
            t["target"] = "all";
            continue;
        }
        const char* field = nullptr;
        for (const auto& [k, v] : kSelectors)
            if (key == k) field = v;
        if (!field)
            throw UsageError(flag + " " + text + ": invalid selector \"" + key + "\" (want " + selectorList() + ")");
        const std::string value = eq == std::string::npos ? "" : sel.substr(eq + 1);
        if (value.empty()) throw UsageError(flag + " " + text + ": " + key + " is missing its value (" + key + "={VALUE})");
        if (t.contains(field)) throw UsageError(flag + " " + text + ": " + key + " is given twice");
        t[field] = value;
    }
    return t;
}

OJson parseBudget(const std::string& text, const std::string& flag) {
    const std::string want = " (want an integer >= 0 or a percent 0%..100%)";
    if (text.empty()) throw UsageError(flag + ": empty value" + want);
    const bool percent = text.back() == '%';
    const std::string digits = percent ? text.substr(0, text.size() - 1) : text;
    if (digits.empty() || digits.size() > 12) throw UsageError(flag + ": invalid value \"" + text + "\"" + want);
    long long v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') throw UsageError(flag + ": invalid value \"" + text + "\"" + want);
        v = v * 10 + (c - '0');
    }
    if (percent) {
        if (v > 100) throw UsageError(flag + ": invalid percent \"" + text + "\" (at most 100%)");
        return OJson(std::to_string(v) + "%");
    }
    return OJson(v);
}

OJson parseStage(const std::string& text) {
    const std::string flag = "--stage " + text;
    const std::string want = " (want NAME:TARGET[:workers=N][:soak=D][:max-failures=X])";
    const auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    if (name.empty() || name.size() > 40) throw UsageError(flag + ": invalid stage name \"" + name + "\" ([a-z0-9-]{1,40})" + want);
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            throw UsageError(flag + ": invalid stage name \"" + name + "\" ([a-z0-9-]{1,40})");
    OJson stage = OJson::object();
    stage["name"] = name;
    std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
    // Options are peeled off the end, so a target regex may itself contain ':'.
    OJson options = OJson::object();
    for (;;) {
        const auto last = rest.rfind(':');
        if (last == std::string::npos) break;
        const std::string opt = rest.substr(last + 1);
        const auto eq = opt.find('=');
        const std::string key = opt.substr(0, eq);
        if (key != "workers" && key != "soak" && key != "max-failures") break;
        if (eq == std::string::npos || eq + 1 == opt.size()) throw UsageError(flag + ": " + key + " is missing its value" + want);
        if (options.contains(key)) throw UsageError(flag + ": " + key + " is given twice");
        options[key] = opt.substr(eq + 1);
        rest = rest.substr(0, last);
    }
    if (!rest.empty()) {
        OJson targets = OJson::object();
        targets["include"] = OJson::array({parseTarget(rest, "--stage " + name, true)});
        stage["targets"] = targets;
    }
    if (options.contains("workers")) {
        int w = 0;
        const std::string v = options["workers"];
        if (!parsePositiveInt(v, &w)) throw UsageError(flag + ": workers must be an integer >= 1, got \"" + v + "\"");
        stage["workers"] = w;
    }
    if (options.contains("soak")) {
        const std::string v = options["soak"];
        const auto d = keb::parseDuration(v);
        if (!d) throw UsageError(flag + ": invalid soak duration \"" + v + "\" (want e.g. 30m, 24h, 2d, 1h30m; units ms s m h d)");
        stage["soak"] = v;
    }
    if (options.contains("max-failures"))
        stage["maxFailures"] = parseBudget(options["max-failures"].get<std::string>(), flag + ": max-failures");
    return stage;
}

OJson parseBlackout(const std::string& text) {
    const std::string flag = "--blackout " + text;
    const auto parts = split(text, '/');
    if (parts.size() < 2 || parts.size() > 3)
        throw UsageError(flag + ": want FROM/TO[/REASON] with RFC 3339 times, e.g. 2026-12-24T00:00:00Z/2026-12-27T00:00:00Z");
    const auto from = keb::parseRfc3339(parts[0]);
    if (!from) throw UsageError(flag + ": FROM \"" + parts[0] + "\" is not an RFC 3339 time (e.g. 2026-12-24T00:00:00Z)");
    const auto to = keb::parseRfc3339(parts[1]);
    if (!to) throw UsageError(flag + ": TO \"" + parts[1] + "\" is not an RFC 3339 time (e.g. 2026-12-27T00:00:00Z)");
    if (*to <= *from) throw UsageError(flag + ": TO must be after FROM");
    OJson b = OJson::object();
    b["from"] = parts[0];
    b["to"] = parts[1];
    if (parts.size() == 3 && !parts[2].empty()) b["reason"] = parts[2];
    return b;
}

OJson buildUpgradeBody(const UpgradeFlags& f) {
    if (f.targets.empty()) throw UsageError("--target: at least one runtime target must be specified with --target (e.g. --target all)");
    OJson body = OJson::object();
    OJson targets = OJson::object();
    targets["include"] = OJson::array();
    for (const auto& t : f.targets) targets["include"].push_back(parseTarget(t, "--target", true));
    if (!f.excludes.empty()) {
        targets["exclude"] = OJson::array();
        for (const auto& t : f.excludes) targets["exclude"].push_back(parseTarget(t, "--target-exclude", false));
    }
    body["targets"] = targets;

    OJson strategy = OJson::object();
    if (f.strategy != "parallel") throw UsageError("--strategy: invalid value \"" + f.strategy + "\" (only parallel)");
    strategy["type"] = "parallel";
    if (!f.schedule.empty()) {
        if (f.schedule == "now" || f.schedule == "immediate") {
            strategy["schedule"] = f.schedule;
        } else if (f.schedule == "maintenancewindow" || f.schedule == "maintenanceWindow") {
            strategy["schedule"] = "maintenanceWindow";  // kcp's value; the server reads it as maintenanceWindow: true
        } else if (keb::parseRfc3339(f.schedule)) {
            strategy["schedule"] = f.schedule;
        } else {
            throw UsageError("--schedule: invalid value \"" + f.schedule +
                             "\" (want now, immediate, maintenancewindow or an RFC 3339 time such as 2026-12-01T02:00:00Z)");
        }
    }
    if (f.maintenanceWindow) strategy["maintenanceWindow"] = true;
    if (f.parallelWorkers < 0) throw UsageError("--parallel-workers: must be an integer >= 1");
    if (f.parallelWorkers > 0) strategy["parallel"] = OJson{{"workers", f.parallelWorkers}};
    if (!f.stages.empty()) {
        strategy["stages"] = OJson::array();
        for (std::size_t i = 0; i < f.stages.size(); ++i) {
            OJson s = parseStage(f.stages[i]);
            for (const auto& other : strategy["stages"])
                if (other["name"] == s["name"]) throw UsageError("--stage " + f.stages[i] + ": duplicate stage name");
            if (!s.contains("targets") && i + 1 != f.stages.size())
                throw UsageError("--stage " + f.stages[i] +
                                 ": only the last stage may omit its TARGET (it takes the runtimes no earlier stage took)");
            strategy["stages"].push_back(std::move(s));
        }
    }
    if (!f.maxFailures.empty()) strategy["maxFailures"] = parseBudget(f.maxFailures, "--max-failures");
    if (!f.blackouts.empty()) {
        strategy["blackouts"] = OJson::array();
        for (const auto& b : f.blackouts) strategy["blackouts"].push_back(parseBlackout(b));
    }
    body["strategy"] = strategy;
    if (f.dryRun) body["dryRun"] = true;
    if (f.kind == "kyma") {
        if (!f.version.empty()) body["kyma"] = OJson{{"version", f.version}};
    } else {
        OJson k = OJson::object();
        if (!f.kubernetesVersion.empty()) k["kubernetesVersion"] = f.kubernetesVersion;
        if (!f.machineImage.empty()) k["machineImage"] = f.machineImage;
        if (!f.machineImageVersion.empty()) k["machineImageVersion"] = f.machineImageVersion;
        if (!k.empty()) body["kubernetes"] = k;
    }
    if (f.notification) body["notification"] = true;
    return body;
}

std::string describeTarget(const OJson& t) {
    static const std::pair<const char*, const char*> kOrder[] = {
        {"target", "target"},         {"globalAccount", "account"}, {"subAccount", "subaccount"},
        {"runtimeID", "runtime-id"},  {"instanceID", "instance-id"}, {"region", "region"},
        {"planName", "plan"},         {"shoot", "shoot"}};
    std::string out;
    if (!t.is_object()) return out;
    for (const auto& [field, label] : kOrder) {
        auto it = t.find(field);
        if (it == t.end() || !it->is_string() || it->get<std::string>().empty()) continue;
        if (!out.empty()) out += ",";
        out += std::string(label) + " = " + it->get<std::string>();
    }
    return out;
}

}  // namespace kebctl
