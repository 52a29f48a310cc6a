// Scenario parser: valid files parse to the right values; bad ones give file + JSON path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "keb/sim/checker.h"
#include "keb/sim/scenario.h"
#include "keb/timefmt.h"

using namespace keb;
using namespace keb::sim;

namespace {
std::string errorOf(const std::string& text) {
    try {
        parseScenario(text, "t.json");
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

TEST(ScenarioOffsets, ParsesUnitsAndRejectsGarbage) {
    EXPECT_EQ(parseOffset("+2h"), 2 * kHour);
    EXPECT_EQ(parseOffset("1d12h30m"), kDay + 12 * kHour + 30 * kMinute);
    EXPECT_EQ(parseOffset("+500ms"), 500);
    EXPECT_EQ(parseOffset("+0s"), 0);
    EXPECT_FALSE(parseOffset(""));
    EXPECT_FALSE(parseOffset("+"));
    EXPECT_FALSE(parseOffset("2x"));
    EXPECT_FALSE(parseOffset("h"));
    EXPECT_FALSE(parseOffset("-2h"));
    EXPECT_FALSE(parseOffset("99999999999h"));
}

TEST(ScenarioParser, FullExample) {
    const std::string text = R"({
      "name": "n", "seed": 9, "start": "2026-02-02T00:00:00Z", "end": "+3d",
      "fleet": {"size": 10, "plans": {"aws": 2, "gcp": 1}, "windowOffsets": ["+0530"],
                "runtimes": [{"runtimeID": "r1", "region": "eastus"}]},
      "faults": {"failureProbability": 0.1, "failureByRegion": {"eastus": 0.9}, "hangProbability": 0.01,
                 "duration": {"distribution": "lognormal", "median": "10m", "sigma": 0.4},
                 "gardenerOutages": [{"from": "+1h", "to": "+2h"}],
                 "disappear": [{"at": "+3h", "count": 2}], "backendLatency": "1s"},
      "engine": {"pollInterval": "30s", "operationTimeout": "2h",
                 "maintenancePolicy": {"rules": [{"match": {"plan": "trial"}, "days": ["Sat"]}]}},
      "timeline": [
        {"at": "+2h", "event": "retry", "orchestration": 0, "immediate": true},
        {"at": "+0s", "event": "submit", "kind": "cluster", "body": {"x": 1}, "expectStatus": 400},
        {"at": "2026-02-02T01:00:00Z", "event": "cancel", "orchestration": 0},
        {"at": "+5h", "event": "outage", "for": "10m"}
      ],
      "expect": {"orchestrations": [{"state": "failed", "operations": {"failed": {"min": 1}}}],
                 "allStartedInsideWindow": true, "finishBefore": "+2d", "upgrades": 10}
    })";
    Scenario sc = parseScenario(text, "x.json");
    const Millis start = *parseRfc3339("2026-02-02T00:00:00Z");
    EXPECT_EQ(sc.seed, 9u);
    EXPECT_EQ(sc.start, start);
    EXPECT_EQ(sc.end, start + 3 * kDay);
    EXPECT_EQ(sc.fleet.size, 10);
    ASSERT_EQ(sc.fleet.extra.size(), 1u);
    EXPECT_EQ(sc.fleet.extra[0].region, "eastus");
    EXPECT_EQ(sc.faults.failureByRegion.at("eastus"), 0.9);
    EXPECT_EQ(sc.faults.duration.kind, world::DurationDist::Kind::LogNormal);
    EXPECT_EQ(sc.faults.backendLatency, kSecond);
    ASSERT_EQ(sc.outages.size(), 1u);
    EXPECT_EQ(sc.outages[0].from, start + kHour);
    EXPECT_EQ(sc.engine.pollInterval, 30 * kSecond);
    EXPECT_EQ(sc.engine.policy.rules.size(), 1u);
    // Sorted by time: submit, cancel, retry, outage.
    ASSERT_EQ(sc.timeline.size(), 4u);
    EXPECT_EQ(sc.timeline[0].kind, TimelineEvent::Kind::Submit);
    EXPECT_EQ(sc.timeline[0].type, OrchestrationType::UpgradeCluster);
    EXPECT_EQ(sc.timeline[0].body, R"({"x":1})");  // not checked: expected to be rejected
    EXPECT_EQ(sc.timeline[0].expectStatus, (std::vector<int>{400}));
    EXPECT_EQ(sc.timeline[1].kind, TimelineEvent::Kind::Cancel);
    EXPECT_EQ(sc.timeline[1].at, start + kHour);
    EXPECT_EQ(sc.timeline[2].kind, TimelineEvent::Kind::Retry);
    EXPECT_TRUE(sc.timeline[2].immediate);
    EXPECT_EQ(sc.timeline[2].path, "timeline[0]");  // messages keep the file's index
    EXPECT_EQ(sc.timeline[3].span, 10 * kMinute);
    EXPECT_EQ(sc.submitCount, 1);
    ASSERT_EQ(sc.expect.orchestrations.size(), 1u);
    EXPECT_EQ(sc.expect.orchestrations[0].state, OrchestrationState::Failed);
    EXPECT_EQ(sc.expect.upgrades->min, 10);
    EXPECT_EQ(*sc.expect.finishBefore, start + 2 * kDay);
}

TEST(ScenarioParser, ErrorsNameFileAndPath) {
    EXPECT_EQ(errorOf(R"({"timeline":[{"at":"+1h","event":"advance"},{"at":"soon","event":"advance"}]})"),
              "t.json: timeline[1].at: expected RFC 3339 time or duration offset like \"+2h\"");
    EXPECT_EQ(errorOf(R"({"fleet":{"size":"big"}})"), "t.json: fleet.size: expected an integer");
    EXPECT_EQ(errorOf(R"({"faults":{"failureProbability":2}})"),
              "t.json: faults.failureProbability: must be between 0 and 1");
    EXPECT_EQ(errorOf(R"({"faults":{"gardenerOutages":[{"from":"+2h","to":"+1h"}]}})"),
              "t.json: faults.gardenerOutages[0].to: must be after from");
    EXPECT_EQ(errorOf(R"({"engine":{"pollInterval":"0s"}})"), "t.json: engine.pollInterval: must be a positive duration");
    EXPECT_EQ(errorOf(R"({"timeline":[{"at":"+0s","event":"submit"}]})"),
              "t.json: timeline[0]: body is required (the request body of POST /upgrade/kyma)");
    EXPECT_EQ(errorOf(R"({"timeline":[{"at":"+0s"}]})"), "t.json: timeline[0]: event is required");
    EXPECT_EQ(errorOf(R"({"timeline":[{"at":"+0s","event":"retry","orchestrationID":"x","all":true,"operationIDs":["a"]}]})"),
              "t.json: timeline[0].all: all=true and operationIDs exclude each other");
    EXPECT_EQ(errorOf(R"({"expect":{"operationStates":{"done":1}}})"),
              "t.json: expect.operationStates.done: unknown operation state (pending, in progress, succeeded, failed, canceled)");
    EXPECT_EQ(errorOf(R"({"expect":{"upgrades":{"min":5,"max":1}}})"), "t.json: expect.upgrades.max: must not be below min");
    EXPECT_EQ(errorOf(R"({"start":"yesterday"})"), "t.json: start: expected RFC 3339 time, e.g. \"2026-01-05T00:00:00Z\"");
    EXPECT_EQ(errorOf(R"({"fleet":{"windowOffsets":["+5:30"]}})"),
              "t.json: fleet.windowOffsets[0]: expected an offset like \"+0530\" or \"-0800\"");
    EXPECT_EQ(errorOf(R"({"faults":{"duration":{"distribution":"fixed"}}})"),
              "t.json: faults.duration: a fixed distribution needs \"value\"");
    EXPECT_EQ(errorOf(R"({"maxDuration":"0s"})"), "t.json: maxDuration: must be after the start");
}

TEST(ScenarioParser, NeverCrashesOnTruncatedOrMutatedInput) {
    // Every prefix and a set of byte mutations of a real scenario: an error or a scenario, never a crash.
    std::ifstream in(std::string(KEB_SCENARIO_DIR) + "/failures_then_retry.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    ASSERT_GT(text.size(), 100u);
    int errors = 0;
    for (std::size_t n = 0; n < text.size(); n += 3) {
        try {
            parseScenario(text.substr(0, n), "p.json");
        } catch (const ScenarioError& e) {
            ++errors;
            EXPECT_EQ(std::string(e.what()).rfind("p.json: ", 0), 0u);
        }
    }
    const char repl[] = {'0', '"', '{', ']', '-', 'x', ':', ','};
    for (std::size_t i = 0; i < text.size(); i += 5) {
        std::string m = text;
        m[i] = repl[i % sizeof repl];
        try {
            parseScenario(m, "m.json");
        } catch (const ScenarioError&) {
            ++errors;
        }
    }
    EXPECT_GT(errors, 100);
}

TEST(ScenarioParser, EveryShippedScenarioParses) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(KEB_SCENARIO_DIR)) {
        if (e.path().extension() != ".json") continue;
        ++n;
        EXPECT_NO_THROW(loadScenarioFile(e.path().string())) << e.path();
    }
    EXPECT_GE(n, 15);
}

