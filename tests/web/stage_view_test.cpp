// Progressive rollouts in the browser (SPEC 10): the form's stages, budgets and blackouts go
// through the core's API router like an HTTP client's request (400s name the field), the stage
// table reads the GET answer, and the timeline's stage/pause marks come from the simulation's
// event log (trace sink), checked against a real simulated rollout that pauses on its budget.
#include <gtest/gtest.h>

#include "keb/sim/scenario.h"
#include "keb/sim/simulation.h"
#include "keb/timefmt.h"
#include "request_form.h"
#include "stage_view.h"

namespace keb::web {
namespace {

// Six runtimes; rt-1 is in a region whose upgrades always fail; every upgrade takes 10 minutes.
const char* kScenario = R"({"name":"stages","maxDuration":"3d","fleet":{"size":0,"runtimes":[
  {"runtimeID":"rt-1","shootName":"c-1","region":"bad-region"},
  {"runtimeID":"rt-2","shootName":"c-2"},{"runtimeID":"rt-3","shootName":"c-3"},
  {"runtimeID":"rt-4","shootName":"c-4"},{"runtimeID":"rt-5","shootName":"c-5"},
  {"runtimeID":"rt-6","shootName":"c-6"}]},
  "faults":{"duration":{"distribution":"fixed","value":"10m"},"failureByRegion":{"bad-region":1.0}}})";

sim::Simulation makeSim() { return sim::Simulation(sim::parseScenario(kScenario, "stages.json")); }

// canary: rt-1 and rt-2 (a comma-separated runtimeID list), no failure tolerated, 1h soak;
// rest: every other runtime, half of them may fail. Orchestration budget 10, one blackout.
RequestForm stagedForm() {
    RequestForm f;
    f.workers = 2;
    StageRow canary = newStageRow(f);
    EXPECT_EQ(canary.name, "stage-1");
    canary.name = "canary";
    canary.include = {RuleRow{5, "rt-1, rt-2,"}};
    canary.soak = "1h";
    canary.maxFailures = "0";
    f.stages.push_back(canary);
    StageRow rest = newStageRow(f);
    EXPECT_EQ(rest.name, "stage-2");
    rest.name = "rest";
    rest.include = {RuleRow{3, ""}};  // empty value: no targets, takes the rest
    rest.maxFailures = " 50% ";
    rest.workers = "3";
    f.stages.push_back(rest);
    f.maxFailures = "10";
    f.blackouts.push_back(BlackoutRow{"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "freeze"});
    return f;
}

ApiResponse submit(sim::Simulation& s, const RequestForm& f) { return s.api("POST", requestPath(f), requestBody(f).dump()); }

TEST(StageForm, TypedNumbersGoAsNumbersEverythingElseAsStrings) {
    EXPECT_TRUE(typedNumberOrString("").is_null());
    EXPECT_TRUE(typedNumberOrString("   ").is_null());
    EXPECT_EQ(typedNumberOrString(" 12 "), Json(12));
    EXPECT_EQ(typedNumberOrString("-1"), Json(-1));
    EXPECT_EQ(typedNumberOrString("5%"), Json("5%"));
    EXPECT_EQ(typedNumberOrString("abc"), Json("abc"));
    EXPECT_EQ(typedNumberOrString("-"), Json("-"));
    EXPECT_EQ(typedNumberOrString("99999999999999999999"), Json("99999999999999999999"));  // too long: the router says so
}

TEST(StageForm, BodyWithoutStagesHasNoSpec10Fields) {
    const Json body = requestBody(RequestForm{});
    for (const char* k : {"stages", "maxFailures", "blackouts"}) EXPECT_FALSE(body["strategy"].contains(k)) << k;
}

TEST(StageForm, StagesBudgetAndBlackoutsAreAcceptedAndEchoed) {
    auto s = makeSim();
    const RequestForm f = stagedForm();
    const Json body = requestBody(f);
    const Json& stages = body["strategy"]["stages"];
    ASSERT_EQ(stages.size(), 2u);
    // The runtimeID list became one target per entry; the rest stage has no targets.
    EXPECT_EQ(stages[0]["targets"]["include"], Json::parse(R"([{"runtimeID":"rt-1"},{"runtimeID":"rt-2"}])"));
    EXPECT_FALSE(stages[1].contains("targets"));
    EXPECT_EQ(stages[0]["maxFailures"], 0);
    EXPECT_EQ(stages[1]["maxFailures"], "50%");
    EXPECT_EQ(stages[1]["workers"], 3);
    EXPECT_FALSE(stages[0].contains("workers"));
    EXPECT_EQ(body["strategy"]["maxFailures"], 10);

    ApiResponse r = submit(s, f);
    ASSERT_EQ(r.status, 202) << r.body.dump();
    const std::string id = r.body["orchestrationID"];
    ApiResponse o = s.api("GET", "/orchestrations/" + id);
    ASSERT_EQ(o.status, 200);
    const Json& st = o.body["parameters"]["strategy"];
    ASSERT_EQ(st["stages"].size(), 2u) << st.dump();
    EXPECT_EQ(st["stages"][0]["name"], "canary");
    EXPECT_EQ(st["stages"][1]["name"], "rest");
    ASSERT_EQ(st["blackouts"].size(), 1u);
    EXPECT_EQ(orchestrationBudgetText(o.body), "10");
    const auto spans = requestBlackoutSpans(o.body);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].from, *parseRfc3339("2026-03-01T00:00:00Z"));
    EXPECT_EQ(spans[0].to, *parseRfc3339("2026-03-02T00:00:00Z"));
    EXPECT_EQ(spans[0].reason, "freeze");
    EXPECT_EQ(spans[0].source, id.substr(0, 8));
}

