#include "app.h"

#include <httplib.h>
#include <openssl/rand.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <optional>
#include <thread>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

#include "auth.h"
#include "demo_backend.h"
#include "engine_loop.h"
#include "generation_store.h"
#include "keb/api.h"
#include "keb/memory_store.h"
#include "keb/timefmt.h"
#include "keb/validate.h"
#include "keb/windows.h"
#include "log.h"
#include "metrics.h"
#include "notification_sender.h"
#include "sqlite_store.h"
#include "store_factory.h"
#include "redact.h"
#include "keb/world/fleet_gen.h"
#include "lease.h"
#include "postgres_store.h"
#ifdef KEB_HAVE_KUBE
#include "keb/kube/gardener.h"
#endif

namespace keb::server {

extern const char* const kOpenApiJson;  // openapi_embed.cpp (generated from openapi.json)

namespace {

// An Accept-Encoding value without its br entries ("gzip, deflate, br" -> "gzip, deflate").
std::string withoutBrotli(const std::string& value) {
    std::string out;
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        std::string item = value.substr(start, comma - start);
        const auto b = item.find_first_not_of(" \t");
        item = b == std::string::npos ? std::string() : item.substr(b, item.find_last_not_of(" \t") - b + 1);
        const std::string name = item.substr(0, item.find(';'));
        if (!item.empty() && name != "br" && name != "BR" && name != "Br") out += (out.empty() ? "" : ", ") + item;
        start = comma + 1;
    }
    return out;
}

// ---------------------------------------------------------------- small parts

class RandomIdGenerator : public IdGenerator {
public:
    std::string newId() override {
        std::uint64_t w[2];
        if (RAND_bytes(reinterpret_cast<unsigned char*>(w), sizeof w) != 1)
            throw std::runtime_error("RAND_bytes failed");
        return formatUuid(w[0], w[1]);
    }
};

// No fleet configured: resolves to nothing (orchestrations succeed with 0 operations).
class EmptyFleet : public FleetSource {
public:
    FleetSnapshot snapshot(Millis) override { return {true, "", &none_}; }
    std::optional<Runtime> find(const std::string&, Millis) override { return std::nullopt; }

private:
    std::vector<Runtime> none_;
};

class NoBackend : public UpgradeBackend {
public:
    StepResult start(OrchestrationType, const Operation&, Millis) override {
        return StepResult::failed("no upgrade backend configured (start keb-server with --demo-fleet or --kubeconfig)");
    }
    StepResult poll(OrchestrationType t, const Operation& op, Millis now) override { return start(t, op, now); }
};

// Thread-safe view of a FleetSource for the engine thread only (the demo fleet is only touched there).
class LoggingListener : public EngineListener {
public:
    LoggingListener(Metrics& m, bool log) : metrics_(m), log_(log) {}
    void onEvent(const EngineEvent& e) override {
        metrics_.engineEvent();
        if (!log_) return;
        Json f = {{"at", formatRfc3339(e.at)}};
        if (!e.orchestrationID.empty()) f["orchestrationID"] = e.orchestrationID;
        if (!e.operationID.empty()) f["operationID"] = e.operationID;
        if (!e.runtimeID.empty()) f["runtimeID"] = e.runtimeID;
        if (!e.state.empty()) f["state"] = e.state;
        if (!e.detail.empty()) f["detail"] = e.detail;
        logEvent(e.kind == "resolve.error" ? "warn" : "info", "engine." + std::string(e.kind), f);
    }

private:
    Metrics& metrics_;
    bool log_;
};

std::string randomHex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

// The default secret: generated once, kept next to the SQLite file (mode 0600).
std::string loadOrCreateSecret(const std::string& file) {
    {
        std::ifstream in(file);
        std::string s;
        if (in && std::getline(in, s) && s.size() >= 16) return s;
    }
    std::string s = randomHex(32);
    std::string tmp = file + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write the token secret file '" + tmp + "'");
        out << s << "\n";
    }
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, file);
    return s;
}

