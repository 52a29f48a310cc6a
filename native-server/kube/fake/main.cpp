// keb-fake-gardener: serves a seeded mocked fleet over the real Kubernetes wire API.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "fake_gardener.h"
#include "keb/kube/kubeconfig.h"

namespace {

const char* kHelp = R"(keb-fake-gardener: a fake Gardener speaking the Kubernetes wire API

Usage: keb-fake-gardener --listen HOST:PORT --shoots N --seed S --token T [options]

Serves one Project (default "keb", namespace garden-<project>) holding N Shoots
generated from the simulator's fleet generator with seed S. Endpoints: /version,
/api, /apis, /api/v1, /apis/core.gardener.cloud/v1beta1 (discovery), projects
get/list, shoots list (limit/continue, labelSelector), get, watch (bookmarks),
merge patch (resourceVersion precondition -> 409; downgrade / minor skip -> 422).
Patched shoots reconcile in accelerated time through status.lastOperation.

Options:
  --listen HOST:PORT      address to serve on (PORT 0: any free port)      [127.0.0.1:0]
  --shoots N              number of shoots                                 [100]
  --seed S                fleet seed                                       [1]
  --token T               required bearer token (empty: no auth)
  --project NAME          Gardener project                                 [keb]
  --tls-cert F --tls-key F  serve HTTPS with this certificate and key (PEM)
  --client-ca F           require TLS client certificates signed by this CA
  --speed X               time acceleration of upgrades                    [1]
  --upgrade-duration DUR  simulated reconcile time before --speed          [10m]
  --kubernetes-versions L weighted versions of the fleet, e.g. "1.29.5:1"  [generator default]
  --deleting-share P      share of shoots with a deletionTimestamp        [generator default]
  --faults SPEC           e.g. "429=0.05,5xx=0.05,reset=0.02,slow=0.05,slowms=300,watch410=0.2,
                          retryafter=1,upgradefail=0,conflict=0.1" (also PUT /fake/faults at runtime)
  --event-window N        watch events kept (older resourceVersions: 410)  [50000]
  --bookmark-interval DUR idle time between watch BOOKMARKs                [2s]
  --watch-timeout DUR     the server ends each watch after this           [30m]
  --threads N             HTTP worker threads (each watch holds one)       [96]
  --write-kubeconfig F    write a kubeconfig for this server to F (after binding)
  --kubeconfig-ca F       CA (PEM) to embed in that kubeconfig (else insecure-skip-tls-verify for TLS)
  --port-file F           write the bound port to F
  --help                  this text

Control endpoints (same token): GET /fake/stats, GET|PUT /fake/faults, POST /fake/compact.
upgradeKyma contract (docs/upgrade-kyma-contract.md): POST /kyma/upgrades, GET /kyma/upgrades/{id}.
)";

bool readAll(const std::string& path, std::string* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return true;
}

int usage(const std::string& msg) {
    std::fprintf(stderr, "keb-fake-gardener: %s (see --help)\n", msg.c_str());
    return 2;
}

bool parseNum(const std::string& s, double* out) {
    char* end = nullptr;
    *out = std::strtod(s.c_str(), &end);
    return !s.empty() && end && *end == 0;
}

keb::Millis parseDur(const std::string& s, bool* ok) {
    // Own small parser so the tool does not depend on the core's timefmt: 500ms, 2s, 5m, 1h.
    *ok = false;
    if (s.empty()) return 0;
    std::size_t i = 0;
    double total = 0;
    while (i < s.size()) {
        std::size_t b = i;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
        if (b == i) return 0;
        double v = std::atof(s.substr(b, i - b).c_str());
        std::size_t u = i;
        while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
        std::string unit = s.substr(u, i - u);
        if (unit == "ms") total += v;
        else if (unit == "s") total += v * 1000;
        else if (unit == "m") total += v * 60000;
        else if (unit == "h") total += v * 3600000;
        else return 0;
    }
    *ok = true;
    return static_cast<keb::Millis>(total);
}

}  // namespace

