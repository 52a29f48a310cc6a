// Request validation (SPEC 3): normalisation, 400 messages naming the field, robustness.
#include "keb/validate.h"

#include <gtest/gtest.h>

#include <random>

#include "keb/timefmt.h"

namespace keb {
namespace {

constexpr auto kKyma = OrchestrationType::UpgradeKyma;
constexpr auto kCluster = OrchestrationType::UpgradeCluster;

std::optional<Parameters> parse(std::string_view body, OrchestrationType type = kKyma) {
    std::string err;
    auto p = parseUpgradeRequest(type, body, &err);
    EXPECT_TRUE(p.has_value()) << body << " -> " << err;
    return p;
}

std::string error(std::string_view body, OrchestrationType type = kKyma) {
    std::string err;
    auto p = parseUpgradeRequest(type, body, &err);
    EXPECT_FALSE(p.has_value()) << body;
    EXPECT_FALSE(err.empty()) << body;
    return err;
}

TEST(Validate, MinimalBodyGetsDefaults) {
    auto p = parse(R"({"targets":{"include":[{"target":"all"}]}})");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->targets.include.size(), 1u);
    EXPECT_TRUE(p->targets.include[0].all);
    EXPECT_TRUE(p->targets.exclude.empty());
    EXPECT_EQ(p->strategy.type, "parallel");
    EXPECT_EQ(p->strategy.schedule, ScheduleKind::Immediate);
    EXPECT_FALSE(p->strategy.maintenanceWindow);
    EXPECT_EQ(p->strategy.workers, 1);
    EXPECT_FALSE(p->dryRun);
    // Missing kyma is accepted as an empty object (the broker's default version).
    ASSERT_TRUE(p->kyma);
    EXPECT_EQ(p->kyma->version, "");
    EXPECT_FALSE(p->kubernetes);
    auto c = parse(R"({"targets":{"include":[{"target":"all"}]}})", kCluster);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->kubernetes);
    EXPECT_EQ(*c->kubernetes, KubernetesParams{});
    EXPECT_FALSE(c->kyma);
}

TEST(Validate, FullBody) {
    auto p = parse(R"J({
      "targets": {
        "include": [{"globalAccount": "^GA", "subAccount": "SA", "region": "eu-(west|central)", "planName": "aws",
                     "shoot": "c-1", "instanceID": "i-1"},
                    {"runtimeID": "rt-1"}],
        "exclude": [{"region": "eu-west-2"}]
      },
      "strategy": {"type": "parallel", "schedule": "2026-12-01T03:00:00+01:00", "maintenanceWindow": true,
                   "parallel": {"workers": 25}},
      "dryRun": true,
      "kyma": {"version": "2.20.0"},
      "kubernetes": {}
    })J");
    ASSERT_TRUE(p);
    const Target& t = p->targets.include[0];
    EXPECT_EQ(t.globalAccount, "^GA");
    EXPECT_EQ(t.subAccount, "SA");
    EXPECT_EQ(t.region, "eu-(west|central)");
    EXPECT_EQ(t.planName, "aws");
    EXPECT_EQ(t.shoot, "c-1");
    EXPECT_EQ(t.instanceID, "i-1");
    EXPECT_FALSE(t.runtimeID);
    EXPECT_EQ(p->targets.include[1].runtimeID, "rt-1");
    EXPECT_EQ(p->targets.exclude[0].region, "eu-west-2");
    EXPECT_EQ(p->strategy.schedule, ScheduleKind::Time);
    EXPECT_EQ(p->strategy.scheduleTime, parseRfc3339("2026-12-01T02:00:00Z"));
    EXPECT_TRUE(p->strategy.maintenanceWindow);
    EXPECT_EQ(p->strategy.workers, 25);
    EXPECT_TRUE(p->dryRun);
    EXPECT_EQ(p->kyma->version, "2.20.0");
    EXPECT_FALSE(p->kubernetes);

    auto c = parse(R"({"targets":{"include":[{"target":"all"}]},
      "kubernetes":{"kubernetesVersion":"1.30.2","machineImage":"gardenlinux","machineImageVersion":"1443.9"},
      "kyma": {"version": null}})",
                   kCluster);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c->kubernetes, (KubernetesParams{"1.30.2", "gardenlinux", "1443.9"}));
    EXPECT_FALSE(c->kyma);
}

