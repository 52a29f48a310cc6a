#include "keb/kube/shoot_cache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "keb/kube/shoot.h"

namespace keb::kube {

namespace {
std::string urlEncode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}
}  // namespace

ShootCache::ShootCache(KubeClient& client, std::string ns, ShootCacheOptions options)
    : client_(client), ns_(std::move(ns)), opt_(options) {}

ShootCache::~ShootCache() { stop(); }

void ShootCache::start() {
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { run(); });
}

void ShootCache::stop() {
    stop_ = true;
    client_.shutdown();
    if (thread_.joinable()) thread_.join();
    syncedCv_.notify_all();
}

bool ShootCache::waitSynced(Millis timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return syncedCv_.wait_for(lock, std::chrono::milliseconds(timeout),
                              [&] { return synced_.load() || stop_.load(); }) &&
           synced_.load();
}

std::string ShootCache::lastError() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lastError_;
}

void ShootCache::setError(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu_);
    lastError_ = e;
}

std::size_t ShootCache::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return byName_.size();
}

std::string ShootCache::resourceVersion() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rv_;
}

FleetSnapshot ShootCache::snapshot(Millis) {
    FleetSnapshot s;
    std::lock_guard<std::mutex> lock(mu_);
    if (!synced_) {
        s.ok = false;
        s.error = "Gardener shoot list not loaded yet" + (lastError_.empty() ? std::string() : ": " + lastError_);
        return s;
    }
    if (snapVersion_ != version_) {
        snap_.clear();
        snap_.reserve(byName_.size());
        for (const auto& [name, r] : byName_) snap_.push_back(r);
        std::sort(snap_.begin(), snap_.end(),
                  [](const Runtime& a, const Runtime& b) { return a.shootName < b.shootName; });
        snapVersion_ = version_;
    }
    s.runtimes = &snap_;
    return s;
}

std::optional<Runtime> ShootCache::find(const std::string& runtimeID, Millis) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nameOf_.find(runtimeID);
    if (it == nameOf_.end()) return std::nullopt;
    auto r = byName_.find(it->second);
    if (r == byName_.end()) return std::nullopt;
    return r->second;
}

bool ShootCache::listAll(std::string* error) {
    std::unordered_map<std::string, Runtime> fresh;
    std::string cont, listRv;
    const std::string base = "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns_ + "/shoots";
    for (;;) {
        std::string path = base + "?limit=" + std::to_string(opt_.pageSize);
        if (!cont.empty()) path += "&continue=" + urlEncode(cont);
        HttpResult r = client_.call("GET", path, "", "", opt_.retry);
        if (r.status == 410 && !cont.empty()) {
            // The continue token expired: start the list again.
            fresh.clear();
            cont.clear();
            relists410++;
            continue;
        }
        if (r.status != 200) {
            *error = "listing shoots in " + ns_ + " failed: " + r.message();
            return false;
        }
        ShootListPage page;
        std::string perr;
        if (!parseShootListPage(r.body, &page, &perr)) {
            *error = "listing shoots in " + ns_ + ": answer is not a ShootList (" + perr + ")";
            return false;
        }
        if (fresh.empty()) fresh.reserve(page.continueToken.empty() ? page.runtimes.size() : 4096);
        for (auto& rt : page.runtimes) {
            std::string name = rt.shootName;
            fresh[std::move(name)] = std::move(rt);
        }
        if (cont.empty()) listRv = page.resourceVersion;
        cont = page.continueToken;
        if (cont.empty()) break;
        if (stop_) {
            *error = "stopped";
            return false;
        }
    }
    std::unordered_map<std::string, std::string> idx;
    idx.reserve(fresh.size());
    for (const auto& [name, r] : fresh) idx[r.runtimeID] = name;
    {
        std::lock_guard<std::mutex> lock(mu_);
        byName_ = std::move(fresh);
        nameOf_ = std::move(idx);
        rv_ = listRv;
        ++version_;
        lastError_.clear();
        synced_ = true;
    }
    lists++;
    syncedCv_.notify_all();
    return true;
}

