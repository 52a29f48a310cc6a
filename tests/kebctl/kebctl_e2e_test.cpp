// kebctl end to end: the real kebctl binary against a real keb-server on 127.0.0.1 (demo fleet,
// SQLite, HS256 tokens): every command and output format, paging past 100 orchestrations and
// operations, pause/resume/cancel/retry, staged requests, the confirmation prompt through a
// pseudo-terminal, configuration precedence, TLS, and exit codes 0/1/2.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>

#include <regex>
#include <set>

#include "server_harness.h"

#ifndef KEBCTL_BIN
#error "KEBCTL_BIN must be defined (path of kebctl)"
#endif

using namespace keb::test;

namespace {

constexpr const char* kSecret = "kebctl-e2e-secret-0123";
const std::string kRW = "broker-upgrade:read broker-upgrade:write";

struct Result {
    int code = -1;  // exit code, -1 when killed
    std::string out, err;
};

using EnvMap = std::map<std::string, std::string>;

std::vector<char*> cstrings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::vector<std::string> envList(const EnvMap& env) {
    std::vector<std::string> e;
    for (const auto& [k, v] : env) e.push_back(k + "=" + v);
    return e;
}

// Runs kebctl with exactly env (no inherited KCP_* variables), stdin from /dev/null (no terminal).
Result kebctl(const std::vector<std::string>& args, const EnvMap& env, const std::string& dir) {
    static int n = 0;
    const std::string outPath = dir + "/kebctl.out." + std::to_string(++n), errPath = dir + "/kebctl.err." + std::to_string(n);
    std::vector<std::string> argv = {KEBCTL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> envv = envList(env);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        int in = ::open("/dev/null", O_RDONLY);
        int o = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(in, 0);
        ::dup2(o, 1);
        ::dup2(e, 2);
        auto a = cstrings(argv);
        auto ev = cstrings(envv);
        ::execve(a[0], a.data(), ev.data());
        std::_Exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    Result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = readText(outPath);
    r.err = readText(errPath);
    return r;
}

// Runs kebctl on a pseudo-terminal: waits for `prompt` in its output, types `answer`, returns
// everything it wrote (stdout and stderr share the terminal). prompt empty: types nothing.
Result kebctlOnTerminal(const std::vector<std::string>& args, const EnvMap& env, const std::string& prompt,
                        const std::string& answer, int timeoutMs = 15000) {
    std::vector<std::string> argv = {KEBCTL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> envv = envList(env);
    int master = -1;
    std::fflush(nullptr);
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid == 0) {
        auto a = cstrings(argv);
        auto ev = cstrings(envv);
        ::execve(a[0], a.data(), ev.data());
        std::_Exit(127);
    }
    Result r;
    bool answered = prompt.empty();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;  // EIO: the child closed the terminal
        r.out.append(buf, static_cast<std::size_t>(n));
        if (!answered && r.out.find(prompt) != std::string::npos) {
            answered = true;
            (void)!::write(master, answer.data(), answer.size());
        }
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    ::close(master);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string l;
    while (std::getline(ss, l)) out.push_back(l);
    return out;
}

std::string idFrom(const std::string& out) {
    std::smatch m;
    static const std::regex re("OrchestrationID: ([0-9a-f-]{36})");
    return std::regex_search(out, m, re) ? m[1].str() : "";
}

// One keb-server per test (fresh SQLite store), plus helpers to run kebctl against it.
class Kebctl : public ::testing::Test {
protected:
    void startServer(const std::vector<std::string>& extra = {}, int fleet = 150) {
        std::vector<std::string> args = {"--store", "sqlite:" + (dir_ / "keb.db"), "--auth", std::string("hs256:") + kSecret,
                                         "--demo-fleet", std::to_string(fleet), "--demo-upgrade-duration", "100ms",
                                         "--workers", "8"};
        args.insert(args.end(), extra.begin(), extra.end());
        ASSERT_TRUE(server_.start(args, dir_.path.string())) << server_.stderrText();
        token_ = token(kSecret, kRW);
        url_ = "http://127.0.0.1:" + std::to_string(server_.port());
        std::filesystem::create_directories(dir_.path / "home");
    }
    EnvMap env(bool withUrlAndToken = true) const {
        EnvMap e = {{"HOME", (dir_.path / "home").string()}, {"PATH", "/usr/bin:/bin"}};
        if (withUrlAndToken) {
            e["KCP_KEB_API_URL"] = url_;
            e["KCP_TOKEN"] = token_;
        }
        return e;
    }
    Result run(const std::vector<std::string>& args) { return kebctl(args, env(), dir_.path.string()); }
    Api api() { return Api(server_.port(), token_); }
    // Waits until the orchestration has scheduled its operations (or finished).
    void waitScheduled(const std::string& id, int timeoutMs = 20000) {
        Api a = api();
        EXPECT_TRUE(eventually(
            [&] {
                std::string s = a.get("/orchestrations/" + id).json.value("state", "");
                return s != "pending" && !s.empty();
            },
            timeoutMs));
    }
    std::string waitFinal(const std::string& id, int timeoutMs = 30000) {
        Api a = api();
        std::string s;
        eventually(
            [&] {
                s = a.get("/orchestrations/" + id).json.value("state", "");
                return s == "succeeded" || s == "failed" || s == "canceled";
            },
            timeoutMs);
        return s;
    }
    TempDir dir_;
    ServerProcess server_;
    std::string token_, url_;
};

// ------------------------------------------------------------------ help and usage errors

TEST_F(Kebctl, HelpForEveryCommandWithExamples) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--help"}, {"orchestrations", "--help"}, {"o", "--help"}, {"upgrade", "--help"},
             {"upgrade", "kyma", "--help"}, {"upgrade", "cluster", "--help"}, {"runtimes", "--help"}}) {
        Result r = kebctl(args, {{"PATH", "/usr/bin"}}, dir_.path.string());
        EXPECT_EQ(r.code, 0) << args[0];
        EXPECT_NE(r.out.find("Examples:"), std::string::npos) << args[0] << "\n" << r.out;
    }
    Result k = kebctl({"upgrade", "kyma", "--help"}, {}, dir_.path.string());
    for (const char* flag : {"--target", "--target-exclude", "--strategy", "--parallel-workers", "--schedule",
                             "--maintenancewindow", "--dry-run", "--version", "--stage", "--max-failures", "--blackout",
                             "--notification", "--preview", "--yes"})
        EXPECT_NE(k.out.find(flag), std::string::npos) << flag;
    Result c = kebctl({"upgrade", "cluster", "--help"}, {}, dir_.path.string());
    for (const char* flag : {"--kubernetes-version", "--machine-image", "--machine-image-version"})
        EXPECT_NE(c.out.find(flag), std::string::npos) << flag;
}

