#include "fake_gardener.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "keb/kube/kubeconfig.h"
#include "keb/kube/shoot.h"
#include "keb/world/fleet_gen.h"

namespace keb::fake {

using keb::kube::jstr;

namespace {

constexpr const char* kGroup = "core.gardener.cloud";
constexpr const char* kGV = "core.gardener.cloud/v1beta1";

std::string rfc3339(Millis t) {
    std::time_t s = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Json status(int code, const std::string& reason, const std::string& message, const std::string& name = "") {
    Json s = {{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
              {"message", message}, {"reason", reason},   {"code", code}};
    if (!name.empty()) s["details"] = {{"name", name}, {"group", kGroup}, {"kind", "shoots"}};
    return s;
}

void sendStatus(httplib::Response& res, int code, const std::string& reason, const std::string& message,
                const std::string& name = "") {
    res.status = code;
    res.set_content(status(code, reason, message, name).dump(), "application/json");
}

void sendJson(httplib::Response& res, const Json& j, int code = 200) {
    res.status = code;
    res.set_content(j.dump(), "application/json");
}

std::string param(const httplib::Request& req, const char* key) {
    return req.has_param(key) ? req.get_param_value(key) : "";
}

std::optional<std::uint64_t> parseU64(const std::string& s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

std::string trimWs(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

bool isLabelMetaKey(const std::string& k) {
    return k == "account" || k == "subaccount" || k == keb::kube::kInstanceIdLabel || k == keb::kube::kPlanIdLabel ||
           k == keb::kube::kPlanNameLabel;
}

}  // namespace

// ---------- faults ----------

std::optional<Faults> Faults::parse(const std::string& spec, std::string* error) {
    Faults f;
    std::string s = trimWs(spec);
    if (s.empty() || s == "none" || s == "off") return f;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        item = trimWs(item);
        if (item.empty()) continue;
        auto eq = item.find('=');
        if (eq == std::string::npos) {
            *error = "fault \"" + item + "\": expected NAME=VALUE";
            return std::nullopt;
        }
        std::string k = item.substr(0, eq), v = item.substr(eq + 1);
        char* end = nullptr;
        double d = std::strtod(v.c_str(), &end);
        if (v.empty() || !end || *end != 0) {
            *error = "fault \"" + item + "\": value is not a number";
            return std::nullopt;
        }
        bool prob = true;
        if (k == "429") f.p429 = d;
        else if (k == "5xx" || k == "500") f.p5xx = d;
        else if (k == "reset") f.pReset = d;
        else if (k == "slow") f.pSlow = d;
        else if (k == "watch410") f.pWatch410 = d;
        else if (k == "upgradefail") f.pUpgradeFail = d;
        else if (k == "conflict") f.pConflict = d;
        else if (k == "slowms") { f.slowMs = static_cast<int>(d); prob = false; }
        else if (k == "retryafter") { f.retryAfterSeconds = static_cast<int>(d); prob = false; }
        else {
            *error = "unknown fault \"" + k +
                     "\" (known: 429, 5xx, reset, slow, slowms, watch410, retryafter, upgradefail, conflict)";
            return std::nullopt;
        }
        if (prob && (d < 0 || d > 1)) {
            *error = "fault \"" + k + "\": probability must be within 0..1";
            return std::nullopt;
        }
        if (!prob && (d < 0 || d > 3600)) {
            *error = "fault \"" + k + "\": value must be within 0..3600";
            return std::nullopt;
        }
    }
    return f;
}

std::string Faults::toString() const {
    std::ostringstream o;
    o << "429=" << p429 << ",5xx=" << p5xx << ",reset=" << pReset << ",slow=" << pSlow << ",slowms=" << slowMs
      << ",watch410=" << pWatch410 << ",retryafter=" << retryAfterSeconds << ",upgradefail=" << pUpgradeFail
      << ",conflict=" << pConflict;
    return o.str();
}

// ---------- label selectors ----------

std::optional<std::vector<LabelRequirement>> parseLabelSelector(const std::string& s, std::string* error) {
    std::vector<LabelRequirement> out;
    std::size_t i = 0;
    auto skip = [&] {
        while (i < s.size() && s[i] == ' ') ++i;
    };
    auto ident = [&] {
        std::size_t b = i;
        while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '_' ||
                                s[i] == '.' || s[i] == '/'))
            ++i;
        return s.substr(b, i - b);
    };
    skip();
    if (i == s.size()) return out;
    for (;;) {
        skip();
        LabelRequirement r;
        if (i < s.size() && s[i] == '!') {
            ++i;
            skip();
            r.key = ident();
            r.op = "!exists";
        } else {
            r.key = ident();
            skip();
            if (i + 1 < s.size() && s[i] == '!' && s[i + 1] == '=') {
                i += 2;
                r.op = "!=";
            } else if (i + 1 < s.size() && s[i] == '=' && s[i + 1] == '=') {
                i += 2;
                r.op = "=";
            } else if (i < s.size() && s[i] == '=') {
                ++i;
                r.op = "=";
            } else if (s.compare(i, 3, "in ") == 0 || s.compare(i, 3, "in(") == 0) {
                i += 2;
                r.op = "in";
            } else if (s.compare(i, 6, "notin ") == 0 || s.compare(i, 6, "notin(") == 0) {
                i += 5;
                r.op = "notin";
            } else {
                r.op = "exists";
            }
            if (r.op == "=" || r.op == "!=") {
                skip();
                r.values.push_back(ident());
            } else if (r.op == "in" || r.op == "notin") {
                skip();
                if (i >= s.size() || s[i] != '(') {
                    *error = "labelSelector: expected ( after " + r.op;
                    return std::nullopt;
                }
                ++i;
                for (;;) {
                    skip();
                    r.values.push_back(ident());
                    skip();
                    if (i < s.size() && s[i] == ',') {
                        ++i;
                        continue;
                    }
                    if (i < s.size() && s[i] == ')') {
                        ++i;
                        break;
                    }
                    *error = "labelSelector: expected , or ) in value set";
                    return std::nullopt;
                }
            }
        }
        if (r.key.empty()) {
            *error = "labelSelector: expected a label key at position " + std::to_string(i) + " in \"" + s + "\"";
            return std::nullopt;
        }
        out.push_back(std::move(r));
        skip();
        if (i == s.size()) break;
        if (s[i] != ',') {
            *error = "labelSelector: unexpected \"" + s.substr(i, 1) + "\" at position " + std::to_string(i);
            return std::nullopt;
        }
        ++i;
    }
    return out;
}

bool matchesLabels(const std::vector<LabelRequirement>& sel, const std::map<std::string, std::string>& labels) {
    for (const auto& r : sel) {
        auto it = labels.find(r.key);
        bool has = it != labels.end();
        if (r.op == "exists" && !has) return false;
        if (r.op == "!exists" && has) return false;
        if (r.op == "=" && (!has || it->second != r.values[0])) return false;
        if (r.op == "!=" && has && it->second == r.values[0]) return false;
        if (r.op == "in" && (!has || std::find(r.values.begin(), r.values.end(), it->second) == r.values.end()))
            return false;
        if (r.op == "notin" && has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end())
            return false;
    }
    return true;
}

// ---------- the server ----------

FakeGardener::FakeGardener(FakeOptions options) : opt_(std::move(options)), faults_(opt_.faults), rng_(opt_.seed) {
    keb::world::FleetSpec spec;
    spec.size = static_cast<int>(opt_.shoots);
    if (!opt_.kubernetesVersions.empty()) {
        std::stringstream ss(opt_.kubernetesVersions);
        std::string item;
        while (std::getline(ss, item, ',')) {
            auto colon = item.find(':');
            double w = colon == std::string::npos ? 1.0 : std::atof(item.c_str() + colon + 1);
            spec.kubernetesVersions.emplace_back(trimWs(item.substr(0, colon)), w > 0 ? w : 1.0);
        }
    }
    if (opt_.deletingShare >= 0) spec.deletingShare = opt_.deletingShare;
    std::vector<Runtime> fleet = keb::world::generateFleet(spec, opt_.seed);
    Millis created = nowMs() - 30 * kDay;
    std::string createdText = rfc3339(created);
    std::mt19937_64 idRng(opt_.seed ^ 0x5bd1e995ULL);
    for (auto& r : fleet) {
        Shoot s;
        if (r.machineImage.empty()) r.machineImage = "gardenlinux";
        if (r.machineImageVersion.empty()) r.machineImageVersion = "1443.3.0";
        s.rt = std::move(r);
        char uid[40];
        std::uint64_t a = idRng(), b = idRng();
        std::snprintf(uid, sizeof uid, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                      static_cast<unsigned>(a >> 16) & 0xffff, static_cast<unsigned>(a) & 0xfff,
                      static_cast<unsigned>(b >> 48) & 0xfff, static_cast<unsigned long long>(b & 0xffffffffffffULL));
        s.uid = uid;
        s.created = createdText;
        s.lastOpTime = createdText;
        s.rv = ++rv_;
        std::string name = s.rt.shootName;
        shoots_.emplace(name, std::move(s));
    }
    compactedRv_ = rv_;
    // Serialise every Shoot once now, so the first list is as fast as the later ones.
    for (const auto& [name, s] : shoots_) jsonText(s);
}

FakeGardener::~FakeGardener() { stop(); }

Millis FakeGardener::nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string FakeGardener::nowRfc3339() const { return rfc3339(nowMs()); }

double FakeGardener::uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

std::string FakeGardener::url() const {
    return std::string(opt_.tlsCert.empty() ? "http" : "https") + "://" + opt_.host + ":" + std::to_string(port_);
}

void FakeGardener::setFaults(const Faults& f) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_ = f;
}

Faults FakeGardener::faults() const {
    std::lock_guard<std::mutex> lock(mu_);
    return faults_;
}

std::uint64_t FakeGardener::resourceVersion() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rv_;
}

