// The write side of the API (SPEC 2 POST/PUT routes) over the engine.
#include "keb/command_api.h"

namespace keb {

ApiResponse CommandApi::upgrade(OrchestrationType type, const Parameters& params, Millis now) {
    return {202, Json{{"orchestrationID", engine_.create(type, params, now)}}};
}

ApiResponse CommandApi::cancel(const std::string& id, Millis now) {
    if (!engine_.cancel(id, now)) return {404, errorJson("orchestration " + id + " not found")};
    return {200, Json{{"orchestrationID", id}}};
}

namespace {
ApiResponse control(const ControlResult& r, const std::string& id) {
    if (r.status != 200) return {r.status, errorJson(r.error)};
    return {200, Json{{"orchestrationID", id}}};
}
}  // namespace

ApiResponse CommandApi::pause(const std::string& id, Millis now) { return control(engine_.pause(id, now), id); }
ApiResponse CommandApi::resume(const std::string& id, Millis now) { return control(engine_.resume(id, now), id); }

ApiResponse CommandApi::retry(const std::string& id, const std::vector<std::string>& operationIDs, bool immediate,
                              Millis now) {
    RetryResult r = engine_.retry(id, operationIDs, immediate, now);
    if (r.status != 202) return {r.status, errorJson(r.error)};
    return {202, Json{{"orchestrationID", r.orchestrationID},
                      {"retryShoots", r.retryShoots},
                      {"oldOperations", r.oldOperations},
                      {"invalidOperations", r.invalidOperations},
                      {"msg", r.msg}}};
}

ApiResponse CommandApi::preview(OrchestrationType type, const Parameters& params, Millis now) {
    PreviewAnswer a = previewUpgrade(type, params, engine_.store(), engine_.fleet(), engine_.config(), now);
    return {a.status, std::move(a.body)};
}

ApiResponse CommandApi::runtimes(const RuntimeQuery& q, Millis now) {
    RuntimesAnswer a = listRuntimes(engine_.fleet(), engine_.store(), q, now);
    return {a.status, std::move(a.body)};
}

}  // namespace keb
