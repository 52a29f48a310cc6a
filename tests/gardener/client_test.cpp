// Gardener client tests: line splitting, kubeconfig, retries (429/5xx/resets), 410 relist,
// 409 re-apply, upgradeCluster/upgradeKyma backends, TLS with a CA and client certificates.
// Real HTTP on loopback: the in-process fake Gardener or a tiny httplib server per test.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../common/eventually.h"
#include "fake_gardener.h"
#include "keb/kube/backends.h"
#include "keb/kube/client.h"
#include "keb/kube/gardener.h"
#include "keb/kube/kubeconfig.h"
#include "keb/kube/shoot.h"
#include "keb/kube/shoot_cache.h"

using namespace keb;
using namespace keb::kube;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

using keb::test::eventually;  // (pred, timeoutMs, stepMs)

std::string readFile(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A temp folder with a CA, a server certificate for 127.0.0.1 and a client certificate (openssl CLI).
struct Pki {
    fs::path dir;
    Pki() {
        dir = fs::temp_directory_path() / ("keb-kube-pki-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        std::string d = dir.string();
        std::string cmd =
            "cd " + d + " && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=keb-test-ca && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other && "
            "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
            "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.cnf && "
            "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.cnf && "
            "openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=keb-client && "
            "openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2";
        cmd += " >/dev/null 2>&1";
        ok = std::system(cmd.c_str()) == 0;
    }
    ~Pki() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string path(const char* f) const { return (dir / f).string(); }
    bool ok = false;
};

Pki& pki() {
    static Pki p;
    return p;
}

fake::FakeOptions fakeOptions(std::size_t shoots = 50) {
    fake::FakeOptions o;
    o.shoots = shoots;
    o.seed = 42;
    o.token = "t0ken";
    o.speed = 6000;  // 10 min -> 100 ms
    o.kubernetesVersions = "1.29.5:1";
    o.deletingShare = 0;
    o.bookmarkInterval = 200;
    o.threads = 16;
    return o;
}

KubeConfig configFor(const fake::FakeGardener& g, const std::string& token = "t0ken") {
    KubeConfig c;
    c.server = g.url();
    c.token = token;
    return c;
}

RetryPolicy fastRetry(int attempts = 4) {
    RetryPolicy p;
    p.maxAttempts = attempts;
    p.backoffBase = 10;
    p.backoffMax = 50;
    return p;
}

const std::string kNs = "garden-keb";
const std::string kShoots = "/apis/core.gardener.cloud/v1beta1/namespaces/garden-keb/shoots";

// A tiny server for scripted answers.
struct TinyServer {
    httplib::Server srv;
    std::thread th;
    int port = 0;
    void start() {
        port = srv.bind_to_any_port("127.0.0.1");
        th = std::thread([this] { srv.listen_after_bind(); });
        while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~TinyServer() {
        srv.stop();
        if (th.joinable()) th.join();
    }
    KubeConfig config() const {
        KubeConfig c;
        c.server = "http://127.0.0.1:" + std::to_string(port);
        return c;
    }
};

}  // namespace

// ---------- line splitting ----------

TEST(LineSplitter, EventsSplitAtEveryByteBoundary) {
    std::string stream =
        "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n{\"type\":\"MODIFIED\",\"object\":{\"b\":\"x\\ny\"}}\r\n\n"
        "{\"type\":\"BOOKMARK\",\"object\":{}}\n";
    std::vector<std::string> expected = {"{\"type\":\"ADDED\",\"object\":{\"a\":1}}",
                                         "{\"type\":\"MODIFIED\",\"object\":{\"b\":\"x\\ny\"}}",
                                         "{\"type\":\"BOOKMARK\",\"object\":{}}"};
    for (std::size_t cut1 = 0; cut1 <= stream.size(); ++cut1) {
        for (std::size_t cut2 = cut1; cut2 <= stream.size(); cut2 += 7) {
            LineSplitter s;
            std::vector<std::string> got;
            auto on = [&](std::string_view l) {
                got.emplace_back(l);
                return true;
            };
            ASSERT_TRUE(s.feed(std::string_view(stream).substr(0, cut1), on));
            ASSERT_TRUE(s.feed(std::string_view(stream).substr(cut1, cut2 - cut1), on));
            ASSERT_TRUE(s.feed(std::string_view(stream).substr(cut2), on));
            ASSERT_EQ(got, expected) << "cuts at " << cut1 << "," << cut2;
            EXPECT_TRUE(s.pending().empty());
        }
    }
}

TEST(LineSplitter, OneByteChunksAndPartialTail) {
    LineSplitter s;
    std::vector<std::string> got;
    std::string data = "abc\ndef\ngh";
    for (char c : data)
        ASSERT_TRUE(s.feed(std::string_view(&c, 1), [&](std::string_view l) {
            got.emplace_back(l);
            return true;
        }));
    EXPECT_EQ(got, (std::vector<std::string>{"abc", "def"}));
    EXPECT_EQ(s.pending(), "gh");
}

TEST(LineSplitter, RefusesOverlongLine) {
    LineSplitter s(16);
    EXPECT_FALSE(s.feed(std::string(40, 'x'), [](std::string_view) { return true; }));
    EXPECT_NE(s.error().find("larger than"), std::string::npos);
}

TEST(RetryAfter, ParsesSecondsOnly) {
    EXPECT_EQ(parseRetryAfter("3"), 3000);
    EXPECT_EQ(parseRetryAfter("0"), 0);
    EXPECT_FALSE(parseRetryAfter(""));
    EXPECT_FALSE(parseRetryAfter("soon"));
    EXPECT_FALSE(parseRetryAfter("-1"));
}

TEST(Backoff, GrowsAndIsCapped) {
    RetryPolicy p;
    p.backoffBase = 100;
    p.backoffMax = 1000;
    EXPECT_LE(backoffDelay(p, 1, 1), 125);
    EXPECT_GE(backoffDelay(p, 3, 1), 300);
    EXPECT_LE(backoffDelay(p, 30, 1), 1250);
}

// ---------- kubeconfig ----------

TEST(KubeConfig, CurrentContextWithDataFieldsAndTokenFile) {
    fs::path dir = fs::temp_directory_path() / ("keb-kc-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "token") << "file-token\n";
    std::string yaml = R"(apiVersion: v1
kind: Config
current-context: b
clusters:
- name: ca
  cluster:
    server: https://a.example:6443
- name: cb
  cluster:
    server: https://10.0.0.1:443/prefix/
    certificate-authority-data: )" + base64Encode("CA-PEM") + R"(
contexts:
- name: a
  context: {cluster: ca, user: ua}
- name: b
  context:
    cluster: cb
    user: ub
    namespace: garden-x
users:
- name: ua
  user:
    token: tok-a
- name: ub
  user:
    tokenFile: token
    client-certificate-data: )" + base64Encode("CERT") + R"(
    client-key-data: )" + base64Encode("KEY") + "\n";
    std::string err;
    auto c = parseKubeConfig(yaml, dir.string(), &err);
    ASSERT_TRUE(c) << err;
    EXPECT_EQ(c->contextName, "b");
    EXPECT_EQ(c->server, "https://10.0.0.1:443/prefix");
    EXPECT_EQ(c->caPem, "CA-PEM");
    EXPECT_EQ(c->token, "file-token");
    EXPECT_EQ(c->clientCertPem, "CERT");
    EXPECT_EQ(c->clientKeyPem, "KEY");
    EXPECT_EQ(c->namespaceName, "garden-x");
    auto a = parseKubeConfig(yaml, dir.string(), &err, "a");
    ASSERT_TRUE(a) << err;
    EXPECT_EQ(a->token, "tok-a");
    EXPECT_EQ(a->server, "https://a.example:6443");
    fs::remove_all(dir);
}

TEST(KubeConfig, ClearErrors) {
    std::string err;
    EXPECT_FALSE(parseKubeConfig("{{{", ".", &err));
    EXPECT_NE(err.find("not valid YAML"), std::string::npos) << err;
    EXPECT_FALSE(parseKubeConfig("apiVersion: v1\nclusters: []\n", ".", &err));
    EXPECT_NE(err.find("current-context"), std::string::npos) << err;
    EXPECT_FALSE(parseKubeConfig("current-context: x\ncontexts: []\n", ".", &err));
    EXPECT_NE(err.find("context \"x\" not found"), std::string::npos) << err;
    EXPECT_FALSE(parseKubeConfig(
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster:\n"
        "    server: https://h\n    certificate-authority-data: '%%%'\nusers: []\n",
        ".", &err));
    EXPECT_NE(err.find("base64"), std::string::npos) << err;
    EXPECT_FALSE(parseKubeConfig(
        "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster:\n"
        "    server: ftp://h\nusers: []\n",
        ".", &err));
    EXPECT_NE(err.find("https://"), std::string::npos) << err;
    EXPECT_FALSE(loadKubeConfig("/nonexistent/kubeconfig", &err));
    EXPECT_NE(err.find("cannot read"), std::string::npos);
}

// ---------- Shoot conversion and versions ----------

TEST(Shoot, RoundTripAndRuntimeIdFallback) {
    Runtime r;
    r.runtimeID = "rid";
    r.instanceID = "iid";
    r.globalAccountID = "ga";
    r.subAccountID = "sa";
    r.planID = "pid";
    r.planName = "aws";
    r.region = "eu-central-1";
    r.shootName = "c-1";
    r.windowBegin = "220000+0000";
    r.windowEnd = "230000+0000";
    r.kubernetesVersion = "1.29.5";
    r.machineImage = "gardenlinux";
    r.machineImageVersion = "1443.3.0";
    auto back = shootToRuntime(runtimeToShoot(r, "garden-x"));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
    Json s = runtimeToShoot(r, "garden-x");
    s["metadata"]["annotations"] = {{kRuntimeIdAnnotationIM, "im-id"}};
    s["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    auto im = shootToRuntime(s);
    ASSERT_TRUE(im);
    EXPECT_EQ(im->runtimeID, "im-id");
    EXPECT_TRUE(im->deprovisioning);
    s["metadata"]["annotations"] = Json::object();
    EXPECT_FALSE(shootToRuntime(s));
}

TEST(Shoot, ListPageSaxParserMatchesDomConversion) {
    std::vector<Json> items;
    for (int i = 0; i < 5; ++i) {
        Runtime r;
        r.runtimeID = "rid-" + std::to_string(i);
        r.instanceID = "iid";
        r.globalAccountID = "ga-" + std::to_string(i % 2);
        r.subAccountID = "sa";
        r.planID = "pid";
        r.planName = i % 2 ? "aws" : "azure";
        r.region = "eu-central-1";
        r.shootName = "c-" + std::to_string(i);
        r.windowBegin = "220000+0000";
        r.windowEnd = "230000+0000";
        r.kubernetesVersion = "1.29." + std::to_string(i);
        r.machineImage = "gardenlinux";
        r.machineImageVersion = "1443.3." + std::to_string(i);
        items.push_back(runtimeToShoot(r, "garden-x"));
    }
    items[1]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    items[2]["spec"]["hibernation"]["enabled"] = true;
    items[2]["status"] = {{"lastOperation", {{"state", "Succeeded"}, {"progress", 100}}}, {"conditions", Json::array({1, "x", nullptr})}};
    Json second = items[3]["spec"]["provider"]["workers"][0];
    second["machine"]["image"]["version"] = "9.9.9";
    items[3]["spec"]["provider"]["workers"].push_back(second);
    items[4]["metadata"]["annotations"] = {{kRuntimeIdAnnotationIM, "im-4"}};
    Json noId = items[0];
    noId["metadata"]["annotations"] = Json::object();
    noId["metadata"]["name"] = "not-kyma";
    items.insert(items.begin() + 2, noId);
    Json list = {{"apiVersion", "core.gardener.cloud/v1beta1"},
                 {"kind", "ShootList"},
                 {"metadata", {{"resourceVersion", "77"}, {"continue", "tok"}}},
                 {"items", items}};
    ShootListPage page;
    std::string err;
    ASSERT_TRUE(parseShootListPage(list.dump(), &page, &err)) << err;
    EXPECT_EQ(page.resourceVersion, "77");
    EXPECT_EQ(page.continueToken, "tok");
    EXPECT_EQ(page.items, 6u);
    std::vector<Runtime> dom;
    for (const auto& it : items)
        if (auto r = shootToRuntime(it)) dom.push_back(*r);
    ASSERT_EQ(page.runtimes.size(), 5u);
    EXPECT_EQ(page.runtimes, dom);
    EXPECT_TRUE(page.runtimes[1].deprovisioning);
    EXPECT_TRUE(page.runtimes[2].suspended);
    EXPECT_EQ(page.runtimes[3].machineImageVersion, "1443.3.3") << "the first worker's image";
    EXPECT_EQ(page.runtimes[4].runtimeID, "im-4");
    EXPECT_FALSE(parseShootListPage("{\"items\": [", &page, &err));
    EXPECT_FALSE(parseShootListPage("{\"kind\":\"Status\"}", &page, &err));
    EXPECT_NE(err.find("items"), std::string::npos);
}

TEST(Shoot, VersionOrder) {
    EXPECT_LT(compareVersions("1.29.5", "1.30.0"), 0);
    EXPECT_GT(compareVersions("1.29.10", "1.29.9"), 0);
    EXPECT_EQ(compareVersions("v1.29.5", "1.29.5"), 0);
    EXPECT_EQ(majorMinor("1.30.2"), std::make_pair(1, 30));
    EXPECT_FALSE(majorMinor("latest"));
}

TEST(LabelSelector, ParseAndMatch) {
    std::string err;
    auto s = fake::parseLabelSelector("account=a, plan in (aws,gcp),!gone,tier!=x,present", &err);
    ASSERT_TRUE(s) << err;
    std::map<std::string, std::string> l = {{"account", "a"}, {"plan", "gcp"}, {"tier", "y"}, {"present", ""}};
    EXPECT_TRUE(fake::matchesLabels(*s, l));
    l["plan"] = "azure";
    EXPECT_FALSE(fake::matchesLabels(*s, l));
    EXPECT_FALSE(fake::parseLabelSelector("a in b", &err));
    EXPECT_FALSE(fake::parseLabelSelector("=x", &err));
}

// ---------- retries against scripted servers ----------

TEST(Client, Honours429RetryAfterWithPlainTextBody) {
    TinyServer t;
    std::atomic<int> calls{0};
    t.srv.Get("/x", [&](const httplib::Request&, httplib::Response& res) {
        if (calls++ < 2) {
            res.status = 429;
            res.set_header("Retry-After", "1");
            res.set_content("slow down please\n", "text/plain");
            return;
        }
        res.set_content("{\"ok\":true}", "application/json");
    });
    t.start();
    std::string err;
    auto c = KubeClient::create(t.config(), &err);
    ASSERT_TRUE(c) << err;
    auto t0 = Clock::now();
    HttpResult r = c->call("GET", "/x", "", "", fastRetry(5));
    double took = secondsSince(t0);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(calls.load(), 3);
    EXPECT_GE(took, 1.9) << "two Retry-After: 1 waits";
    EXPECT_LT(took, 6.0);
    EXPECT_EQ(c->counters().throttled429.load(), 2);
}

TEST(Client, BacksOffOn5xxThenGivesUpWithStatusMessage) {
    TinyServer t;
    std::atomic<int> calls{0};
    t.srv.Get("/x", [&](const httplib::Request&, httplib::Response& res) {
        calls++;
        res.status = 503;
        res.set_content(R"({"kind":"Status","code":503,"reason":"ServiceUnavailable","message":"etcd is down"})",
                        "application/json");
    });
    t.start();
    std::string err;
    auto c = KubeClient::create(t.config(), &err);
    ASSERT_TRUE(c) << err;
    HttpResult r = c->call("GET", "/x", "", "", fastRetry(4));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(calls.load(), 4);
    EXPECT_EQ(r.message(), "etcd is down");
}

TEST(Client, BrokenConnectionsAreRetried) {
    fake::FakeGardener g(fakeOptions(5));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    fake::Faults f;
    f.pReset = 1.0;
    g.setFaults(f);
    auto c = KubeClient::create(configFor(g), &err);
    ASSERT_TRUE(c) << err;
    HttpResult r = c->call("GET", kShoots, "", "", fastRetry(3));
    EXPECT_EQ(r.status, 0) << "every answer was cut off";
    EXPECT_EQ(c->counters().brokenConnections.load(), 3);
    g.setFaults(fake::Faults{});
    r = c->call("GET", kShoots, "", "", fastRetry(3));
    EXPECT_EQ(r.status, 200);
}

TEST(Client, RefusedConnectionIsAClearError) {
    KubeConfig cfg;
    cfg.server = "http://127.0.0.1:1";
    std::string err;
    auto c = KubeClient::create(cfg, &err);
    ASSERT_TRUE(c);
    HttpResult r = c->call("GET", "/x", "", "", fastRetry(2));
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.message().find("failed"), std::string::npos) << r.message();
}

// ---------- list + watch cache against the fake ----------

TEST(ShootCache, PagedListThenWatchFollowsChanges) {
    fake::FakeGardener g(fakeOptions(53));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ASSERT_TRUE(c) << err;
    ShootCacheOptions o;
    o.pageSize = 7;  // 8 pages
    o.retry = fastRetry();
    ShootCache cache(*c, kNs, o);
    EXPECT_FALSE(cache.snapshot(0).ok) << "not synced before the first list";
    cache.start();
    ASSERT_TRUE(cache.waitSynced(10000)) << cache.lastError();
    auto snap = cache.snapshot(0);
    ASSERT_TRUE(snap.ok);
    ASSERT_EQ(snap.runtimes->size(), 53u);
    Runtime first = snap.runtimes->front();
    auto found = cache.find(first.runtimeID, 0);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->shootName, first.shootName);
    // Another actor changes the shoot: the watch delivers it.
    auto before = cache.watchEvents.load();
    ASSERT_TRUE(g.touch(first.shootName));
    EXPECT_TRUE(eventually([&] { return cache.watchEvents.load() > before; }, 10000, 20));
    EXPECT_TRUE(eventually([&] { return cache.bookmarks.load() > 0; }, 10000, 20)) << "bookmarks arrive on idle watches";
    EXPECT_EQ(cache.resourceVersion(), std::to_string(g.resourceVersion()));
    cache.stop();
}

TEST(ShootCache, RelistsOn410FromWatch) {
    fake::FakeGardener g(fakeOptions(20));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ASSERT_TRUE(c) << err;
    ShootCacheOptions o;
    o.retry = fastRetry();
    o.watchTimeoutSeconds = 1;  // watches re-open every second
    ShootCache cache(*c, kNs, o);
    cache.start();
    ASSERT_TRUE(cache.waitSynced(10000)) << cache.lastError();
    EXPECT_EQ(cache.lists.load(), 1);
    fake::Faults f;
    f.pWatch410 = 1.0;  // plain 410 or an ERROR event inside a 200, at random
    g.setFaults(f);
    EXPECT_TRUE(eventually([&] { return cache.relists410.load() >= 3; }, 15000, 20)) << cache.relists410.load();
    EXPECT_GE(cache.lists.load(), 3);
    g.setFaults(fake::Faults{});
    auto snap = cache.snapshot(0);
    ASSERT_TRUE(snap.ok);
    EXPECT_EQ(snap.runtimes->size(), 20u);
    std::string name = snap.runtimes->at(3).shootName;
    std::string rid = snap.runtimes->at(3).runtimeID;
    ASSERT_TRUE(g.touch(name));
    // After relists the watch resumes and still sees changes.
    auto target = std::to_string(g.resourceVersion());
    EXPECT_TRUE(eventually([&] { return cache.resourceVersion() == target; }, 10000, 20));
    cache.stop();
}

TEST(ShootCache, ErrorEventWith410SaysExpired) {
    fake::FakeGardener g(fakeOptions(1));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ShootCache cache(*c, kNs);
    bool expired = false;
    const std::string expiredLine =
        R"J({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (5)"}})J";
    EXPECT_FALSE(cache.applyEventLine(expiredLine, &expired, &err));
    EXPECT_TRUE(expired);
    EXPECT_NE(err.find("too old"), std::string::npos);
    const std::string otherError = R"({"type":"ERROR","object":{"kind":"Status","code":500,"message":"x"}})";
    EXPECT_FALSE(cache.applyEventLine(otherError, &expired, &err));
    EXPECT_FALSE(expired);
    EXPECT_FALSE(cache.applyEventLine("not json", &expired, &err));
}