TEST(ScenarioParser, EveryBadFileFailsWithItsExpectedMessage) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(KEB_SIM_BAD_DIR)) {
        if (e.path().extension() != ".json") continue;
        ++n;
        std::ifstream ex(e.path().parent_path() / (e.path().stem().string() + ".expect"));
        std::string expected;
        std::getline(ex, expected);
        ASSERT_FALSE(expected.empty()) << e.path();
        try {
            loadScenarioFile(e.path().string());
            ADD_FAILURE() << e.path() << " parsed without error";
        } catch (const ScenarioError& err) {
            EXPECT_NE(std::string(err.what()).find(expected), std::string::npos)
                << "got: " << err.what() << "\nwant: " << expected;
        }
    }
    EXPECT_GE(n, 10);
    EXPECT_THROW(loadScenarioFile("/nonexistent/x.json"), ScenarioError);
}

TEST(ScenarioParser, ReadmeExamplesAreValid) {
    // Every ```json block of scenarios/README.md, merged into one scenario, must parse.
    std::ifstream in(std::string(KEB_SCENARIO_DIR) + "/README.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string md = ss.str();
    Json doc = Json::object();
    int blocks = 0;
    for (std::size_t p = md.find("```json\n"); p != std::string::npos; p = md.find("```json\n", p + 1)) {
        const std::size_t begin = p + 8, end = md.find("```", begin);
        ASSERT_NE(end, std::string::npos);
        std::string block = md.substr(begin, end - begin);
        if (block.find_first_not_of(" \n") != std::string::npos && block[block.find_first_not_of(" \n")] == '"')
            block = "{" + block + "}";
        Json j = Json::parse(block, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << block;
        doc.merge_patch(j);
        ++blocks;
    }
    EXPECT_GE(blocks, 6);
    Scenario sc;
    ASSERT_NO_THROW(sc = parseScenario(doc.dump(), "README.md")) << doc.dump(2);
    EXPECT_EQ(sc.timeline.size(), 15u);
    EXPECT_EQ(sc.fleet.size, 10000);
}

TEST(ScenarioParser, StoreFailureAndStatusLists) {
    const Scenario sc = parseScenario(R"({"timeline": [
        {"at": "+0s", "event": "submit", "body": {}, "expectStatus": [202, 400]},
        {"at": "+1h", "event": "storeFailure", "writes": 3},
        {"at": "+2h", "event": "storeFailure"}]})", "t.json");
    ASSERT_EQ(sc.timeline.size(), 3u);
    EXPECT_EQ(sc.timeline[0].expectStatus, (std::vector<int>{202, 400}));
    EXPECT_EQ(sc.timeline[1].kind, TimelineEvent::Kind::StoreFailure);
    EXPECT_EQ(sc.timeline[1].count, 3);
    EXPECT_EQ(sc.timeline[2].count, 1);  // default: one write
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+1h", "event": "storeFailure", "writes": 0}]})"),
              "t.json: timeline[0].writes: must be between 1 and 1000");
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+1h", "event": "storeFailure", "count": 2}]})"),
              "t.json: timeline[0].count: unknown field (allowed: at, event, writes, comment)");
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+0s", "event": "submit", "body": {}, "expectStatus": []}]})"),
              "t.json: timeline[0].expectStatus: expected an HTTP status or a non-empty list of them");
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+0s", "event": "submit", "body": {}, "expectStatus": [202, 9]}]})"),
              "t.json: timeline[0].expectStatus[1]: must be between 100 and 599");
}