int main(int argc, char** argv) {
    keb::fake::FakeOptions o;
    std::string listen = "127.0.0.1:0", kubeconfigOut, kubeconfigCa, portFile;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (i + 1 >= argc) return usage("missing value for " + a);
        std::string v = argv[++i];
        double d = 0;
        bool ok = true;
        if (a == "--listen") listen = v;
        else if (a == "--shoots") {
            if (!parseNum(v, &d) || d < 0 || d > 2e6) return usage("--shoots: expected 0..2000000");
            o.shoots = static_cast<std::size_t>(d);
        } else if (a == "--seed") {
            char* end = nullptr;
            o.seed = std::strtoull(v.c_str(), &end, 10);
            if (v.empty() || *end) return usage("--seed: expected an unsigned integer");
        } else if (a == "--token") o.token = v;
        else if (a == "--project") o.project = v;
        else if (a == "--tls-cert") o.tlsCert = v;
        else if (a == "--tls-key") o.tlsKey = v;
        else if (a == "--client-ca") o.clientCA = v;
        else if (a == "--speed") {
            if (!parseNum(v, &d) || d <= 0) return usage("--speed: expected a positive number");
            o.speed = d;
        } else if (a == "--upgrade-duration") {
            o.upgradeDuration = parseDur(v, &ok);
            if (!ok) return usage("--upgrade-duration: expected a duration like 10m");
        } else if (a == "--kubernetes-versions") o.kubernetesVersions = v;
        else if (a == "--deleting-share") {
            if (!parseNum(v, &d) || d < 0 || d > 1) return usage("--deleting-share: expected 0..1");
            o.deletingShare = d;
        } else if (a == "--faults") {
            std::string err;
            auto f = keb::fake::Faults::parse(v, &err);
            if (!f) return usage("--faults: " + err);
            o.faults = *f;
        } else if (a == "--event-window") {
            if (!parseNum(v, &d) || d < 1) return usage("--event-window: expected a positive integer");
            o.eventWindow = static_cast<std::size_t>(d);
        } else if (a == "--bookmark-interval") {
            o.bookmarkInterval = parseDur(v, &ok);
            if (!ok || o.bookmarkInterval <= 0) return usage("--bookmark-interval: expected a duration like 2s");
        } else if (a == "--watch-timeout") {
            o.maxWatch = parseDur(v, &ok);
            if (!ok || o.maxWatch <= 0) return usage("--watch-timeout: expected a duration like 30m");
        } else if (a == "--threads") {
            if (!parseNum(v, &d) || d < 4 || d > 4096) return usage("--threads: expected 4..4096");
            o.threads = static_cast<int>(d);
        } else if (a == "--write-kubeconfig") kubeconfigOut = v;
        else if (a == "--kubeconfig-ca") kubeconfigCa = v;
        else if (a == "--port-file") portFile = v;
        else return usage("unknown option " + a);
    }
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return usage("--listen: expected HOST:PORT");
    o.host = listen.substr(0, colon);
    double port = 0;
    if (!parseNum(listen.substr(colon + 1), &port) || port < 0 || port > 65535) return usage("--listen: bad port");
    o.port = static_cast<int>(port);
    if (o.tlsCert.empty() != o.tlsKey.empty()) return usage("--tls-cert and --tls-key go together");

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    keb::fake::FakeGardener g(o);
    std::string err;
    if (!g.start(&err)) {
        std::fprintf(stderr, "keb-fake-gardener: %s\n", err.c_str());
        return 1;
    }
    if (!portFile.empty()) {
        std::ofstream(portFile) << g.port() << "\n";
    }
    if (!kubeconfigOut.empty()) {
        std::ostringstream k;
        k << "apiVersion: v1\nkind: Config\ncurrent-context: fake-gardener\nclusters:\n- name: fake-gardener\n  cluster:\n"
          << "    server: " << g.url() << "\n";
        if (!o.tlsCert.empty()) {
            std::string ca;
            if (!kubeconfigCa.empty()) {
                if (!readAll(kubeconfigCa, &ca)) {
                    std::fprintf(stderr, "keb-fake-gardener: cannot read %s\n", kubeconfigCa.c_str());
                    return 1;
                }
                k << "    certificate-authority-data: " << keb::kube::base64Encode(ca) << "\n";
            } else {
                k << "    insecure-skip-tls-verify: true\n";
            }
        }
        k << "contexts:\n- name: fake-gardener\n  context:\n    cluster: fake-gardener\n    user: keb\n"
          << "    namespace: " << g.namespaceName() << "\nusers:\n- name: keb\n  user:\n";
        if (!o.token.empty()) k << "    token: " << o.token << "\n";
        else k << "    {}\n";
        std::ofstream out(kubeconfigOut);
        out << k.str();
        if (!out) {
            std::fprintf(stderr, "keb-fake-gardener: cannot write %s\n", kubeconfigOut.c_str());
            return 1;
        }
    }
    std::fprintf(stderr,
                 "{\"msg\":\"fake gardener listening\",\"url\":\"%s\",\"project\":\"%s\",\"namespace\":\"%s\","
                 "\"shoots\":%zu,\"seed\":%llu,\"speed\":%g,\"faults\":\"%s\"}\n",
                 g.url().c_str(), o.project.c_str(), g.namespaceName().c_str(), o.shoots,
                 static_cast<unsigned long long>(o.seed), o.speed, o.faults.toString().c_str());
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "{\"msg\":\"fake gardener stopping\",\"signal\":%d}\n", sig);
    g.stop();
    return 0;
}
