// SPEC 10 end to end over real HTTP on 127.0.0.1 against the real keb-server binary (demo fleet,
// SQLite file): a staged request whose canary budget pauses it, pause/resume and their errors,
// GET with `stages`, a restart while paused, --blackouts FILE (good and bad), and the 400
// messages for bad stage fields. Every answer is checked against openapi.json.
#include "server_harness.h"

#include <chrono>
#include <ctime>
#include <map>
#include <set>

using namespace keb::test;

namespace {

constexpr const char* kSecret = "stages-e2e-secret-0123";
const std::string kRW = "broker-upgrade:read broker-upgrade:write";

const Json& openApi() {
    static const Json doc = Json::parse(readText(KEB_OPENAPI_FILE));
    return doc;
}

// keb-server on a SQLite file with the demo fleet and HS256 tokens, plus `extra` flags.
bool startServer(ServerProcess& s, const TempDir& dir, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--store",       "sqlite:" + (dir / "keb.db"), "--auth", std::string("hs256:") + kSecret,
                                     "--access-log", "off", "--engine-log", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return s.start(args, dir.path.string());
}

Api api(const ServerProcess& s, const std::string& tok) {
    Api a(s.port(), tok);
    a.setOpenApi(&openApi());
    return a;
}

std::string rwToken() { return token(kSecret, kRW); }

// A request over every runtime with `strategyExtra` spliced into the strategy object.
std::string stagedBody(const std::string& strategyExtra, int workers = 1, bool dryRun = false) {
    return R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate",)"
           R"("parallel":{"workers":)" +
           std::to_string(workers) + "}" + (strategyExtra.empty() ? "" : "," + strategyExtra) + R"(},"dryRun":)" +
           (dryRun ? "true" : "false") + R"(,"kyma":{"version":"2.20.0"}})";
}

// The runtime ids of the demo fleet, in resolution order (from a dry run, which changes nothing).
std::vector<std::string> fleetRuntimeIDs(Api& a) {
    auto r = a.post("/upgrade/kyma", stagedBody("", 50, true));
    EXPECT_EQ(r.status, 202) << r.body;
    const std::string id = r.json.value("orchestrationID", "");
    EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json.value("state", "") == "succeeded"; }, 15000));
    const Reply ops = a.get("/orchestrations/" + id + "/operations");  // kept: the loop reads into it
    std::vector<std::string> ids;
    for (const auto& op : ops.json["data"]) ids.push_back(op["runtimeID"]);
    return ids;
}

std::string state(Api& a, const std::string& id) { return a.get("/orchestrations/" + id).json.value("state", ""); }

// No operation of the orchestration is in progress and its stats stay the same for `ms`.
bool quietFor(Api& a, const std::string& id, int ms) {
    const Json before = a.get("/orchestrations/" + id).json["operationStats"];
    if (before.value("in progress", -1) != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return a.get("/orchestrations/" + id).json["operationStats"] == before;
}

}  // namespace

