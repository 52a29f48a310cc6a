// The discrete-event driver: determinism, restarts, interactive use, checks.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <queue>
#include <sstream>

#include "keb/sim/event_queue.h"
#include "keb/world/random.h"
#include "keb/notify.h"
#include "keb/sim/simulation.h"
#include "keb/timefmt.h"
#include "keb/windows.h"

using namespace keb;
using namespace keb::sim;

namespace {

Scenario load(const std::string& name) { return loadScenarioFile(std::string(KEB_SCENARIO_DIR) + "/" + name); }

const char* kSubmitAll =
    R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":WORKERS}},"kyma":{"version":"2.20.0"}})";

std::string submitBody(int workers) {
    std::string s = kSubmitAll;
    s.replace(s.find("WORKERS"), 7, std::to_string(workers));
    return s;
}

Scenario small(const std::string& extra = "") {
    return parseScenario(R"({"seed": 5, "fleet": {"size": 40, "deletingShare": 0},
        "faults": {"duration": {"distribution": "fixed", "value": "10m"}, "backendLatency": "30s")" +
                             extra + "}}",
                         "small.json");
}

int stateCount(const Json& summary, const char* state) { return summary["operationStates"][state].get<int>(); }

}  // namespace

TEST(EventQueue, OrdersByTimeThenSequence) {
    EventQueue q;
    q.push(20, SimEvent::Kind::Wakeup, 1);
    q.push(10, SimEvent::Kind::Timeline, 2);
    q.push(20, SimEvent::Kind::Completion, 3);
    q.push(10, SimEvent::Kind::Wakeup, 4);
    std::vector<std::uint32_t> order;
    while (!q.empty()) order.push_back(q.pop().index);
    EXPECT_EQ(order, (std::vector<std::uint32_t>{2, 4, 1, 3}));
}

// The queue keeps in-order pushes in a FIFO and the rest in a heap: against one plain heap over
// (time, seq), with mostly increasing times (completions), ties, and earlier times mixed in,
// pops interleaved with pushes, top() agreeing with pop().
TEST(EventQueue, SameOrderAsOneHeapUnderMixedPushesAndPops) {
    struct Ref {
        Millis at;
        std::uint64_t seq;
        std::uint32_t index;
        bool operator>(const Ref& o) const { return at != o.at ? at > o.at : seq > o.seq; }
    };
    for (std::uint64_t seed : {1ull, 2ull, 3ull}) {
        world::Rng rng(seed);
        EventQueue q;
        std::priority_queue<Ref, std::vector<Ref>, std::greater<Ref>> ref;
        Millis now = 0;
        std::uint64_t seq = 0;
        std::uint32_t index = 0;
        for (int step = 0; step < 200000; ++step) {
            const std::uint64_t r = rng.below(100);
            if (r < 55 || ref.empty()) {
                Millis at = now + 30000;                             // constant latency: in order
                if (r % 5 == 0) at = now + static_cast<Millis>(rng.below(60000));  // anywhere
                if (r % 7 == 0) at = now;                            // a tie with "now"
                q.push(at, r % 3 ? SimEvent::Kind::Completion : SimEvent::Kind::Wakeup, index, 7);
                ref.push(Ref{at, seq++, index++});
            } else {
                ASSERT_EQ(q.size(), ref.size());
                const SimEvent& top = q.top();
                ASSERT_EQ(top.at, ref.top().at);
                ASSERT_EQ(top.index, ref.top().index);
                const SimEvent e = q.pop();
                ASSERT_EQ(e.at, ref.top().at);
                ASSERT_EQ(e.seq, ref.top().seq);
                ASSERT_EQ(e.index, ref.top().index);
                ASSERT_EQ(e.generation, 7u);
                now = std::max(now, e.at);
                ref.pop();
            }
        }
        while (!ref.empty()) {
            ASSERT_FALSE(q.empty());
            ASSERT_EQ(q.pop().seq, ref.top().seq);
            ref.pop();
        }
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.pushed(), seq);
    }
}

TEST(Determinism, SameScenarioAndSeedGiveIdenticalSummaryAndHash) {
    Simulation a(load("restart_while_in_progress.json"));
    Simulation b(load("restart_while_in_progress.json"));
    a.runToEnd();
    b.runToEnd();
    EXPECT_GT(a.eventLogLines(), 1000u);
    EXPECT_EQ(a.eventLogHash(), b.eventLogHash());
    EXPECT_EQ(a.summary().dump(), b.summary().dump());
}

TEST(Determinism, DifferentSeedsGiveDifferentHashes) {
    Simulation a(load("restart_while_in_progress.json"));
    Simulation b(load("restart_while_in_progress.json"), 12345);
    a.runToEnd();
    b.runToEnd();
    EXPECT_EQ(b.seed(), 12345u);
    EXPECT_NE(a.eventLogHash(), b.eventLogHash());
}

TEST(Determinism, HashIsTheWordHashOfTheTraceLines) {
    Simulation s(load("cancel_midway.json"));
    std::uint64_t h = kFnvOffset;
    std::size_t lines = 0;
    bool allJson = true;
    s.setTraceSink([&](const std::string& line) {
        h = world::hashWords(line, h);
        h = world::hashWords("\n", h);
        ++lines;
        allJson = allJson && Json::accept(line);
    });
    s.runToEnd();
    EXPECT_TRUE(allJson);
    EXPECT_EQ(lines, s.eventLogLines());
    EXPECT_EQ(h, s.eventLogHash());
    char hex[20];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    EXPECT_EQ(s.summary()["eventLogHash"], hex);
}

TEST(Driver, RestartDropsActionsInFlightAndBackendRecognisesRepeatedStart) {
    // 30 s backend latency, restart 10 s after the first starts were handed out: those results are lost,
    // the recovered engine starts those operations again, and the backend does not upgrade twice.
    Simulation s(small());
    ASSERT_EQ(s.api("POST", "/upgrade/kyma", submitBody(8)).status, 202);
    s.advanceTo(s.startTime() + 10 * kSecond);
    EXPECT_EQ(s.workersInUse(), 8);
    EXPECT_EQ(s.engine().actionsOut(), 8u);
    s.restart();
    EXPECT_EQ(s.restarts(), 1);
    EXPECT_EQ(s.engine().actionsOut(), 0u);  // a new engine
    s.runToEnd();
    Json sum = s.summary();
    EXPECT_EQ(sum["backend"]["droppedCompletions"], 8);
    EXPECT_EQ(sum["backend"]["duplicateStarts"], 8);
    EXPECT_EQ(sum["backend"]["upgrades"], 40);
    EXPECT_EQ(stateCount(sum, "succeeded"), 40);
    EXPECT_EQ(s.workersInUse(), 0);
}

