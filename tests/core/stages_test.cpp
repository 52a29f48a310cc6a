// SPEC 10: stages with soak, failure budgets that pause, pause/resume, blackouts. Engine-level
// behaviour through the router (as every shell drives it), on the memory store, with restarts.
#include <gtest/gtest.h>

#include "harness.h"
#include "keb/rollout.h"
#include "keb/validate.h"

using namespace keb;
using namespace keb::testing;

namespace {

// A request over every runtime with `strategyExtra` spliced into the strategy object.
std::string request(const std::string& strategyExtra, int workers = 2, bool window = false) {
    return R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate",)"
           R"("maintenanceWindow":)" +
           std::string(window ? "true" : "false") + R"(,"parallel":{"workers":)" + std::to_string(workers) + "}" +
           (strategyExtra.empty() ? "" : "," + strategyExtra) + R"(},"kyma":{"version":"2.21.0"}})";
}

// Canary = rt-0 and rt-1 (runtimeIDs), then the rest.
const std::string kCanaryThenRest =
    R"("stages":[{"name":"canary","targets":{"include":[{"runtimeID":"rt-0"},{"runtimeID":"rt-1"}]},)"
    R"("maxFailures":0},{"name":"rest"}])";

struct Events : EngineListener {
    std::vector<std::string> log;  // "kind stage state detail"
    void onEvent(const EngineEvent& e) override {
        if (e.kind.rfind("stage.", 0) == 0 || e.kind == "orchestration.state")
            log.push_back(std::string(e.kind) + " " + std::string(e.stage) + " " + std::string(e.state) + " " +
                          std::string(e.detail));
    }
};

Json getOrch(Harness& h, const std::string& id) {
    auto r = h.call("GET", "/orchestrations/" + id);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
}

}  // namespace

TEST(Stages, CanaryBudgetZeroPausesOnFirstFailureThenResumeFinishes) {
    Harness h;
    h.addRuntimes(6);
    h.backend.failing = {"rt-1"};
    const std::string id = h.submit(request(kCanaryThenRest));
    h.runUntil(h.now);  // resolution
    // Operations are created stage by stage and carry their stage's name.
    const auto ops = h.ops(id);
    ASSERT_EQ(ops.size(), 6u);
    EXPECT_EQ(ops[0].stage, "canary");
    EXPECT_EQ(ops[1].stage, "canary");
    for (std::size_t i = 2; i < 6; ++i) EXPECT_EQ(ops[i].stage, "rest");
    EXPECT_EQ(h.orch(id).description, "Scheduled 6 operations in 2 stages");

    h.runToEnd();
    // rt-1 failed: over a budget of 0, so the orchestration paused and nothing of "rest" started.
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused);
    EXPECT_EQ(h.orch(id).description, "paused: stage \"canary\": 1 failed operations exceed its budget of 0");
    for (int i = 2; i < 6; ++i) EXPECT_EQ(h.backend.upgrades["rt-" + std::to_string(i)], 0) << i;
    Json o = getOrch(h, id);
    ASSERT_EQ(o["stages"].size(), 2u) << o.dump();
    EXPECT_EQ(o["stages"][0]["name"], "canary");
    EXPECT_EQ(o["stages"][0]["state"], "failed");
    EXPECT_EQ(o["stages"][0]["failures"], 1);
    EXPECT_EQ(o["stages"][0]["maxFailures"], 0);
    EXPECT_EQ(o["stages"][0]["operationStats"]["failed"], 1);
    EXPECT_EQ(o["stages"][0]["operationStats"]["succeeded"], 1);
    EXPECT_EQ(o["stages"][1]["state"], "pending");
    EXPECT_TRUE(o["stages"][1]["startedAt"].is_null());
    EXPECT_TRUE(o["stages"][1]["maxFailures"].is_null());
    EXPECT_EQ(o["stages"][1]["operationStats"]["pending"], 4);
    // Operations list items carry the stage name.
    auto list = h.call("GET", "/orchestrations/" + id + "/operations");
    EXPECT_EQ(list.body["data"][0]["stage"], "canary");
    EXPECT_EQ(list.body["data"][5]["stage"], "rest");

    // Nothing happens while paused, however long.
    h.runFor(3 * kDay);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused);
    EXPECT_EQ(h.backend.upgrades["rt-2"], 0);

    auto r = h.call("PUT", "/orchestrations/" + id + "/resume");
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["orchestrationID"], id);
    EXPECT_EQ(h.orch(id).description, "resumed by operator: 1 failed operations acknowledged");
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);  // rt-1's failure stays the result
    for (int i = 2; i < 6; ++i) EXPECT_EQ(h.backend.upgrades["rt-" + std::to_string(i)], 1) << i;
    o = getOrch(h, id);
    EXPECT_EQ(o["stages"][1]["state"], "succeeded");
    EXPECT_EQ(o["stages"][1]["operationStats"]["succeeded"], 4);
}