TEST(Validate, ScheduleForms) {
    auto sched = [](const char* s) {
        return parse(std::string(R"({"targets":{"include":[{"target":"all"}]},"strategy":{"schedule":)") + s + "}}");
    };
    auto p = sched(R"("maintenanceWindow")");  // the seed's form
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->strategy.maintenanceWindow);
    EXPECT_EQ(p->strategy.schedule, ScheduleKind::Immediate);
    p = sched(R"("now","maintenanceWindow":true)");  // KEB's later form
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->strategy.maintenanceWindow);
    EXPECT_EQ(p->strategy.schedule, ScheduleKind::Now);
    p = sched(R"("immediate")");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->strategy.schedule, ScheduleKind::Immediate);
    EXPECT_FALSE(p->strategy.maintenanceWindow);
    p = sched(R"("")");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->strategy.schedule, ScheduleKind::Immediate);
    p = sched(R"("2020-01-01T00:00:00Z")");  // the past is kept; the engine starts it now
    ASSERT_TRUE(p);
    EXPECT_EQ(p->strategy.scheduleTime, 1577836800000LL);
}

TEST(Validate, TargetErrors) {
    EXPECT_EQ(error(R"({})"), "targets.include must be a non-empty array");
    EXPECT_EQ(error(R"({"targets":[]})"), "targets must be an object");
    EXPECT_EQ(error(R"({"targets":{}})"), "targets.include must be a non-empty array");
    EXPECT_EQ(error(R"({"targets":{"include":[]}})"), "targets.include must be a non-empty array");
    EXPECT_EQ(error(R"({"targets":{"include":{"target":"all"}}})"), "targets.include must be a non-empty array");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}, 3]}})"), "targets.include[1] must be an object");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"some"}]}})"), "targets.include[0].target must be \"all\"");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}],"exclude":[{"target":true}]}})"),
              "targets.exclude[0].target must be \"all\"");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}, {"region":"(eu"}]}})"),
              "targets.include[1].region: invalid regex: missing closing )");
    EXPECT_EQ(error(R"({"targets":{"include":[{"globalAccount":"a**"}]}})"),
              "targets.include[0].globalAccount: invalid regex: invalid nested repetition operator: `**`");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}],"exclude":[{"subAccount":"[z-a]"}]}})"),
              "targets.exclude[0].subAccount: invalid regex: invalid character class range: `z-a`");
    EXPECT_EQ(error(R"({"targets":{"include":[{"runtimeID":5}]}})"), "targets.include[0].runtimeID must be a string");
    EXPECT_EQ(error(R"({"targets":{"include":[{"region":["eu"]}]}})"), "targets.include[0].region must be a string");
    EXPECT_EQ(error(R"({"targets":{"include":[{"planName":true}]}})"), "targets.include[0].planName must be a string");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}],"exclude":{}}})"), "targets.exclude must be an array");
}

TEST(Validate, EmptyStringAndNullTargetFieldsAreUnset) {
    auto p = parse(R"({"targets":{"include":[{"region":"","runtimeID":"rt-1","target":null,"shoot":""}],"exclude":null}})");
    ASSERT_TRUE(p);
    Target only;
    only.runtimeID = "rt-1";
    EXPECT_EQ(p->targets.include[0], only);
}

// A target that sets nothing would match every runtime (SPEC 3): the whole fleet must be asked
// for with {"target": "all"}, so {} and a target of only empty or null values are 400.
TEST(Validate, EmptyTargetIsRejected) {
    const std::string includeMsg =
        ": empty target would select every runtime; write {\"target\": \"all\"} if that is meant, or set runtimeID, "
        "globalAccount, subAccount, region, planName, shoot or instanceID";
    EXPECT_EQ(error(R"({"targets":{"include":[{}]}})"), "targets.include[0]" + includeMsg);
    EXPECT_EQ(error(R"({"targets":{"include":[{"region":"eu"},{}]}})", kCluster), "targets.include[1]" + includeMsg);
    EXPECT_EQ(error(R"({"targets":{"include":[{"runtimeID":"","region":null,"target":null}]}})"),
              "targets.include[0]" + includeMsg);
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}],"exclude":[{"planName":""}]}})"),
              "targets.exclude[0]: empty target would exclude every runtime; set the field(s) to exclude");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all"}],"exclude":[{}]}})"),
              "targets.exclude[0]: empty target would exclude every runtime; set the field(s) to exclude");
    // One set field is enough, and "all" is still all.
    EXPECT_TRUE(parse(R"({"targets":{"include":[{"target":"all"}],"exclude":[{"target":"all"}]}})"));
    EXPECT_TRUE(parse(R"({"targets":{"include":[{"shoot":"c-1","region":""}]}})"));
}