void FakeGardener::compact() {
    std::lock_guard<std::mutex> lock(mu_);
    events_.clear();
    compactedRv_ = rv_;
    eventsCv_.notify_all();
}

std::optional<Json> FakeGardener::shoot(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = shoots_.find(name);
    if (it == shoots_.end()) return std::nullopt;
    return toJson(it->second);
}

bool FakeGardener::touch(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = shoots_.find(name);
    if (it == shoots_.end()) return false;
    it->second.touches++;
    it->second.extraAnnotations["fake.gardener.cloud/touched"] = std::to_string(it->second.touches);
    it->second.rv = ++rv_;
    emit("MODIFIED", it->second);
    return true;
}

Json FakeGardener::toJson(const Shoot& s) const {
    Json j = keb::kube::runtimeToShoot(s.rt, namespaceName());
    Json& m = j["metadata"];
    m["uid"] = s.uid;
    m["resourceVersion"] = std::to_string(s.rv);
    m["generation"] = s.generation;
    m["creationTimestamp"] = s.created;
    if (s.rt.deprovisioning) m["deletionTimestamp"] = s.created;
    for (const auto& [k, v] : s.extraAnnotations) m["annotations"][k] = v;
    for (const auto& [k, v] : s.extraLabels) m["labels"][k] = v;
    Json& st = j["status"];
    st["observedGeneration"] = s.observedGeneration;
    st["technicalID"] = "shoot--" + opt_.project + "--" + s.rt.shootName;
    st["lastOperation"] = {{"type", s.lastOpType},
                           {"state", s.lastOpState},
                           {"progress", s.progress},
                           {"description", s.lastOpDescription},
                           {"lastUpdateTime", s.lastOpTime}};
    return j;
}