TEST(Driver, InteractiveUseThroughTheApi) {
    Simulation s(small());
    EXPECT_FALSE(s.finished() && s.nextEventTime().has_value());
    auto r = s.api("POST", "/upgrade/kyma", submitBody(4));
    ASSERT_EQ(r.status, 202);
    const std::string id = r.body["orchestrationID"];
    ASSERT_EQ(s.orchestrations().size(), 1u);
    EXPECT_EQ(s.orchestrations()[0].orchestrationID, id);
    EXPECT_EQ(s.orchestrations()[0].workers, 4);

    s.advanceTo(s.startTime() + kHour);
    EXPECT_EQ(s.now(), s.startTime() + kHour);
    auto got = s.api("GET", "/orchestrations/" + id);
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.body["state"], "in progress");
    auto list = s.api("GET", "/orchestrations/" + id + "/operations?state=succeeded&page_size=100");
    ASSERT_EQ(list.status, 200);
    EXPECT_GT(list.body["totalCount"].get<int>(), 10);
    EXPECT_LE(s.workersInUse(), 4);

    const Runtime rt = s.fleet().runtime(0);
    auto st = s.runtimeStatus(rt.runtimeID);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->orchestration, 0);
    auto latest = s.latestOperation(rt.runtimeID);
    ASSERT_TRUE(latest.has_value());
    EXPECT_EQ(latest->runtimeID, rt.runtimeID);
    EXPECT_EQ(latest->state, st->state);

    auto bad = s.api("POST", "/upgrade/kyma", R"({"targets":{"include":[]}})");
    EXPECT_EQ(bad.status, 400);
    EXPECT_TRUE(bad.body.contains("error"));

    s.runToEnd();
    EXPECT_TRUE(s.finished());
    EXPECT_FALSE(s.step());
    std::int64_t started = 0, finished = 0;
    for (const auto& h : s.hourly()) started += h.started, finished += h.finished;
    EXPECT_EQ(started, 40);
    EXPECT_EQ(finished, 40);
    EXPECT_EQ(s.peakWorkersInUse(), 4);
    EXPECT_EQ(s.api("GET", "/orchestrations/" + id).body["state"], "succeeded");
    EXPECT_FALSE(s.recentLog().empty());
}

TEST(Driver, StepProcessesOneEventAndTimeNeverGoesBack) {
    Simulation s(small());
    s.api("POST", "/upgrade/kyma", submitBody(2));
    Millis last = s.now();
    std::uint64_t events = 0;
    while (s.step()) {
        ASSERT_GE(s.now(), last);
        last = s.now();
        ASSERT_EQ(s.eventsProcessed(), ++events);
    }
    EXPECT_GT(events, 100u);
}

TEST(Driver, InjectedOutageFailureBurstAndDisappearance) {
    Simulation s(small());
    s.gardenerOutage(10 * kMinute, "gardener down");
    auto r = s.api("POST", "/upgrade/kyma", submitBody(10));
    ASSERT_EQ(r.status, 202);
    s.advanceTo(s.startTime() + 5 * kMinute);
    EXPECT_EQ(s.api("GET", "/orchestrations/" + r.body["orchestrationID"].get<std::string>()).body["state"], "pending");
    s.failureBurst(kDay, 1.0);  // every upgrade started from now on fails
    s.advanceTo(s.startTime() + 10 * kMinute + kSecond);  // resolved at +10m, 10 started
    EXPECT_EQ(s.workersInUse(), 10);
    // Operations start in fleet order: the last five have not started yet.
    std::vector<std::string> last;
    for (std::size_t i = 35; i < 40; ++i) last.push_back(s.fleet().runtimeID(i));
    EXPECT_EQ(s.disappear(last), 5u);
    s.runToEnd();
    Json sum = s.summary();
    EXPECT_GE(sum["resolveErrors"].get<int>(), 10);  // every 30 s for 10 minutes
    EXPECT_EQ(sum["fleet"]["live"], 35);
    EXPECT_EQ(stateCount(sum, "failed"), 35);     // all started during the burst
    EXPECT_EQ(stateCount(sum, "succeeded"), 5);   // the disappeared ones: preempted
    EXPECT_EQ(sum["backend"]["upgrades"], 35);
    EXPECT_EQ(sum["orchestrations"][0]["state"], "failed");
    auto op = s.latestOperation(last[0]);
    ASSERT_TRUE(op.has_value());
    EXPECT_NE(op->description.find("preempted"), std::string::npos) << op->description;
}

// Resolution over the simulator's compact fleet (which builds only the fields a reader asks for):
// every operation carries its runtime's ids, accounts, plan, region and shoot, and is placed in
// the runtime's own window; the fleet's other runtimes leave nothing behind in it.
TEST(Driver, OperationsCarryTheirRuntimesFieldsAndWindow) {
    Scenario sc = parseScenario(R"({"seed": 12, "start": "2026-01-05T00:00:00Z",
        "fleet": {"size": 600, "deletingShare": 0, "suspendedShare": 0},
        "faults": {"duration": {"distribution": "fixed", "value": "10m"}}})",
                                "fields.json");
    Simulation s(std::move(sc));
    auto r = s.api("POST", "/upgrade/kyma",
                   R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate",)"
                   R"("maintenanceWindow":true,"parallel":{"workers":5}},"kyma":{"version":"2.20.0"}})");
    ASSERT_EQ(r.status, 202);
    s.advanceTo(s.startTime() + kSecond);
    std::size_t checked = 0;
    std::set<std::string> regions, plans;
    for (const Runtime& rt : s.fleet().toVector()) {
        const auto op = s.latestOperation(rt.runtimeID);
        ASSERT_TRUE(op.has_value()) << rt.runtimeID;
        EXPECT_EQ(op->runtimeID, rt.runtimeID);
        EXPECT_EQ(op->instanceID, rt.instanceID);
        EXPECT_EQ(op->globalAccountID, rt.globalAccountID);
        EXPECT_EQ(op->subAccountID, rt.subAccountID);
        EXPECT_EQ(op->servicePlanID, rt.planID);
        EXPECT_EQ(op->servicePlanName, rt.planName);
        EXPECT_EQ(op->region, rt.region);
        EXPECT_EQ(op->shootName, rt.shootName);
        const auto spec = effectiveWindow(rt, MaintenancePolicy{});
        ASSERT_TRUE(spec.has_value()) << rt.windowBegin;
        const WindowInstance w = nextWindow(*spec, s.startTime());
        EXPECT_EQ(op->maintenanceWindowBegin, w.begin) << rt.windowBegin << " " << rt.windowEnd;
        EXPECT_EQ(op->maintenanceWindowEnd, w.end);
        regions.insert(op->region);
        plans.insert(op->servicePlanName);
        ++checked;
    }
    EXPECT_EQ(checked, 600u);
    EXPECT_GT(regions.size(), 5u);  // neighbours differ: a field left from another runtime would show
    EXPECT_GT(plans.size(), 3u);
}