// Strict fields (SPEC 3): an unknown field at any level is a 400 naming its JSON path, with a
// hint for a case-only difference or a near miss, or for a field of another object.
TEST(Validate, UnknownFieldAtEveryLevelIsNamed) {
    const std::string all = R"("targets":{"include":[{"target":"all"}]})";
    struct Case {
        std::string body;
        std::string message;
        OrchestrationType type = kKyma;
    } cases[] = {
        // top
        {"{" + all + R"(,"dryrun":true})", R"(dryrun: unknown field (did you mean "dryRun"?))"},
        {R"({"Targets":{"include":[{"target":"all"}]}})", R"(Targets: unknown field (did you mean "targets"?))"},
        {"{" + all + R"(,"kubernets":{}})", R"(kubernets: unknown field (did you mean "kubernetes"?))", kCluster},
        {"{" + all + R"(,"preview":true})", "preview: unknown field"},
        // targets
        {R"({"targets":{"include":[{"target":"all"}],"exlude":[{"region":"eu"}]}})",
         R"(targets.exlude: unknown field (did you mean "exclude"?))"},
        {R"({"targets":{"Include":[{"target":"all"}]}})", R"(targets.Include: unknown field (did you mean "include"?))"},
        // include and exclude targets: the issue's own example first
        {R"({"targets":{"include":[{"runtimeId":"rt-1"}]}})",
         R"(targets.include[0].runtimeId: unknown field (did you mean "runtimeID"?))"},
        {R"({"targets":{"include":[{"target":"all"},{"globalaccount":"GA"}]}})",
         R"(targets.include[1].globalaccount: unknown field (did you mean "globalAccount"?))"},
        {R"({"targets":{"include":[{"runtimeID":"rt-1","subacount":"x"}]}})",
         R"(targets.include[0].subacount: unknown field (did you mean "subAccount"?))"},
        {R"({"targets":{"include":[{"target":"all"}],"exclude":[{"regoin":"eu"}]}})",
         R"(targets.exclude[0].regoin: unknown field (did you mean "region"?))", kCluster},
        {R"({"targets":{"include":[{"target":"all"}],"exclude":[{"instanceId":"i-1"}]}})",
         R"(targets.exclude[0].instanceId: unknown field (did you mean "instanceID"?))"},
        {R"({"targets":{"include":[{"shootName":"c-1"}]}})", "targets.include[0].shootName: unknown field"},
        // strategy
        {"{" + all + R"(,"strategy":{"schedul":"now"}})", R"(strategy.schedul: unknown field (did you mean "schedule"?))"},
        {"{" + all + R"(,"strategy":{"maintainanceWindow":true}})",
         R"(strategy.maintainanceWindow: unknown field (did you mean "maintenanceWindow"?))"},
        {"{" + all + R"(,"strategy":{"scheduleTime":"0001-01-01T00:00:00Z"}})",
         R"(strategy.scheduleTime: unknown field (did you mean "ScheduleTime"?))"},
        // strategy.parallel
        {"{" + all + R"(,"strategy":{"parallel":{"worker":5}}})",
         R"(strategy.parallel.worker: unknown field (did you mean "workers"?))"},
        {"{" + all + R"(,"strategy":{"parallel":{"workers":5,"max":9}}})", "strategy.parallel.max: unknown field"},
        // kyma
        {"{" + all + R"(,"kyma":{"verison":"2.21.0"}})", R"(kyma.verison: unknown field (did you mean "version"?))"},
        {"{" + all + R"(,"kyma":{"Version":"2.21.0"}})", R"(kyma.Version: unknown field (did you mean "version"?))"},
        // kubernetes
        {"{" + all + R"(,"kubernetes":{"kubernetesversion":"1.30"}})",
         R"(kubernetes.kubernetesversion: unknown field (did you mean "kubernetesVersion"?))", kCluster},
        {"{" + all + R"(,"kubernetes":{"machineImageVer":"1443"}})",
         "kubernetes.machineImageVer: unknown field", kCluster},
        // retryoperation (KEB's DTO)
        {"{" + all + R"(,"retryoperation":{"retryOperations":["op"]}})",
         R"(retryoperation.retryOperations: unknown field (did you mean "retryoperations"?))"},
        // a field of another object written in the wrong place
        {"{" + all + R"(,"version":"2.21.0"})", "version: unknown field (version belongs in kyma)"},
        {"{" + all + R"(,"strategy":{"workers":3}})",
         "strategy.workers: unknown field (workers belongs in strategy.parallel)"},
        {R"({"targets":{"include":[{"target":"all"}]},"runtimeID":"rt-1"})",
         "runtimeID: unknown field (runtimeID belongs in a targets.include or targets.exclude entry)"},
        {R"({"targets":{"runtimeID":"rt-1","include":[{"target":"all"}]}})",
         "targets.runtimeID: unknown field (runtimeID belongs in a targets.include or targets.exclude entry)"},
        {R"({"include":[{"target":"all"}],"targets":{"include":[{"target":"all"}]}})",
         "include: unknown field (include belongs in targets)"},
        {"{" + all + R"(,"kubernetes":{"version":"1.30"}})", "kubernetes.version: unknown field (version belongs in kyma)",
         kCluster},
        // odd keys are quoted; huge keys cut
        {"{" + all + R"(,"a b":1})", R"(["a b"]: unknown field)"},
        {R"({"targets":{"include":[{"target":"all","run\"time":1}]}})",
         R"(targets.include[0]["run\"time"]: unknown field)"},
        {R"({"targets":{"include":[{"target":"all"}]},"":1})", R"([""]: unknown field)"},
        {"{" + all + ",\"" + std::string(100, 'x') + "\":1}", "[\"" + std::string(64, 'x') + "...\"]: unknown field"},
    };
    for (const Case& c : cases) EXPECT_EQ(error(c.body, c.type), c.message) << c.body;
}

