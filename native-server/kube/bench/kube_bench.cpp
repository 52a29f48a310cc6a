// keb-kube-bench: time and peak memory of the initial list + cache build of a
// Gardener namespace (the server's startup path), against any API server.
//   keb-kube-bench --kubeconfig K --project P [--page-size N] [--repeat R]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "keb/kube/client.h"
#include "keb/kube/kubeconfig.h"
#include "keb/kube/shoot.h"
#include "keb/kube/shoot_cache.h"

namespace {
long peakRssKb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}
}  // namespace

int main(int argc, char** argv) {
    std::string kubeconfig, project = "keb";
    int pageSize = 500, repeat = 3;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help") {
            std::puts("keb-kube-bench --kubeconfig FILE [--project NAME] [--page-size N] [--repeat R]\n"
                      "Lists every Shoot of the project's namespace into the watch cache R times and prints\n"
                      "wall time per full list, shoots/s, and the process's peak RSS.");
            return 0;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "missing value for %s\n", a.c_str());
            return 2;
        }
        std::string v = argv[++i];
        if (a == "--kubeconfig") kubeconfig = v;
        else if (a == "--project") project = v;
        else if (a == "--page-size") pageSize = std::atoi(v.c_str());
        else if (a == "--repeat") repeat = std::atoi(v.c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (kubeconfig.empty() || pageSize <= 0 || repeat <= 0) {
        std::fprintf(stderr, "usage: keb-kube-bench --kubeconfig FILE [--project NAME] [--page-size N] [--repeat R]\n");
        return 2;
    }
    long rss0 = peakRssKb();
    std::string err;
    auto cfg = keb::kube::loadKubeConfig(kubeconfig, &err);
    if (!cfg) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
    }
    auto client = keb::kube::KubeClient::create(*cfg, &err);
    if (!client) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
    }
    auto p = client->call("GET", "/apis/core.gardener.cloud/v1beta1/projects/" + project, "", "", {});
    if (p.status != 200) {
        std::fprintf(stderr, "project %s: %s\n", project.c_str(), p.message().c_str());
        return 1;
    }
    std::string ns = keb::kube::jstr(keb::kube::Json::parse(p.body, nullptr, false), {"spec", "namespace"});
    keb::kube::ShootCacheOptions o;
    o.pageSize = pageSize;
    double best = 1e18;
    std::size_t shoots = 0;
    for (int r = 0; r < repeat; ++r) {
        auto runClient = keb::kube::KubeClient::create(*cfg, &err);  // a cache stops its client when done
        keb::kube::ShootCache cache(*runClient, ns, o);
        auto t0 = std::chrono::steady_clock::now();
        if (!cache.listAll(&err)) {
            std::fprintf(stderr, "%s\n", err.c_str());
            return 1;
        }
        auto snap = cache.snapshot(0);  // the engine's first resolve builds the sorted snapshot too
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        shoots = snap.runtimes ? snap.runtimes->size() : 0;
        best = std::min(best, s);
        std::printf("run %d: %zu shoots listed and cached in %.3f s (%.0f shoots/s)\n", r + 1, shoots, s, shoots / s);
    }
    std::printf("keb-kube-bench: shoots=%zu page_size=%d best=%.3f s peak_rss=%.1f MiB (at start %.1f MiB)\n", shoots,
                pageSize, best, peakRssKb() / 1024.0, rss0 / 1024.0);
    return 0;
}