// A scripted API server: the first watch answers a plain 410, the second an ERROR event 410
// inside a 200, the third streams events in 1-byte chunks. Each 410 must cause a full relist.
TEST(ShootCache, BothKindsOf410RelistAndByteChunkedEvents) {
    TinyServer t;
    std::atomic<int> lists{0}, watches{0};
    auto shootJson = [](const std::string& name, const std::string& rid, const std::string& rv) {
        Runtime r;
        r.runtimeID = rid;
        r.shootName = name;
        r.kubernetesVersion = "1.29.5";
        Json s = runtimeToShoot(r, "garden-keb");
        s["metadata"]["resourceVersion"] = rv;
        return s;
    };
    t.srv.Get(R"(/apis/core\.gardener\.cloud/v1beta1/namespaces/garden-keb/shoots)",
              [&](const httplib::Request& req, httplib::Response& res) {
                  if (!req.has_param("watch")) {
                      lists++;
                      Json l = {{"kind", "ShootList"},
                                {"metadata", {{"resourceVersion", "5"}}},
                                {"items", Json::array({shootJson("c-a", "rid-a", "5")})}};
                      res.set_content(l.dump(), "application/json");
                      return;
                  }
                  int n = ++watches;
                  EXPECT_EQ(req.get_param_value("resourceVersion"), "5");
                  EXPECT_EQ(req.get_param_value("allowWatchBookmarks"), "true");
                  if (n == 1) {
                      res.status = 410;
                      res.set_content(R"({"kind":"Status","code":410,"reason":"Gone","message":"gone"})", "application/json");
                      return;
                  }
                  std::string body;
                  if (n == 2) {
                      body = R"J({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 5 (9)"}})J"
                             "\n";
                  } else {
                      body = Json({{"type", "ADDED"}, {"object", shootJson("c-b", "rid-b", "6")}}).dump() + "\n" +
                             Json({{"type", "BOOKMARK"}, {"object", {{"metadata", {{"resourceVersion", "7"}}}}}}).dump() +
                             "\n";
                  }
                  auto sent = std::make_shared<std::size_t>(0);
                  bool keepOpen = n >= 3;
                  res.set_chunked_content_provider("application/json", [body, sent, keepOpen](size_t, httplib::DataSink& sink) {
                      if (*sent < body.size()) {
                          sink.write(body.data() + *sent, 1);  // one byte per chunk
                          ++*sent;
                          return true;
                      }
                      if (!keepOpen) {
                          sink.done();
                          return true;
                      }
                      std::this_thread::sleep_for(std::chrono::milliseconds(20));
                      return sink.is_writable();
                  });
              });
    t.start();
    std::string err;
    auto c = KubeClient::create(t.config(), &err);
    ASSERT_TRUE(c) << err;
    ShootCacheOptions o;
    o.retry = fastRetry();
    ShootCache cache(*c, "garden-keb", o);
    cache.start();
    ASSERT_TRUE(cache.waitSynced(5000)) << cache.lastError();
    EXPECT_TRUE(eventually([&] { return cache.resourceVersion() == "7"; }, 10000, 20)) << cache.resourceVersion();
    EXPECT_EQ(lists.load(), 3) << "initial list + one relist per 410";
    EXPECT_EQ(cache.relists410.load(), 2);
    EXPECT_EQ(cache.bookmarks.load(), 1);
    auto snap = cache.snapshot(0);
    ASSERT_TRUE(snap.ok);
    ASSERT_EQ(snap.runtimes->size(), 2u);
    EXPECT_EQ(snap.runtimes->at(1).runtimeID, "rid-b");
    bool expired = false;
    EXPECT_TRUE(cache.applyEventLine(Json({{"type", "DELETED"}, {"object", shootJson("c-a", "rid-a", "8")}}).dump(),
                                     &expired, &err));
    EXPECT_FALSE(cache.find("rid-a", 0));
    EXPECT_TRUE(cache.find("rid-b", 0));
    cache.stop();
}