TEST(Driver, DisappearCountPicksDeterministically) {
    Simulation a(small()), b(small());
    EXPECT_EQ(a.disappear(7), 7u);
    EXPECT_EQ(b.disappear(7), 7u);
    EXPECT_EQ(a.fleet().size(), 33u);
    EXPECT_EQ(a.fleet().toVector(), b.fleet().toVector());
    EXPECT_EQ(a.disappear(100), 33u);  // no more than there are
    EXPECT_EQ(a.fleet().size(), 0u);
}

TEST(Driver, SetWindowMovesTheNextStart) {
    Scenario sc = parseScenario(R"({"seed": 1, "start": "2026-01-05T00:00:00Z",
        "fleet": {"size": 0, "runtimes": [{"runtimeID": "r1", "windowBegin": "020000+0000", "windowEnd": "030000+0000"}]},
        "faults": {"duration": {"distribution": "fixed", "value": "5m"}}})",
                                "w.json");
    Simulation s(std::move(sc));
    ASSERT_TRUE(s.setWindow("r1", "100000+0000", "110000+0000"));
    EXPECT_FALSE(s.setWindow("nope", "100000+0000", "110000+0000"));
    auto r = s.api("POST", "/upgrade/kyma",
                   R"({"targets":{"include":[{"runtimeID":"r1"}]},"strategy":{"schedule":"maintenanceWindow"},"kyma":{"version":"1"}})");
    ASSERT_EQ(r.status, 202);
    s.runToEnd();
    auto op = s.latestOperation("r1");
    ASSERT_TRUE(op.has_value());
    EXPECT_EQ(op->state, OperationState::Succeeded);
    EXPECT_EQ(formatRfc3339(op->startedAt), "2026-01-05T10:00:00Z");
}

TEST(Checks, AWrongExpectationFailsTheRun) {
    Scenario sc = load("workers_5.json");
    sc.expect.orchestrations[0].state = OrchestrationState::Failed;  // it succeeds
    sc.expect.maxWorkersInUse = 4;                                    // the peak is 5
    Simulation s(std::move(sc));
    s.runToEnd();
    Json sum = s.summary();
    EXPECT_FALSE(sum["passed"].get<bool>());
    int failed = 0;
    for (const auto& c : sum["checks"])
        if (!c["ok"].get<bool>()) {
            ++failed;
            EXPECT_TRUE(c["name"] == "orchestrations[0].state" || c["name"] == "maxWorkersInUse") << c.dump();
        }
    EXPECT_EQ(failed, 2);
}

TEST(Checks, RejectedSubmitAndDanglingReferenceAreReported) {
    // A body given as a string is sent verbatim (a JSON body expected to be accepted is checked when
    // the file is read: scenario_parser_test's SubmitBodiesExpectedToBeAcceptedAreValidated).
    Scenario sc = parseScenario(R"({"fleet": {"size": 3},
      "timeline": [
        {"at": "+0s", "event": "submit", "body": "{\"targets\": {\"include\": []}}"},
        {"at": "+1m", "event": "cancel", "orchestration": 0},
        {"at": "+2m", "event": "submit", "body": {"targets": {"include": []}}, "expectStatus": 400}
      ]})",
                                "r.json");
    Simulation s(std::move(sc));
    s.runToEnd();
    auto checks = s.checks();
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_FALSE(checks[0].ok);
    EXPECT_NE(checks[0].detail.find("expected HTTP 202, got 400"), std::string::npos) << checks[0].detail;
    EXPECT_FALSE(checks[1].ok);
    EXPECT_NE(checks[1].detail.find("was not accepted"), std::string::npos);
    EXPECT_TRUE(checks[2].ok);
    EXPECT_FALSE(s.summary()["passed"].get<bool>());
}

TEST(Memory, SimulatorBookkeepingStaysLeanPerShoot) {
    Scenario sc = load("rollout_10k_7d.json");
    Simulation s(std::move(sc));
    s.runToEnd();
    const double perShoot = static_cast<double>(s.approxBytes()) / 10000.0;
    EXPECT_LT(perShoot, 1024.0) << perShoot;
    EXPECT_TRUE(s.summary()["passed"].get<bool>());
}

TEST(Determinism, AdvancingInChunksGivesTheSameLogAsRunningToTheEnd) {
    // The browser UI advances frame by frame; the CLI runs to the end: same event log.
    Simulation batch(load("restart_while_in_progress.json"));
    batch.runToEnd();
    Simulation chunked(load("restart_while_in_progress.json"));
    std::vector<std::string> first;
    chunked.setTraceSink([&](const std::string& line) {
        if (first.size() < 3) first.push_back(line);
    });
    while (!chunked.finished()) chunked.advanceTo(chunked.now() + 7 * kMinute + 13 * kSecond);
    EXPECT_EQ(batch.eventLogHash(), chunked.eventLogHash());
    EXPECT_EQ(batch.eventLogLines(), chunked.eventLogLines());
    ASSERT_FALSE(first.empty());
    EXPECT_NE(first[0].find("\"kind\":\"sim.start\""), std::string::npos) << first[0];  // replayed to the sink
}