// A canary stage with budget 0 pauses the orchestration on its first failure; resume
// acknowledges the failure; the next one pauses again; after the canary the rest runs. GET shows
// the stages (checked against openapi.json), operations carry their stage, pause/resume answer
// 409 in the wrong state.
TEST(StagesE2E, CanaryBudgetPausesThenResumeRunsTheRest) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(startServer(s, dir, {"--demo-fleet", "12", "--demo-upgrade-duration", "100ms", "--demo-failure-rate", "1"}))
        << s.stderrText();
    Api a = api(s, rwToken());
    const std::vector<std::string> fleet = fleetRuntimeIDs(a);
    ASSERT_GE(fleet.size(), 6u);
    const std::string body = stagedBody(
        R"("stages":[{"name":"canary","targets":{"include":[{"runtimeID":")" + fleet[0] + R"("},{"runtimeID":")" +
        fleet[1] + R"("}]},"maxFailures":0},{"name":"rest","workers":3,"soak":"0s"}])");
    auto r = a.post("/upgrade/kyma", body);
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];

    ASSERT_TRUE(eventually([&] { return state(a, id) == "paused"; }, 10000)) << a.get("/orchestrations/" + id).body;
    Reply o = a.get("/orchestrations/" + id);
    EXPECT_EQ(o.json["description"], "paused: stage \"canary\": 1 failed operations exceed its budget of 0");
    ASSERT_TRUE(o.json.contains("stages")) << o.body;
    ASSERT_EQ(o.json["stages"].size(), 2u);
    const Json& canary = o.json["stages"][0];
    EXPECT_EQ(canary["name"], "canary");
    EXPECT_EQ(canary["state"], "in progress");
    EXPECT_EQ(canary["failures"], 1);
    EXPECT_EQ(canary["maxFailures"], 0);
    EXPECT_TRUE(canary["startedAt"].is_string());
    EXPECT_TRUE(canary["finishedAt"].is_null());
    EXPECT_EQ(canary["operationStats"]["failed"], 1);
    EXPECT_EQ(canary["operationStats"]["pending"], 1) << "workers 1: the second canary operation waits";
    const Json& rest = o.json["stages"][1];
    EXPECT_EQ(rest["name"], "rest");
    EXPECT_EQ(rest["state"], "pending");
    EXPECT_TRUE(rest["maxFailures"].is_null());
    EXPECT_TRUE(rest["startedAt"].is_null());
    EXPECT_EQ(rest["operationStats"]["pending"], static_cast<int>(fleet.size()) - 2);
    // The normalised parameters echo the stages (workers and soak filled in).
    const Json& stages = o.json["parameters"]["strategy"]["stages"];
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages[0]["workers"], 1);
    EXPECT_EQ(stages[0]["soak"], "0s");
    EXPECT_EQ(stages[0]["maxFailures"], 0);
    EXPECT_EQ(stages[1]["workers"], 3);
    EXPECT_FALSE(stages[1].contains("targets"));
    // Every operation carries its stage, in the list (SQLite fast path) and the detail.
    Reply ops = a.get("/orchestrations/" + id + "/operations");
    ASSERT_EQ(ops.status, 200);
    std::map<std::string, int> perStage;
    for (const auto& op : ops.json["data"]) perStage[op.value("stage", "")]++;
    EXPECT_EQ(perStage["canary"], 2);
    EXPECT_EQ(perStage["rest"], static_cast<int>(fleet.size()) - 2);
    EXPECT_EQ(perStage.count(""), 0u);
    Reply failed = a.get("/orchestrations/" + id + "/operations?state=failed");
    ASSERT_EQ(failed.json["totalCount"], 1);
    EXPECT_EQ(failed.json["data"][0]["stage"], "canary");
    Reply detail = a.get("/orchestrations/" + id + "/operations/" + failed.json["data"][0]["operationID"].get<std::string>());
    EXPECT_EQ(detail.json["stage"], "canary");
    // Paused: nothing new starts; pause again is 409; the list filter finds it.
    EXPECT_TRUE(quietFor(a, id, 600));
    Reply again = a.put("/orchestrations/" + id + "/pause");
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_NE(again.json.value("error", "").find("paused"), std::string::npos) << again.body;
    Reply list = a.get("/orchestrations?state=paused");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(list.json["totalCount"], 1);
    EXPECT_EQ(list.json["data"][0]["orchestrationID"], id);
    EXPECT_NE(a.get("/metrics").body.find("keb_orchestrations{state=\"paused\"} 1"), std::string::npos);

    // Resume: the failure is acknowledged; the second canary operation fails too and pauses it again.
    Reply resumed = a.put("/orchestrations/" + id + "/resume");
    ASSERT_EQ(resumed.status, 200) << resumed.body;
    EXPECT_EQ(resumed.json["orchestrationID"], id);
    ASSERT_TRUE(eventually(
        [&] { return a.get("/orchestrations/" + id).json["stages"][0]["operationStats"].value("failed", 0) == 2; }, 10000));
    ASSERT_TRUE(eventually([&] { return state(a, id) == "paused"; }, 10000));
    o = a.get("/orchestrations/" + id);
    EXPECT_EQ(o.json["stages"][0]["failures"], 1) << "the acknowledged failure no longer counts";
    // Resume once more: the canary is done, the rest (no budget) runs to the end.
    ASSERT_EQ(a.put("/orchestrations/" + id + "/resume").status, 200);
    ASSERT_TRUE(eventually([&] { return state(a, id) == "failed"; }, 15000)) << a.get("/orchestrations/" + id).body;
    o = a.get("/orchestrations/" + id);
    EXPECT_EQ(o.json["stages"][1]["operationStats"]["failed"], static_cast<int>(fleet.size()) - 2) << o.body;
    EXPECT_TRUE(o.json["stages"][1]["finishedAt"].is_string()) << o.body;
    const std::set<std::string> finalStageStates = {"succeeded", "failed"};
    EXPECT_TRUE(finalStageStates.count(o.json["stages"][0]["state"])) << o.body;
    EXPECT_TRUE(finalStageStates.count(o.json["stages"][1]["state"])) << o.body;
    // Finished: pause and resume are 409.
    EXPECT_EQ(a.put("/orchestrations/" + id + "/pause").status, 409);
    EXPECT_EQ(a.put("/orchestrations/" + id + "/resume").status, 409);
}