// The unknown field wins over what its absence would cause: the typo'd target is named, not
// reported as an empty target, and a typo is found before a bad value elsewhere in the body.
TEST(Validate, UnknownFieldIsReportedBeforeItsConsequences) {
    EXPECT_EQ(error(R"({"targets":{"include":[{"runtimeId":"rt-1"}]},"strategy":{"parallel":{"workers":0}}})"),
              R"(targets.include[0].runtimeId: unknown field (did you mean "runtimeID"?))");
    EXPECT_EQ(error(R"({"targets":{"include":[]},"dryrun":true})"), R"(dryrun: unknown field (did you mean "dryRun"?))");
    // A JSON null in an unknown field is still an unknown field.
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"all","regon":null}]}})"),
              R"(targets.include[0].regon: unknown field (did you mean "region"?))");
    // Keys built in code that are not valid UTF-8 are reported, not thrown.
    Json body = Json::parse(R"({"targets":{"include":[{"target":"all"}]}})");
    body["\xff\xfe"] = 1;
    std::string err;
    EXPECT_FALSE(parseUpgradeRequest(kKyma, body, &err));
    EXPECT_NE(err.find("unknown field"), std::string::npos) << err;
}

// Bodies exactly as KEB's Go client (kcp) marshals orchestration.Parameters: every struct
// field in declaration order, ScheduleTime (no json tag) under its Go name as the zero time,
// retryoperation always (omitempty does not drop a struct), omitempty fields left out.
TEST(Validate, BodiesAsKcpMarshalsThemAreAccepted) {
    // kcp upgrade kyma --target runtime-id=rt-1 --target "account=^GA" --target-exclude plan=trial
    //   --schedule maintenancewindow --parallel-workers 2 --version 2.21.0 --dry-run
    auto k = parse(
        R"({"targets":{"include":[{"runtimeID":"rt-1"},{"globalAccount":"^GA"}],"exclude":[{"planName":"trial"}]},)"
        R"("strategy":{"type":"parallel","schedule":"maintenanceWindow","ScheduleTime":"0001-01-01T00:00:00Z",)"
        R"("parallel":{"workers":2}},"dryRun":true,"kyma":{"version":"2.21.0"},"retryoperation":{}})");
    auto plain = parse(R"({"targets":{"include":[{"runtimeID":"rt-1"},{"globalAccount":"^GA"}],)"
                       R"("exclude":[{"planName":"trial"}]},"strategy":{"schedule":"maintenanceWindow",)"
                       R"("parallel":{"workers":2}},"dryRun":true,"kyma":{"version":"2.21.0"}})");
    ASSERT_TRUE(k && plain);
    EXPECT_EQ(*k, *plain);
    EXPECT_TRUE(k->strategy.maintenanceWindow);

    // Every DTO field set, KEB's later schedule form, the kubernetes object present but empty
    // (a client filling both pointers), retry fields and notification.
    auto full = parse(
        R"({"targets":{"include":[{"target":"all","globalAccount":"GA","subAccount":"SA","region":"eu",)"
        R"("runtimeID":"rt","planName":"aws","shoot":"c-1","instanceID":"i-1"}],"exclude":[{"shoot":"c-2"}]},)"
        R"("strategy":{"type":"parallel","schedule":"2026-12-01T03:00:00Z","ScheduleTime":"0001-01-01T00:00:00Z",)"
        R"("maintenanceWindow":true,"parallel":{"workers":5}},"dryRun":true,)"
        R"("kubernetes":{"kubernetesVersion":"","machineImage":"","machineImageVersion":""},)"
        R"("kyma":{"version":"2.21.0"},"retryoperation":{"retryoperations":["op-1","op-2"],"immediate":true},)"
        R"("notification":true})");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->targets.include[0].instanceID, "i-1");
    EXPECT_EQ(full->strategy.schedule, ScheduleKind::Time);
    EXPECT_EQ(full->strategy.scheduleTime, parseRfc3339("2026-12-01T03:00:00Z"));
    EXPECT_TRUE(full->strategy.maintenanceWindow);
    EXPECT_EQ(full->strategy.workers, 5);
    EXPECT_EQ(full->kyma->version, "2.21.0");
    EXPECT_FALSE(full->kubernetes);

    // kcp upgrade cluster --target all --parallel-workers 1 (no kubernetes object: KEB picks).
    auto c = parse(R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel",)"
                   R"("ScheduleTime":"0001-01-01T00:00:00Z","parallel":{"workers":1}},"retryoperation":{}})",
                   kCluster);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c->kubernetes, KubernetesParams{});
    auto cFull = parse(
        R"({"targets":{"include":[{"region":"eu"}]},"strategy":{"type":"parallel","schedule":"now",)"
        R"("ScheduleTime":"0001-01-01T00:00:00Z","parallel":{"workers":3}},)"
        R"("kubernetes":{"kubernetesVersion":"1.30.2","machineImage":"gardenlinux","machineImageVersion":"1443.9"},)"
        R"("kyma":{},"retryoperation":{"immediate":"true"},"notification":false})",
        kCluster);
    ASSERT_TRUE(cFull);
    EXPECT_EQ(*cFull->kubernetes, (KubernetesParams{"1.30.2", "gardenlinux", "1443.9"}));
    EXPECT_EQ(cFull->strategy.schedule, ScheduleKind::Now);
    EXPECT_FALSE(cFull->kyma);
}

