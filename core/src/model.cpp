#include "keb/model.h"

#include <array>

namespace keb {
namespace {
constexpr std::array<const char*, 2> kTypeNames{"upgradeKyma", "upgradeCluster"};
constexpr std::array<const char*, kOrchestrationStateCount> kOrchStateNames{
    "pending", "in progress", "canceling", "canceled", "retrying", "succeeded", "failed", "paused"};
constexpr std::array<const char*, 5> kOpStateNames{"pending", "in progress", "succeeded", "failed", "canceled"};
constexpr std::array<const char*, 5> kStageStateNames{"pending", "in progress", "soaking", "succeeded", "failed"};

template <class E, std::size_t N>
std::optional<E> parseName(const std::array<const char*, N>& names, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == names[i]) return static_cast<E>(i);
    return std::nullopt;
}
}  // namespace

const char* toString(OrchestrationType t) { return kTypeNames[static_cast<std::size_t>(t)]; }
const char* toString(OrchestrationState s) { return kOrchStateNames[static_cast<std::size_t>(s)]; }
const char* toString(OperationState s) { return kOpStateNames[static_cast<std::size_t>(s)]; }
const char* toString(StageState s) { return kStageStateNames[static_cast<std::size_t>(s)]; }
std::optional<StageState> parseStageState(std::string_view s) { return parseName<StageState>(kStageStateNames, s); }

const std::vector<OrchestrationState>& allOrchestrationStates() {
    static const std::vector<OrchestrationState> all = [] {
        std::vector<OrchestrationState> v;
        for (int i = 0; i < kOrchestrationStateCount; ++i) v.push_back(static_cast<OrchestrationState>(i));
        return v;
    }();
    return all;
}

std::optional<OrchestrationType> parseOrchestrationType(std::string_view s) {
    return parseName<OrchestrationType>(kTypeNames, s);
}
std::optional<OrchestrationState> parseOrchestrationState(std::string_view s) {
    return parseName<OrchestrationState>(kOrchStateNames, s);
}
std::optional<OperationState> parseOperationState(std::string_view s) {
    return parseName<OperationState>(kOpStateNames, s);
}

bool isFinished(OrchestrationState s) {
    return s == OrchestrationState::Canceled || s == OrchestrationState::Succeeded || s == OrchestrationState::Failed;
}
bool isFinished(OperationState s) {
    return s == OperationState::Succeeded || s == OperationState::Failed || s == OperationState::Canceled;
}

}  // namespace keb