// Pause/resume: 404 for an unknown id, 409 in the wrong state, 401 without a token, 403 with a
// read-only token, 400 for a query parameter; cancel works on a paused orchestration.
TEST(StagesE2E, PauseResumeErrorsAuthAndCancelWhilePaused) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(startServer(s, dir, {"--demo-fleet", "8", "--demo-upgrade-duration", "400ms"})) << s.stderrText();
    Api a = api(s, rwToken());
    for (const char* verb : {"pause", "resume"}) {
        Reply r = a.put(std::string("/orchestrations/no-such-id/") + verb);
        EXPECT_EQ(r.status, 404) << verb << " " << r.body;
        EXPECT_EQ(a.put(std::string("/orchestrations/no-such-id/") + verb + "?force=true").status, 400) << verb;
    }
    auto r = a.post("/upgrade/kyma", stagedBody("", 1));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return state(a, id) == "in progress"; }, 5000));
    Reply notPaused = a.put("/orchestrations/" + id + "/resume");
    EXPECT_EQ(notPaused.status, 409) << notPaused.body;
    EXPECT_NE(notPaused.json.value("error", "").find("only a paused orchestration"), std::string::npos) << notPaused.body;

    Api anonymous = api(s, "");
    Reply unauth = anonymous.put("/orchestrations/" + id + "/pause");
    EXPECT_EQ(unauth.status, 401) << unauth.body;
    Api reader = api(s, token(kSecret, "broker-upgrade:read"));
    EXPECT_EQ(reader.put("/orchestrations/" + id + "/pause").status, 403);
    EXPECT_EQ(reader.put("/orchestrations/" + id + "/resume").status, 403);
    EXPECT_EQ(state(a, id), "in progress") << "a refused pause changed nothing";

    Reply paused = a.put("/orchestrations/" + id + "/pause");
    ASSERT_EQ(paused.status, 200) << paused.body;
    EXPECT_EQ(paused.json["orchestrationID"], id);
    Reply o = a.get("/orchestrations/" + id);
    EXPECT_EQ(o.json["state"], "paused");
    EXPECT_EQ(o.json["description"], "paused by operator");
    EXPECT_FALSE(o.json.contains("stages")) << "no stages in the request: no stages array";
    // The upgrade in flight runs to its end; nothing new starts.
    ASSERT_TRUE(eventually([&] { return quietFor(a, id, 900); }, 5000)) << a.get("/orchestrations/" + id).body;
    // Cancel a paused orchestration: the pending operations end canceled.
    ASSERT_EQ(a.put("/orchestrations/" + id + "/cancel").status, 200);
    ASSERT_TRUE(eventually([&] { return state(a, id) == "canceled"; }, 5000)) << a.get("/orchestrations/" + id).body;
    o = a.get("/orchestrations/" + id);
    EXPECT_GT(o.json["operationStats"]["canceled"].get<int>(), 0) << o.body;
    EXPECT_EQ(a.put("/orchestrations/" + id + "/resume").status, 409);
}