const char* contentTypeFor(const std::string& path) {
    auto dot = path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "wasm") return "application/wasm";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "json" || ext == "map") return "application/json";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    if (ext == "txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

std::string statusText(int status) {
    switch (status) {
        case 400: return "bad request";
        case 404: return "not found";
        case 405: return "method not allowed";
        case 408: return "request timeout";
        case 413: return "request body too large";
        case 414: return "request URI too long";
        case 416: return "range not satisfiable";
        case 431: return "request header fields too large";
        default: return "HTTP error " + std::to_string(status);
    }
}

void setJson(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

// The engine and the write side of the API while this replica leads: always with SQLite or
// memory; with PostgreSQL while it holds the lease (SPEC 11), rebuilt (recovered as at a restart)
// at each take-over. HTTP threads hold a shared_ptr while they use it.
struct Leading {
    std::int64_t epoch = 0;
    // Replicas: each term of leadership opens its own connection (a session left broken by a
    // lost database or pg_terminate_backend is never reused for a new term).
    std::unique_ptr<Store> ownStore;
    std::unique_ptr<GenerationStore> ownGeneration;
    Store* store = nullptr;  // the engine's store (App::store_ or ownGeneration)
    std::unique_ptr<EngineLoop> loop;
    std::unique_ptr<QueryApi> queries;      // over the store, on the engine thread
    std::unique_ptr<CommandApi> commands;   // over the engine, on the engine thread
    std::unique_ptr<ApiRouter> router;
    ~Leading() {
        if (loop) loop->stop();
    }
};

// ---------------------------------------------------------------- the server

class App {
public:
    explicit App(const ServerOptions& o) : o_(o) {}
    int run();

private:
    // run()'s steps, in order. Those returning int give 0 to go on, else the exit code (after
    // saying why on stderr).
    void setUpStore();
    int setUpAuth();
    int setUpEngineConfig();
    int setUpFleet();
    void startEngine();
    std::shared_ptr<Leading> makeLeading(std::int64_t epoch);
    std::shared_ptr<Leading> leading();
    // SPEC 11, PostgreSQL only: the lease and the thread that starts/stops the engine with it.
    void startLeadership(int port);
    void roleMain();
    void stepDown(const std::string& why);
    void stopLeadership();
    void forwardWrite(const httplib::Request& req, httplib::Response& res);
    // Retry-After of a 503: a third of the lease (the time a new leader needs), at least 1 s.
    long long retryAfterSeconds() const { return std::max<long long>(1, (o_.leaseTtl + 999) / 1000 / 3); }
    void startNotifications();
    void stopNotifications();
    int setUpHttp(int* boundPort);
    int serve();

    void handle(const httplib::Request& req, httplib::Response& res);
    void handleApi(const httplib::Request& req, httplib::Response& res, const RouteMatch& match, std::string* note);
    void handleOther(const httplib::Request& req, httplib::Response& res);
    bool servePageFast(const httplib::Request& req, httplib::Response& res, const RouteMatch& match, bool cacheable);
    void serveStatic(const httplib::Request& req, httplib::Response& res);
    std::string renderMetrics();
    void printHowTo(int port);

    const ServerOptions& o_;
    // The store as the factory opened it (store_factory.h): the engine's store, readers for the
    // HTTP threads when the store has them, where its files go, its lock.
    OpenedStore opened_;
    std::unique_ptr<GenerationStore> store_;
    std::unique_ptr<Authenticator> auth_;
    std::string defaultSecret_;
    std::unique_ptr<FleetSource> ownedFleet_;
    std::unique_ptr<UpgradeBackend> ownedBackend_;
#ifdef KEB_HAVE_KUBE
    std::unique_ptr<kube::GardenerConnection> gardener_;
#endif
    FleetSource* fleet_ = nullptr;
    UpgradeBackend* backend_ = nullptr;
    std::string fleetDescription_;
    EngineConfig engineConfig_;
    RandomIdGenerator ids_;
    Metrics metrics_;
    std::unique_ptr<LoggingListener> listener_;
    std::mutex leadMu_;
    std::shared_ptr<Leading> leading_;  // null: a follower (or between leaders)
    bool replicated_ = false;           // PostgreSQL: leadership by lease
    std::unique_ptr<LeaseManager> lease_;
    std::string advertiseUrl_;
    std::thread roleThread_;
    std::atomic<bool> roleStop_{false};
    std::atomic<bool> engineFailed_{false};
    std::unique_ptr<NotificationSender> notifications_;  // SPEC 14, with --notification-url
    std::unique_ptr<httplib::Server> http_;

    struct CacheEntry {
        std::uint64_t gen;
        int status;
        std::shared_ptr<const std::string> body;  // shared with responses being written
    };
    std::shared_mutex cacheMu_;
    std::unordered_map<std::string, CacheEntry> cache_;
};

void App::handle(const httplib::Request& req, httplib::Response& res) {
    auto t0 = std::chrono::steady_clock::now();
    std::string note;
    try {
        // The routes table decides: API routes (and unknown paths under an API prefix, a JSON
        // 404/405 from the router) go to the router, the rest to the server's own routes and files.
        const RouteMatch match = matchRoute(req.method, req.path);
        if (match.route ? match.route->access != Access::Public : isApiPath(req.path)) handleApi(req, res, match, &note);
        else handleOther(req, res);
    } catch (const std::exception& ex) {
        res.set_header("Retry-After", "1");
        setJson(res, 503, errorJson(std::string("service unavailable: ") + ex.what()));
        logEvent("error", "http.error", {{"path", req.path}, {"error", ex.what()}});
    }
    metrics_.httpRequest(res.status);
    if (o_.accessLog)
        logAccess(req.method, req.path, res.status, res.body.empty() ? res.content_length_ : res.body.size(),
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                  req.remote_addr, note);
}

void App::handleApi(const httplib::Request& req, httplib::Response& res, const RouteMatch& match, std::string* note) {
    std::string authError;
    const std::int64_t nowSec = wallClockMillis() / 1000;
    Principal principal = auth_->authenticate(req.get_header_value("Authorization"), nowSec, &authError);
    if (!principal.authenticated) *note = authError;

    // Who answers: read routes (and 404/405, which read nothing) a store reader, write routes the
    // engine thread.
    const bool readSide = !match.route || match.route->access == Access::Read;

    // Cache hits first: nothing else of the request is needed (the key is the raw target, and
    // only answers a token with the route's scope may see are cached). Only 200 answers are
    // cached, so a hit's target has passed the router's checks (unknown query parameters: 400).
    // Replicas: another replica's writes do not bump our generation, so nothing is cached.
    const bool cacheable = o_.responseCache && !replicated_ && match.route && match.route->access == Access::Read &&
                           principal.authenticated && principal.scopes.count(match.route->scope);
    if (cacheable) {
        std::shared_lock<std::shared_mutex> lk(cacheMu_);
        auto it = cache_.find(req.target);
        if (it != cache_.end() && it->second.gen == store_->generation()) {
            res.status = it->second.status;
            // Written straight from the cached buffer (no copy of the body per request).
            std::shared_ptr<const std::string> body = it->second.body;
            lk.unlock();
            const std::size_t size = body->size();
            res.set_content_provider(size, "application/json",
                                     [body = std::move(body)](std::size_t offset, std::size_t length,
                                                              httplib::DataSink& sink) {
                                         return sink.write(body->data() + offset, length);
                                     });
            return;
        }
    }

    if (readSide && principal.authenticated && match.route && match.route->id == RouteId::ListOperations &&
        principal.scopes.count(match.route->scope) && servePageFast(req, res, match, cacheable))
        return;

    ApiRequest ar;
    ar.method = req.method;
    ar.path = req.path;
    if (auto q = req.target.find('?'); q != std::string::npos)
        ar.query = parseQueryString(std::string_view(req.target).substr(q + 1));
    ar.contentType = req.get_header_value("Content-Type");
    ar.principal = std::move(principal);
    ar.body = req.body;

    const std::uint64_t gen = store_->generation();  // read BEFORE the data (see generation_store.h)
    ApiResponse out;
    if (readSide && opened_.readers) {
        // Reads never wait for the engine thread: a reader of their own (e.g. a read-only SQLite
        // connection), and a router without a command API.
        auto reader = opened_.readers->borrow();
        QueryApi queries(*reader, reader->pageSource());  // pages rendered straight from the rows
        ApiRouter router(queries, nullptr);
        out = router.handle(ar, wallClockMillis());
    } else if (auto lead = leading()) {
        out = lead->loop->call([&](Engine&, Millis now) { return lead->router->handle(ar, now); });
    } else if (match.route) {
        return forwardWrite(req, res);  // a follower: the leader answers writes (and fleet reads)
    } else {
        throw std::runtime_error("not the leader and the store has no readers");
    }
    if (out.status == 401 && !authError.empty()) out.body = errorJson("unauthorized: " + authError);
    if (out.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    // The store is unavailable (fenced, database gone: keb::StoreUnavailable): the client retries
    // and then reaches the new leader, or this one once the database is back (SPEC 11).
    if (out.status == 503) {
        res.set_header("Retry-After", std::to_string(retryAfterSeconds()));
        logEvent("warn", "api.unavailable", {{"path", ar.path}, {"body", out.body}});
    }
    if (out.status == 500) logEvent("error", "api.error", {{"path", ar.path}, {"body", out.body}});
    std::string body = out.text.empty() ? dumpWire(out.body) : std::move(out.text);
    if (cacheable && out.status == 200) {
        std::unique_lock<std::shared_mutex> lk(cacheMu_);
        if (cache_.size() >= 1024) cache_.clear();
        cache_[req.target] = CacheEntry{gen, out.status, std::make_shared<const std::string>(body)};
    }
    res.status = out.status;
    res.body = std::move(body);  // httplib 0.11 has no set_content(string&&): no copy of a 37 KB page
    res.set_header("Content-Type", "application/json");
}

namespace {
// `page` / `page_size` of GET /orchestrations/{id}/operations when the query holds nothing else
// and needs no decoding (each at most once, no %-escapes or '+', values ApiRouter accepts: the
// same integer parse and bounds). false: anything else, which the generic path answers (its 400s).
bool plainPaging(std::string_view query, OperationQuery& q) {
    bool seenPage = false, seenSize = false;
    while (!query.empty()) {
        const std::size_t amp = std::min(query.find('&'), query.size());
        const std::string_view part = query.substr(0, amp);
        query.remove_prefix(std::min(amp + 1, query.size()));
        const std::size_t eq = part.find('=');
        if (eq == std::string_view::npos) return false;
        const std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
        if (value.empty() || value.size() > 10) return false;
        int n = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || ptr != value.data() + value.size()) return false;
        if (key == "page" && !seenPage && n >= 1 && n <= 1'000'000'000) {
            seenPage = true;
            q.page = n;
        } else if (key == "page_size" && !seenSize && n >= 1 && n <= 100) {
            seenSize = true;
            q.pageSize = n;
        } else {
            return false;
        }
    }
    return true;
}
}  // namespace

// GET /orchestrations/{id}/operations?page=&page_size= (a dashboard polling a rollout: every
// write invalidates the response cache) without the generic request objects: the token's scope
// was checked by the caller, the query is parsed as ApiRouter parses it, and the page is rendered
// by the reader's page source into this thread's buffer, which httplib writes from (it writes the
// response on this thread before the thread reads its next request). Anything else, a missing
// orchestration and any error: false, and the generic path answers as it always did (same status,
// message and body).
bool App::servePageFast(const httplib::Request& req, httplib::Response& res, const RouteMatch& match, bool cacheable) {
    if (!opened_.readers || req.method != "GET") return false;
    OperationQuery q;
    q.page = 1;
    q.pageSize = 100;
    if (const auto at = req.target.find('?'); at != std::string::npos) {
        if (!plainPaging(std::string_view(req.target).substr(at + 1), q)) return false;
    }
    const std::uint64_t gen = store_->generation();  // read BEFORE the data (see generation_store.h)
    static thread_local std::string page;
    page.clear();
    try {
        // The generation was read before: a reader may answer from the snapshot it kept since a
        // request at the same generation (no write committed since; see borrowAt).
        auto reader = replicated_ ? opened_.readers->borrow() : opened_.readers->borrowAt(gen);
        OperationPageSource* pages = reader->pageSource();
        if (!pages || !pages->appendOperationPage(std::string(match.params[0]), q, page)) return false;
    } catch (...) {
        return false;
    }
    if (cacheable) {
        std::unique_lock<std::shared_mutex> lk(cacheMu_);
        if (cache_.size() >= 1024) cache_.clear();
        cache_[req.target] = CacheEntry{gen, 200, std::make_shared<const std::string>(page)};
    }
    res.status = 200;
    if (req.has_header("Accept-Encoding")) {
        // httplib compresses a body (not a content provider) for a client that accepts it: keep that.
        res.body = page;
        res.set_header("Content-Type", "application/json");
        return true;
    }
    res.set_content_provider(page.size(), "application/json",
                             [](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 return sink.write(page.data() + offset, length);
                             });
    return true;
}

void App::handleOther(const httplib::Request& req, httplib::Response& res) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    auto only = [&](const std::string& allowed) {
        res.set_header("Allow", allowed);
        setJson(res, 405, errorJson("method " + req.method + " not allowed on " + req.path + " (allowed: " + allowed + ")"));
    };
    // The shell's own routes (Access::Public in the routes table); HEAD is answered as GET.
    if (const Route* route = matchRoute("GET", req.path).route; route && route->access == Access::Public) {
        if (!get) return only(allowedMethods(req.path));
        if (auto q = req.target.find('?'); q != std::string::npos) {
            const std::string e = unknownQueryParameter(*route, parseQueryString(std::string_view(req.target).substr(q + 1)));
            if (!e.empty()) return setJson(res, 400, errorJson(e));
        }
        switch (route->id) {
            case RouteId::Healthz: {
                auto lead = leading();
                Json h = {{"status", "ok"},
                          {"store", replicated_ ? std::string("postgresql") : o_.store},  // the URI may hold a password
                          {"fleet", fleetDescription_},
                          {"activeOrchestrations", lead ? lead->loop->activeOrchestrations() : 0},
                          {"role", lead ? "leader" : "follower"},
                          {"epoch", lead ? lead->epoch : 0},
                          {"replica", o_.replicaId}};
                if (lease_) {
                    const LeaseView v = lease_->view();
                    if (!lead) h["epoch"] = v.epoch;
                    h["leader"] = v.leaderUrl.empty() ? "" : v.holder;
                    if (!v.problem.empty()) {
                        h["status"] = "degraded";
                        h["problem"] = "database: " + v.problem;
                    }
                }
                return setJson(res, 200, h);
            }
            case RouteId::Metrics:
                res.status = 200;
                res.set_content(renderMetrics(), "text/plain; version=0.0.4; charset=utf-8");
                return;
            case RouteId::OpenApi:
                res.status = 200;
                res.set_content(kOpenApiJson, "application/json");
                return;
            default:  // API routes never get here (handleApi)
                break;
        }
    }
    if (!o_.webRoot.empty()) {
        if (!get) return only("GET");
        return serveStatic(req, res);
    }
    setJson(res, 404, errorJson("no route for " + req.path));
}

void App::serveStatic(const httplib::Request& req, httplib::Response& res) {
    namespace fs = std::filesystem;
    std::string rel = req.path;
    if (rel.find('\0') != std::string::npos) return setJson(res, 400, errorJson("bad path"));
    for (std::size_t i = 0; i < rel.size();) {
        std::size_t j = rel.find('/', i);
        if (j == std::string::npos) j = rel.size();
        if (rel.compare(i, j - i, "..") == 0) return setJson(res, 404, errorJson("no such file: " + req.path));
        i = j + 1;
    }
    fs::path p = fs::path(o_.webRoot) / fs::path(rel).relative_path();
    std::error_code ec;
    if (fs::is_directory(p, ec)) p /= "index.html";
    if (!fs::is_regular_file(p, ec)) return setJson(res, 404, errorJson("no such file: " + req.path));
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    res.status = 200;
    // The page asks for itself once and finds this header: it is served by keb-server, so it
    // offers Live mode (SPEC 12); a plain static server has no such header.
    res.set_header("X-Keb-Server", "1");
    res.set_content(ss.str(), contentTypeFor(p.string()));
}

std::string App::renderMetrics() {
    // Per-state totals from a reader beside the engine when the store has one, else on the
    // engine thread (StoreReader::stateCounts: counters where the store keeps them).
    StoreReader::StateCounts counts;
    if (opened_.readers) {
        counts = opened_.readers->borrow()->stateCounts();
    } else if (leading()) {
        counts = leading()->loop->call([&](Engine&, Millis) { return store_->stateCounts(); });
    }
    std::map<OrchestrationState, std::int64_t>& orch = counts.orchestrations;
    std::map<OperationState, std::int64_t>& ops = counts.operations;
    if (notifications_ && (opened_.readers || leading())) {
        const std::int64_t queued =
            opened_.readers ? opened_.readers->borrow()->pendingNotificationCount()
                            : leading()->loop->call([&](Engine&, Millis) { return opened_.store->pendingNotificationCount(); });
        metrics_.setNotifications(notifications_->sent(), notifications_->failed(), queued);
    }
    auto lead = leading();
    std::string text = metrics_.render(orch, ops, lead ? lead->loop->activeOrchestrations() : 0,
                                       lead ? lead->loop->actionsOut() : 0);
    const std::int64_t epoch = lead ? lead->epoch : lease_ ? lease_->view().epoch : 0;
    text += "# HELP keb_leader 1 when this replica leads (runs the engine), else 0.\n# TYPE keb_leader gauge\nkeb_leader " +
            std::to_string(lead ? 1 : 0) + "\n# HELP keb_lease_epoch The lease epoch this replica leads under or last saw.\n"
            "# TYPE keb_lease_epoch gauge\nkeb_lease_epoch " + std::to_string(epoch) + "\n";
    return text;
}

void App::printHowTo(int port) {
    const std::string scheme = o_.tlsCert.empty() ? "http" : "https";
    std::string host = o_.host == "0.0.0.0" || o_.host == "::" ? "127.0.0.1" : o_.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    const std::string base = scheme + "://" + host + ":" + std::to_string(port);
    const std::string k = o_.tlsCert.empty() ? "" : "-k ";
    std::ostringstream out;
    out << "\nkeb-server is listening on " << base << "  (store " << redactStoreSpec(o_.store) << ", fleet: " << fleetDescription_
        << ")\n";
    std::string authHeader;
    if (auth_->isNone()) {
        out << "\n  !!! WARNING: --auth none: EVERY request is accepted without a token. Never expose this. !!!\n";
    } else if (!defaultSecret_.empty()) {
        Json claims = {{"sub", "keb-operator"},
                       {"scope", std::string(kScopeRead) + " " + kScopeWrite},
                       {"iat", wallClockMillis() / 1000},
                       {"exp", wallClockMillis() / 1000 + 12 * 3600}};
        out << "\nA token valid for 12 h (HS256";
        if (!opened_.filesPrefix.empty())
            out << "; more with: keb-server token --secret-file " << opened_.filesPrefix << ".jwt-secret --ttl 1h";
        else
            out << "; the secret lives only in this process";
        out << "):\n  export TOKEN=" << signHs256(claims, defaultSecret_) << "\n";
        authHeader = "-H \"Authorization: Bearer $TOKEN\" ";
    } else {
        out << "\nSend a bearer token with scope broker-upgrade:read / broker-upgrade:write (--auth "
            << auth_->describe() << "); e.g. export TOKEN=$(keb-server token --secret ... )\n";
        authHeader = "-H \"Authorization: Bearer $TOKEN\" ";
    }
    out << "\nStart a rollout, then watch it:\n"
        << "  curl -s " << k << authHeader << "-H 'Content-Type: application/json' \\\n"
        << "    -d '{\"targets\":{\"include\":[{\"target\":\"all\"}]},\"strategy\":{\"type\":\"parallel\",\"schedule\":"
           "\"immediate\",\"parallel\":{\"workers\":5}},\"kyma\":{\"version\":\"2.20.0\"}}' \\\n"
        << "    " << base << "/upgrade/kyma\n"
        << "  curl -s " << k << authHeader << base << "/orchestrations\n"
        << "  curl -s " << k << base << "/metrics     # also /healthz, /openapi.json";
    if (!o_.webRoot.empty()) out << "\n  browser simulator: " << base << "/";
    out << "\n\n";
    std::cout << out.str() << std::flush;
}

int App::run() {
    if (!o_.webRoot.empty() && !std::filesystem::is_directory(o_.webRoot)) {
        std::cerr << "keb-server: --web-root '" << o_.webRoot << "' is not a directory\n";
        return 2;
    }
    setUpStore();
    if (int rc = setUpAuth()) return rc;
    if (int rc = setUpEngineConfig()) return rc;
    if (int rc = setUpFleet()) return rc;
    listener_ = std::make_unique<LoggingListener>(metrics_, o_.engineLog);
    if (!replicated_) startEngine();
    startNotifications();
    int port = 0;
    if (int rc = setUpHttp(&port)) {
        stopNotifications();
        leading_.reset();
        return rc;
    }
    if (replicated_) startLeadership(port);
    return serve();
}

// The store, and the generation decorator the response cache reads over it. One function so that
// a store factory (memory, sqlite:PATH, later postgres://) can take its place. Throws on failure.
void App::setUpStore() {
    StoreOpenOptions so;
    so.synchronousFull = o_.sqliteSynchronousFull;
    opened_ = openStore(o_.store, so);  // holds the store's one-engine lock while open
    store_ = std::make_unique<GenerationStore>(*opened_.store);
    replicated_ = opened_.kind == "postgres" || opened_.kind == "postgresql";
}

// Token verification (--auth, or an HS256 secret kept next to the SQLite file).
int App::setUpAuth() {
    std::string err;
    if (o_.auth) {
        auth_ = Authenticator::create(*o_.auth, o_.authLeeway / 1000, &err);
    } else {
        defaultSecret_ = opened_.filesPrefix.empty() ? randomHex(32)
                                                     : loadOrCreateSecret(opened_.filesPrefix + ".jwt-secret");
        auth_ = Authenticator::create("hs256:" + defaultSecret_, o_.authLeeway / 1000, &err);
    }
    if (!auth_) {
        logEvent("error", "startup.failed", {{"error", err}});
        std::cerr << "keb-server: " << err << "\n";
        return 2;
    }
    if (auth_->isNone()) {
        logEvent("warn", "auth.disabled",
                 {{"warning", "--auth none: every request is accepted without a token; never expose this server"}});
        std::cerr << "\n*** WARNING: authentication is DISABLED (--auth none). Anyone who can reach this port can "
                     "start upgrades. ***\n\n";
    }
    return 0;
}

// Poll and retry intervals, timeouts, the maintenance policy and server-wide blackouts.
int App::setUpEngineConfig() {
    std::string err;
    EngineConfig& ec = engineConfig_;
    ec.pollInterval = o_.pollInterval ? *o_.pollInterval : (o_.demoFleet > 0 ? std::max<Millis>(o_.demoUpgradeDuration, 100) : kMinute);
    ec.stepRetryInterval = o_.stepRetryInterval;
    ec.operationTimeout = o_.operationTimeout;
    ec.notifications = !o_.notificationUrl.empty();  // SPEC 14: the engine writes outbox rows
    if (!o_.maintenancePolicyFile.empty()) {
        std::ifstream in(o_.maintenancePolicyFile);
        if (!in) {
            std::cerr << "keb-server: cannot read --maintenance-policy file '" << o_.maintenancePolicyFile << "'\n";
            return 2;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        auto policy = parseMaintenancePolicy(ss.str(), &err);
        if (!policy) {
            std::cerr << "keb-server: --maintenance-policy " << o_.maintenancePolicyFile << ": " << err << "\n";
            return 2;
        }
        ec.policy = *policy;
    }
    if (!o_.blackoutsFile.empty()) {
        std::ifstream in(o_.blackoutsFile);
        if (!in) {
            std::cerr << "keb-server: cannot read --blackouts file '" << o_.blackoutsFile << "'\n";
            return 2;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        const Json list = Json::parse(ss.str(), nullptr, false);
        if (list.is_discarded()) {
            std::cerr << "keb-server: --blackouts " << o_.blackoutsFile
                      << ": not JSON (want a list of {\"from\", \"to\", \"reason\"})\n";
            return 2;
        }
        auto blackouts = parseBlackouts(list, "blackouts", &err);
        if (!blackouts) {
            std::cerr << "keb-server: --blackouts " << o_.blackoutsFile << ": " << err << "\n";
            return 2;
        }
        ec.blackouts = std::move(*blackouts);
        logEvent("info", "blackouts.loaded",
                 {{"file", o_.blackoutsFile}, {"count", static_cast<std::int64_t>(ec.blackouts.size())}});
    }
    return 0;
}

// Where runtimes come from and what upgrades them: Gardener, the demo fleet, or nothing.
int App::setUpFleet() {
    std::string err;
    if (!o_.kubeconfig.empty()) {
#ifdef KEB_HAVE_KUBE
        kube::GardenerOptions go;
        go.kubeconfigPath = o_.kubeconfig;
        go.project = o_.gardenerProject;
        go.kymaUpgradeURL = o_.kymaUpgradeURL;
        go.transientRetry = o_.stepRetryInterval;  // --step-retry
        gardener_ = kube::GardenerConnection::connect(go, &err);
        if (!gardener_) {
            logEvent("error", "startup.failed", {{"error", "gardener: " + err}});
            std::cerr << "keb-server: cannot connect to Gardener: " << err << "\n";
            return 2;
        }
        fleet_ = &gardener_->fleet();
        backend_ = &gardener_->backend();
        fleetDescription_ = "gardener project " + o_.gardenerProject + " (namespace " + gardener_->namespaceName() + ")";
#else
        std::cerr << "keb-server: --kubeconfig: this build has no Gardener client (native-server/kube was not built)\n";
        return 2;
#endif
    } else if (o_.demoFleet > 0) {
        world::FleetSpec spec;
        spec.size = o_.demoFleet;
        auto fleet = std::make_unique<world::SimFleet>(world::generateFleet(spec, o_.demoSeed));
        ownedFleet_ = std::move(fleet);
        DemoBackendOptions bo;
        bo.journalPath = opened_.filesPrefix.empty() ? "" : opened_.filesPrefix + ".upgrades.jsonl";
        bo.upgradeDuration = o_.demoUpgradeDuration;
        bo.failureProbability = o_.demoFailureRate;
        bo.seed = o_.demoSeed;
        bo.fsync = o_.sqliteSynchronousFull;
        bo.callLatency = o_.demoStepLatency;
        if (replicated_) {  // SPEC 11: the start journal in the same database, fenced by the lease epoch
            bo.pgJournal = std::make_shared<PgUpgradeJournal>(o_.store, o_.replicaId, [this]() -> std::optional<std::int64_t> {
                auto lead = leading();
                if (!lead || engineFailed_ || !lease_ || !lease_->holds(lead->epoch)) return std::nullopt;
                return lead->epoch;
            });
        }
        ownedBackend_ = std::make_unique<DemoBackend>(bo);
        fleetDescription_ = "demo fleet of " + std::to_string(o_.demoFleet) + " simulated runtimes (seed " +
                            std::to_string(o_.demoSeed) + ", upgrades take " + formatDuration(o_.demoUpgradeDuration) + ")";
        fleet_ = ownedFleet_.get();
        backend_ = ownedBackend_.get();
    } else {
        ownedFleet_ = std::make_unique<EmptyFleet>();
        ownedBackend_ = std::make_unique<NoBackend>();
        fleet_ = ownedFleet_.get();
        backend_ = ownedBackend_.get();
        fleetDescription_ = "none (no --demo-fleet or --kubeconfig: every orchestration resolves to 0 runtimes)";
        logEvent("warn", "fleet.none", {{"warning", fleetDescription_}});
    }
    return 0;
}

// The engine loop (recovery first) and the write side of the API on its thread.
void App::startEngine() {
    auto lead = makeLeading(0);
    std::lock_guard<std::mutex> lk(leadMu_);
    leading_ = std::move(lead);
}

namespace {
// The engine loop commits each round's writes to `store` as one group (SqliteStore, PostgresStore:
// beginGroup / commitGroup); `gen` (the generation decorator over it) learns of each commit after it.
template <class GroupStore>
void useGroupCommit(EngineLoop& loop, GroupStore& store, GenerationStore& gen) {
    loop.setCommitGroup([&store] { store.beginGroup(); },
                        [&store, &gen] {
                            store.commitGroup();
                            gen.committed();
                        });
}
}  // namespace

// Builds and starts (recovers) an engine: at start (SQLite, memory) or at each take-over.
std::shared_ptr<Leading> App::makeLeading(std::int64_t epoch) {
    auto lead = std::make_shared<Leading>();
    lead->epoch = epoch;
    lead->store = store_.get();
    PostgresStore* pgStore = nullptr;
    if (replicated_) {
        auto pg = std::make_unique<PostgresStore>(o_.store);
        pg->setFence(epoch);  // every write checks the lease epoch first (SPEC 11)
        pgStore = pg.get();
        lead->ownStore = std::move(pg);
        lead->ownGeneration = std::make_unique<GenerationStore>(*lead->ownStore);
        lead->store = lead->ownGeneration.get();
    }
    lead->loop = std::make_unique<EngineLoop>(*lead->store, *fleet_, *backend_, ids_, engineConfig_, o_.workers, metrics_,
                                              listener_.get());
    if (replicated_) {
        lead->loop->setOnStoreFailure([this](const std::string&) {
            engineFailed_ = true;  // roleMain steps down
        });
        lead->loop->setMayAct([this, epoch] { return !engineFailed_ && lease_->holds(epoch); });
        // Group commit on PostgreSQL too: one transaction (one fence check, one WAL flush) per
        // engine round instead of one per write (docs/server.md: about 1.9x the operations/s).
        useGroupCommit(*lead->loop, *pgStore, *lead->ownGeneration);
    }
    else if (auto* sqlite = dynamic_cast<SqliteStore*>(opened_.store.get()))  // group commit (issue 15)
        useGroupCommit(*lead->loop, *sqlite, *store_);
    lead->queries = std::make_unique<QueryApi>(*lead->store);
    lead->commands = std::make_unique<CommandApi>(lead->loop->engineUnsafe());
    lead->router = std::make_unique<ApiRouter>(*lead->queries, lead->commands.get());
    lead->router->setRequireJsonContentType(true);
    const double recoverMs = lead->loop->start();
    logEvent("info", "startup.recovered",
             {{"durationMs", recoverMs}, {"activeOrchestrations", lead->loop->activeOrchestrations()}, {"epoch", epoch}});
    return lead;
}

std::shared_ptr<Leading> App::leading() {
    std::lock_guard<std::mutex> lk(leadMu_);
    return leading_;
}

// SPEC 11: take part in the lease; roleMain runs the engine while we hold it.
void App::startLeadership(int port) {
    const std::string scheme = o_.tlsCert.empty() ? "http" : "https";
    const std::string host = o_.host == "0.0.0.0" || o_.host == "::" ? "127.0.0.1" : o_.host;
    advertiseUrl_ = o_.advertiseUrl.empty() ? scheme + "://" + host + ":" + std::to_string(port) : o_.advertiseUrl;
    LeaseOptions lo;
    lo.uri = o_.store;
    lo.replicaId = o_.replicaId;
    lo.advertiseUrl = advertiseUrl_;
    lo.ttl = o_.leaseTtl;
    lease_ = std::make_unique<LeaseManager>(lo);
    lease_->start();
    logEvent("info", "replica.started", {{"replica", o_.replicaId}, {"advertiseUrl", advertiseUrl_},
                                         {"leaseTtl", formatDuration(o_.leaseTtl)}});
    roleThread_ = std::thread([this] { roleMain(); });
}

// Follows the lease: starts the engine (recovering as at a restart) when we take it, stops it when
// we lose it or when a store write failed (fenced by a newer epoch, or the database is gone).
void App::roleMain() {
    std::uint64_t seen = 0;
    while (!roleStop_) {
        const LeaseView v = lease_->waitChange(seen, 100);
        seen = v.version;
        if (roleStop_) break;
        auto lead = leading();
        if (lead) {
            std::string why;
            if (!v.leader || v.epoch != lead->epoch) why = "lost the lease";
            else if (engineFailed_) why = "a store write failed (fenced or database lost)";
            if (!why.empty()) {
                stepDown(why);
                lease_->demote(why);
            }
        } else if (v.leader && v.problem.empty()) {
            try {
                engineFailed_ = false;
                auto fresh = makeLeading(v.epoch);
                std::lock_guard<std::mutex> lk(leadMu_);
                leading_ = std::move(fresh);
                logEvent("info", "replica.leading", {{"replica", o_.replicaId}, {"epoch", v.epoch}});
            } catch (const std::exception& ex) {
                logEvent("error", "replica.lead_failed", {{"epoch", v.epoch}, {"error", ex.what()}});
                lease_->demote(std::string("recovery failed: ") + ex.what());
            }
        }
    }
}

void App::stepDown(const std::string& why) {
    std::shared_ptr<Leading> lead;
    {
        std::lock_guard<std::mutex> lk(leadMu_);
        lead.swap(leading_);
    }
    if (!lead) return;
    lead->loop->stop();  // its store keeps the old epoch as fence: a late write is refused
    logEvent("warn", "replica.following", {{"replica", o_.replicaId}, {"epoch", lead->epoch}, {"reason", why}});
}

// Shutdown: stop the engine, then give the lease up so that a follower leads at its next poll.
void App::stopLeadership() {
    if (!lease_) return;
    roleStop_ = true;
    if (roleThread_.joinable()) roleThread_.join();
    stepDown("shutting down");
    lease_->stop(true);
}

// A write (or a fleet read) on a follower: sent to the leader named in the lease row, its answer returned as is.
void App::forwardWrite(const httplib::Request& req, httplib::Response& res) {
    const LeaseView v = lease_ ? lease_->view() : LeaseView{};
    auto unavailable = [&](const std::string& why) {
        res.set_header("Retry-After", std::to_string(retryAfterSeconds()));
        setJson(res, 503, errorJson(why));
    };
    if (req.has_header("X-Keb-Forwarded-By"))
        return unavailable("replica " + o_.replicaId + " is not the leader (request already forwarded once)");
    if (v.leaderUrl.empty() || v.leaderUrl == advertiseUrl_)
        return unavailable(v.problem.empty() ? "no leader at the moment; retry shortly"
                                             : "no leader: database unreachable (" + v.problem + ")");
    httplib::Client cli(v.leaderUrl);
    cli.set_connection_timeout(std::chrono::seconds(2));
    cli.set_read_timeout(std::chrono::milliseconds(o_.readTimeout));
    cli.enable_server_certificate_verification(false);  // a replica of ours, reached by its advertised URL
    httplib::Headers headers = {{"X-Keb-Forwarded-By", o_.replicaId}};
    if (req.has_header("Authorization")) headers.emplace("Authorization", req.get_header_value("Authorization"));
    const std::string contentType = req.get_header_value("Content-Type");
    httplib::Result r = req.method == "PUT"    ? cli.Put(req.target.c_str(), headers, req.body, contentType.c_str())
                        : req.method == "POST" ? cli.Post(req.target.c_str(), headers, req.body, contentType.c_str())
                                               : cli.Get(req.target.c_str(), headers);
    if (!r) return unavailable("the leader (" + v.holder + ") did not answer: " + httplib::to_string(r.error()));
    res.status = r->status;
    res.body = r->body;
    for (const char* h : {"Content-Type", "Retry-After", "WWW-Authenticate", "Location"})
        if (r->has_header(h)) res.set_header(h, r->get_header_value(h));
}

// SPEC 14: the background sender (--notification-url). It reads the outbox through a reader beside
// the engine when the store has one (else on the engine thread, a short store call) and marks
// rows delivered on the engine thread (the engine's store has one writer); the HTTP calls to the
// notification service run on its own thread only.
void App::startNotifications() {
    if (o_.notificationUrl.empty()) return;
    std::string err;
    const std::optional<NotificationUrl> url = parseNotificationUrl(o_.notificationUrl, &err);
    if (!url) throw std::runtime_error(err);  // checked when the flags were parsed
    NotificationSender::StoreAccess access;
    access.pending = [this](std::size_t n) {
        auto lead = leading();
        if (!lead) return std::vector<Notification>{};  // only the leader sends
        if (opened_.readers) return opened_.readers->borrow()->pendingNotifications(n);
        return lead->loop->call([&](Engine&, Millis) { return lead->store->pendingNotifications(n); });
    };
    // The outbox is not part of any API answer: marking bypasses the response cache's generation.
    access.markDelivered = [this](const std::vector<std::int64_t>& seqs) {
        auto lead = leading();
        if (!lead) throw std::runtime_error("not the leader");
        lead->loop->call([&](Engine&, Millis) { lead->store->markNotificationsDelivered(seqs); });
    };
    notifications_ = std::make_unique<NotificationSender>(*url, std::move(access), o_.notificationRetry);
    notifications_->start();
    logEvent("info", "notifications.on",
             {{"url", url->schemeHostPort() + url->path}, {"retry", formatDuration(o_.notificationRetry)}});
}

void App::stopNotifications() {
    if (notifications_) notifications_->stop();  // before the engine loop its store calls go through
}

// The HTTP(S) server: limits, handlers, bound to its port (listening starts in serve()). The
// caller stops the engine loop when this fails.
int App::setUpHttp(int* boundPort) {
    auto& http = http_;
    if (!o_.tlsCert.empty()) {
        auto s = std::make_unique<httplib::SSLServer>(o_.tlsCert.c_str(), o_.tlsKey.c_str());
        if (!s->is_valid()) {
            std::cerr << "keb-server: cannot load --tls-cert/--tls-key (" << o_.tlsCert << ", " << o_.tlsKey << ")\n";
            return 2;
        }
        http = std::move(s);
    } else {
        http = std::make_unique<httplib::Server>();
    }
    const int threads = o_.httpThreads;
    http->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http->set_tcp_nodelay(true);  // headers and body go out in separate writes: avoid Nagle + delayed-ACK stalls
    http->set_payload_max_length(o_.maxBody);
    http->set_read_timeout(std::chrono::milliseconds(o_.readTimeout));
    http->set_write_timeout(std::chrono::milliseconds(o_.writeTimeout));
    http->set_keep_alive_timeout(std::max<time_t>(1, o_.keepAliveTimeout / 1000));
    http->set_keep_alive_max_count(static_cast<size_t>(o_.keepAliveRequests));
    auto h = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    http->Get(".*", h);
    http->Post(".*", h);
    http->Put(".*", h);
    http->Delete(".*", h);
    http->Patch(".*", h);
    http->Options(".*", h);
    // A POST/PUT without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3), but
    // httplib would wait for one and answer 400: handle such requests before it reads a body
    // (e.g. `curl -X PUT .../cancel`).
    // Bodiless GETs are served here too, which skips httplib's regex routing (a std::regex match
    // per request on the hot read path). A request with a body goes the normal way, which
    // reads (or refuses) the body before the connection is reused.
    http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        // httplib compresses with brotli at its default quality (11) whenever the client accepts
        // br, as browsers do: 1.6 s of server time for one 387 KB page of GET /runtimes on this
        // machine (0.02 s with gzip, 108 vs 85 KB), so a browser read 100,000 runtimes in
        // minutes. Answer browsers with gzip instead. (The Request httplib hands us is its own
        // non-const object, so changing its headers here is well defined.)
        auto& headers = const_cast<httplib::Request&>(req).headers;
        for (auto [it, end] = headers.equal_range("Accept-Encoding"); it != end; ++it)
            it->second = withoutBrotli(it->second);
        if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
            return httplib::Server::HandlerResponse::Unhandled;
        handle(req, res);
        return httplib::Server::HandlerResponse::Handled;
    });
    // Errors raised by httplib itself (413 body too large, 400 unparsable request, ...): JSON too.
    http->set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string msg = res.status == 413 ? "request body larger than " + std::to_string(o_.maxBody) + " bytes"
                                            : statusText(res.status);
        setJson(res, res.status, errorJson(msg));
        metrics_.httpRequest(res.status);
        if (o_.accessLog)
            logEvent("info", "http.request", {{"method", req.method}, {"path", req.path}, {"status", res.status}});
        return httplib::Server::HandlerResponse::Handled;
    }));

    int port = o_.port;
    if (port == 0) port = http->bind_to_any_port(o_.host);
    else if (!http->bind_to_port(o_.host, port)) port = -1;
    if (port <= 0) {
        logEvent("error", "startup.failed", {{"error", "cannot listen on " + o_.host + ":" + std::to_string(o_.port)}});
        std::cerr << "keb-server: cannot listen on " << o_.host << ":" << o_.port << " (in use or not permitted)\n";
        return 2;
    }
    logEvent("info", "startup.listening",
             {{"address", o_.host + ":" + std::to_string(port)},
              {"tls", !o_.tlsCert.empty()},
              {"store", redactStoreSpec(o_.store)},
              {"auth", auth_->describe()},
              {"fleet", fleetDescription_},
              {"pollInterval", formatDuration(engineConfig_.pollInterval)},
              {"workers", o_.workers},
              {"httpThreads", o_.httpThreads}});
    *boundPort = port;
    printHowTo(port);
    if (!o_.portFile.empty()) {  // last: whoever waits for it may use everything above
        std::string tmp = o_.portFile + ".tmp";
        std::ofstream(tmp) << port << "\n";
        std::filesystem::rename(tmp, o_.portFile);
    }
    return 0;
}

