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

namespace {

// Tracks the path of the SAX stream and fills Runtime fields of list items.
class ListSax : public nlohmann::json_sax<Json> {
public:
    explicit ListSax(ShootListPage* out) : out_(out) {}
    bool sawItems = false;

    bool null() override { return scalar(nullptr); }
    bool boolean(bool v) override { return scalar(&v); }
    bool number_integer(number_integer_t) override { return scalar(nullptr); }
    bool number_unsigned(number_unsigned_t) override { return scalar(nullptr); }
    bool number_float(number_float_t, const string_t&) override { return scalar(nullptr); }
    bool binary(binary_t&) override { return scalar(nullptr); }
    bool string(string_t& v) override {
        onString(v);
        return scalar(nullptr);
    }
    bool start_object(std::size_t) override {
        enter(false);
        if (inItems() && stack_.size() == 3) cur_ = Item{};
        return true;
    }
    bool end_object() override {
        if (inItems() && stack_.size() == 3) finishItem();
        leave();
        return true;
    }
    bool start_array(std::size_t) override {
        enter(true);
        if (stack_.size() == 2 && stack_[0].key == "items") sawItems = true;
        return true;
    }
    bool end_array() override {
        leave();
        return true;
    }
    bool key(string_t& k) override {
        stack_.back().key = k;
        return true;
    }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) override {
        error = std::string("invalid JSON at byte ") + std::to_string(pos) + ": " + e.what();
        return false;
    }
    std::string error;

private:
    struct Frame {
        bool array = false;
        int index = -1;
        std::string key;
    };
    struct Item {
        Runtime r;
        std::string ridIM;
    };
    std::vector<Frame> stack_;
    Item cur_;
    ShootListPage* out_;

    void enter(bool array) {
        if (!stack_.empty() && stack_.back().array) stack_.back().index++;
        stack_.push_back(Frame{array, -1, {}});
    }
    void leave() { stack_.pop_back(); }
    bool scalar(const bool* b) {
        if (!stack_.empty() && stack_.back().array) stack_.back().index++;
        if (b && inItems() && at({"spec", "hibernation", "enabled"})) cur_.r.suspended = *b;
        return true;
    }
    bool scalar(std::nullptr_t) { return scalar(static_cast<const bool*>(nullptr)); }
    // stack_: [root obj (key items)] [items array] [item obj] ...
    bool inItems() const { return stack_.size() >= 3 && stack_[0].key == "items" && stack_[1].array; }
    // Keys below the item object: stack_[2].key, stack_[3].key, ... (the last frame's key is the value's key).
    bool at(std::initializer_list<const char*> path) const {
        if (stack_.size() != 2 + path.size()) return false;
        std::size_t i = 2;
        for (const char* k : path) {
            if (stack_[i].array || stack_[i].key != k) return false;
            ++i;
        }
        return true;
    }
    void onString(const std::string& v) {
        if (stack_.size() == 2 && !stack_[0].array && stack_[0].key == "metadata" && !stack_[1].array) {
            if (stack_[1].key == "resourceVersion") out_->resourceVersion = v;
            else if (stack_[1].key == "continue") out_->continueToken = v;
            return;
        }
        if (!inItems()) return;
        Runtime& r = cur_.r;
        const std::size_t d = stack_.size();
        const std::string& k = stack_.back().key;
        if (d == 4 && stack_[2].key == "metadata") {
            if (k == "name") r.shootName = v;
            else if (k == "deletionTimestamp") r.deprovisioning = !v.empty();
        } else if (d == 5 && stack_[2].key == "metadata" && stack_[3].key == "annotations") {
            if (k == kRuntimeIdAnnotation) r.runtimeID = v;
            else if (k == kRuntimeIdAnnotationIM) cur_.ridIM = v;
        } else if (d == 5 && stack_[2].key == "metadata" && stack_[3].key == "labels") {
            if (k == "account") r.globalAccountID = v;
            else if (k == "subaccount") r.subAccountID = v;
            else if (k == kInstanceIdLabel) r.instanceID = v;
            else if (k == kPlanIdLabel) r.planID = v;
            else if (k == kPlanNameLabel) r.planName = v;
        } else if (at({"spec", "region"})) {
            r.region = v;
        } else if (at({"spec", "kubernetes", "version"})) {
            r.kubernetesVersion = v;
        } else if (at({"spec", "maintenance", "timeWindow", "begin"})) {
            r.windowBegin = v;
        } else if (at({"spec", "maintenance", "timeWindow", "end"})) {
            r.windowEnd = v;
        } else if (d == 9 && stack_[2].key == "spec" && stack_[3].key == "provider" && stack_[4].key == "workers" &&
                   stack_[5].array && stack_[5].index == 0 && stack_[6].key == "machine" && stack_[7].key == "image") {
            if (k == "name") r.machineImage = v;
            else if (k == "version") r.machineImageVersion = v;
        }
    }
    void finishItem() {
        out_->items++;
        if (cur_.r.runtimeID.empty()) cur_.r.runtimeID = std::move(cur_.ridIM);
        if (!cur_.r.runtimeID.empty()) out_->runtimes.push_back(std::move(cur_.r));
        cur_ = Item{};
    }
};

}  // namespace

bool parseShootListPage(const std::string& text, ShootListPage* out, std::string* error) {
    *out = ShootListPage{};
    ListSax sax(out);
    bool ok = Json::sax_parse(text, &sax, nlohmann::json::input_format_t::json, true);
    if (!ok) {
        *error = sax.error.empty() ? "invalid JSON" : sax.error;
        return false;
    }
    if (!sax.sawItems) {
        *error = "not a list (no items array)";
        return false;
    }
    return true;
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
