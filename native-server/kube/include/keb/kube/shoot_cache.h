// The list+watch cache of one namespace's Shoots (an informer): a full list in
// `limit`/`continue` pages, then a watch from the list's resourceVersion with
// bookmarks; relist on 410; backoff on errors. It is the server's FleetSource.
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "keb/fleet.h"
#include "keb/kube/client.h"

namespace keb::kube {

struct ShootCacheOptions {
    int pageSize = 500;
    int watchTimeoutSeconds = 300;  // server-side watch timeout asked for; the watch is then re-opened
    RetryPolicy retry;
};

class ShootCache : public FleetSource {
public:
    ShootCache(KubeClient& client, std::string ns, ShootCacheOptions options = {});
    ~ShootCache() override;

    void start();
    void stop();
    // true once the first full list is in the cache.
    bool waitSynced(Millis timeout);
    bool synced() const { return synced_.load(); }
    std::string lastError() const;

    FleetSnapshot snapshot(Millis now) override;
    std::optional<Runtime> find(const std::string& runtimeID, Millis now) override;

    std::size_t size() const;
    std::string resourceVersion() const;

    std::atomic<long long> lists{0}, relists410{0}, watchEvents{0}, bookmarks{0}, watchRestarts{0};

    // Exposed for tests: apply one watch event line; returns false on an ERROR event
    // (*expired set when it is a 410).
    bool applyEventLine(std::string_view line, bool* expired, std::string* error);
    // Runs one full list into the cache (used by the thread and by benchmarks).
    bool listAll(std::string* error);

private:
    void run();
    enum class WatchEnd { Expired, Ended, Broken, Stopped };
    WatchEnd watchOnce(std::string* error);
    void setError(const std::string& e);

    KubeClient& client_;
    std::string ns_;
    ShootCacheOptions opt_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> synced_{false};

    mutable std::mutex mu_;
    std::condition_variable syncedCv_;
    std::unordered_map<std::string, Runtime> byName_;      // shoot name -> runtime
    std::unordered_map<std::string, std::string> nameOf_;  // runtimeID -> shoot name
    std::string rv_;          // last resourceVersion seen (list, event or bookmark)
    std::uint64_t version_ = 0;
    std::string lastError_;

    // Engine-thread side: snapshot storage (valid until the next snapshot()).
    std::vector<Runtime> snap_;
    std::uint64_t snapVersion_ = ~0ULL;
};

}  // namespace keb::kube