const std::string& FakeGardener::jsonText(const Shoot& s) const {
    if (s.json.empty()) s.json = toJson(s).dump();
    return s.json;
}

void FakeGardener::emit(const char* type, const Shoot& s) {
    s.json.clear();  // every change of a shoot is emitted: the cached text is stale now
    std::string line = "{\"type\":\"";
    line += type;
    line += "\",\"object\":";
    line += jsonText(s);
    line += "}\n";
    events_.push_back(Event{s.rv, std::move(line)});
    while (events_.size() > opt_.eventWindow) {
        compactedRv_ = events_.front().rv;
        events_.pop_front();
    }
    eventsCv_.notify_all();
}

bool FakeGardener::authorized(const httplib::Request& req, httplib::Response& res) {
    if (opt_.token.empty()) return true;
    if (!opt_.clientCA.empty()) return true;  // the TLS layer verified a client certificate
    std::string h = req.get_header_value("Authorization");
    if (h == "Bearer " + opt_.token) return true;
    {
        std::lock_guard<std::mutex> lock(mu_);
        counters_["unauthorized"]++;
    }
    sendStatus(res, 401, "Unauthorized", "Unauthorized");
    return false;
}

bool FakeGardener::injectFault(const httplib::Request& req, httplib::Response& res, bool watch) {
    Faults f;
    double r429, r5xx, rReset, rSlow, which;
    {
        std::lock_guard<std::mutex> lock(mu_);
        f = faults_;
        r429 = uniform();
        r5xx = uniform();
        rReset = uniform();
        rSlow = uniform();
        which = uniform();
    }
    if (rSlow < f.pSlow) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            counters_["faultSlow"]++;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(f.slowMs));
    }
    if (r429 < f.p429) {
        std::lock_guard<std::mutex> lock(mu_);
        counters_["fault429"]++;
        res.status = 429;
        res.set_header("Retry-After", std::to_string(f.retryAfterSeconds));
        res.set_content("Too many requests, please try again later.\n", "text/plain; charset=utf-8");
        return true;
    }
    if (r5xx < f.p5xx) {
        std::lock_guard<std::mutex> lock(mu_);
        counters_["fault5xx"]++;
        if (which < 0.5)
            sendStatus(res, 500, "InternalError", "Internal error occurred: fake gardener fault injection");
        else
            sendStatus(res, 503, "ServiceUnavailable", "the server is currently unable to handle the request");
        return true;
    }
    if (!watch && req.method != "PATCH" && rReset < f.pReset) {  // PATCH: see handlePatch
        {
            std::lock_guard<std::mutex> lock(mu_);
            counters_["faultReset"]++;
        }
        // Headers go out, then the connection is dropped in the middle of the body.
        dropAfterHeaders(res);
        return true;
    }
    return false;
}

void FakeGardener::dropAfterHeaders(httplib::Response& res) {
    res.status = 200;
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
        sink.write("{\"kind\":", 8);
        return false;
    });
}

void FakeGardener::handleGet(const httplib::Request& req, httplib::Response& res, const std::string& ns,
                             const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    counters_["gets"]++;
    auto it = shoots_.find(name);
    if (ns != namespaceName() || it == shoots_.end()) {
        sendStatus(res, 404, "NotFound", std::string("shoots.") + kGroup + " \"" + name + "\" not found", name);
        return;
    }
    res.status = 200;
    res.set_content(jsonText(it->second), "application/json");
}