namespace {
const CheckResult* findCheck(const std::vector<CheckResult>& checks, const std::string& name) {
    for (const auto& c : checks)
        if (c.name == name) return &c;
    return nullptr;
}
bool checkOk(const std::vector<CheckResult>& checks, const std::string& name) {
    const CheckResult* c = findCheck(checks, name);
    return c && c->ok;
}
std::vector<Operation> opsOf(Simulation& s, int i) { return s.store().operationsOf(s.orchestrations()[i].orchestrationID); }
}  // namespace

// The invariant checks must be able to fail: tamper with the store after a clean run.
TEST(Checks, DoubleUpgradeIsDetected) {
    Simulation s(load("failures_then_retry.json"));
    s.runToEnd();
    ASSERT_TRUE(checkOk(s.checks(), "noRuntimeUpgradedTwice"));
    for (Operation op : opsOf(s, 0))
        if (op.retryOf.empty()) {  // a first attempt that failed and was retried: pretend it succeeded
            op.state = OperationState::Succeeded;
            s.store().updateOperation(op);
            break;
        }
    const auto checks = s.checks();
    const CheckResult* c = findCheck(checks, "noRuntimeUpgradedTwice");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("upgraded again after operation"), std::string::npos) << c->detail;
}

TEST(Checks, StartOutsideTheRecordedWindowIsDetected) {
    Simulation s(load("windows_offsets_midnight.json"));
    s.runToEnd();
    ASSERT_TRUE(checkOk(s.checks(), "allStartedInsideWindow"));
    Operation op = opsOf(s, 0).front();
    ASSERT_NE(op.startedAt, 0);
    op.maintenanceWindowBegin = op.startedAt + kMinute;
    s.store().updateOperation(op);
    const auto checks = s.checks();
    const CheckResult* c = findCheck(checks, "allStartedInsideWindow");
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find(op.operationID), std::string::npos) << c->detail;
}

TEST(Checks, FinalStateChangedAfterRestartIsDetected) {
    Simulation s(load("restart_while_in_progress.json"));
    s.runToEnd();
    ASSERT_TRUE(checkOk(s.checks(), "nothingLostAcrossRestarts"));
    const Millis lastRestart = s.startTime() + kHour + 30 * kMinute;
    bool tampered = false;
    for (Operation op : opsOf(s, 0))
        if (op.state == OperationState::Succeeded && op.updatedAt < lastRestart) {
            op.state = OperationState::Failed;
            s.store().updateOperation(op);
            tampered = true;
            break;
        }
    ASSERT_TRUE(tampered);
    const auto checks = s.checks();
    const CheckResult* c = findCheck(checks, "nothingLostAcrossRestarts");
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("1 operation(s) lost or changed"), std::string::npos) << c->detail;
}

// The event log writes every value as a JSON string: plain text is copied a word at a time, the
// rest escaped. Special bytes at every position of values of every length up to 3 words (the
// word loop, the overlapping last word, the short byte-by-byte path) must come back exactly.
TEST(EventLog, ValuesOfAnyLengthAndContentAreEscapedExactly) {
    Simulation s(small());
    std::vector<std::string> lines;
    s.setTraceSink([&](const std::string& line) { lines.push_back(line); });
    const std::string specials[] = {"\"", "\\", "\n", "\r", "\t", std::string(1, '\x01'), std::string(1, '\x1f'),
                                    std::string(1, '\0'), "\x7f", "\xc3\xa9", " ", "!", "#", "[", "]"};
    std::vector<std::string> sent;
    for (std::size_t len = 0; len <= 24; ++len)
        for (std::size_t pos = 0; pos <= len; ++pos)
            for (const auto& sp : specials) {
                std::string v(len, 'a');
                for (std::size_t i = 0; i < len; ++i) v[i] = static_cast<char>('a' + (i * 7 + len) % 26);
                if (pos < len) v.replace(pos, 1, sp);
                sent.push_back(v);
            }
    const std::size_t before = lines.size();
    for (const auto& v : sent) EXPECT_FALSE(s.setWindow(v, v, "x" + v));
    ASSERT_EQ(lines.size(), before + sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const std::string& line = lines[before + i];
        ASSERT_TRUE(Json::accept(line)) << line;
        const Json j = Json::parse(line);
        EXPECT_EQ(j["kind"], "sim.setWindow");
        EXPECT_EQ(j["runtimeID"].get<std::string>(), sent[i]) << line;
        EXPECT_EQ(j["begin"].get<std::string>(), sent[i]) << line;
        EXPECT_EQ(j["end"].get<std::string>(), "x" + sent[i]) << line;
        EXPECT_EQ(j["ok"], "false");
    }
    // The exact spelling of escapes (the hash depends on it): \" \\ \n \r \t, others \u00xx.
    lines.clear();
    s.setWindow(std::string("q\"b\\n\nr\rt\tc\x01" "d\x1f" "e\x7f", 16), "", "");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find(R"("runtimeID":"q\"b\\n\nr\rt\tc\u0001d\u001fe)" "\x7f\""), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find(R"("begin":"","end":"","ok":"false"})"), std::string::npos) << lines[0];
}

// Times in the log are keb::formatRfc3339's text, also across days and with milliseconds.
TEST(EventLog, TimesAreRfc3339) {
    Simulation s(small());
    std::vector<std::string> lines;
    s.setTraceSink([&](const std::string& line) { lines.push_back(line); });
    const Millis steps[] = {0, 1, 999, kSecond, kMinute + 5, kHour - 1, kDay - 1, 1, 37 * kDay + 12345, 0};
    for (Millis d : steps) {
        s.advanceTo(s.now() + d);
        s.failureBurst(kSecond, 0.5);
        ASSERT_FALSE(lines.empty());
        const Json j = Json::parse(lines.back());
        EXPECT_EQ(j["at"].get<std::string>(), formatRfc3339(s.now())) << lines.back();
    }
}

// ------------------------------------------------------------------ store failures