TEST(Stages, NextStageWaitsForEveryOperationAndTheSoakAcrossARestart) {
    Harness h;
    h.addRuntimes(5);
    h.backend.duration = 10 * kMinute;
    Events ev;
    h.engine->setListener(&ev);
    const std::string id = h.submit(request(
        R"("stages":[{"name":"one","targets":{"include":[{"runtimeID":"rt-0"}]},"soak":"2h"},)"
        R"({"name":"two","targets":{"include":[{"runtimeID":"rt-1"},{"runtimeID":"rt-2"}]},"workers":1,"soak":"30m"},)"
        R"({"name":"three"}])",
        5));
    const Millis t0 = h.now;
    h.runFor(kHour);  // stage one done at t0+10m, soaking until t0+2h10m
    Json o = getOrch(h, id);
    EXPECT_EQ(o["stages"][0]["state"], "soaking") << o.dump();
    EXPECT_EQ(o["stages"][0]["soakUntil"], formatRfc3339(t0 + 2 * kHour + 10 * kMinute));
    EXPECT_EQ(h.backend.upgrades["rt-1"], 0);

    h.restart();  // the soak survives: it is stored
    h.engine->setListener(&ev);
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    const auto ops = h.ops(id);
    auto begun = [&](const std::string& rt) {
        for (const auto& op : ops)
            if (op.runtimeID == rt) return h.backend.begunAt[op.operationID];
        return Millis{0};
    };
    EXPECT_EQ(begun("rt-0"), t0);
    EXPECT_EQ(begun("rt-1"), t0 + 2 * kHour + 10 * kMinute);  // stage two: after one's end + soak
    // workers 1 in stage two: rt-2 after rt-1.
    EXPECT_EQ(begun("rt-2"), t0 + 2 * kHour + 20 * kMinute);
    // stage three: after two's last end (t0+2h30m) + 30m; strategy workers (5) again.
    EXPECT_EQ(begun("rt-3"), t0 + 3 * kHour);
    EXPECT_EQ(begun("rt-4"), t0 + 3 * kHour);
    o = getOrch(h, id);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(o["stages"][k]["state"], "succeeded") << k;
    EXPECT_EQ(o["stages"][2]["startedAt"], formatRfc3339(t0 + 3 * kHour));
    EXPECT_EQ(o["stages"][2]["finishedAt"], formatRfc3339(t0 + 3 * kHour + 10 * kMinute));
    const std::string trace = [&] {
        std::string s;
        for (const auto& l : ev.log)
            if (l.rfind("stage.", 0) == 0) s += l.substr(0, l.find(' ', l.find(' ') + 1)) + ";";
        return s;
    }();
    EXPECT_EQ(trace, "stage.started one;stage.soaking one;stage.finished one;stage.started two;stage.soaking two;stage.finished two;"
                     "stage.started three;stage.finished three;");
}