bool ShootCache::applyEventLine(std::string_view line, bool* expired, std::string* error) {
    *expired = false;
    Json ev = Json::parse(line.begin(), line.end(), nullptr, false);
    if (!ev.is_object()) {
        *error = "watch sent a line that is not JSON";
        return false;
    }
    std::string type = jstr(ev, {"type"});
    const Json& obj = ev.contains("object") ? ev["object"] : Json();
    if (type == "ERROR") {
        long long code = jint(obj, {"code"});
        *expired = code == 410 || jstr(obj, {"reason"}) == "Expired" || jstr(obj, {"reason"}) == "Gone";
        *error = "watch ERROR event: " + jstr(obj, {"message"});
        return false;
    }
    std::string rv = jstr(obj, {"metadata", "resourceVersion"});
    if (type == "BOOKMARK") {
        bookmarks++;
        std::lock_guard<std::mutex> lock(mu_);
        if (!rv.empty()) rv_ = rv;
        return true;
    }
    if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") {
        *error = "watch event of unknown type \"" + type + "\"";
        return false;
    }
    std::string name = jstr(obj, {"metadata", "name"});
    auto rt = type == "DELETED" ? std::nullopt : shootToRuntime(obj);
    std::lock_guard<std::mutex> lock(mu_);
    auto old = byName_.find(name);
    if (old != byName_.end()) {
        auto idx = nameOf_.find(old->second.runtimeID);
        if (idx != nameOf_.end() && idx->second == name) nameOf_.erase(idx);
        if (!rt) byName_.erase(old);
    }
    if (rt) {
        nameOf_[rt->runtimeID] = name;
        byName_[name] = std::move(*rt);
    }
    if (!rv.empty()) rv_ = rv;
    ++version_;
    watchEvents++;
    return true;
}

ShootCache::WatchEnd ShootCache::watchOnce(std::string* error) {
    std::string rv = resourceVersion();
    std::string path = "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns_ +
                       "/shoots?watch=true&allowWatchBookmarks=true&resourceVersion=" + urlEncode(rv) +
                       "&timeoutSeconds=" + std::to_string(opt_.watchTimeoutSeconds);
    LineSplitter splitter;
    bool expired = false;
    bool eventError = false;
    HttpResult r = client_.stream(path, [&](std::string_view chunk) {
        return splitter.feed(chunk, [&](std::string_view line) {
            std::string err;
            if (!applyEventLine(line, &expired, &err)) {
                eventError = true;
                *error = err;
                return false;
            }
            return true;
        });
    });
    if (stop_) return WatchEnd::Stopped;
    if (r.status == 410) {
        *error = "watch: 410 Gone (" + r.message() + ")";
        return WatchEnd::Expired;
    }
    if (eventError) return expired ? WatchEnd::Expired : WatchEnd::Broken;
    if (!splitter.error().empty()) {
        *error = splitter.error();
        return WatchEnd::Broken;
    }
    if (r.status == 200 && r.error.empty()) return WatchEnd::Ended;
    if (r.status == 429) {
        auto ra = parseRetryAfter(r.header("Retry-After"));
        client_.counters().throttled429++;
        client_.sleepFor(ra ? std::min(*ra, opt_.retry.maxRetryAfter) : opt_.retry.backoffBase);
        *error = "watch throttled (429)";
        return WatchEnd::Ended;  // re-open without extra backoff
    }
    if (r.status >= 500) client_.counters().serverErrors5xx++;
    if (r.status == 0 || r.status == 200) client_.counters().brokenConnections++;
    *error = r.status == 200 ? r.error : "watch failed: " + r.message();
    return WatchEnd::Broken;
}

void ShootCache::run() {
    int failures = 0;
    bool needList = true;
    std::uint64_t salt = 0;
    while (!stop_) {
        if (needList) {
            std::string err;
            if (!listAll(&err)) {
                if (stop_) break;
                setError(err);
                ++failures;
                client_.sleepFor(backoffDelay(opt_.retry, std::min(failures, 10), ++salt));
                continue;
            }
            needList = false;
            failures = 0;
        }
        std::string err;
        auto opened = std::chrono::steady_clock::now();
        long long eventsBefore = watchEvents.load() + bookmarks.load();
        WatchEnd end = watchOnce(&err);
        if (end == WatchEnd::Stopped || stop_) break;
        watchRestarts++;
        // A server that ends every watch at once without sending anything must not make us spin.
        if (end == WatchEnd::Ended && watchEvents.load() + bookmarks.load() == eventsBefore &&
            std::chrono::steady_clock::now() - opened < std::chrono::milliseconds(100))
            client_.sleepFor(opt_.retry.backoffBase);
        switch (end) {
            case WatchEnd::Expired:
                relists410++;
                needList = true;
                failures = 0;
                break;
            case WatchEnd::Ended:
                failures = 0;
                break;
            case WatchEnd::Broken:
                setError(err);
                ++failures;
                client_.sleepFor(backoffDelay(opt_.retry, std::min(failures, 10), ++salt));
                break;
            case WatchEnd::Stopped:
                break;
        }
    }
}

}  // namespace keb::kube