// A restart of keb-server (SQLite file) while an orchestration is paused keeps it paused and
// starts nothing; resume after the restart runs it to the end. A staged one keeps its stage
// progress across the same restart.
TEST(StagesE2E, RestartWhilePausedKeepsItPausedAndResumeWorksAfter) {
    TempDir dir;
    const std::vector<std::string> flags = {"--demo-fleet", "12", "--demo-upgrade-duration", "500ms"};
    std::string plain, staged;
    Json plainBefore, stagedBefore;
    const std::string tok = rwToken();
    {
        ServerProcess s;
        ASSERT_TRUE(startServer(s, dir, flags)) << s.stderrText();
        Api a = api(s, tok);
        const std::vector<std::string> fleet = fleetRuntimeIDs(a);
        ASSERT_GE(fleet.size(), 4u);
        auto r = a.post("/upgrade/kyma", stagedBody("", 1));
        ASSERT_EQ(r.status, 202);
        plain = r.json["orchestrationID"];
        r = a.post("/upgrade/kyma",
                   stagedBody(R"("stages":[{"name":"first","targets":{"include":[{"runtimeID":")" + fleet[2] +
                              R"("}]},"soak":"1h"},{"name":"second"}],"maxFailures":"50%")"));
        ASSERT_EQ(r.status, 202) << r.body;
        staged = r.json["orchestrationID"];
        // The staged one finishes its first stage and soaks (an hour: it will not move on here).
        ASSERT_TRUE(eventually(
            [&] { return a.get("/orchestrations/" + staged).json["stages"][0].value("state", "") == "soaking"; }, 10000))
            << a.get("/orchestrations/" + staged).body;
        ASSERT_EQ(a.put("/orchestrations/" + plain + "/pause").status, 200);
        ASSERT_EQ(a.put("/orchestrations/" + staged + "/pause").status, 200);
        ASSERT_TRUE(eventually([&] { return quietFor(a, plain, 900); }, 6000));
        plainBefore = a.get("/orchestrations/" + plain).json;
        stagedBefore = a.get("/orchestrations/" + staged).json;
        EXPECT_NE(a.get("/metrics").body.find("keb_orchestrations{state=\"paused\"} 2"), std::string::npos);
        s.kill(SIGKILL);  // no goodbye: the store is all there is
    }
    ServerProcess s;
    ASSERT_TRUE(startServer(s, dir, flags)) << s.stderrText();
    Api a = api(s, tok);
    Reply p = a.get("/orchestrations/" + plain);
    EXPECT_EQ(p.json["state"], "paused");
    EXPECT_EQ(p.json["description"], "paused by operator");
    EXPECT_EQ(p.json["operationStats"], plainBefore["operationStats"]);
    Reply st = a.get("/orchestrations/" + staged);
    EXPECT_EQ(st.json["state"], "paused");
    EXPECT_EQ(st.json["stages"], stagedBefore["stages"]) << "stage cursor, soak and counts survive the restart";
    EXPECT_EQ(st.json["stages"][0]["state"], "soaking");
    EXPECT_TRUE(st.json["stages"][0]["soakUntil"].is_string());
    EXPECT_TRUE(quietFor(a, plain, 1200)) << "nothing starts after the restart while paused";
    EXPECT_EQ(a.get("/orchestrations/" + plain).json["operationStats"], plainBefore["operationStats"]);
    Reply list = a.get("/orchestrations?state=paused");
    EXPECT_EQ(list.json["totalCount"], 2);
    EXPECT_EQ(a.put("/orchestrations/" + plain + "/pause").status, 409) << "still paused after the restart";

    ASSERT_EQ(a.put("/orchestrations/" + plain + "/resume").status, 200);
    EXPECT_EQ(state(a, plain), "in progress");
    ASSERT_TRUE(eventually([&] { return state(a, plain) == "succeeded"; }, 20000)) << a.get("/orchestrations/" + plain).body;
    // The staged one resumes into its soak (an hour): still soaking, its second stage waits.
    ASSERT_EQ(a.put("/orchestrations/" + staged + "/resume").status, 200);
    st = a.get("/orchestrations/" + staged);
    EXPECT_EQ(st.json["state"], "in progress");
    EXPECT_EQ(st.json["stages"][0]["state"], "soaking");
    EXPECT_EQ(st.json["stages"][1]["state"], "pending");
}