TEST(FaultyStore, TheNextWritesThrowAndWriteNothing) {
    MemoryStore inner;
    FaultyStore store(inner);
    Orchestration o;
    o.orchestrationID = "o1";
    o.state = OrchestrationState::Pending;
    store.failNextWrites(2);
    EXPECT_THROW(store.insertOrchestration(o), StoreWriteFailure);
    EXPECT_FALSE(inner.getOrchestration("o1").has_value());  // nothing written
    EXPECT_EQ(store.armed(), 1);
    EXPECT_FALSE(store.getOrchestration("o1").has_value());  // reads pass through, never fail
    EXPECT_THROW(store.insertOrchestration(o), StoreWriteFailure);
    store.insertOrchestration(o);  // the third write goes through
    EXPECT_TRUE(inner.getOrchestration("o1").has_value());
    EXPECT_EQ(store.failedWrites(), 2u);
    o.state = OrchestrationState::InProgress;
    store.failNextWrites(1);
    EXPECT_THROW(store.updateOrchestration(o), StoreWriteFailure);
    EXPECT_EQ(inner.getOrchestration("o1")->state, OrchestrationState::Pending);
}

TEST(Simulation, AStoreFailureUnderTheEngineRestartsItAndNothingIsLost) {
    Scenario sc = parseScenario(R"({
      "seed": 5, "fleet": {"size": 60}, "faults": {"duration": {"distribution": "fixed", "value": "20m"}},
      "timeline": [
        {"at": "+0s", "event": "submit", "body": {"targets": {"include": [{"target": "all"}]},
          "strategy": {"type": "parallel", "schedule": "immediate", "parallel": {"workers": 5}},
          "kyma": {"version": "2.20.0"}}},
        {"at": "+30m", "event": "storeFailure", "writes": 2}
      ],
      "expect": {"orchestrations": [{"state": "succeeded"}], "nothingLostAcrossRestarts": true,
                 "noRuntimeUpgradedTwice": true, "allFinished": true}
    })", "t.json");
    Simulation sim(std::move(sc));
    std::vector<std::string> lines;
    sim.setTraceSink([&](const std::string& l) { lines.push_back(l); });
    sim.runToEnd();
    EXPECT_EQ(sim.fatalRestarts(), 2);  // two writes failed, each killed the engine
    EXPECT_EQ(sim.restarts(), 2);
    int fatal = 0;
    for (const auto& l : lines) fatal += l.find("\"kind\":\"sim.fatal\"") != std::string::npos;
    EXPECT_EQ(fatal, 2);
    for (const auto& c : sim.checks()) EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
}

TEST(Simulation, AStoreFailureUnderARequestIsA500AndTheEngineLivesOn) {
    Scenario sc = parseScenario(R"({
      "fleet": {"size": 10},
      "timeline": [
        {"at": "+0s", "event": "storeFailure"},
        {"at": "+0s", "event": "submit", "expectStatus": 500, "body": {"targets": {"include": [{"target": "all"}]},
          "strategy": {"type": "parallel", "schedule": "immediate"}, "kyma": {"version": "2.20.0"}}},
        {"at": "+1m", "event": "submit", "body": {"targets": {"include": [{"target": "all"}]},
          "strategy": {"type": "parallel", "schedule": "immediate"}, "kyma": {"version": "2.20.0"}}}
      ],
      "expect": {"orchestrations": [{"index": 1, "state": "succeeded"}]}
    })", "t.json");
    Simulation sim(std::move(sc));
    sim.runToEnd();
    EXPECT_EQ(sim.fatalRestarts(), 0);
    EXPECT_EQ(sim.restarts(), 0);
    EXPECT_EQ(sim.orchestrations().size(), 1u);  // the first submit was not accepted
    for (const auto& c : sim.checks()) EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
}

// ------------------------------------------------------------------ checkers

TEST(Checkers, EveryExpectFieldIsARegisteredCheckerDocumentedInTheReadme) {
    std::ifstream in(std::string(KEB_SCENARIO_DIR) + "/README.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string readme = ss.str();
    ASSERT_FALSE(readme.empty());
    const auto& all = checkerRegistry();
    ASSERT_GE(all.size(), 12u);
    for (const CheckerSpec* c : all) {
        EXPECT_FALSE(c->testOnly);  // not without KEB_SIM_TEST_CHECKERS=1
        EXPECT_NE(readme.find(std::string("| `") + c->name + "` |"), std::string::npos)
            << c->name << " has no row in the README's expect table";
        EXPECT_EQ(findChecker(c->name), c);
    }
    EXPECT_EQ(findChecker("testOnlyNoFailedOperations"), nullptr);
    EXPECT_EQ(findChecker("noSuchInvariant"), nullptr);
}

TEST(Checkers, OnlyTheCheckersAScenarioAsksForGiveVerdicts) {
    Scenario sc = parseScenario(R"({"fleet": {"size": 5}, "expect": {"allFinished": true, "workersNeverExceeded": false,
                                    "upgrades": 0}})", "t.json");
    Simulation sim(std::move(sc));
    sim.runToEnd();
    std::vector<std::string> names;
    for (const auto& c : sim.checks()) names.push_back(c.name);
    EXPECT_EQ(names, (std::vector<std::string>{"allFinished", "upgrades"}));  // registry order, false skipped
}

TEST(Simulation, ARecoveryWhoseStoreWriteFailsIsTriedAgain) {
    // Pending window operations are re-placed by recovery when a runtime's window changed while
    // the broker was down: that is a store write during recover().
    Scenario sc = parseScenario(R"({
      "fleet": {"size": 0, "runtimes": [
        {"runtimeID": "rt-1", "windowBegin": "220000+0000", "windowEnd": "230000+0000"},
        {"runtimeID": "rt-2", "windowBegin": "220000+0000", "windowEnd": "230000+0000"}]},
      "faults": {"duration": {"distribution": "fixed", "value": "10m"}},
      "timeline": [
        {"at": "+0s", "event": "submit", "body": {"targets": {"include": [{"target": "all"}]},
          "strategy": {"type": "parallel", "schedule": "maintenanceWindow", "parallel": {"workers": 2}},
          "kyma": {"version": "2.20.0"}}}
      ],
      "expect": {"orchestrations": [{"state": "succeeded", "totalOperations": 2}], "nothingLostAcrossRestarts": true,
                 "allStartedInsideWindow": true, "noRuntimeUpgradedTwice": true}
    })", "t.json");
    Simulation sim(std::move(sc));
    std::vector<std::string> lines;
    sim.setTraceSink([&](const std::string& l) { lines.push_back(l); });
    sim.advanceTo(sim.startTime() + kHour);
    ASSERT_TRUE(sim.setWindow("rt-1", "050000+0000", "060000+0000"));
    sim.storeFailure(1);
    sim.restart();
    EXPECT_EQ(sim.restarts(), 2);  // the explicit one, and again after the recovery failed
    EXPECT_EQ(sim.fatalRestarts(), 1);
    int duringRecover = 0;
    for (const auto& l : lines) duringRecover += l.find("\"during\":\"recover\"") != std::string::npos;
    EXPECT_EQ(duringRecover, 1);
    sim.runToEnd();
    for (const auto& c : sim.checks()) EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
}

