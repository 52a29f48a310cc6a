#include "keb/kube/backends.h"

#include "keb/kube/shoot.h"

namespace keb::kube {

namespace {

bool transient(const HttpResult& r) { return r.status == 0 || r.status == 429 || r.status >= 500; }

// Whether the shoot's spec already carries the target (empty target fields are not checked).
bool atTarget(const Json& shoot, const KubernetesParams& k) {
    if (!k.kubernetesVersion.empty() && jstr(shoot, {"spec", "kubernetes", "version"}) != k.kubernetesVersion)
        return false;
    if (k.machineImage.empty() && k.machineImageVersion.empty()) return true;
    const Json* workers = nullptr;
    if (shoot.contains("spec") && shoot["spec"].contains("provider") && shoot["spec"]["provider"].contains("workers"))
        workers = &shoot["spec"]["provider"]["workers"];
    if (!workers || !workers->is_array()) return true;
    for (const auto& w : *workers) {
        if (!k.machineImage.empty() && jstr(w, {"machine", "image", "name"}) != k.machineImage) return false;
        if (!k.machineImageVersion.empty() && jstr(w, {"machine", "image", "version"}) != k.machineImageVersion)
            return false;
    }
    return true;
}

}  // namespace

ClusterUpgradeBackend::ClusterUpgradeBackend(KubeClient& client, std::string ns, ClusterBackendOptions options)
    : client_(client), ns_(std::move(ns)), opt_(options) {}

std::string ClusterUpgradeBackend::shootPath(const std::string& name) const {
    return "/apis/core.gardener.cloud/v1beta1/namespaces/" + ns_ + "/shoots/" + name;
}

// The engine calls start once, then poll until done; an Again from start also leads to poll.
// So both run ensurePatched(): it patches unless the Shoot is already at the target, which makes
// a repeated start (after a crash) or a poll after a transient start error safe.
std::optional<StepResult> ClusterUpgradeBackend::ensurePatched(const Operation& op, Json* shootOut) {
    const KubernetesParams& k = *op.clusterConfig;
    if (op.shootName.empty()) return StepResult::failed("runtime " + op.runtimeID + " has no shoot name");
    for (int attempt = 0; attempt <= opt_.maxConflictRetries; ++attempt) {
        HttpResult g = client_.call("GET", shootPath(op.shootName), "", "", opt_.retry);
        if (g.status == 404)
            return StepResult::failed("shoot " + op.shootName + " not found in namespace " + ns_);
        if (transient(g)) return StepResult::again(opt_.transientRetry, "reading shoot: " + g.message());
        if (g.status != 200) return StepResult::failed("reading shoot " + op.shootName + ": " + g.message());
        Json shoot = Json::parse(g.body, nullptr, false);
        if (!shoot.is_object()) return StepResult::again(opt_.transientRetry, "reading shoot: answer is not JSON");
        auto rt = shootToRuntime(shoot);
        if (rt && rt->runtimeID != op.runtimeID)
            return StepResult::failed("shoot " + op.shootName + " now belongs to runtime " + rt->runtimeID);
        if (atTarget(shoot, k)) {
            *shootOut = std::move(shoot);
            return std::nullopt;  // applied (now or before a restart): never patched again
        }
        std::string rv = jstr(shoot, {"metadata", "resourceVersion"});
        Json patch;
        patch["metadata"]["resourceVersion"] = rv;
        patch["metadata"]["annotations"][kOperationAnnotation] = op.operationID;
        if (!k.kubernetesVersion.empty()) patch["spec"]["kubernetes"]["version"] = k.kubernetesVersion;
        if (!k.machineImage.empty() || !k.machineImageVersion.empty()) {
            // A merge patch replaces arrays whole: send every worker, images changed.
            Json workers = shoot["spec"]["provider"]["workers"];
            if (workers.is_array()) {
                for (auto& w : workers) {
                    if (!k.machineImage.empty()) w["machine"]["image"]["name"] = k.machineImage;
                    if (!k.machineImageVersion.empty()) w["machine"]["image"]["version"] = k.machineImageVersion;
                }
                patch["spec"]["provider"]["workers"] = workers;
            }
        }
        HttpResult p = client_.call("PATCH", shootPath(op.shootName), patch.dump(), "application/merge-patch+json",
                                    opt_.retry);
        if (p.status == 200 || p.status == 201) {
            patches++;
            Json patched = Json::parse(p.body, nullptr, false);
            *shootOut = patched.is_object() ? std::move(patched) : Json::object();
            return std::nullopt;
        }
        if (p.status == 409) {
            conflicts409++;
            continue;  // re-read, re-apply
        }
        if (p.status == 422) return StepResult::failed("Gardener refused the upgrade: " + p.message());
        if (p.status == 404) return StepResult::failed("shoot " + op.shootName + " not found in namespace " + ns_);
        if (transient(p)) return StepResult::again(opt_.transientRetry, "patching shoot: " + p.message());
        return StepResult::failed("patching shoot " + op.shootName + ": " + p.message());
    }
    return StepResult::again(opt_.transientRetry, "shoot kept changing (409 conflicts); trying again");
}

StepResult ClusterUpgradeBackend::start(OrchestrationType, const Operation& op, Millis) {
    if (!op.clusterConfig) return StepResult::failed("operation has no clusterConfig (kubernetes parameters)");
    if (op.dryRun) return StepResult::done();
    Json shoot;
    if (auto r = ensurePatched(op, &shoot)) return *r;
    return StepResult::again(opt_.pollInterval, "upgrade started: shoot " + op.shootName + " patched to " +
                                                    op.clusterConfig->kubernetesVersion);
}

StepResult ClusterUpgradeBackend::poll(OrchestrationType, const Operation& op, Millis) {
    if (!op.clusterConfig) return StepResult::failed("operation has no clusterConfig (kubernetes parameters)");
    if (op.dryRun) return StepResult::done();
    Json shoot;
    if (auto r = ensurePatched(op, &shoot)) return *r;
    long long gen = jint(shoot, {"metadata", "generation"});
    long long observed = jint(shoot, {"status", "observedGeneration"});
    std::string state = jstr(shoot, {"status", "lastOperation", "state"});
    std::string desc = jstr(shoot, {"status", "lastOperation", "description"});
    long long progress = jint(shoot, {"status", "lastOperation", "progress"});
    if (observed >= gen && state == "Succeeded") return StepResult::done();
    if (observed >= gen && (state == "Failed" || state == "Error"))
        return StepResult::failed("Gardener reconcile of shoot " + op.shootName + " " + state +
                                  (desc.empty() ? "" : ": " + desc));
    return StepResult::again(opt_.pollInterval, "Gardener: " + (state.empty() ? "waiting" : state) + " " +
                                                    std::to_string(progress) + "%");
}

std::unique_ptr<KymaUpgradeBackend> KymaUpgradeBackend::create(const std::string& baseURL, std::string* error,
                                                               ClusterBackendOptions options) {
    std::unique_ptr<KymaUpgradeBackend> b(new KymaUpgradeBackend());
    b->opt_ = options;
    if (!baseURL.empty()) {
        KubeConfig cfg;
        cfg.server = baseURL;
        while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
        b->client_ = KubeClient::create(cfg, error);
        if (!b->client_) {
            if (error) *error = "kyma upgrade URL: " + *error;
            return nullptr;
        }
    }
    return b;
}

HttpResult KymaUpgradeBackend::post(const Operation& op) {
    Json body = {{"runtimeID", op.runtimeID},
                 {"version", op.kymaConfig ? op.kymaConfig->version : ""},
                 {"operationID", op.operationID}};
    return client_->call("POST", "/upgrades", body.dump(), "application/json", opt_.retry);
}

StepResult KymaUpgradeBackend::start(OrchestrationType, const Operation& op, Millis) {
    if (!client_)
        return StepResult::failed("no upgradeKyma service configured (keb-server --kyma-upgrade-url URL)");
    if (!op.kymaConfig) return StepResult::failed("operation has no kymaConfig");
    if (op.dryRun) return StepResult::done();
    HttpResult r = post(op);
    if (r.status == 200 || r.status == 201 || r.status == 202) {
        Json j = Json::parse(r.body, nullptr, false);
        std::string id = jstr(j, {"id"});
        if (id.empty()) return StepResult::again(opt_.transientRetry, "upgrade service answered without an id");
        std::lock_guard<std::mutex> lock(mu_);
        ids_[op.operationID] = id;
        return StepResult::again(opt_.pollInterval, "Kyma upgrade started (" + id + ")");
    }
    if (transient(r)) return StepResult::again(opt_.transientRetry, "upgrade service: " + r.message());
    return StepResult::failed("upgrade service refused: " + r.message());
}

StepResult KymaUpgradeBackend::poll(OrchestrationType type, const Operation& op, Millis now) {
    if (!client_)
        return StepResult::failed("no upgradeKyma service configured (keb-server --kyma-upgrade-url URL)");
    if (op.dryRun) return StepResult::done();
    std::string id;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = ids_.find(op.operationID);
        if (it != ids_.end()) id = it->second;
    }
    if (id.empty()) {
        // After a restart: the POST is idempotent per operationID and returns the existing id.
        StepResult s = start(type, op, now);
        std::lock_guard<std::mutex> lock(mu_);
        if (!ids_.count(op.operationID)) return s;
        id = ids_[op.operationID];
    }
    HttpResult r = client_->call("GET", "/upgrades/" + id, "", "", opt_.retry);
    if (transient(r)) return StepResult::again(opt_.transientRetry, "upgrade service: " + r.message());
    if (r.status != 200) return StepResult::failed("upgrade status: " + r.message());
    Json j = Json::parse(r.body, nullptr, false);
    std::string state = jstr(j, {"state"});
    std::string msg = jstr(j, {"message"});
    if (state == "succeeded") return StepResult::done();
    if (state == "failed") return StepResult::failed("Kyma upgrade failed" + (msg.empty() ? "" : ": " + msg));
    if (state == "in progress") return StepResult::again(opt_.pollInterval, msg);
    return StepResult::failed("upgrade service returned unknown state \"" + state + "\"");
}

}  // namespace keb::kube