// keb-server --blackouts FILE: no operation starts inside a server-wide blackout; it starts when
// the blackout ends. A bad file stops the server at start with exit code 2, naming the file and
// the entry/field.
TEST(StagesE2E, BlackoutsFileHoldsStartsAndBadFilesStopTheServer) {
    TempDir dir;
    using namespace std::chrono;
    const auto nowMs = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    auto rfc3339 = [](long long ms) {
        const std::time_t t = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[40];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        return std::string(buf) + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
    };
    // room for a slow start on a loaded machine (and in sanitizer builds)
    const long long end = nowMs + 9000LL * keb::test::kTimeScale;
    {
        std::ofstream(dir / "blackouts.json") << R"([{"from":")" << rfc3339(nowMs - 3'600'000) << R"(","to":")"
                                              << rfc3339(end) << R"(","reason":"release freeze"},)"
                                              << R"({"from":"2030-12-24T00:00:00Z","to":"2030-12-27T00:00:00Z"}])";
    }
    {
        ServerProcess s;
        ASSERT_TRUE(startServer(s, dir, {"--demo-fleet", "5", "--demo-upgrade-duration", "100ms", "--blackouts",
                                         dir / "blackouts.json"}))
            << s.stderrText();
        Api a = api(s, rwToken());
        auto r = a.post("/upgrade/kyma", stagedBody("", 5));
        ASSERT_EQ(r.status, 202) << r.body;
        const std::string id = r.json["orchestrationID"];
        ASSERT_TRUE(eventually([&] { return state(a, id) == "in progress"; }, 3000));
        std::this_thread::sleep_for(milliseconds(1500));
        Reply o = a.get("/orchestrations/" + id);
        ASSERT_LT(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(), end)
            << "the machine was too slow to look inside the blackout";
        const int total = a.get("/orchestrations/" + id + "/operations").json["totalCount"];
        ASSERT_GT(total, 0);
        EXPECT_EQ(o.json["operationStats"]["pending"], total) << "started inside the blackout: " << o.body;
        ASSERT_TRUE(eventually([&] { return state(a, id) == "succeeded"; }, static_cast<int>(end - nowMs) + 11000))
            << a.get("/orchestrations/" + id).body;
        const auto doneMs = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        EXPECT_GE(doneMs, end) << "finished before the blackout ended";
    }
    // Bad files: exit 2, the file and the entry/field named.
    struct Case {
        std::string name, text, says;
    } cases[] = {
        {"not-json.json", "[{\"from\":", "not JSON"},
        {"object.json", R"({"from":"2030-01-01T00:00:00Z","to":"2030-01-02T00:00:00Z"})", "blackouts must be an array"},
        {"missing-to.json", R"([{"from":"2030-01-01T00:00:00Z","reason":"x"}])", "blackouts[0].to is required"},
        {"backwards.json",
         R"([{"from":"2030-01-01T00:00:00Z","to":"2030-01-02T00:00:00Z"},{"from":"2030-01-03T00:00:00Z","to":"2030-01-02T00:00:00Z"}])",
         "blackouts[1].to: must be after from"},
        {"bad-time.json", R"([{"from":"tomorrow","to":"2030-01-02T00:00:00Z"}])", "blackouts[0].from: invalid time"},
        {"typo.json", R"([{"from":"2030-01-01T00:00:00Z","to":"2030-01-02T00:00:00Z","reasn":"x"}])", "reasn"},
    };
    for (const Case& c : cases) {
        std::ofstream(dir / c.name) << c.text;
        ServerProcess bad;
        EXPECT_FALSE(startServer(bad, dir, {"--blackouts", dir / c.name})) << c.name;
        EXPECT_TRUE(WIFEXITED(bad.exitStatus()) && WEXITSTATUS(bad.exitStatus()) == 2) << c.name;
        EXPECT_NE(bad.stderrText().find(dir / c.name), std::string::npos) << c.name << ": " << bad.stderrText();
        EXPECT_NE(bad.stderrText().find(c.says), std::string::npos) << c.name << ": " << bad.stderrText();
    }
    ServerProcess missing;
    EXPECT_FALSE(startServer(missing, dir, {"--blackouts", dir / "no-such-file.json"}));
    EXPECT_TRUE(WIFEXITED(missing.exitStatus()) && WEXITSTATUS(missing.exitStatus()) == 2);
    EXPECT_NE(missing.stderrText().find("no-such-file.json"), std::string::npos) << missing.stderrText();
    int st = 0;
    const std::string help = run(std::string(KEB_SERVER_BIN) + " --help", &st);
    EXPECT_EQ(st, 0);
    EXPECT_NE(help.find("--blackouts FILE"), std::string::npos);
}