// ------------------------------------------------------------------ SPEC 10

namespace {
// A synthetic engine event fed into the simulation as if the engine had reported it: the driver's
// bookkeeping and the watching checkers see it (a bad trace for checkers that judge events).
void feed(Simulation& s, const char* kind, const std::string& orch, const std::string& op, Millis at,
          const char* state = "", const char* stage = "") {
    EngineEvent e;
    e.at = at;
    e.kind = kind;
    e.orchestrationID = orch;
    e.operationID = op;
    e.runtimeID = op.empty() ? std::string_view() : std::string_view("rt-fake");
    e.state = state;
    e.stage = stage;
    s.onEvent(e);
}
}  // namespace

TEST(Stages, StageEventsAreLoggedWithTheStageName) {
    Simulation s(load("stage_canary_budget_zero.json"));
    std::vector<std::string> stageLines;
    int pausedLines = 0;
    s.setTraceSink([&](const std::string& line) {
        if (line.find("\"kind\":\"stage.") != std::string::npos) stageLines.push_back(line);
        if (line.find("\"kind\":\"orchestration.state\"") != std::string::npos &&
            line.find("\"state\":\"paused\"") != std::string::npos)
            ++pausedLines;
    });
    s.runToEnd();
    ASSERT_EQ(stageLines.size(), 4u);  // canary started, finished; rest started, finished (no soak)
    EXPECT_NE(stageLines[0].find("\"kind\":\"stage.started\",\"orchestrationID\":\""), std::string::npos) << stageLines[0];
    EXPECT_NE(stageLines[0].find("\"stage\":\"canary\",\"state\":\"in progress\",\"detail\":\"4 operations\""),
              std::string::npos)
        << stageLines[0];
    EXPECT_NE(stageLines[1].find("\"kind\":\"stage.finished\""), std::string::npos);
    EXPECT_NE(stageLines[1].find("\"stage\":\"canary\",\"state\":\"failed\",\"detail\":\"1 of 4 operations failed\""),
              std::string::npos)
        << stageLines[1];
    EXPECT_NE(stageLines[3].find("\"stage\":\"rest\",\"state\":\"succeeded\""), std::string::npos) << stageLines[3];
    EXPECT_EQ(pausedLines, 1);
    EXPECT_TRUE(s.summary()["passed"].get<bool>());
}

// stagesInOrder judges the store: an operation of a later stage that started before the earlier
// stage's last operation ended plus its soak is a violation, one at exactly that time is not.
TEST(Stages, StagesInOrderDetectsAStartBeforeTheEarlierStageEndedPlusItsSoak) {
    Simulation s(load("stage_soak_windows_restart.json"));
    s.runToEnd();
    ASSERT_TRUE(checkOk(s.checks(), "stagesInOrder")) << findCheck(s.checks(), "stagesInOrder")->detail;
    const auto ops = opsOf(s, 0);
    Millis trialEnd = 0;
    for (const Operation& op : ops)
        if (op.stage == "trial") trialEnd = std::max(trialEnd, op.updatedAt);
    ASSERT_GT(trialEnd, 0);
    Operation aws;
    for (const Operation& op : ops)
        if (op.stage == "aws" && op.startedAt != 0) {
            aws = op;
            break;
        }
    ASSERT_FALSE(aws.operationID.empty());
    EXPECT_GE(aws.startedAt, trialEnd + kDay);

    aws.startedAt = trialEnd + kDay;  // exactly at the soak's end: allowed
    s.store().updateOperation(aws);
    EXPECT_TRUE(checkOk(s.checks(), "stagesInOrder")) << findCheck(s.checks(), "stagesInOrder")->detail;

    aws.startedAt = trialEnd + kDay - kMinute;  // during the soak
    s.store().updateOperation(aws);
    auto checks = s.checks();
    const CheckResult* c = findCheck(checks, "stagesInOrder");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("1 violation(s)"), std::string::npos) << c->detail;
    EXPECT_NE(c->detail.find("operation " + aws.operationID + " of stage \"aws\""), std::string::npos) << c->detail;
    EXPECT_NE(c->detail.find("plus its soak 24h"), std::string::npos) << c->detail;

    // An unfinished operation in an earlier stage: the later stage must not have started at all.
    aws.startedAt = trialEnd + 2 * kDay;
    s.store().updateOperation(aws);
    ASSERT_TRUE(checkOk(s.checks(), "stagesInOrder"));
    for (Operation op : ops)
        if (op.stage == "trial") {
            op.state = OperationState::InProgress;
            s.store().updateOperation(op);
            break;
        }
    checks = s.checks();
    c = findCheck(checks, "stagesInOrder");
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("operation(s) unfinished"), std::string::npos) << c->detail;
}

TEST(Stages, NoStartWhilePausedDetectsAStartOfAPausedOrchestration) {
    Simulation s(load("pause_resume_restart.json"));
    s.runToEnd();
    auto checks = s.checks();
    ASSERT_TRUE(checkOk(checks, "noStartWhilePaused"));
    EXPECT_NE(findCheck(checks, "noStartWhilePaused")->detail.find("1 pause(s) seen, 0 start(s)"), std::string::npos)
        << findCheck(checks, "noStartWhilePaused")->detail;
    const std::string id = s.orchestrations()[0].orchestrationID;
    const Millis t = s.now() + kHour;
    feed(s, "operation.start", id, "op-before-pause", t, "in progress");  // not paused: fine
    ASSERT_TRUE(checkOk(s.checks(), "noStartWhilePaused"));
    feed(s, "orchestration.state", id, "", t, "paused");
    feed(s, "operation.start", id, "op-while-paused", t + kMinute, "in progress");
    checks = s.checks();
    const CheckResult* c = findCheck(checks, "noStartWhilePaused");
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("operation op-while-paused of paused orchestration " + id), std::string::npos) << c->detail;
    feed(s, "orchestration.state", id, "", t + 2 * kMinute, "in progress");  // resumed
    feed(s, "operation.start", id, "op-after-resume", t + 3 * kMinute, "in progress");
    EXPECT_NE(findCheck(s.checks(), "noStartWhilePaused")->detail.find("2 pause(s) seen, 1 start(s) while paused"),
              std::string::npos);
}