// The accepted-and-ignored KEB fields are still type-checked as KEB's decoder would.
TEST(Validate, IgnoredKebFieldsAreTypeChecked) {
    auto body = [](const std::string& extra) { return R"({"targets":{"include":[{"target":"all"}]},)" + extra + "}"; };
    EXPECT_EQ(error(body(R"("strategy":{"ScheduleTime":5})")), "strategy.ScheduleTime must be a string (an RFC 3339 time)");
    EXPECT_EQ(error(body(R"("strategy":{"ScheduleTime":"soon"})")),
              "strategy.ScheduleTime: invalid time \"soon\" (want RFC 3339)");
    EXPECT_EQ(error(body(R"("retryoperation":[])")), "retryoperation must be an object");
    EXPECT_EQ(error(body(R"("retryoperation":{"retryoperations":"op-1"})")),
              "retryoperation.retryoperations must be an array of strings");
    EXPECT_EQ(error(body(R"("retryoperation":{"retryoperations":["op-1",2]})")),
              "retryoperation.retryoperations[1] must be a string");
    for (const char* v : {R"("yes")", "2", "[]", R"("")"})
        EXPECT_EQ(error(body(std::string(R"("retryoperation":{"immediate":)") + v + "}")),
                  R"(retryoperation.immediate must be a boolean (or "true"/"false"))")
            << v;
    // KEB's stringBoolean reads the JSON text with quotes trimmed through strconv.ParseBool.
    for (const char* v : {"true", "false", R"("true")", R"("False")", R"("1")", R"("f")", "1", "0", "null"})
        EXPECT_TRUE(parse(body(std::string(R"("retryoperation":{"immediate":)") + v + "}"))) << v;
    EXPECT_EQ(error(body(R"("notification":"yes")")), "notification must be a boolean");
    EXPECT_TRUE(parse(body(R"("notification":null,"retryoperation":null)")));
}