void FakeGardener::handleList(const httplib::Request& req, httplib::Response& res, const std::string& ns) {
    std::string err;
    auto sel = parseLabelSelector(param(req, "labelSelector"), &err);
    if (!sel) {
        sendStatus(res, 400, "BadRequest", "unable to parse requirement: " + err);
        return;
    }
    std::size_t limit = 0;
    if (req.has_param("limit")) {
        auto l = parseU64(param(req, "limit"));
        if (!l) {
            sendStatus(res, 400, "BadRequest", "limit: must be a non-negative integer");
            return;
        }
        limit = static_cast<std::size_t>(*l);
    }
    std::string start;
    std::uint64_t listRv = 0;
    std::string cont = param(req, "continue");
    std::lock_guard<std::mutex> lock(mu_);
    counters_["lists"]++;
    listRv = rv_;
    if (!cont.empty()) {
        auto decoded = keb::kube::base64Decode(cont);
        Json tok = decoded ? Json::parse(*decoded, nullptr, false) : Json();
        if (!tok.is_object() || !tok.contains("rv") || !tok["rv"].is_number_unsigned() || !tok.contains("start") ||
            !tok["start"].is_string()) {
            sendStatus(res, 400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion");
            return;
        }
        listRv = tok["rv"].get<std::uint64_t>();
        start = tok["start"].get<std::string>();
        if (listRv < compactedRv_) {
            counters_["continue410"]++;
            sendStatus(res, 410, "Expired",
                       "The provided continue parameter is too old to display a consistent list result. You can "
                       "start a new list without the continue parameter, or use the continue token in this response "
                       "to retrieve the remainder of the results.");
            return;
        }
    }
    std::string out;
    out.reserve(limit ? limit * 1500 : 1 << 16);
    out += "{\"apiVersion\":\"";
    out += kGV;
    out += "\",\"kind\":\"ShootList\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(listRv) + "\"";
    std::string items;
    std::size_t n = 0;
    std::string last;
    bool more = false;
    if (ns.empty() || ns == namespaceName()) {
        auto it = start.empty() ? shoots_.begin() : shoots_.upper_bound(start);
        for (; it != shoots_.end(); ++it) {
            const Shoot& s = it->second;
            if (!sel->empty()) {
                std::map<std::string, std::string> labels = s.extraLabels;
                labels["account"] = s.rt.globalAccountID;
                labels["subaccount"] = s.rt.subAccountID;
                if (!s.rt.instanceID.empty()) labels[keb::kube::kInstanceIdLabel] = s.rt.instanceID;
                if (!s.rt.planID.empty()) labels[keb::kube::kPlanIdLabel] = s.rt.planID;
                if (!s.rt.planName.empty()) labels[keb::kube::kPlanNameLabel] = s.rt.planName;
                if (!matchesLabels(*sel, labels)) continue;
            }
            if (limit && n == limit) {
                more = true;
                break;
            }
            if (n) items += ',';
            items += jsonText(s);
            last = it->first;
            ++n;
        }
    }
    if (more) {
        Json tok = {{"rv", listRv}, {"start", last}};
        out += ",\"continue\":\"" + keb::kube::base64Encode(tok.dump()) + "\"";
    }
    out += "},\"items\":[";
    out += items;
    out += "]}";
    res.status = 200;
    res.set_content(std::move(out), "application/json");
}

void FakeGardener::handleWatch(const httplib::Request& req, httplib::Response& res, const std::string& ns) {
    struct WatchState {
        std::uint64_t cursor = 0;
        std::deque<std::string> initial;
        Millis deadline = 0;
        Millis lastSend = 0;
        bool bookmarks = false;
        bool sendExpired = false;
        int resetAfter = -1;  // events until the connection is dropped (-1: never)
        bool done = false;
    };
    auto st = std::make_shared<WatchState>();
    std::string rvParam = param(req, "resourceVersion");
    st->bookmarks = param(req, "allowWatchBookmarks") == "true" || param(req, "allowWatchBookmarks") == "True";
    Millis timeout = opt_.maxWatch;
    if (req.has_param("timeoutSeconds")) {
        auto t = parseU64(param(req, "timeoutSeconds"));
        if (!t) {
            sendStatus(res, 400, "BadRequest", "timeoutSeconds: must be a non-negative integer");
            return;
        }
        if (*t > 0) timeout = std::min(timeout, static_cast<Millis>(std::min<std::uint64_t>(*t, 24 * 3600)) * 1000);
    }
    Millis now = nowMs();
    st->deadline = now + timeout;
    st->lastSend = now;
    bool foreign = !ns.empty() && ns != namespaceName();
    {
        std::lock_guard<std::mutex> lock(mu_);
        counters_["watches"]++;
        if (uniform() < faults_.pReset) {
            counters_["faultReset"]++;
            st->resetAfter = static_cast<int>(uniform() * 5);
        }
        if (uniform() < faults_.pWatch410) {
            counters_["faultWatch410"]++;
            if (uniform() < 0.5) {
                sendStatus(res, 410, "Expired", "too old resource version: " + rvParam + " (" + std::to_string(rv_) + ")");
                return;
            }
            st->sendExpired = true;
        }
        if (rvParam.empty() || rvParam == "0") {
            if (!foreign)
                for (const auto& [name, s] : shoots_)
                    st->initial.push_back("{\"type\":\"ADDED\",\"object\":" + jsonText(s) + "}\n");
            st->cursor = rv_;
        } else {
            auto rv = parseU64(rvParam);
            if (!rv) {
                sendStatus(res, 400, "BadRequest", "resourceVersion: invalid value \"" + rvParam + "\"");
                return;
            }
            st->cursor = *rv;
            if (*rv < compactedRv_) st->sendExpired = true;
        }
        activeWatches_++;
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-cache, private");
    // Kubernetes' own watch media type; it also keeps httplib from gzip-buffering the stream
    // (Go clients send Accept-Encoding: gzip).
    res.set_chunked_content_provider(
        "application/json;stream=watch",
        [this, st, foreign](size_t, httplib::DataSink& sink) -> bool {
            if (st->done) {
                sink.done();
                return true;
            }
            if (st->sendExpired) {
                std::string line;
                {
                    std::lock_guard<std::mutex> lock(mu_);
                    line = Json({{"type", "ERROR"},
                                 {"object", status(410, "Expired",
                                                   "too old resource version: " + std::to_string(st->cursor) + " (" +
                                                       std::to_string(compactedRv_ + 1) + ")")}})
                               .dump() +
                           "\n";
                }
                sink.write(line.data(), line.size());
                st->done = true;
                sink.done();
                return true;
            }
            if (!st->initial.empty()) {
                std::string buf;
                for (int i = 0; i < 200 && !st->initial.empty(); ++i) {
                    buf += st->initial.front();
                    st->initial.pop_front();
                }
                return sink.write(buf.data(), buf.size());
            }
            std::string buf;
            int count = 0;
            {
                std::unique_lock<std::mutex> lock(mu_);
                auto pending = [&] {
                    return stopping_.load() || st->cursor < compactedRv_ ||
                           (!events_.empty() && events_.back().rv > st->cursor);
                };
                Millis wake = st->deadline;
                if (st->bookmarks) wake = std::min(wake, st->lastSend + opt_.bookmarkInterval);
                Millis waitMs = std::max<Millis>(0, wake - nowMs());
                eventsCv_.wait_for(lock, std::chrono::milliseconds(std::min<Millis>(waitMs, 1000)), pending);
                if (stopping_) return false;
                if (st->cursor < compactedRv_) {
                    st->sendExpired = true;
                    return true;
                }
                if (!foreign) {
                    auto it = std::upper_bound(events_.begin(), events_.end(), st->cursor,
                                               [](std::uint64_t rv, const Event& e) { return rv < e.rv; });
                    for (; it != events_.end() && count < 500; ++it, ++count) {
                        buf += it->line;
                        st->cursor = it->rv;
                    }
                }
                if (count == 0 && (events_.empty() || events_.back().rv <= st->cursor) && rv_ > st->cursor)
                    st->cursor = rv_;
                Millis now = nowMs();
                if (count == 0 && st->bookmarks && now - st->lastSend >= opt_.bookmarkInterval) {
                    buf = Json({{"type", "BOOKMARK"},
                                {"object",
                                 {{"kind", "Shoot"},
                                  {"apiVersion", kGV},
                                  {"metadata", {{"resourceVersion", std::to_string(st->cursor)}}}}}})
                              .dump() +
                          "\n";
                    counters_["bookmarks"]++;
                }
                if (now >= st->deadline) st->done = true;
            }
            if (st->resetAfter >= 0) {
                if (st->resetAfter <= count) return false;  // connection reset in the middle of the stream
                st->resetAfter -= count;
            }
            if (!buf.empty()) {
                st->lastSend = nowMs();
                if (!sink.write(buf.data(), buf.size())) return false;
            }
            return true;
        },
        [this](bool) {
            std::lock_guard<std::mutex> lock(mu_);
            activeWatches_--;
        });
}

void FakeGardener::handlePatch(const httplib::Request& req, httplib::Response& res, const std::string& ns,
                               const std::string& name) {
    std::string ct = req.get_header_value("Content-Type");
    if (ct.find("json-patch+json") != std::string::npos) {
        sendStatus(res, 415, "UnsupportedMediaType",
                   "the fake Gardener supports merge patches only (application/merge-patch+json)");
        return;
    }
    if (ct.find("merge-patch+json") == std::string::npos && ct.find("application/json") == std::string::npos) {
        sendStatus(res, 415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                   "media types include: application/merge-patch+json, application/strategic-merge-patch+json");
        return;
    }
    Json patch = Json::parse(req.body, nullptr, false);
    if (!patch.is_object()) {
        sendStatus(res, 400, "BadRequest", "the patch is not a JSON object");
        return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    counters_["patchRequests"]++;
    auto it = shoots_.find(name);
    if (ns != namespaceName() || it == shoots_.end()) {
        sendStatus(res, 404, "NotFound", std::string("shoots.") + kGroup + " \"" + name + "\" not found", name);
        return;
    }
    Shoot& s = it->second;
    std::string wantRv = jstr(patch, {"metadata", "resourceVersion"});
    if (!wantRv.empty() && wantRv != std::to_string(s.rv)) {
        counters_["conflicts"]++;
        sendStatus(res, 409, "Conflict",
                   std::string("Operation cannot be fulfilled on shoots.") + kGroup + " \"" + name +
                       "\": the object has been modified; please apply your changes to the latest version and try again",
                   name);
        return;
    }
    if (!wantRv.empty() && uniform() < faults_.pConflict) {
        // Another writer (e.g. Gardener's own status update) got there first.
        counters_["faultConflict"]++;
        counters_["conflicts"]++;
        s.lastOpTime = nowRfc3339();
        s.rv = ++rv_;
        emit("MODIFIED", s);
        sendStatus(res, 409, "Conflict",
                   std::string("Operation cannot be fulfilled on shoots.") + kGroup + " \"" + name +
                       "\": the object has been modified; please apply your changes to the latest version and try again",
                   name);
        return;
    }
    Json cur = toJson(s);
    Json merged = cur;
    merged.merge_patch(patch);
    const std::string invalid = std::string("Shoot.") + kGroup + " \"" + name + "\" is invalid: ";
    auto reject = [&](const std::string& why) {
        counters_["invalid422"]++;
        Json st = status(422, "Invalid", invalid + why, name);
        st["details"]["kind"] = "Shoot";
        // Field causes, as the API server sends them (kubectl prints these).
        auto sep = why.find(": ");
        std::string field = why.substr(0, sep), rest = sep == std::string::npos ? why : why.substr(sep + 2);
        std::string reason = rest.rfind("Forbidden", 0) == 0  ? "FieldValueForbidden"
                             : rest.rfind("Required", 0) == 0 ? "FieldValueRequired"
                                                              : "FieldValueInvalid";
        st["details"]["causes"] = Json::array({{{"reason", reason}, {"message", rest}, {"field", field}}});
        sendJson(res, st, 422);
    };
    std::string oldV = s.rt.kubernetesVersion;
    std::string newV = jstr(merged, {"spec", "kubernetes", "version"});
    if (newV.empty()) return reject("spec.kubernetes.version: Required value: kubernetes version must not be empty");
    if (keb::kube::compareVersions(newV, oldV) < 0)
        return reject("spec.kubernetes.version: Forbidden: kubernetes version downgrade is not supported");
    auto om = keb::kube::majorMinor(oldV), nm = keb::kube::majorMinor(newV);
    if (!nm) return reject("spec.kubernetes.version: Invalid value: \"" + newV + "\": not a semantic version");
    if (om && (nm->first != om->first || nm->second > om->second + 1) && keb::kube::compareVersions(newV, oldV) > 0)
        return reject("spec.kubernetes.version: Forbidden: kubernetes version upgrade cannot skip a minor version");
    const Json* workers = nullptr;
    if (merged["spec"].contains("provider") && merged["spec"]["provider"].contains("workers"))
        workers = &merged["spec"]["provider"]["workers"];
    if (!workers || !workers->is_array() || workers->empty())
        return reject("spec.provider.workers: Required value: must provide at least one worker pool");
    for (std::size_t i = 0; i < workers->size(); ++i) {
        std::string img = jstr((*workers)[i], {"machine", "image", "name"});
        std::string ver = jstr((*workers)[i], {"machine", "image", "version"});
        if (img == s.rt.machineImage && keb::kube::compareVersions(ver, s.rt.machineImageVersion) < 0)
            return reject("spec.provider.workers[" + std::to_string(i) +
                          "].machine.image.version: Forbidden: machine image version downgrade is not supported");
    }
    // Metadata the server owns is not patchable.
    merged["metadata"]["name"] = name;
    merged["metadata"]["namespace"] = namespaceName();
    merged["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"];
    merged["metadata"]["generation"] = cur["metadata"]["generation"];
    merged["status"] = cur["status"];
    if (merged == cur) {  // a no-op patch: nothing changes, no new resourceVersion
        sendJson(res, cur);
        return;
    }
    bool specChanged = merged["spec"] != cur["spec"];
    auto rt = keb::kube::shootToRuntime(merged);
    Runtime next = s.rt;
    if (rt) {
        std::string id = next.runtimeID;
        next = *rt;
        next.runtimeID = id;  // the runtime id annotation is kept
    }
    next.deprovisioning = s.rt.deprovisioning;
    next.shootName = name;
    if (!workers->empty()) {
        next.machineImage = jstr((*workers)[0], {"machine", "image", "name"});
        next.machineImageVersion = jstr((*workers)[0], {"machine", "image", "version"});
    }
    s.extraAnnotations.clear();
    if (merged["metadata"]["annotations"].is_object())
        for (auto& [k, v] : merged["metadata"]["annotations"].items())
            if (k != keb::kube::kRuntimeIdAnnotation && v.is_string()) s.extraAnnotations[k] = v.get<std::string>();
    s.extraLabels.clear();
    if (merged["metadata"]["labels"].is_object())
        for (auto& [k, v] : merged["metadata"]["labels"].items())
            if (!isLabelMetaKey(k) && v.is_string()) s.extraLabels[k] = v.get<std::string>();
    if (newV != oldV) {
        s.versionChanges++;
        counters_["versionChanges"]++;
    }
    s.rt = std::move(next);
    s.patches++;
    counters_["patches"]++;
    if (specChanged) {
        s.generation++;
        s.lastOpType = "Reconcile";
        s.lastOpState = "Processing";
        s.progress = 0;
        s.lastOpDescription = "Reconciliation of Shoot cluster initialized.";
        s.lastOpTime = nowRfc3339();
        Millis d = static_cast<Millis>(static_cast<double>(opt_.upgradeDuration) / std::max(opt_.speed, 1e-6));
        Millis now = nowMs();
        timers_.insert(Timer{now + d / 2, name, s.generation, 1});
        timers_.insert(Timer{now + d, name, s.generation, 2});
        timersCv_.notify_all();
    }
    s.rv = ++rv_;
    emit("MODIFIED", s);
    if (uniform() < faults_.pReset) {
        // The patch is applied but the answer is lost: the client must recognise it on retry.
        counters_["faultReset"]++;
        counters_["patchAnswersLost"]++;
        dropAfterHeaders(res);
        return;
    }
    res.status = 200;
    res.set_content(jsonText(s), "application/json");
}

void FakeGardener::reconcileLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
        Millis now = nowMs();
        while (!timers_.empty() && timers_.begin()->at <= now) {
            Timer t = *timers_.begin();
            timers_.erase(timers_.begin());
            auto it = shoots_.find(t.name);
            if (it == shoots_.end() || it->second.generation != t.generation) continue;
            Shoot& s = it->second;
            s.lastOpTime = rfc3339(now);
            if (t.phase == 1) {
                s.progress = 50;
                s.lastOpDescription = "Waiting until the Kubernetes API server and worker nodes are updated.";
            } else if (uniform() < faults_.pUpgradeFail) {
                counters_["upgradeFailures"]++;
                s.observedGeneration = s.generation;
                s.lastOpState = "Failed";
                s.progress = 80;
                s.lastOpDescription = "fake fault: reconcile of the worker pools failed";
            } else {
                s.observedGeneration = s.generation;
                s.lastOpState = "Succeeded";
                s.progress = 100;
                s.lastOpDescription = "Shoot cluster has been successfully reconciled.";
                counters_["reconciles"]++;
            }
            s.rv = ++rv_;
            emit("MODIFIED", s);
        }
        if (timers_.empty())
            timersCv_.wait_for(lock, std::chrono::milliseconds(500));
        else
            timersCv_.wait_for(lock, std::chrono::milliseconds(std::max<Millis>(1, timers_.begin()->at - now)));
    }
}

void FakeGardener::handleKymaPost(const httplib::Request& req, httplib::Response& res) {
    Json b = Json::parse(req.body, nullptr, false);
    std::string runtimeID = jstr(b, {"runtimeID"}), version = jstr(b, {"version"}), op = jstr(b, {"operationID"});
    if (runtimeID.empty() || version.empty() || op.empty()) {
        sendJson(res, {{"error", "runtimeID, version and operationID are required strings"}}, 400);
        return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kymaByOp_.find(op);
    if (it != kymaByOp_.end()) {
        sendJson(res, {{"id", it->second.id}}, 200);
        return;
    }
    KymaUpgrade u{"kup-" + std::to_string(kymaByOp_.size() + 1), runtimeID, version, op, nowMs()};
    kymaIdToOp_[u.id] = op;
    kymaPerRuntime_[runtimeID]++;
    kymaByOp_[op] = u;
    sendJson(res, {{"id", u.id}}, 202);
}

void FakeGardener::handleKymaGet(const httplib::Request&, httplib::Response& res, const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kymaIdToOp_.find(id);
    if (it == kymaIdToOp_.end()) {
        sendJson(res, {{"error", "upgrade " + id + " not found"}}, 404);
        return;
    }
    const KymaUpgrade& u = kymaByOp_[it->second];
    Millis d = static_cast<Millis>(static_cast<double>(opt_.upgradeDuration) / std::max(opt_.speed, 1e-6));
    bool done = nowMs() - u.startedAt >= d;
    sendJson(res, {{"id", u.id},
                   {"runtimeID", u.runtimeID},
                   {"version", u.version},
                   {"operationID", u.operationID},
                   {"state", done ? "succeeded" : "in progress"},
                   {"message", done ? "Kyma " + u.version + " installed" : "upgrading to " + u.version}});
}

Json FakeGardener::stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    Json j;
    j["shoots"] = shoots_.size();
    j["resourceVersion"] = rv_;
    j["compactedResourceVersion"] = compactedRv_;
    j["retainedEvents"] = events_.size();
    j["activeWatches"] = activeWatches_;
    j["faults"] = faults_.toString();
    j["counters"] = Json::object();
    for (const auto& [k, v] : counters_) j["counters"][k] = v;
    std::map<std::string, long long> versions, changes, states;
    Json multi = Json::array();
    long long processing = 0;
    for (const auto& [name, s] : shoots_) {
        versions[s.rt.kubernetesVersion]++;
        changes[std::to_string(s.versionChanges)]++;
        states[s.lastOpState]++;
        if (s.observedGeneration < s.generation) processing++;
        if (s.versionChanges > 1 && multi.size() < 20) multi.push_back(name);
    }
    j["kubernetesVersions"] = versions;
    j["versionChanges"] = changes;
    j["shootsChangedMoreThanOnce"] = multi;
    j["lastOperationStates"] = states;
    j["processing"] = processing;
    int maxKyma = 0;
    for (const auto& [r, n] : kymaPerRuntime_) maxKyma = std::max(maxKyma, n);
    j["kymaUpgrades"] = {{"operations", kymaByOp_.size()}, {"runtimes", kymaPerRuntime_.size()}, {"maxPerRuntime", maxKyma}};
    return j;
}

void FakeGardener::routes() {
    auto& s = *server_;
    const std::string gv = R"(/apis/core\.gardener\.cloud/v1beta1)";
    s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
    s.Get("/version", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        sendJson(res, {{"major", "1"},
                       {"minor", "30"},
                       {"gitVersion", "v1.30.0-fake-gardener"},
                       {"gitCommit", "0000000000000000000000000000000000000000"},
                       {"gitTreeState", "clean"},
                       {"buildDate", "2026-01-01T00:00:00Z"},
                       {"goVersion", "go1.22"},
                       {"compiler", "gc"},
                       {"platform", "linux/amd64"}});
    });
    s.Get("/api", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        sendJson(res, {{"kind", "APIVersions"},
                       {"versions", {"v1"}},
                       {"serverAddressByClientCIDRs",
                        {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", opt_.host + ":" + std::to_string(port_)}}}}});
    });
    s.Get("/apis", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        Json v = {{"groupVersion", kGV}, {"version", "v1beta1"}};
        sendJson(res, {{"kind", "APIGroupList"},
                       {"apiVersion", "v1"},
                       {"groups", {{{"name", kGroup}, {"versions", {v}}, {"preferredVersion", v}}}}});
    });
    s.Get("/api/v1", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        sendJson(res, {{"kind", "APIResourceList"},
                       {"groupVersion", "v1"},
                       {"resources",
                        {{{"name", "namespaces"},
                          {"singularName", "namespace"},
                          {"namespaced", false},
                          {"kind", "Namespace"},
                          {"verbs", {"get", "list"}},
                          {"shortNames", {"ns"}}}}}});
    });
    s.Get(R"(/apis/core\.gardener\.cloud)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        Json v = {{"groupVersion", kGV}, {"version", "v1beta1"}};
        sendJson(res, {{"kind", "APIGroup"}, {"apiVersion", "v1"}, {"name", kGroup}, {"versions", {v}}, {"preferredVersion", v}});
    });
    s.Get(gv, [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        Json shoots = {{"name", "shoots"},
                       {"singularName", "shoot"},
                       {"namespaced", true},
                       {"kind", "Shoot"},
                       {"verbs", {"get", "list", "watch", "patch"}},
                       {"categories", {"all"}}};
        Json projects = {{"name", "projects"},
                         {"singularName", "project"},
                         {"namespaced", false},
                         {"kind", "Project"},
                         {"verbs", {"get", "list"}}};
        sendJson(res, {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", kGV}, {"resources", {shoots, projects}}});
    });
    auto projectJson = [this] {
        return Json{{"apiVersion", kGV},
                    {"kind", "Project"},
                    {"metadata",
                     {{"name", opt_.project}, {"resourceVersion", "1"}, {"uid", "00000000-0000-4000-8000-000000000001"},
                      {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
                    {"spec", {{"namespace", namespaceName()}}},
                    {"status", {{"phase", "Ready"}}}};
    };
    s.Get(gv + "/projects", [this, projectJson](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res) || injectFault(req, res, false)) return;
        sendJson(res, {{"apiVersion", kGV}, {"kind", "ProjectList"}, {"metadata", {{"resourceVersion", "1"}}}, {"items", {projectJson()}}});
    });
    s.Get(gv + "/projects/([^/]+)", [this, projectJson](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res) || injectFault(req, res, false)) return;
        std::string name = req.matches[1];
        if (name != opt_.project) {
            res.status = 404;
            res.set_content(Json({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
                                  {"message", std::string("projects.") + kGroup + " \"" + name + "\" not found"},
                                  {"reason", "NotFound"}, {"details", {{"name", name}, {"group", kGroup}, {"kind", "projects"}}},
                                  {"code", 404}}).dump(), "application/json");
            return;
        }
        sendJson(res, projectJson());
    });
    auto listOrWatch = [this](const httplib::Request& req, httplib::Response& res, const std::string& ns) {
        std::string w = param(req, "watch");
        bool watch = w == "true" || w == "True" || w == "1";  // python-kubernetes sends "True"
        if (!authorized(req, res) || injectFault(req, res, watch)) return;
        if (watch)
            handleWatch(req, res, ns);
        else
            handleList(req, res, ns);
    };
    s.Get(gv + "/shoots", [listOrWatch](const httplib::Request& req, httplib::Response& res) { listOrWatch(req, res, ""); });
    s.Get(gv + "/namespaces/([^/]+)/shoots", [listOrWatch](const httplib::Request& req, httplib::Response& res) {
        listOrWatch(req, res, req.matches[1]);
    });
    s.Get(gv + "/namespaces/([^/]+)/shoots/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res) || injectFault(req, res, false)) return;
        handleGet(req, res, req.matches[1], req.matches[2]);
    });
    s.Patch(gv + "/namespaces/([^/]+)/shoots/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res) || injectFault(req, res, false)) return;
        handlePatch(req, res, req.matches[1], req.matches[2]);
    });
    // Control endpoints of the fake (same credentials).
    s.Get("/fake/stats", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        sendJson(res, stats());
    });
    s.Get("/fake/faults", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        res.set_content(faults().toString() + "\n", "text/plain");
    });
    s.Put("/fake/faults", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        std::string err;
        auto f = Faults::parse(req.body, &err);
        if (!f) {
            sendJson(res, {{"error", err}}, 400);
            return;
        }
        setFaults(*f);
        res.set_content(f->toString() + "\n", "text/plain");
    });
    s.Post("/fake/compact", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        compact();
        sendJson(res, {{"compactedResourceVersion", resourceVersion()}});
    });
    s.Post("/kyma/upgrades", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res) || injectFault(req, res, false)) return;
        handleKymaPost(req, res);
    });
    s.Get("/kyma/upgrades/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res) || injectFault(req, res, false)) return;
        handleKymaGet(req, res, req.matches[1]);
    });
    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 404)
            sendStatus(res, 404, "NotFound", "the server could not find the requested resource (" + req.path + ")");
        else if (res.status == 405)
            sendStatus(res, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        else
            sendStatus(res, res.status, "BadRequest", "request failed");
    });
}

