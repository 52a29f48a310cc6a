// Live mode (SPEC 12): one page of GET /runtimes read without building a JSON tree. A page of
// 1,000 runtimes is ~390 KB of JSON; nlohmann::json::parse of it took 20-50 ms natively on the
// loaded 2-core machine (more in wasm), and a 100,000-runtime fleet is 100 pages every 2 s. This
// scanner reads only the fields the fleet map uses, as views into the answer's text (a string
// is copied only when it holds an escape), and skips everything else.
#pragma once
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "keb/model.h"

namespace keb::web {

struct LiveRuntimeRow {
    std::string_view runtimeID, instanceID, globalAccountID, subAccountID, planName, region, shootName,
        windowBegin, windowEnd, kubernetesVersion;
    std::string_view operationID, orchestrationID, state;  // lastOperation (empty without one)
    Runtime toRuntime() const;
};

struct RuntimesPage {
    std::size_t totalCount = 0;
    bool hasTotal = false;
    bool hasData = false;                // "data" was an array
    std::vector<LiveRuntimeRow> rows;
    std::deque<std::string> unescaped;   // storage for strings that held escapes (views point here)
    void clear();
};

// Reads `{"data": [{...}, ...], "totalCount": N, ...}`. Unknown keys and non-string values of
// known keys are skipped (a non-string field reads as empty, like the nlohmann path did).
// false (and *error) when the text is not valid JSON of that shape; views point into `text`,
// which must outlive `out`.
bool scanRuntimesPage(std::string_view text, RuntimesPage& out, std::string* error);

}  // namespace keb::web
