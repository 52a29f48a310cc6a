#include "keb/kube/gardener.h"

#include "keb/kube/backends.h"
#include "keb/kube/client.h"
#include "keb/kube/kubeconfig.h"
#include "keb/kube/shoot.h"
#include "keb/kube/shoot_cache.h"

namespace keb::kube {

GardenerConnection::~GardenerConnection() = default;

namespace {

class Connection : public GardenerConnection {
public:
    std::unique_ptr<KubeClient> client;
    std::string ns;
    std::unique_ptr<ShootCache> cache;
    std::unique_ptr<ClusterUpgradeBackend> cluster;
    std::unique_ptr<KymaUpgradeBackend> kyma;
    std::unique_ptr<DispatchBackend> dispatch;

    keb::FleetSource& fleet() override { return *cache; }
    keb::UpgradeBackend& backend() override { return *dispatch; }
    std::string namespaceName() const override { return ns; }
    GardenerStats stats() const override {
        GardenerStats s;
        s.lists = cache->lists;
        s.relists410 = cache->relists410;
        s.watchEvents = cache->watchEvents;
        s.bookmarks = cache->bookmarks;
        s.watchRestarts = cache->watchRestarts;
        s.patches = cluster->patches;
        s.conflicts409 = cluster->conflicts409;
        s.throttled429 = client->counters().throttled429;
        s.serverErrors5xx = client->counters().serverErrors5xx;
        s.brokenConnections = client->counters().brokenConnections;
        s.shoots = cache->size();
        s.synced = cache->synced();
        return s;
    }
    void stop() override {
        if (cache) cache->stop();
    }
    ~Connection() override { stop(); }
};

}  // namespace

std::unique_ptr<GardenerConnection> GardenerConnection::connect(const GardenerOptions& options, std::string* error) {
    std::string dummy;
    if (!error) error = &dummy;
    if (options.project.empty()) {
        *error = "no Gardener project given (--gardener-project NAME)";
        return nullptr;
    }
    auto cfg = loadKubeConfig(options.kubeconfigPath, error);
    if (!cfg) return nullptr;
    auto conn = std::make_unique<Connection>();
    conn->client = KubeClient::create(*cfg, error);
    if (!conn->client) return nullptr;
    RetryPolicy retry;
    retry.maxAttempts = options.maxAttempts;
    retry.backoffBase = options.backoffBase;
    retry.backoffMax = options.backoffMax;

    HttpResult p = conn->client->call("GET", "/apis/core.gardener.cloud/v1beta1/projects/" + options.project, "", "",
                                      retry);
    if (p.status != 200) {
        if (p.status == 404)
            *error = "Gardener project \"" + options.project + "\" not found at " + cfg->server;
        else if (p.status == 401)
            *error = "Gardener at " + cfg->server + " rejected the kubeconfig credentials (401): " + p.message();
        else if (p.status == 403)
            *error = "the kubeconfig user may not read project \"" + options.project + "\" (403): " + p.message();
        else
            *error = "reading Gardener project \"" + options.project + "\" from " + cfg->server +
                     " failed: " + p.message();
        return nullptr;
    }
    Json project = Json::parse(p.body, nullptr, false);
    conn->ns = jstr(project, {"spec", "namespace"});
    if (conn->ns.empty()) conn->ns = "garden-" + options.project;

    ShootCacheOptions co;
    co.pageSize = options.listPageSize;
    co.retry = retry;
    conn->cache = std::make_unique<ShootCache>(*conn->client, conn->ns, co);
    ClusterBackendOptions bo;
    bo.retry = retry;
    bo.pollInterval = options.statusPollInterval;
    bo.transientRetry = options.transientRetry;
    conn->cluster = std::make_unique<ClusterUpgradeBackend>(*conn->client, conn->ns, bo);
    conn->kyma = KymaUpgradeBackend::create(options.kymaUpgradeURL, error, bo);
    if (!conn->kyma) return nullptr;
    conn->dispatch = std::make_unique<DispatchBackend>(*conn->cluster, *conn->kyma);
    conn->cache->start();
    if (!conn->cache->waitSynced(options.initialSyncTimeout)) {
        *error = "the first list of shoots in " + conn->ns + " did not complete within " +
                 std::to_string(options.initialSyncTimeout / 1000) + " s: " + conn->cache->lastError();
        conn->stop();
        return nullptr;
    }
    return conn;
}

}  // namespace keb::kube