TEST(Stages, PercentBudgetOfTheOrchestrationAndRetryCountsAgainstIt) {
    Harness h;
    h.addRuntimes(20);
    h.backend.failing = {"rt-3", "rt-7", "rt-11"};  // 3 > 10% of 20 (2)
    Events ev;
    h.engine->setListener(&ev);
    const std::string id = h.submit(request(R"("maxFailures":"10%")", 1));
    h.runToEnd();

    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused);
    EXPECT_EQ(h.orch(id).description, "paused: 3 failed operations exceed the orchestration's budget of 2");
    EXPECT_EQ(h.backend.upgrades["rt-12"], 0);  // workers 1: nothing after rt-11 started
    EXPECT_EQ(h.backend.upgrades["rt-11"], 1);
    // No `stages` on an orchestration without stages.
    EXPECT_FALSE(getOrch(h, id).contains("stages"));

    // Retry while paused: queued, starts only after resume; retries count against the budget.
    auto r = h.call("POST", "/orchestrations/" + id + "/retry", "immediate=true");
    ASSERT_EQ(r.status, 202) << r.body.dump();
    EXPECT_EQ(r.body["retryShoots"].size(), 3u);
    h.runFor(kHour);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused);
    // After the resume the 8 pending operations run first (rt-19 fails: 1), then the retries
    // (rt-3 fails: 2, rt-7 fails: 3 > 2): paused again with rt-11's retry still pending.
    h.backend.failing.insert("rt-19");
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/resume").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused) << h.orch(id).description;
    EXPECT_EQ(h.orch(id).description, "paused: 3 failed operations exceed the orchestration's budget of 2");
    EXPECT_EQ(h.count(id, OperationState::Pending), 1);
    h.backend.failing.clear();
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/resume").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);
    EXPECT_EQ(h.orch(id).description, "3 of 20 runtimes failed");  // rt-3, rt-7 (retries) and rt-19
}

TEST(Stages, OperatorPauseResumeAndWrongStates) {
    Harness h;
    h.addRuntimes(6);
    const std::string id = h.submit(request("", 2));
    EXPECT_EQ(h.call("PUT", "/orchestrations/nope/pause").status, 404);
    EXPECT_EQ(h.call("PUT", "/orchestrations/nope/resume").status, 404);
    // Pending (not resolved yet): 409.
    auto r = h.call("PUT", "/orchestrations/" + id + "/pause");
    EXPECT_EQ(r.status, 409) << r.body.dump();
    EXPECT_NE(r.body["error"].get<std::string>().find("pending"), std::string::npos);
    h.runFor(kMinute);  // resolved, 2 in progress
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/resume").status, 409);  // not paused
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/pause").status, 200);
    EXPECT_EQ(h.orch(id).description, "paused by operator");
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/pause").status, 409);  // already paused
    // A paused orchestration is listed by the `paused` filter.
    auto list = h.call("GET", "/orchestrations?state=paused");
    ASSERT_EQ(list.status, 200) << list.body.dump();
    EXPECT_EQ(list.body["totalCount"], 1);
    h.runFor(kDay);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 2);  // the two in progress ran to their end
    EXPECT_EQ(h.count(id, OperationState::Pending), 4);
    h.restart();  // paused survives a restart
    h.runFor(kDay);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused);
    EXPECT_EQ(h.count(id, OperationState::Pending), 4);
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/resume").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/pause").status, 409);  // finished
    // Write scope needed.
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/pause", "", Principal{true, "reader", {kScopeRead}}).status, 403);
}

TEST(Stages, CancelWhilePaused) {
    Harness h;
    h.addRuntimes(4);
    const std::string id = h.submit(request("", 1));
    h.runFor(kMinute);
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/pause").status, 200);
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/cancel").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceled);
    EXPECT_EQ(h.count(id, OperationState::Canceled), 3);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 1);
}