// Each bad field comes back as the router's 400 naming it (the form shows that text).
TEST(StageForm, BadInputGetsTheRoutersMessageNamingTheField) {
    auto s = makeSim();
    struct Case {
        const char* expect;
        void (*edit)(RequestForm&);
    };
    const Case cases[] = {
        {"strategy.stages[0].soak", [](RequestForm& f) { f.stages[0].soak = "2x"; }},
        {"strategy.stages[0].maxFailures", [](RequestForm& f) { f.stages[0].maxFailures = "abc"; }},
        {"strategy.stages[1].maxFailures", [](RequestForm& f) { f.stages[1].maxFailures = "101%"; }},
        {"strategy.stages[1].maxFailures", [](RequestForm& f) { f.stages[1].maxFailures = "-1"; }},
        {"strategy.stages[1].name", [](RequestForm& f) { f.stages[1].name = "canary"; }},
        {"strategy.stages[0].name", [](RequestForm& f) { f.stages[0].name = "Canary!"; }},
        {"strategy.stages[1].workers", [](RequestForm& f) { f.stages[1].workers = "0"; }},
        {"strategy.stages[0].targets", [](RequestForm& f) { f.stages[0].include.clear(); }},
        {"strategy.maxFailures", [](RequestForm& f) { f.maxFailures = "1.5%"; }},
        {"strategy.blackouts[0].to", [](RequestForm& f) { f.blackouts[0].to = f.blackouts[0].from; }},
        {"strategy.blackouts[0].from", [](RequestForm& f) { f.blackouts[0].from = "tomorrow"; }},
    };
    for (const Case& c : cases) {
        RequestForm f = stagedForm();
        c.edit(f);
        ApiResponse r = submit(s, f);
        EXPECT_EQ(r.status, 400) << c.expect << ": " << r.body.dump();
        ASSERT_TRUE(r.body.contains("error")) << r.body.dump();
        EXPECT_NE(r.body["error"].get<std::string>().find(c.expect), std::string::npos)
            << "expected " << c.expect << " in " << r.body.dump();
    }
}

TEST(StageView, SpansCountdownsAndBudgets) {
    EXPECT_EQ(formatSpan(-5), "0s");
    EXPECT_EQ(formatSpan(12 * kSecond + 999), "12s");
    EXPECT_EQ(formatSpan(4 * kMinute + 10 * kSecond), "4m 10s");
    EXPECT_EQ(formatSpan(3 * kHour + 5 * kMinute), "3h 05m");
    EXPECT_EQ(formatSpan(2 * kDay + 3 * kHour + 59 * kMinute), "2d 03h");
    StageRowView r;
    r.state = "soaking";
    r.soakUntil = 10 * kHour;
    EXPECT_EQ(soakText(r, 7 * kHour - 30 * kMinute), "soak 3h 30m left");
    EXPECT_EQ(soakText(r, 10 * kHour), "soak ends");
    r.state = "in progress";
    EXPECT_EQ(soakText(r, 0), "");
    r.failures = 3;
    EXPECT_EQ(budgetText(r), "3 / -");
    EXPECT_FALSE(overBudget(r));
    r.maxFailures = 2;
    EXPECT_EQ(budgetText(r), "3 / 2");
    EXPECT_TRUE(overBudget(r));
    r.maxFailures = 3;
    EXPECT_FALSE(overBudget(r));
    EXPECT_TRUE(stageRows(Json::object()).empty());
    EXPECT_TRUE(stageRows(Json{{"stages", "x"}}).empty());
}

