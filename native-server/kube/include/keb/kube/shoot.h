// Gardener Shoot <-> keb::Runtime, and the version rules Gardener enforces.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keb/model.h"

namespace keb::kube {

using Json = nlohmann::json;

inline constexpr const char* kShootGroupVersion = "core.gardener.cloud/v1beta1";
inline constexpr const char* kRuntimeIdAnnotation = "kcp.provisioner.kyma-project.io/runtime-id";
inline constexpr const char* kRuntimeIdAnnotationIM = "infrastructuremanager.kyma-project.io/runtime-id";
// This project's convention for the remaining runtime fields (docs/gardener.md).
inline constexpr const char* kInstanceIdLabel = "kyma-project.io/instance-id";
inline constexpr const char* kPlanIdLabel = "kyma-project.io/broker-plan-id";
inline constexpr const char* kPlanNameLabel = "kyma-project.io/broker-plan-name";
// Set by the upgradeCluster patch: which KEB operation applied the current spec.
inline constexpr const char* kOperationAnnotation = "kyma-project.io/keb-upgrade-operation";

// nullopt when the Shoot carries no runtime id (not a Kyma runtime).
std::optional<Runtime> shootToRuntime(const Json& shoot);

// A ShootList page parsed without building a DOM (SAX): the runtimes of its items, in order,
// plus metadata.resourceVersion and metadata.continue. Same mapping as shootToRuntime.
struct ShootListPage {
    std::vector<Runtime> runtimes;
    std::string resourceVersion;
    std::string continueToken;
    std::size_t items = 0;  // items seen (including Shoots without a runtime id)
};
// false with *error when the text is not JSON or not a list (no "items" array).
bool parseShootListPage(const std::string& text, ShootListPage* out, std::string* error);

// The reverse, for the fake Gardener and tests: a Shoot object of `ns` for r.
Json runtimeToShoot(const Runtime& r, const std::string& ns);

// "1.27.4" vs "1.28.1": <0, 0, >0. Non-numeric parts compare as strings.
int compareVersions(const std::string& a, const std::string& b);
// Major.minor of a version; nullopt when not parseable.
std::optional<std::pair<int, int>> majorMinor(const std::string& v);

// Small accessors that never throw.
std::string jstr(const Json& j, std::initializer_list<const char*> path);
long long jint(const Json& j, std::initializer_list<const char*> path, long long dflt = 0);

}  // namespace keb::kube