TEST(ScenarioParser, ExpectKeysComeFromTheCheckerRegistry) {
    const std::string err = errorOf(R"({"expect": {"allFinishd": true}})");
    EXPECT_EQ(err.rfind("t.json: expect.allFinishd: unknown field (allowed: orchestrations, operationStates, ", 0), 0u)
        << err;
    for (const CheckerSpec* c : checkerRegistry()) EXPECT_NE(err.find(c->name), std::string::npos) << c->name;
    EXPECT_EQ(errorOf(R"({"expect": {"allFinished": 1}})"), "t.json: expect.allFinished: expected true or false");
}

// SPEC 10: pause/resume events, engine.blackouts, "paused" as an expected state, description.
TEST(ScenarioParser, PauseResumeBlackoutsAndPausedState) {
    const Scenario sc = parseScenario(R"({"engine": {"blackouts": [
          {"from": "2026-01-09T18:00:00Z", "to": "2026-01-12T06:00:00Z", "reason": "weekend"},
          {"from": "+20d", "to": "+20d2h"}]},
      "timeline": [
        {"at": "+0s", "event": "submit", "body": {"targets": {"include": [{"target": "all"}]}, "kyma": {"version": "2.20.0"}}},
        {"at": "+1h", "event": "pause", "orchestration": 0},
        {"at": "+2h", "event": "resume", "orchestration": 0, "expectStatus": [200, 409]},
        {"at": "+3h", "event": "pause", "orchestrationID": "x", "expectStatus": 404},
        {"at": "+4h", "event": "check", "orchestration": 0, "state": "paused", "description": "by operator"}],
      "expect": {"orchestrations": [{"state": "paused", "description": "paused: stage"}],
                 "stagesInOrder": true, "noStartWhilePaused": true, "noStartInBlackout": false}})",
                                      "t.json");
    ASSERT_EQ(sc.engine.blackouts.size(), 2u);
    EXPECT_EQ(sc.engine.blackouts[0].from, *parseRfc3339("2026-01-09T18:00:00Z"));
    EXPECT_EQ(sc.engine.blackouts[0].reason, "weekend");
    EXPECT_EQ(sc.engine.blackouts[1].from, sc.start + 20 * kDay);  // an offset from the start
    EXPECT_EQ(sc.engine.blackouts[1].to, sc.start + 20 * kDay + 2 * kHour);
    ASSERT_EQ(sc.timeline.size(), 5u);
    EXPECT_EQ(sc.timeline[1].kind, TimelineEvent::Kind::Pause);
    EXPECT_EQ(sc.timeline[1].orchestration, 0);
    EXPECT_TRUE(sc.timeline[1].expectStatus.empty());  // the driver's default: 200
    EXPECT_EQ(sc.timeline[2].kind, TimelineEvent::Kind::Resume);
    EXPECT_EQ(sc.timeline[2].expectStatus, (std::vector<int>{200, 409}));
    EXPECT_EQ(sc.timeline[3].orchestrationID, "x");
    EXPECT_EQ(sc.timeline[4].check.state, OrchestrationState::Paused);
    EXPECT_EQ(sc.timeline[4].check.description, "by operator");
    ASSERT_EQ(sc.expect.orchestrations.size(), 1u);
    EXPECT_EQ(sc.expect.orchestrations[0].state, OrchestrationState::Paused);
    EXPECT_EQ(sc.expect.orchestrations[0].description, "paused: stage");
    EXPECT_EQ(sc.expect.stagesInOrder, true);
    EXPECT_EQ(sc.expect.noStartWhilePaused, true);
    EXPECT_EQ(sc.expect.noStartInBlackout, false);

    EXPECT_EQ(errorOf(R"({"engine": {"blackouts": {}}})"), "t.json: engine.blackouts must be an array");
    EXPECT_EQ(errorOf(R"({"engine": {"blackouts": [{"from": "+1d"}]}})"),
              "t.json: engine.blackouts[0].to is required (RFC 3339 time)");
    EXPECT_EQ(errorOf(R"({"engine": {"blackouts": [{"from": "+1d", "to": "+1d"}]}})"),
              "t.json: engine.blackouts[0].to: must be after from");
    EXPECT_EQ(errorOf(R"({"engine": {"blackouts": [{"from": "friday", "to": "+1d"}]}})"),
              "t.json: engine.blackouts[0].from: invalid time \"friday\" (want RFC 3339)");
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+0s", "event": "resume"}]})"),
              "t.json: timeline[0]: orchestration (index of a submit event) or orchestrationID is required");
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+0s", "event": "pause", "orchestration": 0}]})"),
              "t.json: timeline[0].orchestration: refers to submit #0 but only 0 submit event(s) come before it");
}