TEST(StageMarks, KeepsStageAndPauseEventsOnly) {
    StageMarks m;
    EXPECT_FALSE(m.consume(R"({"at":"2026-01-05T00:00:00Z","kind":"sim.start"})"));
    EXPECT_FALSE(m.consume(R"({"at":"2026-01-05T00:00:00Z","kind":"operation.state","orchestrationID":"o1","state":"failed"})"));
    EXPECT_FALSE(m.consume(R"({"at":"2026-01-05T00:00:00Z","kind":"orchestration.state","orchestrationID":"o1","state":"in progress"})"));
    EXPECT_TRUE(m.consume(R"({"at":"2026-01-05T00:00:00Z","kind":"stage.started","orchestrationID":"o1","state":"in progress","detail":"2 operations","stage":"canary"})"));
    EXPECT_TRUE(m.consume(R"({"at":"2026-01-05T01:00:00.500Z","kind":"orchestration.state","orchestrationID":"o1","state":"paused","detail":"paused by operator"})"));
    EXPECT_TRUE(m.consume(R"({"at":"2026-01-05T02:00:00Z","kind":"orchestration.state","orchestrationID":"o1","state":"in progress","detail":"resumed by operator"})"));
    EXPECT_TRUE(m.consume(R"({"at":"2026-01-05T03:00:00Z","kind":"stage.soaking","orchestrationID":"o1","state":"soaking","detail":"2026-01-05T04:00:00Z"})"));
    EXPECT_FALSE(m.consume("not json \"kind\":\"stage.started\""));
    EXPECT_FALSE(m.consume(R"({"at":"2026-01-05T03:00:00Z","kind":"stage.other","orchestrationID":"o1"})"));
    ASSERT_EQ(m.marks().size(), 4u);
    EXPECT_EQ(m.marks()[0].kind, MarkKind::StageStarted);
    EXPECT_EQ(m.marks()[0].stage, "canary");
    EXPECT_TRUE(m.marks()[0].nameLookedUp);
    EXPECT_EQ(m.marks()[1].kind, MarkKind::Paused);
    EXPECT_EQ(m.marks()[1].at, *parseRfc3339("2026-01-05T01:00:00.500Z"));
    EXPECT_EQ(m.marks()[1].detail, "paused by operator");
    EXPECT_EQ(m.marks()[2].kind, MarkKind::Resumed);
    EXPECT_EQ(m.marks()[3].kind, MarkKind::StageSoaking);
    EXPECT_TRUE(m.marks()[3].stage.empty());  // this line had no stage name
    ASSERT_NE(m.latestStage("o1"), nullptr);
    EXPECT_EQ(m.latestStage("o1")->kind, MarkKind::StageSoaking);
    EXPECT_EQ(m.latestStage("o2"), nullptr);
    m.clear();
    EXPECT_TRUE(m.marks().empty());
    EXPECT_EQ(m.latestStage("o1"), nullptr);
}

TEST(StageMarks, BoundedOldestDropped) {
    StageMarks m;
    for (std::size_t i = 0; i < StageMarks::kMax + 10; ++i)
        m.consume(R"({"at":"2026-01-05T00:00:00Z","kind":"stage.started","orchestrationID":"o)" + std::to_string(i) +
                  R"(","state":"in progress","stage":"s"})");
    EXPECT_LE(m.marks().size(), StageMarks::kMax);
    EXPECT_EQ(m.marks().back().orchestrationID, "o" + std::to_string(StageMarks::kMax + 9));
    EXPECT_EQ(m.latestStage("o0"), nullptr);
    ASSERT_NE(m.latestStage("o" + std::to_string(StageMarks::kMax + 9)), nullptr);
    EXPECT_EQ(m.latestStage("o" + std::to_string(StageMarks::kMax + 9))->orchestrationID,
              "o" + std::to_string(StageMarks::kMax + 9));
}