TEST_F(Kebctl, UsageErrorsExitTwoNamingTheFlag) {
    startServer();
    struct Case {
        std::vector<std::string> args;
        std::string says;
    } cases[] = {
        {{}, "subcommand"},
        {{"upgrade", "kyma", "--version", "2.20.0"}, "--target"},
        {{"upgrade", "kyma", "--target", "acount=CA.*"}, "--target"},
        {{"upgrade", "kyma", "--target", "all", "--target-exclude", "all"}, "--target-exclude"},
        {{"upgrade", "kyma", "--target", "region="}, "region is missing its value"},
        {{"upgrade", "kyma", "-t", "all", "--stage", "canary:all:soak=soon", "--stage", "rest"}, "--stage"},
        {{"upgrade", "kyma", "-t", "all", "--stage", "canary:all:max-failures=5x"}, "--stage"},
        {{"upgrade", "kyma", "-t", "all", "--max-failures", "101%"}, "--max-failures"},
        {{"upgrade", "kyma", "-t", "all", "--max-failures", "-1"}, "--max-failures"},
        {{"upgrade", "kyma", "-t", "all", "--blackout", "2026-12-24/2026-12-25"}, "--blackout"},
        {{"upgrade", "kyma", "-t", "all", "--schedule", "tonight"}, "--schedule"},
        {{"upgrade", "kyma", "-t", "all", "--parallel-workers", "many"}, "--parallel-workers"},
        {{"upgrade", "kyma", "-t", "all", "--strategy", "serial"}, "--strategy"},
        {{"upgrade", "cluster", "-t", "all", "--version", "2.20.0"}, "--version"},
        {{"orchestrations", "-s", "bogus"}, "--state"},
        {{"orchestrations", "-o", "yaml"}, "--output"},
        {{"orchestrations", "-o", "custom=ID"}, "--output"},
        {{"orchestrations", "x", "explode"}, "invalid subcommand"},
        {{"orchestrations", "--operation", "op-1"}, "--operation"},
        {{"orchestrations", "x", "ops", "--now"}, "--now"},
        {{"orchestrations", "--bogus"}, "--bogus"},
        {{"--timeout", "soon", "orchestrations"}, "--timeout"},
        {{"nonsense"}, "subcommand"},
    };
    for (const auto& c : cases) {
        Result r = run(c.args);
        std::string joined;
        for (const auto& a : c.args) joined += a + " ";
        EXPECT_EQ(r.code, 2) << joined << "\n" << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << joined << "\nstderr: " << r.err;
        EXPECT_EQ(r.out, "") << joined;
    }
    EXPECT_EQ(api().get("/orchestrations").json.value("totalCount", -1), 0) << "no usage error may start anything";
    Result noUrl = kebctl({"orchestrations"}, env(false), dir_.path.string());
    EXPECT_EQ(noUrl.code, 2);
    EXPECT_NE(noUrl.err.find("KCP_KEB_API_URL"), std::string::npos) << noUrl.err;
}

// ------------------------------------------------------------------ upgrade + orchestrations

