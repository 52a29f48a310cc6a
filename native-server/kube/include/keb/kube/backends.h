// The upgrade backends of Gardener mode (SPEC 6).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "keb/backend.h"
#include <nlohmann/json.hpp>
#include <optional>

#include "keb/kube/client.h"

namespace keb::kube {

struct ClusterBackendOptions {
    RetryPolicy retry;
    Millis pollInterval = 0;            // again() after this while Gardener reconciles (0: engine default)
    Millis transientRetry = 5 * kSecond;  // again() after a transient error (429/5xx/broken connection)
    int maxConflictRetries = 8;         // 409 -> re-read, re-apply, at most this often per step
};

// upgradeCluster: merge-patch of spec.kubernetes.version and the workers' machine image with a
// metadata.resourceVersion precondition, then polling generation/observedGeneration and
// status.lastOperation. Idempotent: a Shoot already at the target is recognised, never patched again.
class ClusterUpgradeBackend : public UpgradeBackend {
public:
    ClusterUpgradeBackend(KubeClient& client, std::string ns, ClusterBackendOptions options = {});
    StepResult start(OrchestrationType type, const Operation& op, Millis now) override;
    StepResult poll(OrchestrationType type, const Operation& op, Millis now) override;
    std::atomic<long long> patches{0}, conflicts409{0};

private:
    std::string shootPath(const std::string& name) const;
    // nullopt: the Shoot is at the target (*shoot holds it); else the step result to return.
    std::optional<StepResult> ensurePatched(const Operation& op, nlohmann::json* shoot);
    KubeClient& client_;
    std::string ns_;
    ClusterBackendOptions opt_;
};

// upgradeKyma over the HTTP contract of docs/upgrade-kyma-contract.md.
class KymaUpgradeBackend : public UpgradeBackend {
public:
    // baseURL empty: every start fails with a message saying how to configure it.
    static std::unique_ptr<KymaUpgradeBackend> create(const std::string& baseURL, std::string* error,
                                                      ClusterBackendOptions options = {});
    StepResult start(OrchestrationType type, const Operation& op, Millis now) override;
    StepResult poll(OrchestrationType type, const Operation& op, Millis now) override;

private:
    KymaUpgradeBackend() = default;
    HttpResult post(const Operation& op);
    std::unique_ptr<KubeClient> client_;
    ClusterBackendOptions opt_;
    std::mutex mu_;
    std::map<std::string, std::string> ids_;  // operationID -> upgrade id
};

// Routes each action by orchestration type.
class DispatchBackend : public UpgradeBackend {
public:
    DispatchBackend(UpgradeBackend& cluster, UpgradeBackend& kyma) : cluster_(cluster), kyma_(kyma) {}
    StepResult start(OrchestrationType type, const Operation& op, Millis now) override {
        return (type == OrchestrationType::UpgradeCluster ? cluster_ : kyma_).start(type, op, now);
    }
    StepResult poll(OrchestrationType type, const Operation& op, Millis now) override {
        return (type == OrchestrationType::UpgradeCluster ? cluster_ : kyma_).poll(type, op, now);
    }

private:
    UpgradeBackend& cluster_;
    UpgradeBackend& kyma_;
};

}  // namespace keb::kube