// A real simulated rollout: the canary's failure pauses it (budget 0), the table's rows and the
// timeline's marks follow the engine through pause, resume, soak and the next stage.
TEST(StageView, RolloutPausesOnTheCanaryBudgetThenResumesThroughSoak) {
    auto s = makeSim();
    StageMarks marks;
    s.setTraceSink([&](const std::string& line) { marks.consume(line); });
    ApiResponse r = submit(s, stagedForm());
    ASSERT_EQ(r.status, 202) << r.body.dump();
    const std::string id = r.body["orchestrationID"];
    const std::string path = "/orchestrations/" + id;

    s.advanceTo(s.now() + 30 * kMinute);
    Json o = s.api("GET", path).body;
    EXPECT_EQ(o["state"], "paused") << o.dump();
    EXPECT_NE(o["description"].get<std::string>().find("paused: stage \"canary\""), std::string::npos) << o["description"];
    auto rows = stageRows(o);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].name, "canary");
    EXPECT_EQ(rows[0].total, 2);
    EXPECT_EQ(rows[0].failures, 1);
    EXPECT_EQ(rows[0].maxFailures, 0);
    EXPECT_TRUE(overBudget(rows[0]));
    EXPECT_EQ(budgetText(rows[0]), "1 / 0");
    EXPECT_EQ(rows[1].name, "rest");
    EXPECT_EQ(rows[1].state, "pending");
    EXPECT_EQ(rows[1].total, 4);
    EXPECT_EQ(rows[1].maxFailures, 2);  // 50% of 4
    // Resume in the wrong state is refused with a 409 the panel shows.
    EXPECT_EQ(s.api("PUT", path + "/pause").status, 409);

    ASSERT_EQ(s.api("PUT", path + "/resume").status, 200);
    s.advanceTo(s.now() + 10 * kMinute);
    o = s.api("GET", path).body;
    rows = stageRows(o);
    EXPECT_EQ(o["state"], "in progress");
    EXPECT_EQ(rows[0].state, "soaking");
    EXPECT_EQ(rows[0].failures, 0);  // acknowledged by the resume
    EXPECT_NE(soakText(rows[0], s.now()), "");

    s.runToEnd();
    o = s.api("GET", path).body;
    rows = stageRows(o);
    EXPECT_EQ(rows[1].state, "succeeded") << o.dump();
    EXPECT_EQ(rows[1].done, 4);
    EXPECT_EQ(soakText(rows[0], s.now()), "");

    // Marks: canary started, paused (rt-1 failed), canary soak (rt-2 ended: a pause does not stop
    // the soak clock), resumed, canary finished, rest started, rest finished.
    std::vector<MarkKind> kinds;
    for (const StageMark& m : marks.marks())
        if (m.orchestrationID == id) kinds.push_back(m.kind);
    const std::vector<MarkKind> want = {MarkKind::StageStarted,  MarkKind::Paused,       MarkKind::StageSoaking,
                                        MarkKind::Resumed,       MarkKind::StageFinished, MarkKind::StageStarted,
                                        MarkKind::StageFinished};
    EXPECT_EQ(kinds, want);
    // Stage names: from the log line when it carries them, else from the stored orchestration.
    auto stored = s.store().getOrchestration(id);
    ASSERT_TRUE(stored);
    std::vector<std::string> names;
    for (StageMark& m : marks.marks()) {
        if (m.kind == MarkKind::Paused || m.kind == MarkKind::Resumed) continue;
        resolveStageName(m, *stored);
        names.push_back(m.stage);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"canary", "canary", "canary", "rest", "rest"}));
    ASSERT_NE(marks.latestStage(id), nullptr);
    EXPECT_EQ(marks.latestStage(id)->kind, MarkKind::StageFinished);
    EXPECT_EQ(marks.latestStage(id)->stage, "rest");
}

TEST(StageView, EngineBlackoutsAreSpans) {
    const std::vector<Blackout> list = {Blackout{kDay, 2 * kDay, "weekend"}};
    const auto spans = engineBlackoutSpans(list);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].from, kDay);
    EXPECT_EQ(spans[0].to, 2 * kDay);
    EXPECT_EQ(spans[0].source, "engine");
    EXPECT_EQ(spans[0].reason, "weekend");
    // Broken request entries are skipped, not shown.
    const Json o = Json::parse(R"({"orchestrationID":"abc","parameters":{"strategy":{"blackouts":[
        {"from":"x","to":"2026-01-01T00:00:00Z"},{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}]}}})");
    EXPECT_TRUE(requestBlackoutSpans(o).empty());
}

}  // namespace
}  // namespace keb::web
