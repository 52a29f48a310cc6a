// The read side of the API (SPEC 2 GET routes) over a store reader.
#include "keb/query_api.h"

#include "keb/rollout.h"

namespace keb {
namespace {

ApiResponse notFound(const std::string& what) { return {404, errorJson(what + " not found")}; }

}  // namespace

ApiResponse QueryApi::orchestrations(const OrchestrationQuery& q) { return {200, pageJson(store_.listOrchestrations(q))}; }

ApiResponse QueryApi::orchestration(const std::string& id) {
    // A page source renders stored text; a staged orchestration adds its `stages` (SPEC 10), which
    // the page source does not know: those take the JSON path (a page source answers Unavailable).
    if (pages_) {
        ApiResponse r;
        switch (pages_->appendOrchestration(id, r.text)) {
            case OperationPageSource::Render::Found: return r;
            case OperationPageSource::Render::NotFound: return notFound("orchestration " + id);
            case OperationPageSource::Render::Unavailable: break;
        }
    }
    auto o = store_.getOrchestration(id);
    if (!o) return notFound("orchestration " + id);
    OperationStats stats = store_.operationStats(id);
    if (!o->parameters.strategy.stages.empty()) {
        const std::vector<StageStatus> stages = stageStatuses(*o, store_);
        return {200, toJson(*o, &stats, &stages)};
    }
    return {200, toJson(*o, &stats)};
}

ApiResponse QueryApi::operations(const std::string& id, const OperationQuery& q) {
    if (pages_) {
        ApiResponse r;
        if (!pages_->appendOperationPage(id, q, r.text)) return notFound("orchestration " + id);
        return r;
    }
    if (!store_.getOrchestration(id)) return notFound("orchestration " + id);
    return {200, pageJson(store_.listOperations(id, q))};
}

ApiResponse QueryApi::operation(const std::string& id, const std::string& operationID) {
    if (!store_.getOrchestration(id)) return notFound("orchestration " + id);
    auto op = store_.getOperation(id, operationID);
    if (!op) return {404, errorJson("operation " + operationID + " not found in orchestration " + id)};
    return {200, toJson(*op, true)};
}

}  // namespace keb