TEST(ShootCache, SurvivesFaultyGardener) {
    auto o = fakeOptions(120);
    fake::Faults f;
    f.p429 = 0.2;
    f.p5xx = 0.2;
    f.pReset = 0.1;
    f.retryAfterSeconds = 0;
    o.faults = f;
    fake::FakeGardener g(o);
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ShootCacheOptions co;
    co.pageSize = 10;
    co.retry = fastRetry(8);
    ShootCache cache(*c, kNs, co);
    cache.start();
    ASSERT_TRUE(cache.waitSynced(20000)) << cache.lastError();
    EXPECT_EQ(cache.snapshot(0).runtimes->size(), 120u);
    EXPECT_GT(c->counters().throttled429.load() + c->counters().serverErrors5xx.load() +
                  c->counters().brokenConnections.load(),
              0);
    cache.stop();
}

// ---------- upgradeCluster ----------

namespace {
Operation clusterOp(const Runtime& r, const std::string& version, const std::string& id = "op-1") {
    Operation op;
    op.operationID = id;
    op.orchestrationID = "orch-1";
    op.runtimeID = r.runtimeID;
    op.shootName = r.shootName;
    op.clusterConfig = KubernetesParams{version, "gardenlinux", "1443.9.0"};
    return op;
}
}  // namespace