TEST_F(Kebctl, UpgradeKymaThenEveryViewOfIt) {
    startServer();
    Result up = run({"upgrade", "kyma", "--target", "all", "--target-exclude", "shoot=does-not-exist", "--version", "2.20.0",
                     "--parallel-workers", "20", "--schedule", "now", "--dry-run"});
    ASSERT_EQ(up.code, 0) << up.err;
    const std::string id = idFrom(up.out);
    ASSERT_FALSE(id.empty()) << up.out;
    EXPECT_EQ(up.out, "OrchestrationID: " + id + "\n");
    waitScheduled(id);

    // The request as the server stored it.
    Reply g = api().get("/orchestrations/" + id);
    EXPECT_EQ(g.json["parameters"]["kyma"]["version"], "2.20.0");
    EXPECT_EQ(g.json["parameters"]["strategy"]["parallel"]["workers"], 20);
    EXPECT_EQ(g.json["parameters"]["dryRun"], true);
    EXPECT_EQ(g.json["parameters"]["targets"]["exclude"][0]["shoot"], "does-not-exist");

    // Every view below must see one and the same state: the list and its alias `o` are compared
    // byte for byte, and the rollout (dry run, 150 runtimes, 100 ms each) may move from
    // "in progress" to "succeeded" between two kebctl runs (it did under ASan: a slower server).
    ASSERT_EQ(waitFinal(id), "succeeded");

    // List: kcp's columns, aligned.
    Result list = run({"orchestrations"});
    ASSERT_EQ(list.code, 0) << list.err;
    auto ls = lines(list.out);
    ASSERT_EQ(ls.size(), 2u) << list.out;
    EXPECT_TRUE(std::regex_match(ls[0], std::regex("ORCHESTRATION ID +TYPE +CREATED AT +STATE +DRY RUN +TARGETS +DETAILS")))
        << ls[0];
    EXPECT_EQ(ls[1].rfind(id, 0), 0u);
    EXPECT_NE(ls[1].find("kyma upgrade"), std::string::npos);
    EXPECT_NE(ls[1].find("Kyma: 2.20.0"), std::string::npos);
    EXPECT_EQ(ls[0].find("TYPE"), ls[1].find("kyma upgrade")) << "columns aligned";
    EXPECT_EQ(ls[0].find("DETAILS"), ls[1].find("Kyma: 2.20.0")) << "columns aligned";
    Result alias = run({"o"});
    EXPECT_EQ(alias.out, list.out) << "alias o";

    // -o json: the server's JSON (all pages in one list).
    Result js = run({"orchestrations", "-o", "json"});
    ASSERT_EQ(js.code, 0);
    Json j = Json::parse(js.out);
    EXPECT_EQ(j["totalCount"], 1);
    EXPECT_EQ(j["data"][0]["orchestrationID"], id);

    // custom columns, every JSONPath form, kcp's Go field names too.
    Result cu = run({"o", "-o", "custom=ID:{.orchestrationID},STATE:.state,WORKERS:{.parameters.strategy.parallel.workers},"
                                "KCP:{.OrchestrationID},INC:parameters.targets.include[0].target"});
    ASSERT_EQ(cu.code, 0) << cu.err;
    auto cl = lines(cu.out);
    ASSERT_EQ(cl.size(), 2u);
    EXPECT_TRUE(std::regex_match(cl[0], std::regex("ID +STATE +WORKERS +KCP +INC"))) << cl[0];
    EXPECT_TRUE(std::regex_match(cl[1], std::regex(id + " +[a-z ]+ +20 +" + id + " +all"))) << cl[1];

    // One orchestration: details, json, custom.
    Result one = run({"orchestration", id});
    ASSERT_EQ(one.code, 0) << one.err;
    for (const std::string& want : {"Orchestration ID: " + id, std::string("Type:             upgradeKyma"),
                                   std::string("Dry Run:          true"), std::string("Workers:          20"),
                                   std::string("Kyma Version:     2.20.0"), std::string("Targets:\n  target = all"),
                                   std::string("Exclude Targets:\n  shoot = does-not-exist"), std::string("Operations:")})
        EXPECT_NE(one.out.find(want), std::string::npos) << want << "\n" << one.out;
    Result oneJson = run({"o", id, "-o", "json"});
    Json oj = Json::parse(oneJson.out);
    EXPECT_EQ(oj["orchestrationID"], id);
    EXPECT_TRUE(oj.contains("operationStats"));
    Result oneCustom = run({"o", id, "-o", "custom=TYPE:.type"});
    EXPECT_EQ(oneCustom.out, "TYPE\nupgradeKyma\n");
}

