#include "keb/kube/shoot.h"

#include <cstdlib>
#include <vector>

namespace keb::kube {

std::string jstr(const Json& j, std::initializer_list<const char*> path) {
    const Json* cur = &j;
    for (const char* k : path) {
        if (!cur->is_object()) return "";
        auto it = cur->find(k);
        if (it == cur->end()) return "";
        cur = &*it;
    }
    return cur->is_string() ? cur->get<std::string>() : "";
}

long long jint(const Json& j, std::initializer_list<const char*> path, long long dflt) {
    const Json* cur = &j;
    for (const char* k : path) {
        if (!cur->is_object()) return dflt;
        auto it = cur->find(k);
        if (it == cur->end()) return dflt;
        cur = &*it;
    }
    if (cur->is_number_integer()) return cur->get<long long>();
    if (cur->is_string()) {
        const std::string& s = cur->get_ref<const std::string&>();
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (end && *end == 0 && !s.empty()) return v;
    }
    return dflt;
}

std::optional<Runtime> shootToRuntime(const Json& shoot) {
    if (!shoot.is_object()) return std::nullopt;
    Runtime r;
    r.runtimeID = jstr(shoot, {"metadata", "annotations", kRuntimeIdAnnotation});
    if (r.runtimeID.empty()) r.runtimeID = jstr(shoot, {"metadata", "annotations", kRuntimeIdAnnotationIM});
    if (r.runtimeID.empty()) return std::nullopt;
    r.shootName = jstr(shoot, {"metadata", "name"});
    r.globalAccountID = jstr(shoot, {"metadata", "labels", "account"});
    r.subAccountID = jstr(shoot, {"metadata", "labels", "subaccount"});
    r.instanceID = jstr(shoot, {"metadata", "labels", kInstanceIdLabel});
    r.planID = jstr(shoot, {"metadata", "labels", kPlanIdLabel});
    r.planName = jstr(shoot, {"metadata", "labels", kPlanNameLabel});
    r.region = jstr(shoot, {"spec", "region"});
    r.windowBegin = jstr(shoot, {"spec", "maintenance", "timeWindow", "begin"});
    r.windowEnd = jstr(shoot, {"spec", "maintenance", "timeWindow", "end"});
    r.deprovisioning = !jstr(shoot, {"metadata", "deletionTimestamp"}).empty();
    auto md = shoot.find("spec");
    if (md != shoot.end() && md->is_object()) {
        auto hib = md->find("hibernation");
        if (hib != md->end() && hib->is_object()) {
            auto en = hib->find("enabled");
            r.suspended = en != hib->end() && en->is_boolean() && en->get<bool>();
        }
    }
    r.kubernetesVersion = jstr(shoot, {"spec", "kubernetes", "version"});
    const Json* workers = nullptr;
    if (shoot.contains("spec") && shoot["spec"].is_object() && shoot["spec"].contains("provider") &&
        shoot["spec"]["provider"].is_object() && shoot["spec"]["provider"].contains("workers"))
        workers = &shoot["spec"]["provider"]["workers"];
    if (workers && workers->is_array() && !workers->empty()) {
        r.machineImage = jstr((*workers)[0], {"machine", "image", "name"});
        r.machineImageVersion = jstr((*workers)[0], {"machine", "image", "version"});
    }
    return r;
}

Json runtimeToShoot(const Runtime& r, const std::string& ns) {
    Json s;
    s["apiVersion"] = kShootGroupVersion;
    s["kind"] = "Shoot";
    Json& m = s["metadata"];
    m["name"] = r.shootName;
    m["namespace"] = ns;
    m["annotations"] = Json::object({{kRuntimeIdAnnotation, r.runtimeID}});
    Json labels = Json::object();
    labels["account"] = r.globalAccountID;
    labels["subaccount"] = r.subAccountID;
    if (!r.instanceID.empty()) labels[kInstanceIdLabel] = r.instanceID;
    if (!r.planID.empty()) labels[kPlanIdLabel] = r.planID;
    if (!r.planName.empty()) labels[kPlanNameLabel] = r.planName;
    m["labels"] = labels;
    Json& sp = s["spec"];
    sp["region"] = r.region;
    sp["kubernetes"]["version"] = r.kubernetesVersion;
    sp["maintenance"]["timeWindow"] = {{"begin", r.windowBegin}, {"end", r.windowEnd}};
    Json worker;
    worker["name"] = "cpu-worker-0";
    worker["machine"]["type"] = "m5.xlarge";
    worker["machine"]["image"] = {{"name", r.machineImage}, {"version", r.machineImageVersion}};
    worker["minimum"] = 3;
    worker["maximum"] = 20;
    sp["provider"]["workers"] = Json::array({worker});
    if (r.suspended) sp["hibernation"]["enabled"] = true;
    return s;
}

namespace {
std::vector<std::string> splitDots(const std::string& v) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : v) {
        if (c == '.' || c == '-' || c == '+') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}
bool isNum(const std::string& s) {
    if (s.empty() || s.size() > 9) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}
}  // namespace

int compareVersions(const std::string& a, const std::string& b) {
    std::string aa = !a.empty() && a[0] == 'v' ? a.substr(1) : a;
    std::string bb = !b.empty() && b[0] == 'v' ? b.substr(1) : b;
    auto pa = splitDots(aa), pb = splitDots(bb);
    std::size_t n = std::max(pa.size(), pb.size());
    for (std::size_t i = 0; i < n; ++i) {
        std::string x = i < pa.size() ? pa[i] : "0";
        std::string y = i < pb.size() ? pb[i] : "0";
        if (isNum(x) && isNum(y)) {
            long lx = std::atol(x.c_str()), ly = std::atol(y.c_str());
            if (lx != ly) return lx < ly ? -1 : 1;
        } else if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

std::optional<std::pair<int, int>> majorMinor(const std::string& v) {
    std::string vv = !v.empty() && v[0] == 'v' ? v.substr(1) : v;
    auto p = splitDots(vv);
    if (p.size() < 2 || !isNum(p[0]) || !isNum(p[1])) return std::nullopt;
    return std::make_pair(std::atoi(p[0].c_str()), std::atoi(p[1].c_str()));
}

}  // namespace keb::kube
