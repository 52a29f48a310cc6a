// Live mode (SPEC 12): the page talks to the keb-server that served it. HTTP goes through a
// small JS bridge (Module.kebFetch in web/shell/kebsim-api.js, the browser's fetch); answers
// come back asynchronously through keb_live_response (js_api.cpp). Nothing here touches the
// simulator or the core: the same panels draw the server's answers.
#pragma once
#include <functional>
#include <string>

#include "keb/api_types.h"

namespace keb::web {

struct LiveAnswer {
    int status = 0;  // 0: no HTTP answer (network error); body {"error": why}
    Json body;
};
using LiveCallback = std::function<void(const LiveAnswer&)>;
// The answer's text as it came (no JSON tree built): for GET /runtimes pages (live_runtimes.h).
using LiveRawCallback = std::function<void(int status, std::string&& text)>;

// Starts one request to the page's origin with `Authorization: Bearer token` (when not empty).
// cb runs later, from the browser's event loop, between frames.
void liveFetch(const std::string& method, const std::string& pathAndQuery, const std::string& body,
               const std::string& contentType, const std::string& token, LiveCallback cb);
void liveFetchRaw(const std::string& pathAndQuery, const std::string& token, LiveRawCallback cb);
// status + text -> LiveAnswer: the JSON body, or {"error": text} when the text is not JSON.
LiveAnswer liveAnswerOf(int status, const std::string& text);
// Called by JS with the answer of request `id`: status and the body text (JSON, or anything).
void liveDeliver(int id, int status, std::string text);
// Requests sent and not answered yet.
int liveInFlight();
// Milliseconds since the epoch (the browser's clock: live data is wall-clock data).
double wallClockMs();

}  // namespace keb::web
