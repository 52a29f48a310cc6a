// Wire JSON (SPEC 2-3) with nlohmann/json, plus the store serialisation of the
// model (all fields, including internal bookkeeping).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keb/model.h"

namespace keb {

using Json = nlohmann::json;

Json errorJson(std::string_view message);  // {"error": message}

// nlohmann's parser is recursive: a hostile document ("[[[[..." x 100,000) would overflow
// the stack. Every parse of untrusted text checks the nesting first, without recursion.
constexpr int kMaxJsonDepth = 64;
bool jsonNestedDeeperThan(std::string_view text, int limit = kMaxJsonDepth);

// Normalised request as echoed in `parameters`:
// {"targets":{"include":[..],"exclude":[..]},"strategy":{"type":"parallel","schedule":"immediate"|"now"|RFC3339,
//  "maintenanceWindow":bool,"parallel":{"workers":N}},"dryRun":bool,"kyma":{"version"}|"kubernetes":{...}}
Json toJson(const Parameters& p);
Json toJson(const Target& t);
Json toJson(const Targets& t);
Json toJson(const FailureBudget& b);  // 2 or "5%"
Json toJson(const Blackout& b);       // {"from","to","reason"}

// SPEC 10: one entry of an orchestration's `stages` on GET /orchestrations/{id}.
struct StageStatus {
    std::string name;
    StageState state = StageState::Pending;
    OperationStats operationStats;
    std::int64_t failures = 0;      // failed operations counted against the budget (since the last resume)
    std::int64_t maxFailures = -1;  // the budget as a number (percent applied); -1: none
    Millis startedAt = 0, finishedAt = 0, soakUntil = 0;  // 0: null
};
Json toJson(const StageStatus& s);

// Orchestration object; operationStats added when stats != nullptr, stages when stages != nullptr.
Json toJson(const Orchestration& o, const OperationStats* stats = nullptr,
            const std::vector<StageStatus>* stages = nullptr);
// Operation list item, or detail (adds kymaConfig / clusterConfig) when detail is true.
Json toJson(const Operation& op, bool detail = false);
Json toJson(const OperationStats& stats);  // {"pending":0,"in progress":3,...}

// ---- Direct serialisation (hot read paths: no JSON DOM, no per-field allocations) ----
// Every function below produces exactly the bytes of dumpWire(<the toJson(...) equivalent>);
// tests/core and tests/server compare them byte for byte.

// What the server sends for a Json body: compact, UTF-8 kept, invalid UTF-8 replaced by U+FFFD.
std::string dumpWire(const Json& j);
// Appends s as a JSON string literal, byte-identical to dumpWire(Json(std::string(s))).
void appendJsonString(std::string& out, std::string_view s);
// The fields of an operation list item (toJson(op) without detail), as views (e.g. straight
// from a database row).
struct OperationItemView {
    std::string_view operationID, runtimeID, globalAccountID, subAccountID, orchestrationID, servicePlanID,
        servicePlanName, shootName, description;
    bool dryRun = false;
    Millis maintenanceWindowBegin = 0, maintenanceWindowEnd = 0;
    OperationState state = OperationState::Pending;
    std::string_view stage;  // empty: not staged (no "stage" key)
};
OperationItemView itemView(const Operation& op);
// Appends dumpWire(toJson(op)) for the operation the view describes.
void appendOperationItem(std::string& out, const OperationItemView& v);
// Page envelope: pagePrefix + items separated by ',' + pageSuffix == dumpWire(pageJson(page)).
void appendPagePrefix(std::string& out, std::int64_t count);
void appendPageSuffix(std::string& out, std::int64_t totalCount);
// dumpWire(toJson(stats)).
void appendOperationStats(std::string& out, const OperationStats& stats);
// dumpWire(toJson(o)) (no operationStats) and the offset where toJson(o, &stats) inserts
// ",\"operationStats\":{...}" (keys are sorted: right after "description"). So
// text[0, split) + ",\"operationStats\":" + stats + text[split, end) == dumpWire(toJson(o, &stats)).
std::string orchestrationWireText(const Orchestration& o, std::size_t* split);
// dumpWire(pageJson(page)) for a page of operations.
std::string operationPageText(const Page<Operation>& page);

template <class T>
Json pageJson(const Page<T>& page) {
    Json data = Json::array();
    for (const auto& item : page.data) data.push_back(toJson(item));
    return Json{{"data", std::move(data)}, {"count", page.count}, {"totalCount", page.totalCount}};
}

// Store form: every field, lossless round trip.
Json toStoreJson(const Orchestration& o);
Json rolloutToStoreJson(const RolloutProgress& r);
RolloutProgress rolloutFromStoreJson(const Json& j);  // throws std::exception on malformed
Json toStoreJson(const Operation& op);
Orchestration orchestrationFromStoreJson(const Json& j);  // throws std::exception on malformed
Operation operationFromStoreJson(const Json& j);
Json toStoreJson(const Runtime& r);
Runtime runtimeFromStoreJson(const Json& j);

}  // namespace keb