TEST(Stages, NothingStartsInsideABlackoutServerWideOrRequest) {
    Harness h;
    h.config.blackouts = {Blackout{T("2026-11-23T10:30:00Z"), T("2026-11-23T12:00:00Z"), "release freeze"}};
    h.restart();
    h.addRuntimes(6);
    h.backend.duration = 20 * kMinute;
    // The request adds its own blackout right after the server's.
    const std::string id = h.submit(request(
        R"("blackouts":[{"from":"2026-11-23T12:00:00Z","to":"2026-11-23T13:00:00Z","reason":"demo"}])", 2));
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    std::vector<Millis> starts;
    for (const auto& [op, at] : h.backend.begunAt) starts.push_back(at);
    std::sort(starts.begin(), starts.end());
    ASSERT_EQ(starts.size(), 6u);
    // 10:00 two, 10:20 two (before the blackout), then nothing until 13:00.
    EXPECT_EQ(starts[0], T("2026-11-23T10:00:00Z"));
    EXPECT_EQ(starts[2], T("2026-11-23T10:20:00Z"));
    EXPECT_EQ(starts[4], T("2026-11-23T13:00:00Z"));
    EXPECT_EQ(starts[5], T("2026-11-23T13:00:00Z"));
}

TEST(Stages, BlackoutMovesWindowStartsPastIt) {
    Harness h;
    // Daily window 11:00-12:00 UTC; a blackout over Monday's whole window.
    h.addRuntimes(2, "110000+0000", "120000+0000");
    const std::string id = h.submit(request(
        R"("blackouts":[{"from":"2026-11-23T10:30:00Z","to":"2026-11-23T12:30:00Z"}])", 2, true));
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& op : h.ops(id)) {
        EXPECT_EQ(h.backend.begunAt[op.operationID], T("2026-11-24T11:00:00Z")) << op.runtimeID;
        EXPECT_EQ(op.maintenanceWindowBegin, T("2026-11-24T11:00:00Z"));
    }
}

TEST(Stages, StagedWindowsArePlacedFromTheStageStart) {
    Harness h;
    h.addRuntimes(3, "220000+0000", "230000+0000");
    h.backend.duration = 10 * kMinute;
    const std::string id = h.submit(request(
        R"("stages":[{"name":"first","targets":{"include":[{"runtimeID":"rt-0"}]},"soak":"1d"},{"name":"rest"}])", 5,
        true));
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& op : h.ops(id)) {
        const Millis want = op.runtimeID == "rt-0" ? T("2026-11-23T22:00:00Z") : T("2026-11-24T22:10:00Z");
        EXPECT_EQ(h.backend.begunAt[op.operationID], want) << op.runtimeID;
    }
}

TEST(Stages, RestartRebuildsCountersAndStageCursor) {
    Harness h;
    h.addRuntimes(8);
    h.backend.failing = {"rt-4", "rt-5"};
    const std::string id = h.submit(request(
        R"("stages":[{"name":"a","targets":{"include":[{"runtimeID":"rt-0"},{"runtimeID":"rt-1"}]}},)"
        R"({"name":"b","maxFailures":"25%"}])",
        1));
    // Stop in the middle of stage b, before its second failure: 6 ops in b, 25% = 1.
    for (int i = 0; i < 20 && h.backend.upgrades["rt-5"] == 0; ++i) h.runFor(5 * kMinute);
    h.restart();
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Paused);
    EXPECT_EQ(h.orch(id).description, "paused: stage \"b\": 2 failed operations exceed its budget of 1");
    EXPECT_EQ(h.backend.upgrades["rt-6"], 0);
    for (const auto& [rt, n] : h.backend.upgrades) EXPECT_LE(n, 1) << rt;
}

