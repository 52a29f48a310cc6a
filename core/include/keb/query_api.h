// The read side of the API (SPEC 2's GET routes) over a store reader: typed questions in, wire
// answers out. Never touches the engine, so it can run on any thread that owns its reader, and on
// a replica that runs no engine at all. HTTP (paths, query strings, tokens) is the router's job.
#pragma once
#include <string>

#include "keb/api_types.h"
#include "keb/store.h"

namespace keb {

class QueryApi {
public:
    // `pages` (optional, not owned) renders the operation pages and single orchestrations straight
    // from its rows; it must read the same data as `reader`.
    explicit QueryApi(StoreReader& reader, OperationPageSource* pages = nullptr) : store_(reader), pages_(pages) {}
    void setPageSource(OperationPageSource* pages) { pages_ = pages; }

    ApiResponse orchestrations(const OrchestrationQuery& q);                         // 200 page
    ApiResponse orchestration(const std::string& id);                                // 200 with stats, 404
    ApiResponse operations(const std::string& id, const OperationQuery& q);          // 200 page, 404
    ApiResponse operation(const std::string& id, const std::string& operationID);    // 200 detail, 404

private:
    StoreReader& store_;
    OperationPageSource* pages_;
};

}  // namespace keb