TEST(ClusterBackend, PatchesPollsUntilSucceededAndNeverPatchesTwice) {
    fake::FakeGardener g(fakeOptions(3));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ShootCache cache(*c, kNs);
    ASSERT_TRUE(cache.listAll(&err)) << err;
    Runtime r = cache.snapshot(0).runtimes->at(0);
    ASSERT_EQ(r.kubernetesVersion, "1.29.5");
    ClusterBackendOptions bo;
    bo.retry = fastRetry();
    bo.pollInterval = 50;
    ClusterUpgradeBackend b(*c, kNs, bo);
    Operation op = clusterOp(r, "1.30.2");
    StepResult s = b.start(OrchestrationType::UpgradeCluster, op, 0);
    ASSERT_EQ(s.kind, StepResult::Kind::Again) << s.reason;
    EXPECT_EQ(b.patches.load(), 1);
    Json shoot = *g.shoot(r.shootName);
    EXPECT_EQ(jstr(shoot, {"spec", "kubernetes", "version"}), "1.30.2");
    EXPECT_EQ(jstr(shoot, {"spec", "provider", "workers"}), "");
    EXPECT_EQ(shoot["spec"]["provider"]["workers"][0]["machine"]["image"]["version"], "1443.9.0");
    EXPECT_EQ(jstr(shoot, {"metadata", "annotations", kOperationAnnotation}), "op-1");
    // Processing at first, then Succeeded.
    StepResult p;
    auto t0 = Clock::now();
    do {
        p = b.poll(OrchestrationType::UpgradeCluster, op, 0);
        if (p.kind == StepResult::Kind::Again) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (p.kind == StepResult::Kind::Again && secondsSince(t0) < 10);
    ASSERT_EQ(p.kind, StepResult::Kind::Done) << p.reason;
    // A second start (the server crashed before recording the first) recognises the patch.
    StepResult again = b.start(OrchestrationType::UpgradeCluster, op, 0);
    EXPECT_EQ(again.kind, StepResult::Kind::Again);
    EXPECT_EQ(b.patches.load(), 1);
    EXPECT_EQ(g.stats()["versionChanges"]["1"], 1);
    EXPECT_EQ(b.poll(OrchestrationType::UpgradeCluster, op, 0).kind, StepResult::Kind::Done);
}

TEST(ClusterBackend, GardenerRefusalsFailWithItsMessage) {
    fake::FakeGardener g(fakeOptions(2));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ShootCache cache(*c, kNs);
    ASSERT_TRUE(cache.listAll(&err)) << err;
    Runtime r = cache.snapshot(0).runtimes->at(0);
    ClusterUpgradeBackend b(*c, kNs);
    StepResult down = b.start(OrchestrationType::UpgradeCluster, clusterOp(r, "1.28.1"), 0);
    ASSERT_EQ(down.kind, StepResult::Kind::Failed);
    EXPECT_NE(down.reason.find("downgrade is not supported"), std::string::npos) << down.reason;
    StepResult skip = b.start(OrchestrationType::UpgradeCluster, clusterOp(r, "1.31.0"), 0);
    ASSERT_EQ(skip.kind, StepResult::Kind::Failed);
    EXPECT_NE(skip.reason.find("cannot skip a minor version"), std::string::npos) << skip.reason;
    Operation gone = clusterOp(r, "1.30.2");
    gone.shootName = "no-such-shoot";
    StepResult nf = b.start(OrchestrationType::UpgradeCluster, gone, 0);
    ASSERT_EQ(nf.kind, StepResult::Kind::Failed);
    EXPECT_NE(nf.reason.find("not found"), std::string::npos);
    EXPECT_EQ(g.stats()["versionChanges"]["0"], 2);
}

TEST(ClusterBackend, FailedReconcileFailsTheOperation) {
    auto o = fakeOptions(1);
    o.faults.pUpgradeFail = 1.0;
    fake::FakeGardener g(o);
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    auto c = KubeClient::create(configFor(g), &err);
    ShootCache cache(*c, kNs);
    ASSERT_TRUE(cache.listAll(&err)) << err;
    Runtime r = cache.snapshot(0).runtimes->at(0);
    ClusterUpgradeBackend b(*c, kNs);
    Operation op = clusterOp(r, "1.30.2");
    ASSERT_EQ(b.start(OrchestrationType::UpgradeCluster, op, 0).kind, StepResult::Kind::Again);
    StepResult p;
    auto t0 = Clock::now();
    do {
        p = b.poll(OrchestrationType::UpgradeCluster, op, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (p.kind == StepResult::Kind::Again && secondsSince(t0) < 10);
    ASSERT_EQ(p.kind, StepResult::Kind::Failed);
    EXPECT_NE(p.reason.find("Failed"), std::string::npos) << p.reason;
}

// A scripted Gardener whose first PATCH loses a race (409): the backend must re-read and re-apply.
TEST(ClusterBackend, ConflictRereadsAndReapplies) {
    TinyServer t;
    std::mutex mu;
    int rv = 10, gets = 0, patches = 0;
    std::vector<std::string> patchRvs;
    Runtime r;
    r.runtimeID = "rid-1";
    r.shootName = "c-race";
    r.kubernetesVersion = "1.29.5";
    r.machineImage = "gardenlinux";
    r.machineImageVersion = "1443.3.0";
    Json shoot = runtimeToShoot(r, "garden-keb");
    t.srv.Get(R"(/apis/core\.gardener\.cloud/v1beta1/namespaces/garden-keb/shoots/c-race)",
              [&](const httplib::Request&, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu);
                  gets++;
                  shoot["metadata"]["resourceVersion"] = std::to_string(rv);
                  res.set_content(shoot.dump(), "application/json");
              });
    t.srv.Patch(R"(/apis/core\.gardener\.cloud/v1beta1/namespaces/garden-keb/shoots/c-race)",
                [&](const httplib::Request& req, httplib::Response& res) {
                    std::lock_guard<std::mutex> lock(mu);
                    patches++;
                    EXPECT_EQ(req.get_header_value("Content-Type"), "application/merge-patch+json");
                    Json p = Json::parse(req.body);
                    patchRvs.push_back(p["metadata"]["resourceVersion"]);
                    if (patches == 1) {
                        rv = 11;  // someone else wrote in between
                        res.status = 409;
                        res.set_content(R"({"kind":"Status","code":409,"reason":"Conflict","message":"the object has been modified"})",
                                        "application/json");
                        return;
                    }
                    shoot.merge_patch(p);
                    res.set_content(shoot.dump(), "application/json");
                });
    t.start();
    std::string err;
    auto c = KubeClient::create(t.config(), &err);
    ClusterUpgradeBackend b(*c, "garden-keb");
    StepResult s = b.start(OrchestrationType::UpgradeCluster, clusterOp(r, "1.30.2"), 0);
    EXPECT_EQ(s.kind, StepResult::Kind::Again) << s.reason;
    {
        // Under the handlers' mutex: the answers' happens-before goes through the socket, which
        // TSan cannot see while libcpp-httplib's calls are ignored (tests/sanitizers/tsan.supp).
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_EQ(gets, 2);
        EXPECT_EQ(patches, 2);
        EXPECT_EQ(patchRvs, (std::vector<std::string>{"10", "11"}));
    }
    EXPECT_EQ(b.conflicts409.load(), 1);
    EXPECT_EQ(b.patches.load(), 1);
}

// ---------- upgradeKyma contract ----------

TEST(KymaBackend, StartsPollsAndIsIdempotentPerOperation) {
    fake::FakeGardener g(fakeOptions(1));
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    // The fake serves the contract under /kyma; the backend speaks plain HTTP without a token there,
    // so use a fake without token for this test.
    auto o = fakeOptions(1);
    o.token = "";
    fake::FakeGardener k(o);
    ASSERT_TRUE(k.start(&err)) << err;
    auto b = KymaUpgradeBackend::create(k.url() + "/kyma", &err);
    ASSERT_TRUE(b) << err;
    Operation op;
    op.operationID = "op-k";
    op.runtimeID = "rid-k";
    op.kymaConfig = KymaParams{"2.20.0"};
    ASSERT_EQ(b->start(OrchestrationType::UpgradeKyma, op, 0).kind, StepResult::Kind::Again);
    ASSERT_EQ(b->start(OrchestrationType::UpgradeKyma, op, 0).kind, StepResult::Kind::Again);
    // A fresh backend (server restarted) polls by re-posting: same upgrade, not a new one.
    auto b2 = KymaUpgradeBackend::create(k.url() + "/kyma", &err);
    StepResult p;
    auto t0 = Clock::now();
    do {
        p = b2->poll(OrchestrationType::UpgradeKyma, op, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (p.kind == StepResult::Kind::Again && secondsSince(t0) < 10);
    EXPECT_EQ(p.kind, StepResult::Kind::Done) << p.reason;
    EXPECT_EQ(k.stats()["kymaUpgrades"]["operations"], 1);
    EXPECT_EQ(k.stats()["kymaUpgrades"]["maxPerRuntime"], 1);
    auto none = KymaUpgradeBackend::create("", &err);
    StepResult f = none->start(OrchestrationType::UpgradeKyma, op, 0);
    EXPECT_EQ(f.kind, StepResult::Kind::Failed);
    EXPECT_NE(f.reason.find("--kyma-upgrade-url"), std::string::npos);
}

// ---------- TLS ----------

TEST(Tls, VerifiesServerWithCaData) {
    ASSERT_TRUE(pki().ok) << "openssl could not generate test certificates";
    auto o = fakeOptions(4);
    o.tlsCert = pki().path("srv.crt");
    o.tlsKey = pki().path("srv.key");
    fake::FakeGardener g(o);
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    KubeConfig cfg = configFor(g);
    ASSERT_EQ(cfg.server.rfind("https://", 0), 0u);
    cfg.caPem = readFile(pki().dir / "ca.crt");
    auto c = KubeClient::create(cfg, &err);
    ASSERT_TRUE(c) << err;
    EXPECT_EQ(c->call("GET", kShoots, "", "", fastRetry(1)).status, 200);
    // Wrong CA: refused.
    cfg.caPem = readFile(pki().dir / "other-ca.crt");
    auto bad = KubeClient::create(cfg, &err);
    ASSERT_TRUE(bad) << err;
    HttpResult r = bad->call("GET", kShoots, "", "", fastRetry(1));
    EXPECT_EQ(r.status, 0) << "a server certificate from another CA must not be trusted";
    // insecure-skip-tls-verify: accepted.
    cfg.insecureSkipTlsVerify = true;
    auto insecure = KubeClient::create(cfg, &err);
    EXPECT_EQ(insecure->call("GET", kShoots, "", "", fastRetry(1)).status, 200);
    // Bad CA data is reported at creation.
    cfg.insecureSkipTlsVerify = false;
    cfg.caPem = "not a certificate";
    EXPECT_FALSE(KubeClient::create(cfg, &err));
    EXPECT_NE(err.find("PEM"), std::string::npos) << err;
}

TEST(Tls, ClientCertificateAuthentication) {
    ASSERT_TRUE(pki().ok);
    auto o = fakeOptions(4);
    o.tlsCert = pki().path("srv.crt");
    o.tlsKey = pki().path("srv.key");
    o.clientCA = pki().path("ca.crt");
    fake::FakeGardener g(o);
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    KubeConfig cfg;
    cfg.server = g.url();
    cfg.caPem = readFile(pki().dir / "ca.crt");
    cfg.clientCertPem = readFile(pki().dir / "cli.crt");
    cfg.clientKeyPem = readFile(pki().dir / "cli.key");
    auto c = KubeClient::create(cfg, &err);
    ASSERT_TRUE(c) << err;
    EXPECT_EQ(c->call("GET", kShoots, "", "", fastRetry(1)).status, 200);
    KubeConfig noCert = cfg;
    noCert.clientCertPem.clear();
    noCert.clientKeyPem.clear();
    auto anon = KubeClient::create(noCert, &err);
    EXPECT_EQ(anon->call("GET", kShoots, "", "", fastRetry(1)).status, 0) << "TLS handshake needs a client certificate";
    KubeConfig mismatched = cfg;
    mismatched.clientKeyPem = readFile(pki().dir / "srv.key");
    EXPECT_FALSE(KubeClient::create(mismatched, &err));
}

// ---------- GardenerConnection ----------

TEST(GardenerConnection, ConnectsThroughKubeconfigFile) {
    ASSERT_TRUE(pki().ok);
    auto o = fakeOptions(25);
    o.tlsCert = pki().path("srv.crt");
    o.tlsKey = pki().path("srv.key");
    fake::FakeGardener g(o);
    std::string err;
    ASSERT_TRUE(g.start(&err)) << err;
    fs::path kc = pki().dir / "kubeconfig";
    std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: g\nclusters:\n- name: g\n  cluster:\n    server: "
                      << g.url() << "\n    certificate-authority: ca.crt\ncontexts:\n- name: g\n  context:\n"
                      << "    cluster: g\n    user: u\nusers:\n- name: u\n  user:\n    token: t0ken\n";
    GardenerOptions go;
    go.kubeconfigPath = kc.string();
    go.project = "keb";
    auto conn = GardenerConnection::connect(go, &err);
    ASSERT_TRUE(conn) << err;
    EXPECT_EQ(conn->namespaceName(), "garden-keb");
    auto snap = conn->fleet().snapshot(0);
    ASSERT_TRUE(snap.ok);
    EXPECT_EQ(snap.runtimes->size(), 25u);
    EXPECT_TRUE(conn->stats().synced);
    conn->stop();
    go.project = "nope";
    EXPECT_FALSE(GardenerConnection::connect(go, &err));
    EXPECT_NE(err.find("project \"nope\" not found"), std::string::npos) << err;
    std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: g\nclusters:\n- name: g\n  cluster:\n    server: "
                      << g.url() << "\n    certificate-authority: ca.crt\ncontexts:\n- name: g\n  context:\n"
                      << "    cluster: g\n    user: u\nusers:\n- name: u\n  user:\n    token: wrong\n";
    go.project = "keb";
    EXPECT_FALSE(GardenerConnection::connect(go, &err));
    EXPECT_NE(err.find("401"), std::string::npos) << err;
}
