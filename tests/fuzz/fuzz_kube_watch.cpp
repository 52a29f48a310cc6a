// Fuzz target: the Kubernetes list/watch decoding of the Gardener client (native-server/kube):
// the watch stream's LineSplitter (lines across chunk boundaries), watch event lines applied to
// the ShootCache, the SAX ShootList page parser, and the small version/Retry-After parsers.
// The first byte picks the mode, the second seeds the chunk boundaries:
//  0, 3: a watch stream, cut into chunks of 1..64 bytes (3: a splitter with a 100-byte line limit).
//        The lines must equal those of the whole stream split at once, and of a plain split;
//        every line goes to ShootCache::applyEventLine, then the cache is read.
//  1:    a ShootList page: parseShootListPage on the raw text, and on the canonical text
//        (parsed and dumped, so no duplicate keys) it must agree with the DOM path
//        (shootToRuntime on each item, metadata.resourceVersion / continue).
//  2:    compareVersions / majorMinor / parseRetryAfter / backoffDelay on the lines.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keb/kube/client.h"
#include "keb/kube/shoot.h"
#include "keb/kube/shoot_cache.h"

using namespace keb;
using namespace keb::kube;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "fuzz_kube_watch: %s\n  %s\n", what, detail.c_str());
    std::abort();
}

KubeClient& client() {
    static std::unique_ptr<KubeClient> c = [] {
        KubeConfig cfg;
        cfg.server = "http://127.0.0.1:9";  // never contacted: only applyEventLine is used
        std::string err;
        auto k = KubeClient::create(cfg, &err);
        if (!k) fail("KubeClient::create", err);
        return k;
    }();
    return *c;
}

std::vector<std::string> plainSplit(std::string_view s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
        std::size_t nl = s.find('\n', pos);
        if (nl == std::string_view::npos) break;
        std::string_view line = s.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) out.emplace_back(line);
        pos = nl + 1;
    }
    return out;
}

void watchMode(std::string_view stream, std::uint8_t seed, bool smallLimit) {
    const std::size_t limit = smallLimit ? 100 : (64u << 20);
    // All at once.
    std::vector<std::string> whole;
    LineSplitter once(limit);
    const bool onceOk = once.feed(stream, [&](std::string_view l) {
        whole.emplace_back(l);
        return true;
    });
    // In chunks, applying each line to a cache.
    ShootCache cache(client(), "garden-fuzz");
    LineSplitter split(limit);
    std::vector<std::string> chunked;
    std::uint32_t state = seed * 2654435761u + 1;
    bool chunkOk = true;
    for (std::size_t pos = 0; pos < stream.size() && chunkOk;) {
        state = state * 1103515245u + 12345u;
        std::size_t n = 1 + (state >> 16) % 64;
        chunkOk = split.feed(stream.substr(pos, n), [&](std::string_view l) {
            chunked.emplace_back(l);
            bool expired = false;
            std::string err;
            if (!cache.applyEventLine(l, &expired, &err) && err.empty()) fail("applyEventLine failed without a message");
            return true;
        });
        pos += n;
    }
    if (!smallLimit) {
        if (!onceOk || !chunkOk) fail("the splitter failed without a line limit");
        if (chunked != whole) fail("chunked lines differ from the whole stream's");
        if (whole != plainSplit(stream)) fail("lines differ from a plain split");
        const std::size_t lastNl = stream.rfind('\n');
        const std::string_view tail = lastNl == std::string_view::npos ? stream : stream.substr(lastNl + 1);
        if (split.pending() != tail) fail("pending() is not the unterminated tail");
    } else if (onceOk && chunkOk && chunked != whole) {
        fail("chunked lines differ from the whole stream's (line limit)");
    }
    (void)cache.size();
    (void)cache.resourceVersion();
    for (const std::string& l : chunked) {
        // Look up whatever looks like an id.
        if (l.size() < 200) (void)cache.find(l, 0);
    }
    (void)cache.snapshot(0);  // not synced: an error snapshot
}

void listMode(const std::string& text) {
    ShootListPage page;
    std::string err;
    if (!parseShootListPage(text, &page, &err) && err.empty()) fail("parseShootListPage failed without a message");

    Json doc = Json::parse(text, nullptr, false);
    if (doc.is_discarded()) return;
    const std::string canon = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    Json cdoc = Json::parse(canon, nullptr, false);
    if (cdoc.is_discarded()) fail("dump of a parsed document does not parse", canon);
    ShootListPage sax;
    std::string serr;
    const bool saxOk = parseShootListPage(canon, &sax, &serr);
    const bool isList = cdoc.is_object() && cdoc.contains("items") && cdoc["items"].is_array();
    if (saxOk != isList) fail("parseShootListPage disagrees about being a list", canon + " / " + serr);
    if (!isList) return;
    std::vector<Runtime> dom;
    std::size_t items = 0;
    for (const Json& item : cdoc["items"]) {
        if (item.is_object()) ++items;
        if (auto r = shootToRuntime(item)) dom.push_back(std::move(*r));
    }
    if (sax.items != items) fail("item count differs between SAX and DOM", canon);
    if (sax.runtimes != dom) fail("runtimes differ between SAX and DOM", canon);
    if (sax.resourceVersion != jstr(cdoc, {"metadata", "resourceVersion"})) fail("resourceVersion differs", canon);
    if (sax.continueToken != jstr(cdoc, {"metadata", "continue"})) fail("continue token differs", canon);
}

void versionMode(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos <= text.size() && lines.size() < 8) {
        std::size_t nl = text.find('\n', pos);
        lines.emplace_back(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    for (const std::string& a : lines) {
        if (compareVersions(a, a) != 0) fail("compareVersions(a, a) != 0", a);
        (void)majorMinor(a);
        if (auto ra = parseRetryAfter(a); ra && *ra < 0) fail("negative Retry-After", a);
        for (const std::string& b : lines) {
            const int ab = compareVersions(a, b), ba = compareVersions(b, a);
            if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) fail("compareVersions is not antisymmetric", a + " / " + b);
        }
    }
    RetryPolicy p;
    const std::uint64_t h = std::hash<std::string_view>{}(text);
    p.backoffBase = static_cast<Millis>(h % 100000);
    p.backoffMax = static_cast<Millis>((h >> 20) % 10000000);
    const int attempt = static_cast<int>((h >> 40) % 64);
    const Millis d = backoffDelay(p, attempt, h);
    if (d < 1) fail("backoffDelay below 1 ms");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2 || size > 256 * 1024) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    switch (data[0] % 4) {
        case 0: watchMode(rest, data[1], false); break;
        case 3: watchMode(rest, data[1], true); break;
        case 1: listMode(std::string(rest)); break;
        case 2: versionMode(rest); break;
    }
    return 0;
}