// Every invalid SPEC 10 field is a 400 naming it over HTTP, and nothing is created.
TEST(StagesE2E, BadStageFieldsAre400NamingTheField) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(startServer(s, dir, {"--demo-fleet", "3"})) << s.stderrText();
    Api a = api(s, rwToken());
    const std::string twoStages = R"({"name":"a","targets":{"include":[{"region":"eu"}]}})";
    struct Case {
        std::string extra, says;
    } cases[] = {
        {R"("stages":[)" + twoStages + R"(,{"name":"b","maxFailures":"150%"}])", "strategy.stages[1].maxFailures: invalid percent"},
        {R"("stages":[)" + twoStages + R"(,{"name":"b","maxFailures":-1}])", "strategy.stages[1].maxFailures must be"},
        {R"("stages":[)" + twoStages + R"(,{"name":"a"}])", "strategy.stages[1].name: duplicate"},
        {R"("stages":[{"name":"Canary!"}])", "strategy.stages[0].name: invalid name"},
        {R"("stages":[{"name":"a","soak":"tomorrow"}])", "strategy.stages[0].soak: invalid duration"},
        {R"("stages":[{"name":"a"},{"name":"b"}])", "strategy.stages[0].targets: only the last stage"},
        {R"("stages":[{"name":"a","workers":0}])", "strategy.stages[0].workers must be an integer >= 1"},
        {R"("stages":[{"name":"a","soakk":"1h"}])", "soakk"},
        {R"("maxFailures":"5")", "strategy.maxFailures"},
        {R"("blackouts":[{"from":"2030-01-02T00:00:00Z","to":"2030-01-01T00:00:00Z"}])", "strategy.blackouts[0].to: must be after from"},
    };
    for (const Case& c : cases) {
        Reply r = a.post("/upgrade/kyma", stagedBody(c.extra));
        EXPECT_EQ(r.status, 400) << c.extra << " -> " << r.body;
        EXPECT_NE(r.json.value("error", "").find(c.says), std::string::npos) << c.extra << " -> " << r.body;
    }
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 0) << "a refused request created something";
    // A valid staged request with every field is accepted, and its parameters come back normalised.
    Reply ok = a.post("/upgrade/kyma",
                      stagedBody(R"("stages":[)" + twoStages +
                                 R"(,{"name":"b","workers":2,"soak":"90m","maxFailures":"5%"}],"maxFailures":3,)"
                                 R"("blackouts":[{"from":"2030-01-01T00:00:00Z","to":"2030-01-02T00:00:00Z","reason":"x"}])"));
    ASSERT_EQ(ok.status, 202) << ok.body;
    Reply o = a.get("/orchestrations/" + ok.json["orchestrationID"].get<std::string>());
    ASSERT_EQ(o.status, 200);
    const Json& st = o.json["parameters"]["strategy"];
    EXPECT_EQ(st["stages"][1]["soak"], "1h30m");
    EXPECT_EQ(st["stages"][1]["maxFailures"], "5%");
    EXPECT_EQ(st["maxFailures"], 3);
    EXPECT_EQ(st["blackouts"][0]["reason"], "x");
}