// A real time in ScheduleTime is a start time this broker would drop (the rollout would start
// at once): refused unless `schedule` already says when (KEB overwrote ScheduleTime then).
TEST(Validate, ScheduleTimeIsIgnoredOnlyWhereKebIgnoredIt) {
    auto body = [](const std::string& strategy) {
        return R"({"targets":{"include":[{"target":"all"}]},"strategy":)" + strategy + "}";
    };
    const std::string msg =
        "strategy.ScheduleTime is not used as a start time: put it in strategy.schedule (ScheduleTime is accepted as "
        "KEB's client sends it, 0001-01-01T00:00:00Z)";
    EXPECT_EQ(error(body(R"({"ScheduleTime":"2026-12-01T00:00:00Z"})")), msg);
    EXPECT_EQ(error(body(R"({"schedule":"immediate","ScheduleTime":"2026-12-01T00:00:00Z"})")), msg);
    EXPECT_EQ(error(body(R"({"schedule":"maintenanceWindow","ScheduleTime":"2026-12-01T00:00:00Z"})")), msg);
    auto now = parse(body(R"({"schedule":"now","ScheduleTime":"2026-12-01T00:00:00Z"})"));
    ASSERT_TRUE(now);
    EXPECT_EQ(now->strategy.schedule, ScheduleKind::Now);
    EXPECT_FALSE(now->strategy.scheduleTime);
    auto at = parse(body(R"({"schedule":"2026-12-02T00:00:00Z","ScheduleTime":"2026-12-01T00:00:00Z"})"));
    ASSERT_TRUE(at);
    EXPECT_EQ(at->strategy.scheduleTime, parseRfc3339("2026-12-02T00:00:00Z"));
    // Go's zero time in another spelling of the same instant is still the zero time.
    EXPECT_TRUE(parse(body(R"({"ScheduleTime":"0001-01-01T01:00:00+01:00"})")));
}

// KEB's DTO has both kyma and kubernetes: the other type's object is checked like the real one
// and accepted while it sets nothing; a value in it would be ignored by this request, so 400.
TEST(Validate, OtherTypesObjectMustNotSetAnything) {
    const std::string all = R"("targets":{"include":[{"target":"all"}]})";
    auto k = parse("{" + all + R"(,"kubernetes":{"kubernetesVersion":"","machineImage":null}})");
    ASSERT_TRUE(k);
    EXPECT_FALSE(k->kubernetes);
    EXPECT_EQ(error("{" + all + R"(,"kubernetes":{"machineImage":"gardenlinux"}})"),
              "kubernetes.machineImage: an upgradeKyma request does not change the cluster; send it to POST "
              "/upgrade/cluster or leave kubernetes out");
    EXPECT_EQ(error("{" + all + R"(,"kubernetes":{"kubernetesVersion":"1.30"},"kyma":{"version":"2.21.0"}})"),
              "kubernetes.kubernetesVersion: an upgradeKyma request does not change the cluster; send it to POST "
              "/upgrade/cluster or leave kubernetes out");
    EXPECT_EQ(error("{" + all + R"(,"kubernetes":"1.30"})"), "kubernetes must be an object");
    EXPECT_EQ(error("{" + all + R"(,"kubernetes":{"kubernetesVersion":1.3}})"),
              "kubernetes.kubernetesVersion must be a string");
    auto c = parse("{" + all + R"(,"kyma":{"version":""}})", kCluster);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->kyma);
    EXPECT_EQ(error("{" + all + R"(,"kyma":{"version":"2.21.0"}})", kCluster),
              "kyma.version: an upgradeCluster request does not change Kyma; send it to POST /upgrade/kyma or leave "
              "kyma out");
    EXPECT_EQ(error("{" + all + R"(,"kyma":5})", kCluster), "kyma must be an object");
    EXPECT_EQ(error("{" + all + R"(,"kyma":{"version":2}})", kCluster), "kyma.version must be a string");
}

