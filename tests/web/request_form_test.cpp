// The new-orchestration form's request goes through the core's API router exactly as an HTTP
// client's would: every form setting must give an accepted request with the same normalised
// parameters, and bad settings the router's 400 naming the field.
#include <gtest/gtest.h>

#include "keb/sim/scenario.h"
#include "keb/sim/simulation.h"
#include "request_form.h"

namespace keb::web {
namespace {

sim::Simulation smallSim() {
    return sim::Simulation(sim::parseScenario(R"({"name":"form","maxDuration":"2d","fleet":{"size":40}})", "form.json"));
}

Json submit(sim::Simulation& s, const RequestForm& f, int expectStatus) {
    ApiResponse r = s.api("POST", requestPath(f), requestBody(f).dump());
    EXPECT_EQ(r.status, expectStatus) << r.body.dump();
    if (r.status != 202) return r.body;
    ApiResponse o = s.api("GET", "/orchestrations/" + r.body["orchestrationID"].get<std::string>());
    EXPECT_EQ(o.status, 200);
    return o.body;
}

TEST(RequestForm, DefaultFormIsAcceptedAsKymaUpgradeOfAll) {
    auto s = smallSim();
    RequestForm f;
    EXPECT_EQ(requestPath(f), "/upgrade/kyma");
    Json o = submit(s, f, 202);
    EXPECT_EQ(o["type"], "upgradeKyma");
    const Json& p = o["parameters"];
    ASSERT_EQ(p["targets"]["include"].size(), 1u);
    EXPECT_EQ(p["targets"]["include"][0]["target"], "all");
    EXPECT_EQ(p["strategy"]["parallel"]["workers"], 10);
    EXPECT_EQ(p["strategy"]["schedule"], "immediate");
    EXPECT_EQ(p["strategy"]["maintenanceWindow"], false);
    EXPECT_EQ(p["kyma"]["version"], "2.20.0");
    EXPECT_EQ(p["dryRun"], false);
}

TEST(RequestForm, SchedulesMapToTheRequestForms) {
    auto s = smallSim();
    RequestForm f;
    f.schedule = 1;
    EXPECT_EQ(submit(s, f, 202)["parameters"]["strategy"]["schedule"], "now");
    // The seed's form "schedule": "maintenanceWindow" means maintenanceWindow: true.
    f.schedule = 2;
    Json o = submit(s, f, 202);
    EXPECT_EQ(o["parameters"]["strategy"]["maintenanceWindow"], true);
    // KEB's later form: maintenanceWindow flag plus a time.
    f.schedule = 3;
    f.scheduleTime = "2026-01-06T10:00:00Z";
    f.maintenanceWindow = true;
    o = submit(s, f, 202);
    EXPECT_EQ(o["parameters"]["strategy"]["schedule"], "2026-01-06T10:00:00Z");
    EXPECT_EQ(o["parameters"]["strategy"]["maintenanceWindow"], true);
    EXPECT_EQ(o["state"], "pending");
}

TEST(RequestForm, RulesClusterTypeAndDryRun) {
    auto s = smallSim();
    RequestForm f;
    f.type = 1;
    f.dryRun = true;
    f.include = {RuleRow{3, "west"}, RuleRow{4, "aws"}, RuleRow{6, ""}};  // the empty shoot row is left out
    f.exclude = {RuleRow{1, "^ga-none$"}};
    EXPECT_EQ(requestPath(f), "/upgrade/cluster");
    Json body = requestBody(f);
    ASSERT_EQ(body["targets"]["include"].size(), 2u);
    EXPECT_EQ(body["targets"]["include"][0], (Json{{"region", "west"}}));
    EXPECT_EQ(body["targets"]["include"][1], (Json{{"planName", "aws"}}));
    EXPECT_EQ(body["targets"]["exclude"][0], (Json{{"globalAccount", "^ga-none$"}}));
    EXPECT_FALSE(body.contains("kyma"));
    Json o = submit(s, f, 202);
    EXPECT_EQ(o["type"], "upgradeCluster");
    EXPECT_EQ(o["parameters"]["dryRun"], true);
    EXPECT_EQ(o["parameters"]["kubernetes"]["kubernetesVersion"], "1.30.2");
    EXPECT_EQ(o["parameters"]["kubernetes"]["machineImage"], "gardenlinux");
}

TEST(RequestForm, BadSettingsGetTheRoutersErrorNamingTheField) {
    auto s = smallSim();
    RequestForm f;
    f.workers = 0;
    Json e = submit(s, f, 400);
    EXPECT_NE(e["error"].get<std::string>().find("workers"), std::string::npos) << e.dump();
    f = RequestForm{};
    f.include = {RuleRow{3, ""}};  // nothing left to include
    e = submit(s, f, 400);
    EXPECT_NE(e["error"].get<std::string>().find("include"), std::string::npos) << e.dump();
    f = RequestForm{};
    f.schedule = 3;
    f.scheduleTime = "tomorrow";
    e = submit(s, f, 400);
    EXPECT_NE(e["error"].get<std::string>().find("schedule"), std::string::npos) << e.dump();
    f = RequestForm{};
    f.include = {RuleRow{1, "(unclosed"}};
    e = submit(s, f, 400);
    EXPECT_NE(e["error"].get<std::string>().find("globalAccount"), std::string::npos) << e.dump();
}

}  // namespace
}  // namespace keb::web
