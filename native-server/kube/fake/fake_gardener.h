// A fake Gardener: the Shoots of one Project served over the real Kubernetes wire
// API (discovery, projects, shoots list/get/watch/patch, Status errors), with
// upgrades that progress in accelerated time and switchable faults.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "keb/model.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace keb::fake {

using Json = nlohmann::json;

// Probabilities are per request (0..1). Parsed from "429=0.05,5xx=0.05,reset=0.02,slow=0.1,
// slowms=300,watch410=0.2,retryafter=1,upgradefail=0.0,conflict=0.1" (any subset; "none" clears).
struct Faults {
    double p429 = 0, p5xx = 0, pReset = 0, pSlow = 0, pWatch410 = 0, pUpgradeFail = 0;
    double pConflict = 0;  // a PATCH with a precondition loses a race with another writer (409)
    int slowMs = 300;
    int retryAfterSeconds = 1;
    static std::optional<Faults> parse(const std::string& spec, std::string* error);
    std::string toString() const;
};

struct FakeOptions {
    std::string host = "127.0.0.1";
    int port = 0;  // 0: any free port
    std::size_t shoots = 100;
    std::uint64_t seed = 1;
    std::string token;   // required bearer token (empty: no token check)
    std::string project = "keb";
    std::string tlsCert, tlsKey;  // PEM files: serve HTTPS
    std::string clientCA;         // PEM file: require client certificates signed by it (TLS only)
    double speed = 1.0;           // time acceleration of upgrades
    Millis upgradeDuration = 10 * kMinute;  // simulated reconcile duration (divided by speed)
    Faults faults;
    std::string kubernetesVersions;  // "1.29.5:1" weighted list for the generator; empty: its default
    double deletingShare = -1;       // < 0: generator default
    std::size_t eventWindow = 50000;   // watch events kept (~1.3 KB each); older resourceVersions get 410
    Millis bookmarkInterval = 2000;    // wall ms between BOOKMARK events on idle watches
    Millis maxWatch = 30 * kMinute;    // the server ends a watch after this (clients re-open it)
    int threads = 96;
};

class FakeGardener {
public:
    explicit FakeGardener(FakeOptions options);
    ~FakeGardener();
    bool start(std::string* error);  // binds and serves on background threads
    void stop();
    int port() const { return port_; }
    std::string url() const;
    std::string namespaceName() const { return "garden-" + opt_.project; }

    void setFaults(const Faults& f);
    Faults faults() const;
    // Drops every retained watch event: watches resuming from an older resourceVersion get 410.
    void compact();
    Json stats() const;
    std::uint64_t resourceVersion() const;
    // For tests: the Shoot as JSON (nullopt when unknown).
    std::optional<Json> shoot(const std::string& name) const;
    // For tests: change a shoot as another actor would (bumps resourceVersion, emits MODIFIED).
    bool touch(const std::string& name);

private:
    struct Shoot {
        Runtime rt;
        std::string uid;
        std::string created;  // RFC 3339
        std::uint64_t rv = 0;
        long long generation = 1, observedGeneration = 1;
        std::string lastOpType = "Reconcile", lastOpState = "Succeeded", lastOpDescription = "Shoot cluster has been successfully reconciled.";
        int progress = 100;
        std::string lastOpTime;
        std::map<std::string, std::string> extraAnnotations, extraLabels;
        int versionChanges = 0;  // spec.kubernetes.version changes applied
        int patches = 0;
        int touches = 0;
        mutable std::string json;  // serialised form, cleared on every change
    };
    struct Event {
        std::uint64_t rv;
        std::string line;  // {"type":..,"object":..}\n
    };
    struct Timer {
        Millis at;
        std::string name;
        long long generation;
        int phase;  // 1: halfway progress, 2: done
        bool operator<(const Timer& o) const { return at != o.at ? at < o.at : name != o.name ? name < o.name : phase < o.phase; }
    };

    void routes();
    bool authorized(const httplib::Request& req, httplib::Response& res);
    // true when a fault answered the request (the handler must return).
    bool injectFault(const httplib::Request& req, httplib::Response& res, bool watch);
    static void dropAfterHeaders(httplib::Response& res);  // status line and headers, then a cut
    void handleList(const httplib::Request& req, httplib::Response& res, const std::string& ns);
    void handleWatch(const httplib::Request& req, httplib::Response& res, const std::string& ns);
    void handleGet(const httplib::Request& req, httplib::Response& res, const std::string& ns, const std::string& name);
    void handlePatch(const httplib::Request& req, httplib::Response& res, const std::string& ns, const std::string& name);
    void handleKymaPost(const httplib::Request& req, httplib::Response& res);
    void handleKymaGet(const httplib::Request& req, httplib::Response& res, const std::string& id);

    Json toJson(const Shoot& s) const;                      // caller holds mu_
    const std::string& jsonText(const Shoot& s) const;      // cached toJson(s).dump(); caller holds mu_
    void emit(const char* type, const Shoot& s);            // caller holds mu_
    void reconcileLoop();
    Millis nowMs() const;
    std::string nowRfc3339() const;
    double uniform();

    FakeOptions opt_;
    std::unique_ptr<httplib::Server> server_;
    std::thread serverThread_, reconcileThread_;
    int port_ = 0;
    std::atomic<bool> stopping_{false};

    mutable std::mutex mu_;
    std::condition_variable eventsCv_;
    std::map<std::string, Shoot> shoots_;  // by name (sorted: list order and continue tokens)
    std::uint64_t rv_ = 0;
    std::uint64_t compactedRv_ = 0;  // events at or below this are gone
    std::deque<Event> events_;
    std::set<Timer> timers_;
    std::condition_variable timersCv_;
    Faults faults_;
    std::mt19937_64 rng_;
    std::map<std::string, long long> counters_;
    int activeWatches_ = 0;

    struct KymaUpgrade {
        std::string id, runtimeID, version, operationID;
        Millis startedAt = 0;
    };
    std::map<std::string, KymaUpgrade> kymaByOp_;   // operationID -> upgrade
    std::map<std::string, std::string> kymaIdToOp_;
    std::map<std::string, int> kymaPerRuntime_;
};

// Label selector matching ("a=b,c!=d,e,!f,g in (x,y),h notin (z)"). nullopt with *error when invalid.
struct LabelRequirement {
    std::string key, op;  // op: "=", "!=", "exists", "!exists", "in", "notin"
    std::vector<std::string> values;
};
std::optional<std::vector<LabelRequirement>> parseLabelSelector(const std::string& s, std::string* error);
bool matchesLabels(const std::vector<LabelRequirement>& sel, const std::map<std::string, std::string>& labels);

}  // namespace keb::fake