TEST(Stages, NoStartInBlackoutDetectsStartsInTheEnginesAndTheRequestsBlackouts) {
    Simulation s(load("blackout_weekend_windows.json"));
    s.runToEnd();
    ASSERT_TRUE(checkOk(s.checks(), "noStartInBlackout")) << findCheck(s.checks(), "noStartInBlackout")->detail;
    const std::string id = s.orchestrations()[0].orchestrationID;
    auto violations = [&]() {
        const std::string d = findCheck(s.checks(), "noStartInBlackout")->detail;
        return std::stoi(d.substr(d.find(", ") + 2));
    };
    EXPECT_EQ(violations(), 0);
    feed(s, "operation.start", id, "op-friday-9", *parseRfc3339("2026-01-09T09:00:00Z"), "in progress");
    feed(s, "operation.start", id, "op-monday-6", *parseRfc3339("2026-01-12T06:00:00Z"), "in progress");  // [from, to)
    EXPECT_EQ(violations(), 0);
    feed(s, "operation.start", id, "op-saturday", *parseRfc3339("2026-01-10T12:00:00Z"), "in progress");  // the engine's
    EXPECT_EQ(violations(), 1);
    feed(s, "operation.start", id, "op-friday-7", *parseRfc3339("2026-01-09T07:00:00Z"), "in progress");  // the request's
    EXPECT_EQ(violations(), 2);
    feed(s, "operation.start", "another-orchestration", "op-x", *parseRfc3339("2026-01-09T07:00:00Z"), "in progress");
    EXPECT_EQ(violations(), 2) << "the request's own blackout is not another orchestration's";
    const auto finalChecks = s.checks();  // (the pointer below points into it: ASan found a temporary here)
    const CheckResult* c = findCheck(finalChecks, "noStartInBlackout");
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("operation op-saturday of orchestration " + id + " started 2026-01-10T12:00:00Z"),
              std::string::npos)
        << c->detail;
}

// workersNeverExceeded takes a staged orchestration's limit from the stage the engine is at: the
// canary's 1 worker while it runs, the rest's 10 after.
TEST(Stages, WorkersNeverExceededUsesTheCurrentStagesWorkers) {
    Simulation s(load("stage_canary_budget_zero.json"));
    s.runToEnd();
    ASSERT_TRUE(checkOk(s.checks(), "workersNeverExceeded"));
    EXPECT_EQ(s.orchestrations()[0].peakRunning, 10);  // the rest stage used its 10 workers
    EXPECT_EQ(s.orchestrations()[0].limit, 10);         // after the last stage: the strategy's
    const std::string id = s.orchestrations()[0].orchestrationID;
    const Millis t = s.now() + kHour;
    feed(s, "stage.started", id, "", t, "in progress", "canary");
    EXPECT_EQ(s.orchestrations()[0].limit, 1);
    feed(s, "operation.start", id, "op-a", t, "in progress");
    EXPECT_TRUE(checkOk(s.checks(), "workersNeverExceeded"));
    feed(s, "operation.start", id, "op-b", t, "in progress");  // two at once in the canary stage
    const auto checks = s.checks();
    const CheckResult* c = findCheck(checks, "workersNeverExceeded");
    EXPECT_FALSE(c->ok);
    EXPECT_NE(c->detail.find("runs 2 > 1 (stage \"canary\")"), std::string::npos) << c->detail;
    EXPECT_NE(c->detail.find("/stages 1,10"), std::string::npos) << c->detail;
    feed(s, "stage.finished", id, "", t, "failed", "canary");
    EXPECT_EQ(s.orchestrations()[0].limit, 10);  // the next stage's
}

// Every SPEC 10 scenario drives its orchestrations through the API router: a paused
// orchestration's stages are visible on GET /orchestrations/{id}.
TEST(Stages, ThePausedCanaryIsVisibleThroughTheApi) {
    Simulation s(load("stage_canary_budget_zero.json"));
    s.advanceTo(s.startTime() + kHour);
    const std::string id = s.orchestrations()[0].orchestrationID;
    ApiResponse r = s.api("GET", "/orchestrations/" + id);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["state"], "paused");
    ASSERT_EQ(r.body["stages"].size(), 2u) << r.body.dump();
    EXPECT_EQ(r.body["stages"][0]["failures"], 1);
    EXPECT_EQ(r.body["stages"][1]["state"], "pending");
    s.runToEnd();  // the timeline resumes it
    EXPECT_TRUE(s.summary()["passed"].get<bool>()) << s.summary()["checks"].dump();
}

// SPEC 10: retried operations are not staged. The retry used to copy the failed operation's stage
// name, so the wire said "canary" for an operation the engine ran unstaged (and stagesInOrder,
// which reads the stage from the store, saw the canary end after the next stage's soak began).
TEST(Stages, RetriedOperationsAreNotStaged) {
    Simulation s(load("retry_after_budget_pause.json"));
    s.runToEnd();
    int retried = 0;
    for (const Operation& op : opsOf(s, 0))
        if (!op.retryOf.empty()) {
            ++retried;
            EXPECT_EQ(op.stage, "") << op.operationID;
        } else {
            EXPECT_FALSE(op.stage.empty()) << op.operationID;
        }
    EXPECT_EQ(retried, 4);
    EXPECT_TRUE(s.summary()["passed"].get<bool>()) << s.summary()["checks"].dump();
}

// ------------------------------------------------------------------ SPEC 14 notifications

namespace {

// 40 runtimes (small()), 4 workers, immediate; `notification` in the request, `engine` and
// `faults` extra JSON for the scenario.
Scenario notifying(bool engineOn, bool requestOn, const std::string& faultsExtra = "") {
    std::string body = submitBody(4);
    if (requestOn) body.insert(body.size() - 1, R"(,"notification":true)");
    return parseScenario(R"({"seed": 5, "fleet": {"size": 40, "deletingShare": 0},
        "faults": {"duration": {"distribution": "fixed", "value": "10m"}, "backendLatency": "30s")" +
                             faultsExtra + R"(},
        "engine": {"notifications": )" + (engineOn ? "true" : "false") + R"(},
        "timeline": [{"at": "+0s", "event": "submit", "body": )" + body + R"(}]})",
                         "notifying.json");
}