// A JSON body the scenario expects to be accepted is checked by the core's validator when the file
// is read: the error continues the body's JSON path with the validator's field path.
TEST(ScenarioParser, SubmitBodiesExpectedToBeAcceptedAreValidated) {
    auto withBody = [](const std::string& strategy, const std::string& extra = "") {
        return R"({"timeline": [{"at": "+0s", "event": "submit", "body": {"targets": {"include": [{"target": "all"}]},
                   "strategy": )" + strategy + R"(, "kyma": {"version": "2.20.0"}})" + extra + "}]}";
    };
    const std::string stageError = errorOf(withBody(R"({"stages": [{"name": "a", "targets": {"include": [{"region": "x"}]}},
                                               {"name": "b", "maxFailures": "5"}]})"));
    EXPECT_EQ(stageError.rfind("t.json: timeline[0].body.strategy.stages[1].maxFailures: invalid percent \"5\"", 0), 0u)
        << stageError;  // the validator's own message, after the body's path
    EXPECT_EQ(errorOf(withBody(R"({"stages": [{"name": "a"}, {"name": "a"}]})")).rfind(
                  "t.json: timeline[0].body.strategy.stages[0].targets: only the last stage may omit targets", 0),
              0u);
    EXPECT_EQ(errorOf(withBody(R"({"blackouts": [{"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}]})")),
              "t.json: timeline[0].body.strategy.blackouts[0].to: must be after from");
    EXPECT_EQ(errorOf(withBody(R"({"type": "parallel"})", R"(, "expectStatus": 202)")), "(no error)");
    // Not checked: a body expected to be rejected, a string body (sent verbatim).
    EXPECT_EQ(errorOf(withBody(R"({"stages": 1})", R"(, "expectStatus": 400)")), "(no error)");
    EXPECT_EQ(errorOf(withBody(R"({"stages": 1})", R"(, "expectStatus": [202, 400])")), "(no error)");
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+0s", "event": "submit", "body": "{\"strategy\": {\"stages\": 1}}"}]})"),
              "(no error)");
    // A message that does not start with one of the body's keys follows the body's path.
    EXPECT_EQ(errorOf(R"({"timeline": [{"at": "+0s", "event": "submit", "body": {"kyma": {"version": "2.20.0"}}}]})")
                  .rfind("t.json: timeline[0].body: targets", 0),
              0u)
        << errorOf(R"({"timeline": [{"at": "+0s", "event": "submit", "body": {"kyma": {"version": "2.20.0"}}}]})");
}
