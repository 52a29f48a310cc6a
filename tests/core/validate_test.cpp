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
    auto c = parse(R"({"targets":{"include":[{}]}})", kCluster);
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
        "exclude": [{"region": "eu-west-2", "unknownField": 1}]
      },
      "strategy": {"type": "parallel", "schedule": "2026-12-01T03:00:00+01:00", "maintenanceWindow": true,
                   "parallel": {"workers": 25}},
      "dryRun": true,
      "kyma": {"version": "2.20.0"},
      "kubernetes": "ignored for upgradeKyma",
      "somethingElse": [1, 2, 3]
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
      "kyma": 5})",
                   kCluster);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c->kubernetes, (KubernetesParams{"1.30.2", "gardenlinux", "1443.9"}));
    EXPECT_FALSE(c->kyma);
}

TEST(Validate, ScheduleForms) {
    auto sched = [](const char* s) {
        return parse(std::string(R"({"targets":{"include":[{}]},"strategy":{"schedule":)") + s + "}}");
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
    EXPECT_EQ(error(R"({"targets":{"include":[{}, 3]}})"), "targets.include[1] must be an object");
    EXPECT_EQ(error(R"({"targets":{"include":[{"target":"some"}]}})"), "targets.include[0].target must be \"all\"");
    EXPECT_EQ(error(R"({"targets":{"include":[{}],"exclude":[{"target":true}]}})"),
              "targets.exclude[0].target must be \"all\"");
    EXPECT_EQ(error(R"({"targets":{"include":[{}, {"region":"(eu"}]}})"),
              "targets.include[1].region: invalid regex: missing closing )");
    EXPECT_EQ(error(R"({"targets":{"include":[{"globalAccount":"a**"}]}})"),
              "targets.include[0].globalAccount: invalid regex: invalid nested repetition operator: `**`");
    EXPECT_EQ(error(R"({"targets":{"include":[{}],"exclude":[{"subAccount":"[z-a]"}]}})"),
              "targets.exclude[0].subAccount: invalid regex: invalid character class range: `z-a`");
    EXPECT_EQ(error(R"({"targets":{"include":[{"runtimeID":5}]}})"), "targets.include[0].runtimeID must be a string");
    EXPECT_EQ(error(R"({"targets":{"include":[{"region":["eu"]}]}})"), "targets.include[0].region must be a string");
    EXPECT_EQ(error(R"({"targets":{"include":[{"planName":true}]}})"), "targets.include[0].planName must be a string");
    EXPECT_EQ(error(R"({"targets":{"include":[{}],"exclude":{}}})"), "targets.exclude must be an array");
}

TEST(Validate, EmptyStringAndNullTargetFieldsAreUnset) {
    auto p = parse(R"({"targets":{"include":[{"region":"","runtimeID":null,"target":null}],"exclude":null}})");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->targets.include[0], Target{});
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
    auto p = parse(R"({"targets":{"include":[{"target":"all"}]},"x":")" + std::string(1000, '[') + "\"}");
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
        R"("strategy":{"type":"parallel","schedule":"2026-12-01T03:00:00Z","maintenanceWindow":true,"parallel":{"workers":3}},)"
        R"("dryRun":false,"kyma":{"version":"2.0"},"kubernetes":{"kubernetesVersion":"1.30"}})";
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
