// Wire JSON (SPEC 2) field names and the lossless store form.
#include "keb/wire.h"

#include <gtest/gtest.h>

#include <set>

#include "keb/timefmt.h"
#include "keb/validate.h"

namespace keb {
namespace {

const Millis kT0 = *parseRfc3339("2026-11-27T17:05:25Z");

std::set<std::string> keys(const Json& j) {
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
    return out;
}

Parameters sampleParameters() {
    Parameters p;
    Target a;
    a.globalAccount = "^GA-1";
    a.region = "eu";
    Target b;
    b.all = true;
    Target ex;
    ex.runtimeID = "rt-9";
    ex.planName = "trial";
    ex.shoot = "c-123";
    ex.instanceID = "inst-1";
    ex.subAccount = "SA";
    p.targets.include = {a, b};
    p.targets.exclude = {ex};
    p.strategy.schedule = ScheduleKind::Time;
    p.strategy.scheduleTime = kT0 + 250;
    p.strategy.maintenanceWindow = true;
    p.strategy.workers = 7;
    p.dryRun = true;
    p.kyma = KymaParams{"2.20.0"};
    return p;
}

Operation sampleOperation() {
    Operation op;
    op.operationID = "op-1";
    op.orchestrationID = "orch-1";
    op.runtimeID = "rt-1";
    op.instanceID = "inst-1";
    op.globalAccountID = "GA";
    op.subAccountID = "SA";
    op.servicePlanID = "plan-id";
    op.servicePlanName = "aws";
    op.region = "eu-west-1";
    op.shootName = "c-1";
    op.dryRun = true;
    op.maintenanceWindowBegin = kT0 + kHour;
    op.maintenanceWindowEnd = kT0 + 2 * kHour;
    op.state = OperationState::InProgress;
    op.description = "upgrading";
    op.createdAt = kT0;
    op.updatedAt = kT0 + 5;
    op.seq = 42;
    op.startAt = kT0 + kHour;
    op.startedAt = kT0 + kHour + 7;
    op.upgradeStarted = true;
    op.immediate = true;
    op.retryOf = "op-0";
    op.kymaConfig = KymaParams{"2.20.0"};
    return op;
}

TEST(Wire, ErrorJson) { EXPECT_EQ(errorJson("bad \"x\"").dump(), R"({"error":"bad \"x\""})"); }

TEST(Wire, TargetEmitsOnlySetFields) {
    Target t;
    EXPECT_EQ(toJson(t), Json::object());
    t.all = true;
    EXPECT_EQ(toJson(t), (Json{{"target", "all"}}));
    Target r;
    r.region = "eu";
    r.runtimeID = "x";
    EXPECT_EQ(toJson(r), (Json{{"region", "eu"}, {"runtimeID", "x"}}));
}

TEST(Wire, ParametersNormalisedForm) {
    const Json j = toJson(sampleParameters());
    const Json expected = Json::parse(R"({
      "targets": {
        "include": [{"globalAccount": "^GA-1", "region": "eu"}, {"target": "all"}],
        "exclude": [{"runtimeID": "rt-9", "planName": "trial", "shoot": "c-123", "instanceID": "inst-1",
                     "subAccount": "SA"}]
      },
      "strategy": {"type": "parallel", "schedule": "2026-11-27T17:05:25.250Z", "maintenanceWindow": true,
                   "parallel": {"workers": 7}},
      "dryRun": true,
      "kyma": {"version": "2.20.0"}
    })");
    EXPECT_EQ(j, expected) << j.dump(2);