TEST(Validate, StrategyErrors) {
    auto body = [](const std::string& strategy) {
        return R"({"targets":{"include":[{"target":"all"}]},"strategy":)" + strategy + "}";
    };
    EXPECT_EQ(error(body(R"("parallel")")), "strategy must be an object");
    EXPECT_EQ(error(body(R"({"type":"rolling"})")), "strategy.type: unsupported strategy \"rolling\" (only \"parallel\")");
    EXPECT_EQ(error(body(R"({"type":1})")), "strategy.type must be a string");
    EXPECT_EQ(error(body(R"({"schedule":"tomorrow"})")),
              "strategy.schedule: invalid time \"tomorrow\" (want immediate, now, maintenanceWindow or RFC 3339)");
    EXPECT_EQ(error(body(R"({"schedule":"2026-13-01T00:00:00Z"})")),
              "strategy.schedule: invalid time \"2026-13-01T00:00:00Z\" (want immediate, now, maintenanceWindow or "
              "RFC 3339)");
    EXPECT_EQ(error(body(R"({"schedule":12})")), "strategy.schedule must be a string");
    EXPECT_EQ(error(body(R"({"maintenanceWindow":"yes"})")), "strategy.maintenanceWindow must be a boolean");
    EXPECT_EQ(error(body(R"({"parallel":4})")), "strategy.parallel must be an object");
    for (const char* w : {"0", "-1", "1.5", "\"3\"", "1e30", "true", "[]", "2.0", "-0"})
        EXPECT_EQ(error(body(std::string(R"({"parallel":{"workers":)") + w + "}}")),
                  "strategy.parallel.workers must be an integer >= 1")
            << w;
    EXPECT_EQ(error(body(R"({"parallel":{"workers":3000000000}})")),
              "strategy.parallel.workers is too large (max 2147483647)");
    auto p = parse(body(R"({"parallel":{"workers":2147483647}})"));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->strategy.workers, 2147483647);
    p = parse(body(R"({"type":"","parallel":{}})"));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->strategy.workers, 1);
}

TEST(Validate, OtherFieldErrors) {
    const std::string t = R"("targets":{"include":[{"target":"all"}]})";
    EXPECT_EQ(error("{" + t + R"(,"dryRun":"true"})"), "dryRun must be a boolean");
    EXPECT_EQ(error("{" + t + R"(,"kyma":{"version":2}})"), "kyma.version must be a string");
    EXPECT_EQ(error("{" + t + R"(,"kyma":"2.0"})"), "kyma must be an object");
    EXPECT_EQ(error("{" + t + R"(,"kubernetes":[]})", kCluster), "kubernetes must be an object");
    EXPECT_EQ(error("{" + t + R"(,"kubernetes":{"machineImage":1}})", kCluster),
              "kubernetes.machineImage must be a string");
}

TEST(Validate, BodyErrors) {
    EXPECT_EQ(error("[]"), "body must be a JSON object");
    EXPECT_EQ(error("\"x\""), "body must be a JSON object");
    EXPECT_EQ(error("null"), "body must be a JSON object");
    const std::string notJson = error("{\"targets\":");
    EXPECT_EQ(notJson.rfind("body is not valid JSON: ", 0), 0u) << notJson;
    EXPECT_EQ(notJson.find("[json.exception"), std::string::npos) << notJson;
    EXPECT_EQ(error("").rfind("body is not valid JSON: ", 0), 0u);
    EXPECT_EQ(error("{} {}").rfind("body is not valid JSON: ", 0), 0u);
    EXPECT_EQ(error("{\"a\":\"\xff\"}").rfind("body is not valid JSON: ", 0), 0u);  // invalid UTF-8
    EXPECT_EQ(error(std::string(100000, '[')), "body is nested too deeply");
    EXPECT_EQ(error(std::string(65, '[') + std::string(65, ']')), "body is nested too deeply");
    // 64 levels are fine for the depth check (then it is not an object).
    EXPECT_EQ(error(std::string(64, '[') + std::string(64, ']')), "body must be a JSON object");
    // Brackets inside strings do not count.
    auto p = parse(R"({"targets":{"include":[{"target":"all"}]},"kyma":{"version":")" + std::string(1000, '[') +
                   "\"}}");
    EXPECT_TRUE(p);
    EXPECT_EQ(error(R"({"x":"\"[[[[)" + std::string(100, '[')).rfind("body is not valid JSON", 0), 0u);
}

