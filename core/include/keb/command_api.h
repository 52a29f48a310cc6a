// The write side of the API (SPEC 2's POST/PUT routes) over the engine: typed commands in, wire
// answers out. Only the process that runs the engine has one; a read-only router (a follower
// replica) has none and answers write routes with 503. Must be called on the engine's thread.
#pragma once
#include <string>
#include <vector>

#include "keb/api_types.h"
#include "keb/engine.h"
#include "keb/preview.h"

namespace keb {

class CommandApi {
public:
    explicit CommandApi(Engine& engine) : engine_(engine) {}

    // 202 {"orchestrationID"}.
    ApiResponse upgrade(OrchestrationType type, const Parameters& params, Millis now);
    // 200 {"orchestrationID"} (a no-op on a finished or canceling one), 404.
    ApiResponse cancel(const std::string& id, Millis now);
    // 202 retry result, or the engine's 404/409.
    ApiResponse retry(const std::string& id, const std::vector<std::string>& operationIDs, bool immediate, Millis now);
    // SPEC 10: 200 {"orchestrationID"}, 404 unknown, 409 wrong state.
    ApiResponse pause(const std::string& id, Millis now);
    ApiResponse resume(const std::string& id, Millis now);
    // SPEC 12 (read the engine's fleet and store, write nothing): the prediction of an upgrade
    // request (200, 503 when the fleet cannot be listed) and the fleet page (200, 503).
    ApiResponse preview(OrchestrationType type, const Parameters& params, Millis now);
    ApiResponse runtimes(const RuntimeQuery& q, Millis now);

private:
    Engine& engine_;
};

}  // namespace keb