    Parameters c;
    c.targets.include = {Target{}};
    c.kubernetes = KubernetesParams{"1.30.1", "gardenlinux", "1443.3"};
    c.strategy.schedule = ScheduleKind::Now;
    const Json k = toJson(c);
    EXPECT_EQ(k["strategy"]["schedule"], "now");
    EXPECT_EQ(k["strategy"]["maintenanceWindow"], false);
    EXPECT_EQ(k["strategy"]["parallel"]["workers"], 1);
    EXPECT_EQ(k["targets"]["exclude"], Json::array());
    EXPECT_EQ(k["kubernetes"], (Json{{"kubernetesVersion", "1.30.1"}, {"machineImage", "gardenlinux"},
                                     {"machineImageVersion", "1443.3"}}));
    EXPECT_FALSE(k.contains("kyma"));
    c.strategy.schedule = ScheduleKind::Immediate;
    EXPECT_EQ(toJson(c)["strategy"]["schedule"], "immediate");
}

TEST(Wire, ParametersRoundTripThroughTheStoreForm) {
    const Parameters p = sampleParameters();
    EXPECT_EQ(parametersFromJson(toJson(p)), p);
    EXPECT_EQ(parametersFromJson(Json::parse(toJson(p).dump())), p);
}

TEST(Wire, OrchestrationObject) {
    Orchestration o;
    o.orchestrationID = "orch-1";
    o.type = OrchestrationType::UpgradeCluster;
    o.state = OrchestrationState::InProgress;
    o.description = "Scheduled 3 operations";
    o.createdAt = kT0;
    o.updatedAt = kT0 + 1500;
    o.parameters = sampleParameters();
    o.seq = 9;
    Json j = toJson(o);
    EXPECT_EQ(keys(j), (std::set<std::string>{"orchestrationID", "type", "state", "description", "createdAt",
                                              "updatedAt", "parameters"}));
    EXPECT_EQ(j["type"], "upgradeCluster");
    EXPECT_EQ(j["state"], "in progress");
    EXPECT_EQ(j["createdAt"], "2026-11-27T17:05:25Z");
    EXPECT_EQ(j["updatedAt"], "2026-11-27T17:05:26.500Z");
    EXPECT_EQ(j["parameters"], toJson(o.parameters));
    OperationStats stats{{OperationState::InProgress, 3}, {OperationState::Failed, 1}};
    j = toJson(o, &stats);
    EXPECT_EQ(j["operationStats"],
              (Json{{"pending", 0}, {"in progress", 3}, {"succeeded", 0}, {"failed", 1}, {"canceled", 0}}));
}

TEST(Wire, OperationListItemAndDetail) {
    Operation op = sampleOperation();
    Json j = toJson(op);
    EXPECT_EQ(keys(j), (std::set<std::string>{"operationID", "runtimeID", "globalAccountID", "subAccountID",
                                              "orchestrationID", "servicePlanID", "servicePlanName", "dryRun",
                                              "shootName", "maintenanceWindowBegin", "maintenanceWindowEnd", "state",
                                              "description"}));
    EXPECT_EQ(j["maintenanceWindowBegin"], "2026-11-27T18:05:25Z");
    EXPECT_EQ(j["maintenanceWindowEnd"], "2026-11-27T19:05:25Z");
    EXPECT_EQ(j["state"], "in progress");
    EXPECT_EQ(j["dryRun"], true);
    EXPECT_EQ(j["servicePlanName"], "aws");
    Json d = toJson(op, true);
    EXPECT_EQ(d["kymaConfig"], (Json{{"version", "2.20.0"}}));
    EXPECT_FALSE(d.contains("clusterConfig"));
    d.erase("kymaConfig");
    EXPECT_EQ(d, j);

    op.kymaConfig.reset();
    op.clusterConfig = KubernetesParams{"1.30.1", "gardenlinux", "1443.3"};
    op.maintenanceWindowBegin = op.maintenanceWindowEnd = 0;
    j = toJson(op, true);
    EXPECT_EQ(j["maintenanceWindowBegin"], "");
    EXPECT_EQ(j["maintenanceWindowEnd"], "");
    EXPECT_EQ(j["clusterConfig"]["machineImageVersion"], "1443.3");
    EXPECT_FALSE(j.contains("kymaConfig"));
}

TEST(Wire, PageJson) {
    Page<Operation> page;
    page.data = {sampleOperation(), sampleOperation()};
    page.count = 2;
    page.totalCount = 17;
    const Json j = pageJson(page);
    EXPECT_EQ(j["count"], 2);
    EXPECT_EQ(j["totalCount"], 17);
    ASSERT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(j["data"][0], toJson(sampleOperation()));
    EXPECT_EQ(pageJson(Page<Operation>{})["data"], Json::array());
}

TEST(Wire, StoreRoundTripIsLossless) {
    Orchestration o;
    o.orchestrationID = "orch-1";
    o.type = OrchestrationType::UpgradeCluster;
    o.state = OrchestrationState::Retrying;
    o.description = "retrying";
    o.createdAt = kT0;
    o.updatedAt = kT0 + 3;
    o.parameters = sampleParameters();
    o.parameters.kubernetes = KubernetesParams{"1.30", "gl", "1"};
    o.seq = 123456789012LL;
    EXPECT_EQ(orchestrationFromStoreJson(toStoreJson(o)), o);
    EXPECT_EQ(orchestrationFromStoreJson(Json::parse(toStoreJson(o).dump())), o);

    Operation op = sampleOperation();
    EXPECT_EQ(operationFromStoreJson(Json::parse(toStoreJson(op).dump())), op);
    op.kymaConfig.reset();
    op.clusterConfig = KubernetesParams{"1.30", "gl", "1"};
    op.state = OperationState::Canceled;
    EXPECT_EQ(operationFromStoreJson(toStoreJson(op)), op);
    const Operation empty{};
    EXPECT_EQ(operationFromStoreJson(toStoreJson(empty)), empty);

    Runtime r;
    r.runtimeID = "rt";
    r.instanceID = "i";
    r.globalAccountID = "ga";
    r.subAccountID = "sa";
    r.planID = "pid";
    r.planName = "aws";
    r.region = "eu";
    r.shootName = "c-1";
    r.windowBegin = "220000+0000";
    r.windowEnd = "230000+0000";
    r.deprovisioning = true;
    r.suspended = true;
    r.kubernetesVersion = "1.30";
    r.machineImage = "gl";
    r.machineImageVersion = "1";
    EXPECT_EQ(runtimeFromStoreJson(Json::parse(toStoreJson(r).dump())), r);
    // Every field of the model is written: changing any one changes the JSON.
    Runtime r2 = r;
    r2.suspended = false;
    EXPECT_NE(toStoreJson(r2), toStoreJson(r));
}

TEST(Wire, MalformedStoreJsonThrows) {
    Orchestration o;
    o.orchestrationID = "o";
    o.parameters.targets.include = {Target{}};
    Json good = toStoreJson(o);
    EXPECT_NO_THROW(orchestrationFromStoreJson(good));
    Json j = good;
    j.erase("orchestrationID");
    EXPECT_THROW(orchestrationFromStoreJson(j), std::exception);
    j = good;
    j["state"] = "exploded";
    EXPECT_THROW(orchestrationFromStoreJson(j), std::exception);
    j = good;
    j["createdAt"] = "yesterday";
    EXPECT_THROW(orchestrationFromStoreJson(j), std::exception);
    j = good;
    j["parameters"]["strategy"]["schedule"] = "later";
    EXPECT_THROW(orchestrationFromStoreJson(j), std::exception);
    j = good;
    j["parameters"].erase("targets");
    EXPECT_THROW(orchestrationFromStoreJson(j), std::exception);
    EXPECT_THROW(orchestrationFromStoreJson(Json::array()), std::exception);
    EXPECT_THROW(operationFromStoreJson(Json{{"operationID", "x"}}), std::exception);
    Json op = toStoreJson(sampleOperation());
    op["upgradeStarted"] = "yes";
    EXPECT_THROW(operationFromStoreJson(op), std::exception);
    EXPECT_THROW(runtimeFromStoreJson(Json::object()), std::exception);
}

}  // namespace
}  // namespace keb