TEST_F(Kebctl, OperationsPagedPast100AndDetails) {
    startServer({}, 150);
    Result up = run({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--parallel-workers", "50", "--dry-run"});
    const std::string id = idFrom(up.out);
    ASSERT_FALSE(id.empty()) << up.err;
    ASSERT_EQ(waitFinal(id), "succeeded");

    // The demo fleet skips a few runtimes (suspended, deprovisioning): the server's count decides.
    const int total = api().get("/orchestrations/" + id + "/operations?page_size=1").json.value("totalCount", -1);
    ASSERT_GT(total, 100) << "the test needs more than one page";
    Result ops = run({"o", id, "ops"});
    ASSERT_EQ(ops.code, 0) << ops.err;
    auto ol = lines(ops.out);
    ASSERT_EQ(ol.size(), static_cast<std::size_t>(total) + 1) << "every operation + header: kebctl paged past 100";
    EXPECT_TRUE(std::regex_match(ol[0], std::regex("OPERATION ID +SHOOT +GLOBALACCOUNT +SUBACCOUNT +STATE"))) << ol[0];
    std::set<std::string> opIDs;
    for (std::size_t i = 1; i < ol.size(); ++i) opIDs.insert(ol[i].substr(0, ol[i].find(' ')));
    EXPECT_EQ(opIDs.size(), static_cast<std::size_t>(total)) << "no operation twice";
    EXPECT_EQ(run({"o", id, "operations"}).out, ops.out) << "ops and operations are the same";

    Result js = run({"o", id, "ops", "-o", "json"});
    Json j = Json::parse(js.out);
    EXPECT_EQ(j["data"].size(), static_cast<std::size_t>(total));
    EXPECT_EQ(j["totalCount"], total);
    Result filtered = run({"o", id, "ops", "-s", "failed"});
    EXPECT_EQ(lines(filtered.out).size(), 1u) << filtered.out;
    Result before = run({"o", "-s", "failed", id, "ops"});
    EXPECT_EQ(before.code, 0) << "a flag's value list does not swallow the arguments after it: " << before.err;
    EXPECT_EQ(before.out, filtered.out);
    Result custom = run({"o", id, "ops", "-o", "custom=OP:.operationID,RUNTIME:.runtimeID"});
    EXPECT_EQ(lines(custom.out).size(), static_cast<std::size_t>(total) + 1);

    // --operation: details of one or several operations.
    const std::string op1 = j["data"][0]["operationID"], op2 = j["data"][1]["operationID"];
    Result d = run({"o", id, "--operation", op1});
    ASSERT_EQ(d.code, 0) << d.err;
    for (const std::string& want : {"Operation ID:       " + op1, "Orchestration ID:   " + id,
                                   std::string("Runtime ID:         ") + j["data"][0]["runtimeID"].get<std::string>(),
                                   std::string("State:              succeeded"), std::string("Kyma Version:       2.20.0")})
        EXPECT_NE(d.out.find(want), std::string::npos) << want << "\n" << d.out;
    Result two = run({"o", id, "--operation", op1 + "," + op2, "-o", "json"});
    Json tj = Json::parse(two.out);
    ASSERT_TRUE(tj.is_array());
    EXPECT_EQ(tj[1]["operationID"], op2);
    Result missing = run({"o", id, "--operation", "no-such-op"});
    EXPECT_EQ(missing.code, 1);
    EXPECT_NE(missing.err.find("HTTP 404"), std::string::npos) << missing.err;
}

TEST_F(Kebctl, OrchestrationsPagedPast100AndStateFilter) {
    startServer({}, 20);
    Api a = api();
    // 103 dry runs through the API, 2 through kebctl.
    for (int i = 0; i < 103; ++i) {
        auto r = a.post("/upgrade/kyma",
                        R"({"targets":{"include":[{"target":"all"}]},"dryRun":true,"strategy":{"parallel":{"workers":20}},"kyma":{"version":"2.20.0"}})");
        ASSERT_EQ(r.status, 202) << r.body;
    }
    ASSERT_EQ(run({"upgrade", "kyma", "-t", "all", "--version", "2.21.0", "--dry-run"}).code, 0);
    ASSERT_EQ(run({"upgrade", "cluster", "-t", "all", "--kubernetes-version", "1.28.3", "--dry-run"}).code, 0);
    Result list = run({"orchestrations"});
    ASSERT_EQ(list.code, 0) << list.err;
    EXPECT_EQ(lines(list.out).size(), 106u) << "105 orchestrations + header";
    EXPECT_NE(list.out.find("cluster upgrade"), std::string::npos);
    EXPECT_NE(list.out.find("K8S: 1.28.3"), std::string::npos);
    Json j = Json::parse(run({"o", "-o", "json"}).out);
    EXPECT_EQ(j["data"].size(), 105u);
    std::set<std::string> ids;
    for (const auto& o : j["data"]) ids.insert(o["orchestrationID"].get<std::string>());
    EXPECT_EQ(ids.size(), 105u);

    // -s: repeatable and comma lists; inprogress means "in progress"; same counts as the server's filter.
    auto serverCount = [&](const std::string& q) { return a.get("/orchestrations?page_size=1&" + q).json.value("totalCount", -1); };
    Result f1 = run({"o", "-s", "pending,inprogress", "-s", "succeeded", "-o", "json"});
    ASSERT_EQ(f1.code, 0) << f1.err;
    Json fj = Json::parse(f1.out);
    for (const auto& o : fj["data"]) {
        const std::string s = o["state"];
        EXPECT_TRUE(s == "pending" || s == "in progress" || s == "succeeded") << s;
    }
    EXPECT_GE(fj["data"].size(), 1u);
    Result f2 = run({"o", "-s", "failed", "-o", "json"});
    EXPECT_EQ(Json::parse(f2.out)["totalCount"], serverCount("state=failed"));
    Result f3 = run({"o", "-s", "paused,canceled,canceling,retrying", "-o", "json"});
    EXPECT_EQ(f3.code, 0) << f3.err;
    EXPECT_EQ(Json::parse(f3.out)["totalCount"], 0);
}

TEST_F(Kebctl, UpgradeClusterAndServerValidationErrors) {
    startServer({}, 10);
    Result up = run({"upgrade", "cluster", "-t", "plan=azure", "-t", "region=eu", "--kubernetes-version", "1.28.3",
                     "--machine-image", "gardenlinux", "--machine-image-version", "1312.3.0", "--maintenancewindow",
                     "--schedule", "2030-01-01T00:00:00Z", "--dry-run"});
    ASSERT_EQ(up.code, 0) << up.err;
    const std::string id = idFrom(up.out);
    Json p = api().get("/orchestrations/" + id).json["parameters"];
    EXPECT_EQ(p["kubernetes"]["machineImageVersion"], "1312.3.0");
    EXPECT_EQ(p["strategy"]["maintenanceWindow"], true);
    EXPECT_EQ(p["targets"]["include"].size(), 2u);
    Result d = run({"o", id});
    EXPECT_NE(d.out.find("K8s Version:      1.28.3"), std::string::npos) << d.out;
    EXPECT_NE(d.out.find("Machine Image:    gardenlinux 1312.3.0"), std::string::npos) << d.out;

    // A 400 from the server: exit 1 with the status and the server's message.
    Result bad = run({"upgrade", "kyma", "-t", "region=(unclosed", "--version", "2.20.0"});
    EXPECT_EQ(bad.code, 1);
    Reply direct = api().post("/upgrade/kyma", R"({"targets":{"include":[{"region":"(unclosed"}]},"kyma":{"version":"2.20.0"}})");
    ASSERT_EQ(direct.status, 400);
    EXPECT_NE(bad.err.find("HTTP 400 Bad Request: " + direct.json["error"].get<std::string>()), std::string::npos) << bad.err;
}

// ------------------------------------------------------------------ stages, pause, resume, cancel, retry

TEST_F(Kebctl, StagedUpgradeRequest) {
    startServer({}, 30);
    Result probe = run({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--dry-run", "--parallel-workers", "30"});
    const std::string probeID = idFrom(probe.out);
    ASSERT_EQ(waitFinal(probeID), "succeeded");
    Json ops = Json::parse(run({"o", probeID, "ops", "-o", "json"}).out);
    const std::string rt = ops["data"][0]["runtimeID"];

    Result up = run({"upgrade", "kyma", "-t", "all", "--version", "2.21.0", "--parallel-workers", "5", "--dry-run",
                     "--stage", "canary:runtime-id=" + rt + ":workers=1:soak=0s:max-failures=0", "--stage", "rest::max-failures=10%",
                     "--max-failures", "2", "--blackout", "2020-01-01T00:00:00Z/2020-01-02T00:00:00Z/long-ago"});
    ASSERT_EQ(up.code, 0) << up.err;
    const std::string id = idFrom(up.out);
    Json st = api().get("/orchestrations/" + id).json["parameters"]["strategy"];
    ASSERT_EQ(st["stages"].size(), 2u) << st.dump();
    EXPECT_EQ(st["stages"][0]["name"], "canary");
    EXPECT_EQ(st["stages"][0]["targets"]["include"][0]["runtimeID"], rt);
    EXPECT_EQ(st["stages"][0]["workers"], 1);
    EXPECT_EQ(st["stages"][1]["name"], "rest");
    EXPECT_EQ(st["maxFailures"], 2);
    EXPECT_EQ(st["blackouts"][0]["reason"], "long-ago");
    // The canary stage runs first: its one operation ends while the rest waits.
    EXPECT_TRUE(eventually([&] { return api().get("/orchestrations/" + id).json["operationStats"].value("succeeded", 0) >= 1; },
                           20000));
    Result d = run({"o", id});
    EXPECT_NE(d.out.find("Max Failures:     2"), std::string::npos) << d.out;
    EXPECT_NE(d.out.find("Blackouts:\n  2020-01-01T00:00:00Z - 2020-01-02T00:00:00Z  long-ago"), std::string::npos) << d.out;
    EXPECT_NE(d.out.find("in 2 stages"), std::string::npos) << d.out;
    // The stage view (SPEC 10's "stages" of GET /orchestrations/{id}) once the server reports it.
    Json g = api().get("/orchestrations/" + id).json;
    if (g.contains("stages")) {
        EXPECT_NE(d.out.find("Stages:"), std::string::npos) << d.out;
        EXPECT_TRUE(std::regex_search(d.out, std::regex("canary +[a-z ]+"))) << d.out;
    }

    // The server's own stage validation still answers: duplicate names are caught here (2), a
    // stage target the server refuses comes back as its 400 (1).
    Result serverSide = run({"upgrade", "kyma", "-t", "all", "--version", "2.21.0", "--stage", "canary:region=(x", "--stage", "rest"});
    EXPECT_EQ(serverSide.code, 1) << serverSide.err;
    EXPECT_NE(serverSide.err.find("HTTP 400"), std::string::npos) << serverSide.err;
    EXPECT_NE(serverSide.err.find("strategy.stages[0]"), std::string::npos) << serverSide.err;
}

TEST_F(Kebctl, PauseResumeAndCancelOnATerminal) {
    startServer({"--demo-upgrade-duration", "300ms"}, 60);
    Result up = run({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--parallel-workers", "1", "--schedule", "now"});
    const std::string id = idFrom(up.out);
    ASSERT_FALSE(id.empty()) << up.err;
    waitScheduled(id);

    Result p = run({"o", id, "pause"});
    ASSERT_EQ(p.code, 0) << p.err;
    EXPECT_EQ(p.out, "Orchestration " + id + " paused.\n");
    EXPECT_EQ(api().get("/orchestrations/" + id).json["state"], "paused");
    Result again = run({"o", id, "pause"});
    EXPECT_EQ(again.code, 1);
    EXPECT_NE(again.err.find("HTTP 409"), std::string::npos) << again.err;
    EXPECT_EQ(run({"o", "-s", "paused", "-o", "json"}).out.find(id) != std::string::npos, true);
    Result r = run({"o", id, "resume", "-o", "json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["orchestrationID"], id);
    EXPECT_NE(api().get("/orchestrations/" + id).json["state"], "paused");
    Result unknown = run({"o", "00000000-0000-0000-0000-000000000000", "resume"});
    EXPECT_EQ(unknown.code, 1);
    EXPECT_NE(unknown.err.find("HTTP 404"), std::string::npos);

    // cancel on a terminal: "N" aborts, "Y" cancels.
    Result no = kebctlOnTerminal({"o", id, "cancel"}, env(), "(Y/N)", "N\n");
    EXPECT_EQ(no.code, 0) << no.out;
    EXPECT_NE(no.out.find("pending operation(s) will be canceled"), std::string::npos) << no.out;
    EXPECT_NE(no.out.find("Aborted."), std::string::npos) << no.out;
    EXPECT_EQ(api().get("/orchestrations/" + id).json["state"], "in progress");
    Result yes = kebctlOnTerminal({"o", id, "cancel"}, env(), "(Y/N)", "Y\n");
    EXPECT_EQ(yes.code, 0) << yes.out;
    EXPECT_NE(yes.out.find("cancel accepted"), std::string::npos) << yes.out;
    std::string s = api().get("/orchestrations/" + id).json["state"];
    EXPECT_TRUE(s == "canceling" || s == "canceled") << s;
    Result twice = run({"o", id, "cancel"});
    EXPECT_EQ(twice.code, 0);
    EXPECT_EQ(twice.out, "Orchestration is already canceled.\n");
}

TEST_F(Kebctl, RetryFailedOperations) {
    startServer({"--demo-failure-rate", "1"}, 4);
    Result up = run({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--parallel-workers", "4"});
    const std::string id = idFrom(up.out);
    ASSERT_EQ(waitFinal(id), "failed");
    Json ops = Json::parse(run({"o", id, "ops", "-s", "failed", "-o", "json"}).out);
    ASSERT_EQ(ops["data"].size(), 4u);
    const std::string op = ops["data"][0]["operationID"];
    Result r = run({"o", id, "retry", "--operation", op + ",no-such-op", "--now"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("Orchestration ID:   " + id), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Invalid Operations: no-such-op"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Retry Operations:   " + ops["data"][0]["shootName"].get<std::string>()), std::string::npos) << r.out;
    waitFinal(id);
    Result all = run({"o", id, "retry", "-o", "json"});
    ASSERT_EQ(all.code, 0) << all.err;
    Json aj = Json::parse(all.out);
    EXPECT_EQ(aj["orchestrationID"], id);
    EXPECT_EQ(aj["retryShoots"].size(), 4u) << aj.dump();
}

// ------------------------------------------------------------------ confirmation prompt

TEST_F(Kebctl, UpgradeAsksOnATerminalOnly) {
    startServer({}, 5);
    auto count = [&] { return api().get("/orchestrations").json.value("totalCount", -1); };
    const std::vector<std::string> args = {"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--parallel-workers", "2"};
    Result no = kebctlOnTerminal(args, env(), "(Y/N)", "n\n");
    EXPECT_EQ(no.code, 0);
    EXPECT_NE(no.out.find("Upgrade Kyma to 2.20.0 on:"), std::string::npos) << no.out;
    EXPECT_NE(no.out.find("target = all"), std::string::npos) << no.out;
    EXPECT_NE(no.out.find("Aborted."), std::string::npos) << no.out;
    EXPECT_EQ(count(), 0) << "an aborted upgrade sends nothing";
    Result yes = kebctlOnTerminal(args, env(), "(Y/N)", "Y\n");
    EXPECT_EQ(yes.code, 0) << yes.out;
    EXPECT_FALSE(idFrom(yes.out).empty()) << yes.out;
    EXPECT_EQ(count(), 1);
    std::vector<std::string> withYes = args;
    withYes.push_back("--yes");
    Result y = kebctlOnTerminal(withYes, env(), "", "");
    EXPECT_EQ(y.code, 0) << y.out;
    EXPECT_EQ(y.out.find("(Y/N)"), std::string::npos) << "--yes: no question";
    EXPECT_FALSE(idFrom(y.out).empty());
    EXPECT_EQ(count(), 2);
    // Without a terminal (stdin /dev/null) there is no question at all.
    Result plain = run(args);
    EXPECT_EQ(plain.code, 0);
    EXPECT_EQ(plain.err.find("(Y/N)"), std::string::npos);
    EXPECT_EQ(count(), 3);
}

// ------------------------------------------------------------------ configuration and auth

TEST_F(Kebctl, ConfigFileEnvAndFlagPrecedence) {
    startServer({}, 5);
    const std::string home = (dir_.path / "home").string();
    std::filesystem::create_directories(home + "/.kcp");
    const std::string wrongUrl = "http://127.0.0.1:1";  // nothing listens on port 1
    {
        std::ofstream(home + "/.kcp/config.yaml") << "keb-api-url: " << url_ << "\ntoken: wrong-token\n"
                                                  << "oidc-issuer-url: https://kcp-keys-are-ignored\n";
    }
    EnvMap e = env(false);
    // Home config only: its URL, its (wrong) token -> 401 from the server.
    Result fileOnly = kebctl({"o"}, e, dir_.path.string());
    EXPECT_EQ(fileOnly.code, 1);
    EXPECT_NE(fileOnly.err.find("HTTP 401"), std::string::npos) << fileOnly.err;
    // env beats the file.
    e["KCP_TOKEN"] = token_;
    EXPECT_EQ(kebctl({"o"}, e, dir_.path.string()).code, 0);
    // a flag beats env.
    Result flag = kebctl({"o", "--token", "wrong-again"}, e, dir_.path.string());
    EXPECT_EQ(flag.code, 1);
    EXPECT_NE(flag.err.find("HTTP 401"), std::string::npos);
    // a token file as flag; the global flag before the command works too.
    { std::ofstream(dir_ / "tok") << token_ << "\n"; }
    EXPECT_EQ(kebctl({"--token-file", dir_ / "tok", "o"}, env(false), dir_.path.string()).code, 0);
    // $KCPCONFIG replaces the home file; --config replaces $KCPCONFIG.
    { std::ofstream(dir_ / "bad.yaml") << "keb-api-url: " << wrongUrl << "\n"; }
    { std::ofstream(dir_ / "good.yaml") << "keb-api-url: " << url_ << "\ntoken-file: " << (dir_ / "tok") << "\n"; }
    EnvMap k = env(false);
    k["KCPCONFIG"] = dir_ / "bad.yaml";
    Result unreachable = kebctl({"o"}, k, dir_.path.string());
    EXPECT_EQ(unreachable.code, 1);
    EXPECT_NE(unreachable.err.find("cannot reach the KEB API"), std::string::npos) << unreachable.err;
    EXPECT_EQ(kebctl({"o", "--config", dir_ / "good.yaml"}, k, dir_.path.string()).code, 0);
    k["KCP_KEB_API_URL"] = url_;  // env URL beats the $KCPCONFIG file's
    k["KCP_TOKEN"] = token_;
    EXPECT_EQ(kebctl({"o"}, k, dir_.path.string()).code, 0);
    EXPECT_EQ(kebctl({"o", "--keb-api-url", wrongUrl}, k, dir_.path.string()).code, 1) << "flag URL beats env";
    k["KCPCONFIG"] = dir_ / "missing.yaml";
    Result missing = kebctl({"o"}, k, dir_.path.string());
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("KCPCONFIG"), std::string::npos) << missing.err;
}

TEST_F(Kebctl, WrongTokenAndScopeGiveTheServersMessage) {
    startServer({}, 5);
    Api anon(server_.port(), "not-a-jwt");
    Reply direct = anon.get("/orchestrations");
    ASSERT_EQ(direct.status, 401);
    EnvMap e = env();
    e["KCP_TOKEN"] = "not-a-jwt";
    Result r = kebctl({"o"}, e, dir_.path.string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("HTTP 401 Unauthorized: " + direct.json["error"].get<std::string>()), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    e["KCP_TOKEN"] = token(kSecret, "broker-upgrade:read");
    Result w = kebctl({"upgrade", "kyma", "-t", "all", "--version", "2.20.0"}, e, dir_.path.string());
    EXPECT_EQ(w.code, 1);
    EXPECT_NE(w.err.find("HTTP 403"), std::string::npos) << w.err;
    EXPECT_EQ(api().get("/orchestrations").json.value("totalCount", -1), 0);
}

// ------------------------------------------------------------------ features the server may not have yet

TEST_F(Kebctl, RuntimesPreviewAndNotification) {
    startServer({}, 5);
    // GET /runtimes (SPEC 12): a table when the server has it, else a clear error with exit 1.
    Reply rt = api().get("/runtimes");
    Result r = run({"runtimes"});
    EXPECT_EQ(rt.status, 200) << "keb-server serves GET /runtimes (SPEC 12)";
    if (rt.status == 200) {
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(lines(r.out).size(), 6u) << r.out;
        EXPECT_EQ(run({"rt", "-o", "json"}).code, 0);
        // Filters go to the server (region and account of the first runtime: at least that one).
        const std::string region = rt.json["data"][0]["region"], ga = rt.json["data"][0]["globalAccountID"];
        Result f = run({"runtimes", "-R", region, "-g", ga, "-o", "json"});
        EXPECT_EQ(f.code, 0) << f.err;
        EXPECT_NE(f.out.find(rt.json["data"][0]["runtimeID"].get<std::string>()), std::string::npos) << f.out;
        EXPECT_EQ(run({"runtimes", "-S", "failed"}).code, 0);
    } else {
        EXPECT_EQ(r.code, 1);
        EXPECT_NE(r.err.find("HTTP " + std::to_string(rt.status)), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("does not serve GET /runtimes"), std::string::npos) << r.err;
        EXPECT_EQ(run({"runtime", "-R", "eu,us", "-g", "ga-1", "--planName", "azure", "-S", "failed"}).code, 1);
    }
    EXPECT_EQ(run({"rt", "-S", "bogus"}).code, 2);

    // --preview: POST ?preview=true; nothing may start either way.
    Reply pv = api().post("/upgrade/kyma?preview=true", R"({"targets":{"include":[{"target":"all"}]},"kyma":{"version":"2.20.0"}})");
    Result p = run({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--preview"});
    EXPECT_EQ(pv.status, 200) << "keb-server answers previews (SPEC 12)";
    if (pv.status == 200) {
        EXPECT_EQ(p.code, 0) << p.err;
        EXPECT_NE(p.out.find("Runtimes:"), std::string::npos) << p.out;
        EXPECT_NE(p.out.find("Predicted End"), std::string::npos) << p.out;
    } else {
        EXPECT_EQ(p.code, 1);
        EXPECT_NE(p.err.find("HTTP 400"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find(pv.json.value("error", "?")), std::string::npos) << p.err;
        EXPECT_NE(p.err.find("does not support --preview"), std::string::npos) << p.err;
    }
    EXPECT_EQ(api().get("/orchestrations").json.value("totalCount", -1), 0) << "a preview starts nothing";

    // --notification: sent as "notification": true; the server's answer decides.
    Result n = run({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--notification", "--dry-run"});
    if (n.code == 0) {
        EXPECT_FALSE(idFrom(n.out).empty());
    } else {
        EXPECT_EQ(n.code, 1);
        EXPECT_NE(n.err.find("HTTP 400"), std::string::npos) << n.err;
    }
}

// ------------------------------------------------------------------ broken servers, TLS

TEST(KebctlServers, GarbageAnswersAndUnreachableServers) {
    TempDir dir;
    httplib::Server fake;
    fake.Get("/orchestrations", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("<html><body>Welcome to nginx</body></html>", "text/html");
    });
    fake.Get("/orchestrations/x", [](const httplib::Request&, httplib::Response& res) {
        res.status = 502;
        res.set_content("<html>Bad Gateway</html>", "text/html");
    });
    fake.Get("/orchestrations/y", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"not":"a list"})", "application/json");
    });
    const int port = fake.bind_to_any_port("127.0.0.1");
    std::thread t([&] { fake.listen_after_bind(); });
    while (!fake.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EnvMap e = {{"KCP_KEB_API_URL", "http://127.0.0.1:" + std::to_string(port)}, {"HOME", dir.path.string()}};
    Result html = kebctl({"o"}, e, dir.path.string());
    EXPECT_EQ(html.code, 1);
    EXPECT_NE(html.err.find("not JSON (text/html)"), std::string::npos) << html.err;
    EXPECT_NE(html.err.find("is KCP_KEB_API_URL the KEB API?"), std::string::npos) << html.err;
    Result gw = kebctl({"o", "x"}, e, dir.path.string());
    EXPECT_EQ(gw.code, 1);
    EXPECT_NE(gw.err.find("HTTP 502"), std::string::npos) << gw.err;
    EXPECT_NE(gw.err.find("not the KEB API's JSON error"), std::string::npos) << gw.err;
    Result notList = kebctl({"o", "y", "ops"}, e, dir.path.string());
    EXPECT_EQ(notList.code, 1);
    fake.stop();
    t.join();
    Result down = kebctl({"o"}, e, dir.path.string());
    EXPECT_EQ(down.code, 1);
    EXPECT_NE(down.err.find("cannot reach the KEB API"), std::string::npos) << down.err;
}

TEST(KebctlServers, HttpsWithTheServersCa) {
    TempDir dir;
    int st = 0;
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir / "tls.key") + " -out " + (dir / "tls.crt") +
            " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
        &st);
    ASSERT_EQ(st, 0);
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "memory", "--auth", "none", "--demo-fleet", "3", "--tls-cert", dir / "tls.crt",
                         "--tls-key", dir / "tls.key"},
                        dir.path.string()))
        << s.stderrText();
    EnvMap e = {{"KCP_KEB_API_URL", "https://127.0.0.1:" + std::to_string(s.port())}, {"HOME", dir.path.string()}};
    Result untrusted = kebctl({"o"}, e, dir.path.string());
    EXPECT_EQ(untrusted.code, 1);
    EXPECT_NE(untrusted.err.find("--ca-cert"), std::string::npos) << untrusted.err;
    Result ok = kebctl({"o", "--ca-cert", dir / "tls.crt"}, e, dir.path.string());
    EXPECT_EQ(ok.code, 0) << ok.err;
    EXPECT_EQ(lines(ok.out).size(), 1u) << ok.out;
    e["KCP_CA_CERT"] = dir / "tls.crt";
    Result up = kebctl({"upgrade", "kyma", "-t", "all", "--version", "2.20.0", "--dry-run"}, e, dir.path.string());
    EXPECT_EQ(up.code, 0) << up.err;
    EXPECT_FALSE(idFrom(up.out).empty());
}

}  // namespace
