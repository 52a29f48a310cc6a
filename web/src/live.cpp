#include "live.h"

#include <emscripten.h>

#include <map>

// The browser's fetch, through Module.kebFetch (kebsim-api.js): the answer comes back through
// keb_live_response(id, status, text).
EM_JS(void, keb_js_fetch, (int id, const char* method, const char* path, const char* body, const char* ctype,
                           const char* token), {
    Module.kebFetch(id, UTF8ToString(method), UTF8ToString(path), UTF8ToString(body), UTF8ToString(ctype),
                    UTF8ToString(token));
});

EM_JS(double, keb_js_now, (), { return Date.now(); });

namespace keb::web {

namespace {
struct Pending {
    LiveCallback cb;
    LiveRawCallback raw;
};
std::map<int, Pending>& pending() {
    static std::map<int, Pending> m;
    return m;
}
int g_nextId = 1;
}  // namespace

void liveFetch(const std::string& method, const std::string& pathAndQuery, const std::string& body,
               const std::string& contentType, const std::string& token, LiveCallback cb) {
    const int id = g_nextId++;
    pending()[id] = Pending{std::move(cb), nullptr};
    keb_js_fetch(id, method.c_str(), pathAndQuery.c_str(), body.c_str(), contentType.c_str(), token.c_str());
}

void liveFetchRaw(const std::string& pathAndQuery, const std::string& token, LiveRawCallback cb) {
    const int id = g_nextId++;
    pending()[id] = Pending{nullptr, std::move(cb)};
    keb_js_fetch(id, "GET", pathAndQuery.c_str(), "", "", token.c_str());
}

LiveAnswer liveAnswerOf(int status, const std::string& text) {
    LiveAnswer a;
    a.status = status;
    a.body = Json::parse(text, nullptr, false);
    if (a.body.is_discarded()) {
        // Not JSON (a proxy's page, a network error): keep the text as the error.
        a.body = Json{{"error", text.empty() ? std::string("empty answer") : text.substr(0, 500)}};
    }
    return a;
}

void liveDeliver(int id, int status, std::string text) {
    auto it = pending().find(id);
    if (it == pending().end()) return;
    Pending p = std::move(it->second);
    pending().erase(it);
    if (p.raw) {
        p.raw(status, std::move(text));
        return;
    }
    if (p.cb) p.cb(liveAnswerOf(status, text));
}

int liveInFlight() { return static_cast<int>(pending().size()); }

double wallClockMs() { return keb_js_now(); }

}  // namespace keb::web