std::size_t countLines(Simulation& s, const std::string& needle) {
    std::size_t n = 0;
    s.setTraceSink([&](const std::string& line) { n += line.find(needle) != std::string::npos; });
    s.runToEnd();
    return n;
}

}  // namespace

TEST(Notifications, TheSinkDrainsTheRowsTheEngineWroteToTheStore) {
    Simulation s(notifying(true, true));
    const std::size_t lines = countLines(s, R"("kind":"sim.notify")");
    const NotificationSink& n = s.notifications();
    EXPECT_EQ(n.count(Notification::Kind::Create), 1);
    EXPECT_EQ(n.count(Notification::Kind::Start), 40);
    EXPECT_EQ(n.count(Notification::Kind::End), 40);
    EXPECT_EQ(n.count(Notification::Kind::Cancel), 0);
    EXPECT_EQ(n.tenantsAnnounced(), 40u);
    EXPECT_EQ(n.instancesStarted(), 40u);
    EXPECT_EQ(n.instancesEnded(), 40u);
    EXPECT_EQ(n.problems(), 0);
    EXPECT_EQ(s.store().pendingNotificationCount(), 0);  // every row marked delivered
    EXPECT_EQ(lines, 81u);                                // one sim.notify line each
    const Json sum = s.summary();
    EXPECT_EQ(sum["notifications"]["start"], 40);
    EXPECT_EQ(sum["notifications"]["queued"], 0);
}

// Without engine.notifications (keb-server without --notification-url) the engine writes no
// rows; the request's flag changes nothing in the log, and the report has no notifications part.
TEST(Notifications, OffInTheEngineNothingIsWrittenAndTheLogIsTheSame) {
    Simulation off(notifying(false, true));
    Simulation plain(notifying(false, false));
    Simulation optedOut(notifying(true, false));  // on in the engine, the request did not ask
    off.runToEnd();
    plain.runToEnd();
    optedOut.runToEnd();
    EXPECT_EQ(off.store().pendingNotificationCount(), 0);
    EXPECT_EQ(off.notifications().total(), 0);
    EXPECT_EQ(optedOut.notifications().total(), 0);
    EXPECT_EQ(off.eventLogHash(), plain.eventLogHash());
    EXPECT_EQ(optedOut.eventLogHash(), plain.eventLogHash());
    EXPECT_FALSE(off.summary().contains("notifications"));
}

// The service is down: rows stay in the store's outbox, across a restart, and all go out (once
// each) when it is up again, even when nothing else happens then.
TEST(Notifications, RowsWaitInTheOutboxWhileTheServiceIsDownAndSurviveARestart) {
    Simulation s(notifying(true, true, R"(, "notificationOutages": [{"from": "+1m", "to": "+10h"}])"));
    s.advanceTo(s.startTime() + kHour);
    const std::int64_t early = s.notifications().total();  // the create and the first 4 starts
    EXPECT_EQ(early, 5);
    const std::int64_t queued = s.store().pendingNotificationCount();
    EXPECT_GT(queued, 10);
    s.restart();
    EXPECT_EQ(s.store().pendingNotificationCount(), queued);
    EXPECT_EQ(s.notifications().total(), early);
    s.advanceTo(s.startTime() + 10 * kHour - kSecond);
    EXPECT_EQ(s.notifications().total(), early);  // still down; the rollout has finished
    EXPECT_EQ(s.store().pendingNotificationCount(), 81 - early);
    s.runToEnd();
    EXPECT_EQ(s.now(), s.startTime() + 10 * kHour);  // the service came back: that was an event
    EXPECT_EQ(s.store().pendingNotificationCount(), 0);
    EXPECT_EQ(s.notifications().count(Notification::Kind::Start), 40);
    EXPECT_EQ(s.notifications().count(Notification::Kind::End), 40);
    EXPECT_EQ(s.notifications().problems(), 0);
}

// The payload checks can fail: rows that break keb/notify.h's shapes, or name a tenant their
// orchestration never announced, are counted as problems with a sample each.
TEST(Notifications, PayloadsThatBreakTheContractAreReported) {
    MemoryStore store;
    Store::WriteBatch b;
    auto row = [&](Notification::Kind k, std::string id, std::string payload) {
        Notification& n = b.notifications.emplace_back();
        n.kind = k;
        n.orchestrationID = std::move(id);
        n.payload = std::move(payload);
    };
    row(Notification::Kind::Create, "o1", createEventPayload("o1", OrchestrationType::UpgradeKyma, {{"i1", "a", "b"}}));
    row(Notification::Kind::Start, "o1", startEventPayload("o1", "i1", 0));     // fine
    row(Notification::Kind::Start, "o1", startEventPayload("o1", "i2", 0));     // never announced
    row(Notification::Kind::End, "o1", startEventPayload("o1", "i1", 0));       // eventState "1" in an end
    row(Notification::Kind::Start, "o1", startEventPayload("o2", "i1", 0));     // another orchestration's id
    row(Notification::Kind::Cancel, "o1", "not json");
    row(Notification::Kind::End, "o1", endEventPayload("o1", "i1", 0));         // fine
    store.apply(b);
    NotificationSink sink;
    std::vector<std::int64_t> seen;
    EXPECT_EQ(sink.drain(store, [&](const Notification& n, std::size_t) { seen.push_back(n.sequence); }), 7u);
    EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(store.pendingNotificationCount(), 0);
    EXPECT_EQ(sink.problems(), 4);
    ASSERT_EQ(sink.problemSamples().size(), 4u);
    EXPECT_NE(sink.problemSamples()[0].find("tenant i2 was never announced"), std::string::npos);
    EXPECT_NE(sink.problemSamples()[1].find("eventState \"2\""), std::string::npos);
    EXPECT_NE(sink.problemSamples()[2].find("orchestrationId is not the row's"), std::string::npos);
    EXPECT_NE(sink.problemSamples()[3].find("not a JSON object"), std::string::npos);
    EXPECT_EQ(sink.count(Notification::Kind::Start), 3);
    EXPECT_EQ(sink.endsWithoutStart(), 0);
    EXPECT_EQ(sink.drain(store, nullptr), 0u);  // nothing twice
}