TEST(Stages, EmptyStagesAndUnstagedRuntimes) {
    Harness h;
    h.addRuntimes(4);
    const std::string id = h.submit(request(
        R"("stages":[{"name":"none","targets":{"include":[{"runtimeID":"missing"}]},"soak":"1h"},)"
        R"({"name":"some","targets":{"include":[{"runtimeID":"rt-1"},{"runtimeID":"rt-2"}]}}])"));
    h.runUntil(h.now);  // resolution
    EXPECT_EQ(h.orch(id).description,
              "Scheduled 2 operations in 2 stages; 2 runtimes matched the targets but no stage and were not scheduled");
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.backend.begunAt.size(), 2u);
    for (const auto& [op, at] : h.backend.begunAt) EXPECT_EQ(at, T("2026-11-23T10:00:00Z"));  // empty stage: no soak
}

TEST(Stages, ValidationNamesTheField) {
    struct Case {
        std::string extra, want;
    };
    const Case cases[] = {
        {R"("stages":[{"name":"a"},{"name":"a"}])", "strategy.stages[0].targets: only the last stage may omit targets"},
        {R"("stages":[{"name":"a","targets":{"include":[{"target":"all"}]}},{"name":"a"}])",
         "strategy.stages[1].name: duplicate \"a\""},
        {R"("stages":[{"name":"Canary"}])", "strategy.stages[0].name: invalid name \"Canary\""},
        {R"("stages":[{"targets":{"include":[{"target":"all"}]}}])", "strategy.stages[0].name is required"},
        {R"("stages":[{"name":"a","maxFailures":"5"}])", "strategy.stages[0].maxFailures: invalid percent \"5\""},
        {R"("stages":[{"name":"a","maxFailures":"101%"}])", "strategy.stages[0].maxFailures: invalid percent \"101%\""},
        {R"("stages":[{"name":"a","maxFailures":-1}])", "strategy.stages[0].maxFailures must be an integer >= 0"},
        {R"("stages":[{"name":"a","soak":"1 day"}])", "strategy.stages[0].soak: invalid duration \"1 day\""},
        {R"("stages":[{"name":"a","workers":0}])", "strategy.stages[0].workers must be an integer >= 1"},
        {R"("stages":[{"name":"a","wrokers":2}])", "strategy.stages[0].wrokers: unknown field (did you mean \"workers\"?)"},
        {R"("stages":[{"name":"a","targets":{"include":[]}}])", "strategy.stages[0].targets.include must be a non-empty array"},
        {R"("stages":[{"name":"a","targets":{"include":[{"region":"("}]}}])",
         "strategy.stages[0].targets.include[0].region: invalid regex"},
        {R"("maxFailures":"x%")", "strategy.maxFailures: invalid percent \"x%\""},
        {R"("blackouts":[{"from":"2026-11-23T10:00:00Z","to":"2026-11-23T10:00:00Z"}])",
         "strategy.blackouts[0].to: must be after from"},
        {R"("blackouts":[{"from":"2026-11-23T10:00:00Z"}])", "strategy.blackouts[0].to is required"},
        {R"("blackouts":[{"from":"monday","to":"2026-11-23T10:00:00Z"}])", "strategy.blackouts[0].from: invalid time"},
        {R"("blackouts":{})", "strategy.blackouts must be an array"},
    };
    for (const Case& c : cases) {
        std::string err;
        auto p = parseUpgradeRequest(OrchestrationType::UpgradeKyma, request(c.extra), &err);
        EXPECT_FALSE(p) << c.extra;
        EXPECT_EQ(err.rfind(c.want, 0), 0u) << c.extra << "\n got: " << err;
    }
}

TEST(Stages, NormalisedParametersRoundTripThroughTheStoreForm) {
    std::string err;
    auto p = parseUpgradeRequest(
        OrchestrationType::UpgradeKyma,
        request(R"("stages":[{"name":"canary","targets":{"include":[{"region":"west"}],"exclude":[{"runtimeID":"x"}]},)"
                R"("soak":"2d","maxFailures":"5%"},{"name":"rest","workers":7,"maxFailures":3}],)"
                R"("maxFailures":10,"blackouts":[{"from":"2026-12-24T00:00:00Z","to":"2026-12-27T00:00:00Z","reason":"xmas"}])",
                4),
        &err);
    ASSERT_TRUE(p) << err;
    ASSERT_EQ(p->strategy.stages.size(), 2u);
    EXPECT_EQ(p->strategy.stages[0].soak, 2 * kDay);
    EXPECT_EQ(p->strategy.stages[0].maxFailures, (FailureBudget{true, 5}));
    const Json j = toJson(*p);
    EXPECT_EQ(j["strategy"]["stages"][0]["workers"], 4);  // the default, normalised
    EXPECT_EQ(j["strategy"]["stages"][0]["soak"], "48h");
    EXPECT_EQ(j["strategy"]["stages"][0]["maxFailures"], "5%");
    EXPECT_EQ(j["strategy"]["stages"][1]["maxFailures"], 3);
    EXPECT_FALSE(j["strategy"]["stages"][1].contains("targets"));
    EXPECT_EQ(j["strategy"]["blackouts"][0]["reason"], "xmas");
    Parameters back = parametersFromJson(j);
    back.strategy.stages[0].workers.reset();  // normalised: the default became explicit
    EXPECT_EQ(back, *p);
    // And the normalised form is a valid request.
    Json body = j;
    EXPECT_TRUE(parseUpgradeRequest(OrchestrationType::UpgradeKyma, body, &err)) << err;
    // A request without SPEC 10 fields has none in its parameters.
    auto plain = parseUpgradeRequest(OrchestrationType::UpgradeKyma, request(""), &err);
    ASSERT_TRUE(plain);
    const Json pj = toJson(*plain);
    EXPECT_FALSE(pj["strategy"].contains("stages"));
    EXPECT_FALSE(pj["strategy"].contains("maxFailures"));
    EXPECT_FALSE(pj["strategy"].contains("blackouts"));
}

TEST(Rollout, BlackoutCalendarMergesAndClears) {
    BlackoutCalendar c({Blackout{10, 20, ""}, Blackout{30, 40, ""}}, {Blackout{18, 25, ""}});
    ASSERT_EQ(c.spans().size(), 2u);
    EXPECT_EQ(c.clearAt(5), 5);
    EXPECT_EQ(c.clearAt(10), 25);
    EXPECT_EQ(c.clearAt(24), 25);
    EXPECT_EQ(c.clearAt(25), 25);
    EXPECT_EQ(c.clearAt(30), 40);
    EXPECT_EQ(c.clearAt(40), 40);
    EXPECT_FALSE(c.contains(45));
    EXPECT_TRUE(BlackoutCalendar().empty());
}

TEST(Rollout, StageOfSeqWithEmptyStages) {
    RolloutProgress r;
    r.stages = {StageProgress{StageState::Pending, 0, 0}, StageProgress{StageState::Pending, 0, 3},
                StageProgress{StageState::Pending, 3, 0}, StageProgress{StageState::Pending, 3, 2}};
    EXPECT_EQ(stageOfSeq(r, 0), 1);
    EXPECT_EQ(stageOfSeq(r, 2), 1);
    EXPECT_EQ(stageOfSeq(r, 3), 3);
    EXPECT_EQ(stageOfSeq(r, 4), 3);
    EXPECT_EQ(stageOfSeq(r, 5), -1);  // a retry
    EXPECT_EQ(stageOfSeq(RolloutProgress{}, 0), -1);
}

TEST(Rollout, BudgetsRoundPercentDown) {
    EXPECT_EQ((FailureBudget{true, 5}).allowed(39), 1);
    EXPECT_EQ((FailureBudget{true, 5}).allowed(19), 0);
    EXPECT_EQ((FailureBudget{true, 100}).allowed(7), 7);
    EXPECT_EQ((FailureBudget{false, 3}).allowed(0), 3);
}
