// The server's entry point into Gardener (SPEC 8): a connection built from a
// kubeconfig that keeps a list+watch cache of the Project's Shoots (the fleet the
// core resolves against) and runs the upgrade steps (upgradeCluster through
// Gardener, upgradeKyma through the HTTP contract in docs/upgrade-kyma-contract.md).
#pragma once
#include <memory>
#include <string>

#include "keb/backend.h"
#include "keb/fleet.h"
#include "keb/model.h"

namespace keb::kube {

struct GardenerOptions {
    std::string kubeconfigPath;
    std::string project;        // Gardener Project name; its spec.namespace holds the Shoots
    std::string kymaUpgradeURL; // base URL of the upgradeKyma service (empty: upgradeKyma fails clearly)
    // Tuning (defaults suit a real Gardener; tests shorten them).
    int listPageSize = 500;             // `limit` of each list page
    Millis initialSyncTimeout = 60 * kSecond;  // connect() waits this long for the first full list
    Millis statusPollInterval = 0;      // poll() asks again after this; 0: the engine's poll interval
    Millis transientRetry = 5 * kSecond;  // a step that met a transient error is tried again after this
    int maxAttempts = 6;                // attempts of one request (429 / 5xx / broken connection)
    Millis backoffBase = 200;           // exponential backoff: base * 2^attempt, capped
    Millis backoffMax = 10 * kSecond;
};

// Counters for logs, metrics and tests.
struct GardenerStats {
    long long lists = 0;          // full lists (initial + relists)
    long long relists410 = 0;     // relists caused by 410 Expired
    long long watchEvents = 0;    // ADDED/MODIFIED/DELETED applied
    long long bookmarks = 0;
    long long watchRestarts = 0;  // watch re-opened (timeout, broken connection)
    long long patches = 0;        // merge patches that changed a Shoot
    long long conflicts409 = 0;
    long long throttled429 = 0;
    long long serverErrors5xx = 0;
    long long brokenConnections = 0;
    std::size_t shoots = 0;       // runtimes in the cache
    bool synced = false;
};

class GardenerConnection {
public:
    // Reads the kubeconfig, reads the Project (its namespace), starts the list+watch
    // cache and waits for the first full list. nullptr with *error set on failure.
    static std::unique_ptr<GardenerConnection> connect(const GardenerOptions& options, std::string* error);

    // From the list+watch cache; thread-safe (engine thread reads, watch thread writes).
    virtual keb::FleetSource& fleet() = 0;
    // Dispatches upgradeCluster (Gardener) / upgradeKyma (HTTP contract). Thread-safe.
    virtual keb::UpgradeBackend& backend() = 0;
    virtual GardenerStats stats() const = 0;
    virtual std::string namespaceName() const = 0;
    // Stops the watch thread; idempotent.
    virtual void stop() = 0;
    virtual ~GardenerConnection();
};

}  // namespace keb::kube
