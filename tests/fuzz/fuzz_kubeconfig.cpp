// Fuzz target: kubeconfig YAML (native-server/kube/include/keb/kube/kubeconfig.h) and what the
// client builds from it. The input is a kubeconfig's text; relative file references resolve in
// a private folder holding a token file and a (non-PEM) certificate file.
// Checks: parseKubeConfig returns a config or an error message (never throws); an accepted
// config's server is http(s); KubeClient::create (server URL, TLS material) never crashes;
// base64Decode(base64Encode(x)) == x for the input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "keb/kube/client.h"
#include "keb/kube/kubeconfig.h"

using namespace keb::kube;

namespace {
[[noreturn]] void fail(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "fuzz_kubeconfig: %s\n  %s\n", what, detail.c_str());
    std::abort();
}

std::string baseDir;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    char tmpl[] = "/tmp/keb-fuzz-kubeconfig-XXXXXX";
    if (!mkdtemp(tmpl)) fail("mkdtemp");
    baseDir = tmpl;
    std::ofstream(baseDir + "/token") << "  secret-token\n";
    std::ofstream(baseDir + "/ca.crt") << "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n";
    std::ofstream(baseDir + "/client.key") << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    std::atexit([] {
        for (const char* f : {"/token", "/ca.crt", "/client.key"}) std::remove((baseDir + f).c_str());
        rmdir(baseDir.c_str());
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;
    const std::string text(reinterpret_cast<const char*>(data), size);

    auto decoded = base64Decode(base64Encode(text));
    if (!decoded || *decoded != text) fail("base64 does not round-trip");
    (void)base64Decode(text);

    std::string err;
    std::optional<KubeConfig> cfg;
    try {
        cfg = parseKubeConfig(text, baseDir, &err);
        if (!cfg) (void)parseKubeConfig(text, baseDir, &err, "other");  // an explicit context
    } catch (const std::exception& e) {
        fail("parseKubeConfig threw", e.what());
    }
    if (!cfg) {
        if (err.empty()) fail("rejected without an error message");
        return 0;
    }
    if (cfg->server.rfind("https://", 0) != 0 && cfg->server.rfind("http://", 0) != 0)
        fail("accepted a server that is not http(s)", cfg->server);
    std::string cerr;
    auto client = KubeClient::create(*cfg, &cerr);
    if (!client && cerr.empty()) fail("KubeClient::create failed without a message");
    return 0;
}
