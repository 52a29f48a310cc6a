// kebctl output. See output.h.
#include "output.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "keb/timefmt.h"

namespace kebctl {
namespace {

std::size_t utf8Width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

bool equalsIgnoreCase(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

std::string str(const OJson& v, const char* key) {
    auto it = v.find(key);
    if (it == v.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

const OJson& member(const OJson& v, const char* key) {
    static const OJson kNull;
    if (!v.is_object()) return kNull;
    auto it = v.find(key);
    return it == v.end() ? kNull : *it;
}

// One "Label:  value" line with the label padded to width.
void line(std::ostringstream& os, const std::string& label, const std::string& value, std::size_t width) {
    os << label << ':' << std::string(width > label.size() + 1 ? width - label.size() - 1 : 1, ' ') << value << '\n';
}

}  // namespace

std::vector<std::string> parseJsonPath(const std::string& text, const std::string& flag) {
    std::string p = text;
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') p = p.substr(1, p.size() - 2);
    if (!p.empty() && p.front() == '.') p = p.substr(1);
    const std::string want = " (want .a.b, a.b, {.a} or {.a.b}, with [N] for array items)";
    if (p.empty() || p.find_first_of("{}") != std::string::npos)
        throw UsageError(flag + ": invalid JSONPath \"" + text + "\"" + want);
    std::vector<std::string> out;
    std::string cur;
    auto flush = [&] {
        if (cur.empty()) throw UsageError(flag + ": invalid JSONPath \"" + text + "\"" + want);
        out.push_back(cur);
        cur.clear();
    };
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '.') {
            flush();
        } else if (c == '[') {
            if (!cur.empty()) flush();
            const auto close = p.find(']', i);
            if (close == std::string::npos || close == i + 1) throw UsageError(flag + ": invalid JSONPath \"" + text + "\"" + want);
            const std::string idx = p.substr(i + 1, close - i - 1);
            if (!std::all_of(idx.begin(), idx.end(), [](char d) { return d >= '0' && d <= '9'; }) || idx.size() > 9)
                throw UsageError(flag + ": invalid array index [" + idx + "] in \"" + text + "\"" + want);
            out.push_back("[" + idx + "]");
            i = close;
            if (i + 1 < p.size() && p[i + 1] == '.') ++i;  // ".a[0].b"
            else if (i + 1 < p.size() && p[i + 1] != '[') throw UsageError(flag + ": invalid JSONPath \"" + text + "\"" + want);
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    if (out.empty()) throw UsageError(flag + ": invalid JSONPath \"" + text + "\"" + want);
    return out;
}

const OJson* lookup(const OJson& v, const std::vector<std::string>& path) {
    const OJson* cur = &v;
    for (const auto& seg : path) {
        if (seg.size() > 2 && seg.front() == '[') {
            if (!cur->is_array()) return nullptr;
            const std::size_t i = std::stoul(seg.substr(1, seg.size() - 2));
            if (i >= cur->size()) return nullptr;
            cur = &(*cur)[i];
            continue;
        }
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(seg);
        if (it != cur->end()) {
            cur = &*it;
            continue;
        }
        const OJson* found = nullptr;
        for (auto jt = cur->begin(); jt != cur->end(); ++jt)
            if (equalsIgnoreCase(jt.key(), seg)) {
                if (found) return nullptr;  // ambiguous
                found = &*jt;
            }
        if (!found) return nullptr;
        cur = found;
    }
    return cur;
}

std::string cellText(const OJson* v) {
    if (!v || v->is_null()) return "";
    if (v->is_string()) return v->get<std::string>();
    return v->dump(-1, ' ', false, OJson::error_handler_t::replace);
}

OutputFormat parseOutput(const std::string& text) {
    OutputFormat f;
    if (text == "table") return f;
    if (text == "json") {
        f.kind = OutputFormat::Json;
        return f;
    }
    const std::string prefix = "custom=";
    if (text.rfind(prefix, 0) != 0)
        throw UsageError("--output: invalid value \"" + text + "\" (want table, json or custom=<HEADER>:<jsonpath>,...)");
    f.kind = OutputFormat::Custom;
    const std::string spec = text.substr(prefix.size());
    if (spec.empty()) throw UsageError("--output: custom format given but no columns (custom=<HEADER>:<jsonpath>,...)");
    std::string part;
    std::istringstream in(spec);
    while (std::getline(in, part, ',')) {
        const auto colon = part.find(':');
        if (colon == std::string::npos)
            throw UsageError("--output: unexpected custom column \"" + part + "\", expected <HEADER>:<jsonpath>");
        f.columns.push_back({part.substr(0, colon), parseJsonPath(part.substr(colon + 1), "--output custom column \"" + part.substr(0, colon) + "\"")});
    }
    if (!spec.empty() && spec.back() == ',') throw UsageError("--output: empty custom column after the last ','");
    return f;
}

std::string renderTable(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    constexpr std::size_t kMinWidth = 6, kPadding = 3;
    std::vector<std::size_t> width(headers.size(), 0);
    auto measure = [&](const std::vector<std::string>& r) {
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], utf8Width(r[i]));
    };
    measure(headers);
    for (const auto& r : rows) measure(r);
    std::string out;
    auto emit = [&](const std::vector<std::string>& r) {
        std::string l;
        for (std::size_t i = 0; i < width.size(); ++i) {
            const std::string cell = i < r.size() ? r[i] : "";
            l += cell;
            if (i + 1 < width.size()) l += std::string(std::max(width[i] + kPadding, kMinWidth) - utf8Width(cell), ' ');
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + '\n';
    };
    emit(headers);
    for (const auto& r : rows) emit(r);
    return out;
}

std::string renderItems(const std::vector<TableColumn>& columns, const OJson& items) {
    std::vector<std::string> headers;
    for (const auto& c : columns) headers.push_back(c.header);
    std::vector<std::vector<std::string>> rows;
    auto add = [&](const OJson& item) {
        std::vector<std::string> r;
        for (const auto& c : columns) r.push_back(c.cell(item));
        rows.push_back(std::move(r));
    };
    if (items.is_array())
        for (const auto& it : items) add(it);
    else
        add(items);
    return renderTable(headers, rows);
}

std::string renderCustom(const OutputFormat& f, const OJson& itemsOrObject) {
    std::vector<TableColumn> cols;
    for (const auto& c : f.columns) {
        auto path = c.path;
        cols.push_back({c.header, [path](const OJson& item) { return cellText(lookup(item, path)); }});
    }
    return renderItems(cols, itemsOrObject);
}

std::string kcpTime(const std::string& rfc3339) {
    const auto t = keb::parseRfc3339(rfc3339);
    if (!t) return rfc3339;
    std::string s = keb::formatRfc3339((*t / 1000) * 1000);  // "2026-11-27T17:05:25Z"
    if (s.size() < 19) return rfc3339;
    s = s.substr(0, 19);
    s[4] = '/';
    s[7] = '/';
    s[10] = ' ';
    return s;
}

std::vector<TableColumn> orchestrationColumns() {
    return {
        {"ORCHESTRATION ID", [](const OJson& o) { return str(o, "orchestrationID"); }},
        {"TYPE",
         [](const OJson& o) {
             const std::string t = str(o, "type");
             if (t == "upgradeKyma") return std::string("kyma upgrade");
             if (t == "upgradeCluster") return std::string("cluster upgrade");
             return t;
         }},
        {"CREATED AT", [](const OJson& o) { return kcpTime(str(o, "createdAt")); }},
        {"STATE", [](const OJson& o) { return str(o, "state"); }},
        {"DRY RUN",
         [](const OJson& o) {
             const OJson& d = member(member(o, "parameters"), "dryRun");
             return std::string(d.is_boolean() && d.get<bool>() ? "true" : "false");
         }},
        {"TARGETS",
         [](const OJson& o) {
             // kcp: the first set field of each include target, joined by ", ", cut at 20 characters.
             static const std::pair<const char*, const char*> kFirst[] = {
                 {"target", ""},           {"globalAccount", "GlobalAccount="}, {"subAccount", "SubAccount="},
                 {"region", "Region="},    {"runtimeID", "RuntimeID="},         {"planName", "PlanName="},
                 {"shoot", "Shoot="},      {"instanceID", "InstanceID="}};
             std::string s;
             const OJson& inc = member(member(member(o, "parameters"), "targets"), "include");
             if (!inc.is_array()) return s;
             for (std::size_t i = 0; i < inc.size(); ++i) {
                 for (const auto& [k, label] : kFirst) {
                     const std::string v = str(inc[i], k);
                     if (!v.empty()) {
                         s += label + v;
                         break;
                     }
                 }
                 if (i + 1 < inc.size()) s += ", ";
             }
             if (utf8Width(s) > 20) {
                 std::size_t cut = 0, n = 0;
                 while (cut < s.size() && n < 17) {
                     ++cut;
                     while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) ++cut;
                     ++n;
                 }
                 s = s.substr(0, cut) + "...";
             }
             return s;
         }},
        {"DETAILS",
         [](const OJson& o) {
             const std::string t = str(o, "type");
             const OJson& p = member(o, "parameters");
             if (t == "upgradeKyma") {
                 const std::string v = str(member(p, "kyma"), "version");
                 return v.empty() ? std::string() : "Kyma: " + v;
             }
             if (t == "upgradeCluster") {
                 const std::string v = str(member(p, "kubernetes"), "kubernetesVersion");
                 return v.empty() ? std::string() : "K8S: " + v;
             }
             return std::string("-");
         }},
    };
}

std::vector<TableColumn> operationColumns() {
    return {
        {"OPERATION ID", [](const OJson& o) { return str(o, "operationID"); }},
        {"SHOOT", [](const OJson& o) { return str(o, "shootName"); }},
        {"GLOBALACCOUNT", [](const OJson& o) { return str(o, "globalAccountID"); }},
        {"SUBACCOUNT", [](const OJson& o) { return str(o, "subAccountID"); }},
        {"STATE", [](const OJson& o) { return str(o, "state"); }},
    };
}

std::vector<TableColumn> runtimeColumns() {
    return {
        {"RUNTIME ID", [](const OJson& r) { return str(r, "runtimeID"); }},
        {"GLOBALACCOUNT ID", [](const OJson& r) { return str(r, "globalAccountID"); }},
        {"SUBACCOUNT ID", [](const OJson& r) { return str(r, "subAccountID"); }},
        {"SHOOT", [](const OJson& r) { return str(r, "shootName"); }},
        {"REGION", [](const OJson& r) { return str(r, "region"); }},
        {"PLAN", [](const OJson& r) { return str(r, "planName"); }},
        {"K8S VERSION", [](const OJson& r) { return str(r, "kubernetesVersion"); }},
        {"LAST OPERATION",
         [](const OJson& r) {
             const OJson& l = member(r, "lastOperation");
             if (!l.is_object()) return std::string("-");
             return str(l, "state");
         }},
    };
}

std::string orchestrationDetails(const OJson& o) {
    std::ostringstream os;
    constexpr std::size_t w = 18;  // "Orchestration ID: " as in kcp
    const OJson& p = member(o, "parameters");
    const OJson& st = member(p, "strategy");
    line(os, "Orchestration ID", str(o, "orchestrationID"), w);
    line(os, "Type", str(o, "type"), w);
    line(os, "Created At", str(o, "createdAt"), w);
    line(os, "Updated At", str(o, "updatedAt"), w);
    const OJson& dry = member(p, "dryRun");
    line(os, "Dry Run", dry.is_boolean() && dry.get<bool>() ? "true" : "false", w);
    line(os, "State", str(o, "state"), w);
    line(os, "Description", str(o, "description"), w);
    line(os, "Strategy", str(st, "type"), w);
    std::string schedule = str(st, "schedule");
    const OJson& mw = member(st, "maintenanceWindow");
    if (mw.is_boolean() && mw.get<bool>()) schedule += schedule.empty() ? "maintenanceWindow" : " (maintenance windows)";
    line(os, "Schedule", schedule, w);
    line(os, "Workers", str(member(st, "parallel"), "workers"), w);
    if (str(o, "type") == "upgradeKyma") line(os, "Kyma Version", str(member(p, "kyma"), "version"), w);
    if (str(o, "type") == "upgradeCluster") {
        const OJson& k = member(p, "kubernetes");
        line(os, "K8s Version", str(k, "kubernetesVersion"), w);
        if (!str(k, "machineImage").empty())
            line(os, "Machine Image", str(k, "machineImage") + " " + str(k, "machineImageVersion"), w);
    }
    if (member(st, "maxFailures").is_number() || member(st, "maxFailures").is_string())
        line(os, "Max Failures", str(st, "maxFailures"), w);
    os << "Targets:\n";
    for (const auto& t : member(member(p, "targets"), "include")) os << "  " << describeTarget(t) << '\n';
    const OJson& ex = member(member(p, "targets"), "exclude");
    if (ex.is_array() && !ex.empty()) {
        os << "Exclude Targets:\n";
        for (const auto& t : ex) os << "  " << describeTarget(t) << '\n';
    }
    const OJson& bl = member(st, "blackouts");
    if (bl.is_array() && !bl.empty()) {
        os << "Blackouts:\n";
        for (const auto& b : bl) {
            os << "  " << str(b, "from") << " - " << str(b, "to");
            if (!str(b, "reason").empty()) os << "  " << str(b, "reason");
            os << '\n';
        }
    }
    const OJson& stats = member(o, "operationStats");
    if (stats.is_object()) {
        bool any = false;
        std::vector<std::string> keys;
        for (auto it = stats.begin(); it != stats.end(); ++it)
            if (it->is_number() && it->get<long long>() > 0) keys.push_back(it.key());
        std::sort(keys.begin(), keys.end());
        for (const auto& k : keys) {
            if (!any) os << "Operations:\n";
            any = true;
            std::string label = k;
            if (label.size() < 11) label = std::string(11 - label.size(), ' ') + label;
            os << "  " << label << ": " << stats[k].dump() << '\n';
        }
    }
    const OJson& stages = member(o, "stages");
    if (stages.is_array() && !stages.empty()) {
        os << "Stages:\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : stages) {
            std::string ops;
            const OJson& ss = member(s, "operationStats");
            if (ss.is_object())
                for (auto it = ss.begin(); it != ss.end(); ++it)
                    if (it->is_number() && it->get<long long>() > 0)
                        ops += (ops.empty() ? "" : ", ") + it.key() + " " + it->dump();
            std::string fails = str(s, "failures");
            if (!str(s, "maxFailures").empty()) fails += "/" + str(s, "maxFailures");
            std::string when = str(s, "soakUntil").empty() ? str(s, "finishedAt") : "soak until " + str(s, "soakUntil");
            rows.push_back({str(s, "name"), str(s, "state"), ops, fails, str(s, "startedAt"), when});
        }
        std::string t = renderTable({"NAME", "STATE", "OPERATIONS", "FAILURES", "STARTED AT", "FINISHED AT"}, rows);
        std::istringstream in(t);
        std::string l;
        while (std::getline(in, l)) os << "  " << l << '\n';
    }
    return os.str();
}

std::string operationDetails(const OJson& op) {
    std::ostringstream os;
    constexpr std::size_t w = 20;  // "Maintenance Window: "
    line(os, "Operation ID", str(op, "operationID"), w);
    line(os, "Orchestration ID", str(op, "orchestrationID"), w);
    line(os, "Global Account ID", str(op, "globalAccountID"), w);
    line(os, "Subaccount ID", str(op, "subAccountID"), w);
    line(os, "Runtime ID", str(op, "runtimeID"), w);
    line(os, "Shoot Name", str(op, "shootName"), w);
    line(os, "Service Plan", str(op, "servicePlanName"), w);
    const OJson& dry = member(op, "dryRun");
    line(os, "DryRun", dry.is_boolean() && dry.get<bool>() ? "true" : "false", w);
    line(os, "Maintenance Window", str(op, "maintenanceWindowBegin") + " - " + str(op, "maintenanceWindowEnd"), w);
    if (!str(op, "stage").empty()) line(os, "Stage", str(op, "stage"), w);
    line(os, "State", str(op, "state"), w);
    line(os, "Description", str(op, "description"), w);
    line(os, "Kubernetes Version", str(member(op, "clusterConfig"), "kubernetesVersion"), w);
    line(os, "Kyma Version", str(member(op, "kymaConfig"), "version"), w);
    return os.str();
}

std::string retryResult(const OJson& r) {
    auto join = [&](const char* key) {
        std::string s;
        const OJson& a = member(r, key);
        if (a.is_array())
            for (const auto& v : a) s += (s.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
        return s;
    };
    std::ostringstream os;
    constexpr std::size_t w = 20;
    line(os, "Orchestration ID", str(r, "orchestrationID"), w);
    line(os, "Retry Operations", join("retryShoots"), w);
    line(os, "Old Operations", join("oldOperations"), w);
    line(os, "Invalid Operations", join("invalidOperations"), w);
    line(os, "Message", str(r, "msg"), w);
    return os.str();
}

std::string previewText(const OJson& p) {
    std::ostringstream os;
    constexpr std::size_t w = 19;
    line(os, "Runtimes", str(p, "runtimes"), w);
    line(os, "Skipped", str(p, "skippedCount"), w);
    line(os, "Predicted Start", str(p, "predictedStart"), w);
    line(os, "Predicted End", str(p, "predictedEnd"), w);
    line(os, "Predicted End P90", str(p, "predictedEndP90"), w);
    line(os, "Peak Workers", str(p, "peakWorkers"), w);
    const OJson& a = member(p, "assumptions");
    if (a.is_object())
        line(os, "Assumptions",
             "duration median " + str(a, "durationMedian") + ", p90 " + str(a, "durationP90") + ", failure rate " +
                 str(a, "failureRate") + " (" + str(a, "source") + ", " + str(a, "historyOperations") + " operations)",
             w);
    const OJson& stages = member(p, "stages");
    if (stages.is_array() && !stages.empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : stages)
            rows.push_back({str(s, "name"), str(s, "runtimes"), str(s, "predictedStart"), str(s, "predictedEnd")});
        os << "Stages:\n";
        std::istringstream in(renderTable({"NAME", "RUNTIMES", "PREDICTED START", "PREDICTED END"}, rows));
        std::string l;
        while (std::getline(in, l)) os << "  " << l << '\n';
    }
    const OJson& skipped = member(p, "skipped");
    if (skipped.is_array() && !skipped.empty()) {
        os << "Skipped Runtimes:\n";
        for (const auto& s : skipped) os << "  " << str(s, "runtimeID") << ": " << str(s, "reason") << '\n';
    }
    return os.str();
}

}  // namespace kebctl
