// Request validation (SPEC 3). Never throws on any body.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keb/model.h"
#include "keb/wire.h"

namespace keb {

// Parses and validates a POST /upgrade/{kyma|cluster} body. now resolves "a time in the
// past means now" only for reporting; the schedule time is kept as given.
// On failure returns nullopt and *error is a message naming the field, e.g.
// "strategy.parallel.workers must be a positive integer".
std::optional<Parameters> parseUpgradeRequest(OrchestrationType type, std::string_view body, std::string* error);
std::optional<Parameters> parseUpgradeRequest(OrchestrationType type, const Json& body, std::string* error);
// Text bodies held in a std::string or a C string would otherwise be ambiguous between
// the two overloads above (Json converts implicitly from strings): they are text.
inline std::optional<Parameters> parseUpgradeRequest(OrchestrationType type, const std::string& body,
                                                     std::string* error) {
    return parseUpgradeRequest(type, std::string_view(body), error);
}
inline std::optional<Parameters> parseUpgradeRequest(OrchestrationType type, const char* body, std::string* error) {
    return parseUpgradeRequest(type, std::string_view(body), error);
}

// SPEC 10: a JSON list of blackouts ({from, to, reason}), e.g. keb-server --blackouts FILE or a
// scenario's engine.blackouts. Errors name the entry under `path` ("blackouts[2].to: ...").
std::optional<std::vector<Blackout>> parseBlackouts(const Json& list, const std::string& path, std::string* error);

// Parses the store form of parameters (toJson(Parameters) output). Throws on malformed.
Parameters parametersFromJson(const Json& j);

}  // namespace keb
