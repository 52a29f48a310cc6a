// Wire JSON (SPEC 2-3) with nlohmann/json, plus the store serialisation of the
// model (all fields, including internal bookkeeping).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

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

// Orchestration object; operationStats added when stats != nullptr.
Json toJson(const Orchestration& o, const OperationStats* stats = nullptr);
// Operation list item, or detail (adds kymaConfig / clusterConfig) when detail is true.
Json toJson(const Operation& op, bool detail = false);
Json toJson(const OperationStats& stats);  // {"pending":0,"in progress":3,...}

template <class T>
Json pageJson(const Page<T>& page) {
    Json data = Json::array();
    for (const auto& item : page.data) data.push_back(toJson(item));
    return Json{{"data", std::move(data)}, {"count", page.count}, {"totalCount", page.totalCount}};
}

// Store form: every field, lossless round trip.
Json toStoreJson(const Orchestration& o);
Json toStoreJson(const Operation& op);
Orchestration orchestrationFromStoreJson(const Json& j);  // throws std::exception on malformed
Operation operationFromStoreJson(const Json& j);
Json toStoreJson(const Runtime& r);
Runtime runtimeFromStoreJson(const Json& j);

}  // namespace keb