bool FakeGardener::start(std::string* error) {
    if (!opt_.tlsCert.empty()) {
        auto ssl = std::make_unique<httplib::SSLServer>(opt_.tlsCert.c_str(), opt_.tlsKey.c_str(),
                                                        opt_.clientCA.empty() ? nullptr : opt_.clientCA.c_str());
        if (!ssl->is_valid()) {
            *error = "cannot load TLS certificate/key (" + opt_.tlsCert + ", " + opt_.tlsKey + ")";
            return false;
        }
        server_ = std::move(ssl);
    } else {
        if (!opt_.clientCA.empty()) {
            *error = "--client-ca needs --tls-cert/--tls-key";
            return false;
        }
        server_ = std::make_unique<httplib::Server>();
    }
    int threads = std::max(4, opt_.threads);
    server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server_->set_keep_alive_max_count(100000);
    server_->set_read_timeout(30, 0);
    server_->set_write_timeout(30, 0);
    server_->set_payload_max_length(4u << 20);
    routes();
    if (opt_.port == 0)
        port_ = server_->bind_to_any_port(opt_.host);
    else
        port_ = server_->bind_to_port(opt_.host, opt_.port) ? opt_.port : -1;
    if (port_ <= 0) {
        *error = "cannot listen on " + opt_.host + ":" + std::to_string(opt_.port);
        return false;
    }
    serverThread_ = std::thread([this] { server_->listen_after_bind(); });
    reconcileThread_ = std::thread([this] { reconcileLoop(); });
    for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return true;
}

void FakeGardener::stop() {
    if (stopping_.exchange(true)) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        eventsCv_.notify_all();
        timersCv_.notify_all();
    }
    if (server_) server_->stop();
    if (serverThread_.joinable()) serverThread_.join();
    if (reconcileThread_.joinable()) reconcileThread_.join();
}

}  // namespace keb::fake