// Serves until SIGINT/SIGTERM, then stops the engine loop. Returns the exit code.
int App::serve() {
    auto& http = http_;
    // Signals: a thread waits for SIGINT/SIGTERM and stops the HTTP server.
    std::thread signals([&http] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);  // internal: wake up at shutdown
        int sig = 0;
        sigwait(&set, &sig);
        if (sig != SIGUSR1) logEvent("info", "shutdown", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        http->stop();
    });
    const bool ok = http->listen_after_bind();
    ::kill(::getpid(), SIGUSR1);  // wakes the signal thread if it still waits (else stays pending, blocked)
    signals.join();
    stopNotifications();
    stopLeadership();
    if (auto lead = leading()) lead->loop->stop();
#ifdef KEB_HAVE_KUBE
    if (gardener_) gardener_->stop();
#endif
    flushAccessLog();
    logEvent("info", "shutdown.done", {});
    return ok ? 0 : 1;
}

}  // namespace

int runServer(const ServerOptions& options) {
    // Block the signals in every thread; the signal thread takes them with sigwait.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    // The store URI's password never reaches a log line or the terminal (redact.h).
    const std::vector<std::string> secrets = storeSecrets(options.store);
    setLogSecrets(secrets);
    try {
        App app(options);
        return app.run();
    } catch (const std::exception& ex) {
        const std::string why = scrubSecrets(ex.what(), secrets);
        logEvent("error", "startup.failed", {{"error", why}});
        std::cerr << "keb-server: " << why << "\n";
        return 2;
    }
}

}  // namespace keb::server