TEST(Validate, JsonOverloadMatchesTextOverload) {
    const Json body = Json::parse(R"({"targets":{"include":[{"region":"eu"}]},"strategy":{"parallel":{"workers":3}}})");
    std::string e1, e2;
    auto a = parseUpgradeRequest(kKyma, body, &e1);
    auto b = parseUpgradeRequest(kKyma, body.dump(), &e2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    // An invalid-UTF-8 string built in code is reported, not thrown.
    Json bad = body;
    bad["strategy"]["type"] = "\xff";
    EXPECT_FALSE(parseUpgradeRequest(kKyma, bad, &e1));
    EXPECT_FALSE(e1.empty());
}

TEST(Validate, NormalisedFormRoundTrips) {
    auto p = parse(R"({"targets":{"include":[{"globalAccount":"x","planName":"aws"}],"exclude":[{"runtimeID":"r"}]},
                      "strategy":{"schedule":"2026-12-01T03:00:00.5Z","maintenanceWindow":true,"parallel":{"workers":4}},
                      "dryRun":true,"kyma":{"version":"2.1"}})");
    ASSERT_TRUE(p);
    EXPECT_EQ(parametersFromJson(toJson(*p)), *p);
    // The normalised form is itself a valid request that yields the same parameters.
    auto again = parse(toJson(*p).dump());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *p);
}

// Random bytes, truncations and mutations of a valid body never throw or crash.
TEST(Validate, NeverThrowsOnArbitraryInput) {
    const std::string valid =
        R"J({"targets":{"include":[{"globalAccount":"^GA-(1|2)","region":"eu"},{"target":"all"}],"exclude":[{"runtimeID":"x"}]},)J"
        R"("strategy":{"type":"parallel","schedule":"2026-12-01T03:00:00Z","ScheduleTime":"0001-01-01T00:00:00Z",)"
        R"("maintenanceWindow":true,"parallel":{"workers":3}},)"
        R"("dryRun":false,"kyma":{"version":"2.0"},"kubernetes":{"kubernetesVersion":""},)"
        R"("retryoperation":{"retryoperations":["op"],"immediate":"true"},"notification":false})";
    std::mt19937_64 rng(20261127);
    const std::string alphabet = "{}[]\",:0123456789.-+eEtrufalsn \\\x01" "\xff\xc3\xa9" "abcxyz";
    int accepted = 0;
    auto run = [&](const std::string& body) {
        std::string err;
        std::optional<Parameters> p;
        EXPECT_NO_THROW(p = parseUpgradeRequest(kKyma, body, &err));
        EXPECT_NO_THROW(parseUpgradeRequest(kCluster, body, &err));
        if (p) ++accepted;
        else EXPECT_FALSE(err.empty());
    };
    run(valid);
    EXPECT_EQ(accepted, 1);
    for (std::size_t n = 0; n < valid.size(); ++n) run(valid.substr(0, n));
    for (int i = 0; i < 3000; ++i) {
        std::string body = valid;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t pos = rng() % body.size();
            switch (rng() % 3) {
                case 0: body[pos] = alphabet[rng() % alphabet.size()]; break;
                case 1: body.erase(pos, 1 + rng() % 5); break;
                default: body.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
            }
            if (body.empty()) body = "{";
        }
        run(body);
    }
    for (int i = 0; i < 2000; ++i) {
        std::string body(rng() % 200, '\0');
        for (auto& c : body) c = static_cast<char>(rng() % 256);
        run(body);
    }
    for (int i = 0; i < 500; ++i) {
        std::string body;
        const std::size_t len = rng() % 300;
        for (std::size_t k = 0; k < len; ++k) body.push_back(alphabet[rng() % 12]);  // mostly structure
        run(body);
    }
    EXPECT_GE(accepted, 1);
}

}  // namespace
}  // namespace keb
