// The records in tests/server/data/sqlite-schema-v3.sql: a SQLite store at schema version 3 (the
// last schema before SPEC 10 added operations.stage), written through SqliteStore's own write
// paths by the keb-server of commit 38677f2 (before the migration existed). The migration test
// loads that file, opens it with today's store and compares every read with a ReferenceStore
// that received the same writes (writeSchemaV3Data), so "old rows still read the same" is
// checked field by field, new fields defaulting.
//
// To write the file again (only ever with a store at schema version 3): build a program that
// calls writeSchemaV3Data on that SqliteStore, then `sqlite3 FILE .dump`.
#pragma once
#include <string>
#include <vector>

#include "keb/store.h"

namespace keb::test {

inline Orchestration v3Orchestration(const std::string& id, OrchestrationType type, OrchestrationState state,
                                     Millis createdAt, std::int64_t seq) {
    Orchestration o;
    o.orchestrationID = id;
    o.type = type;
    o.state = state;
    o.description = "queued for processing";
    o.createdAt = createdAt;
    o.updatedAt = createdAt;
    o.seq = seq;
    Target all;
    all.all = true;
    o.parameters.targets.include.push_back(all);
    o.parameters.strategy.workers = 2;
    if (type == OrchestrationType::UpgradeKyma) o.parameters.kyma = KymaParams{"2.20.0"};
    else o.parameters.kubernetes = KubernetesParams{"1.30.2", "gardenlinux", "1443.3"};
    return o;
}

inline Operation v3Operation(const Orchestration& o, const std::string& id, std::int64_t seq, OperationState state) {
    Operation op;
    op.operationID = id;
    op.orchestrationID = o.orchestrationID;
    op.runtimeID = "runtime-" + id;
    op.instanceID = "instance-" + id;
    op.globalAccountID = "ga-" + std::to_string(seq % 3);
    op.subAccountID = "sa-" + id;
    op.servicePlanID = "4deee563-e5ec-4731-b9b1-53b42d855f0c";
    op.servicePlanName = "azure";
    op.region = "westeurope";
    op.shootName = "c-" + id;
    op.state = state;
    op.description = "Operation created";
    op.createdAt = o.createdAt + 10;
    op.updatedAt = o.createdAt + 10;
    op.seq = seq;
    op.startAt = o.createdAt + 10;
    if (o.type == OrchestrationType::UpgradeKyma) op.kymaConfig = *o.parameters.kyma;
    else op.clusterConfig = *o.parameters.kubernetes;
    return op;
}

// Orchestrations in every Part I state, operations in every state, both configs, windows,
// retries, dry runs; written through insert, batch, progress, reschedule and apply.
inline void writeSchemaV3Data(Store& s) {
    const Millis t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

    // 1: upgradeKyma, finished with one failure.
    Orchestration a = v3Orchestration("0b7a5f36-0d3b-4a53-9a2e-5b0f3c1a0001", OrchestrationType::UpgradeKyma,
                                      OrchestrationState::Pending, t0, 0);
    s.insertOrchestration(a);
    std::vector<Operation> aOps;
    for (int i = 0; i < 4; ++i)
        aOps.push_back(v3Operation(a, "a" + std::to_string(i) + "-5f36-0d3b-4a53-9a2e-5b0f3c1a0001", i,
                                   OperationState::Pending));
    a.state = OrchestrationState::InProgress;
    a.description = "Scheduled 4 operations";
    a.updatedAt = t0 + 20;
    s.updateOrchestrationWithOperations(a, aOps, {});
    for (int i = 0; i < 4; ++i) {
        Store::ProgressChange c;
        c.operationID = aOps[i].operationID;
        c.seq = i;
        c.state = OperationState::InProgress;
        c.updatedAt = t0 + 100 + i;
        c.startedAt = t0 + 100 + i;
        c.upgradeStarted = true;
        s.updateOperationProgress(a.orchestrationID, c);
        const std::string done = i == 2 ? "upgrade failed: kyma reconciliation error" : "upgrade succeeded";
        c.state = i == 2 ? OperationState::Failed : OperationState::Succeeded;
        c.description = &done;
        c.updatedAt = t0 + 5000 + i;
        c.startedAt.reset();
        c.upgradeStarted.reset();
        s.updateOperationProgress(a.orchestrationID, c);
    }
    a.state = OrchestrationState::Failed;
    a.description = "1 operations failed";
    a.updatedAt = t0 + 6000;
    s.updateOrchestration(a);

    // 2: upgradeCluster in maintenance windows, still running, with a retry and a move.
    Orchestration b = v3Orchestration("0b7a5f36-0d3b-4a53-9a2e-5b0f3c1a0002", OrchestrationType::UpgradeCluster,
                                      OrchestrationState::InProgress, t0 + 1000, 1);
    b.parameters.strategy.maintenanceWindow = true;
    Target ex;
    ex.region = "^cn-";
    ex.planName = "trial";
    b.parameters.targets.exclude.push_back(ex);
    b.description = "Scheduled 3 operations";
    s.insertOrchestration(b);
    Store::WriteBatch batch;
    for (int i = 0; i < 3; ++i) {
        Operation op = v3Operation(b, "b" + std::to_string(i) + "-5f36-0d3b-4a53-9a2e-5b0f3c1a0002", i,
                                   OperationState::Pending);
        op.maintenanceWindowBegin = t0 + 3'600'000 * (i + 1);
        op.maintenanceWindowEnd = op.maintenanceWindowBegin + 3'600'000;
        op.startAt = op.maintenanceWindowBegin;
        batch.insertedOperations.push_back(op);
    }
    Store::WriteBatch::Progress p;
    p.orchestrationID = b.orchestrationID;
    p.change.operationID = batch.insertedOperations[0].operationID;
    p.change.seq = 0;
    p.change.state = OperationState::InProgress;
    p.change.updatedAt = t0 + 3'600'000;
    p.change.startedAt = t0 + 3'600'000;
    p.change.upgradeStarted = true;
    batch.progress.push_back(p);
    s.apply(batch);
    Store::ScheduleChange move;
    move.operationID = batch.insertedOperations[2].operationID;
    move.seq = 2;
    move.startAt = t0 + 90'000'000;
    move.windowBegin = move.startAt;
    move.windowEnd = move.startAt + 3'600'000;
    const std::string missed = "maintenance window missed, moved to the next one";
    s.rescheduleOperations(b.orchestrationID, {move}, &missed, t0 + 3'700'000);
    Operation retry = v3Operation(b, "b3-5f36-0d3b-4a53-9a2e-5b0f3c1a0002", 3, OperationState::Pending);
    retry.retryOf = batch.insertedOperations[1].operationID;
    retry.immediate = true;
    retry.description = "retry of " + retry.retryOf;
    s.insertOperation(retry);

    // 3: scheduled for later (pending), a dry run.
    Orchestration c = v3Orchestration("0b7a5f36-0d3b-4a53-9a2e-5b0f3c1a0003", OrchestrationType::UpgradeKyma,
                                      OrchestrationState::Pending, t0 + 2000, 2);
    c.parameters.strategy.schedule = ScheduleKind::Time;
    c.parameters.strategy.scheduleTime = t0 + 86'400'000;
    c.parameters.dryRun = true;
    s.insertOrchestration(c);

    // 4-6: canceling, canceled and retrying ones, one operation each.
    const OrchestrationState more[] = {OrchestrationState::Canceling, OrchestrationState::Canceled,
                                       OrchestrationState::Retrying};
    const OperationState theirs[] = {OperationState::InProgress, OperationState::Canceled, OperationState::Pending};
    for (int k = 0; k < 3; ++k) {
        Orchestration o = v3Orchestration("0b7a5f36-0d3b-4a53-9a2e-5b0f3c1a000" + std::to_string(4 + k),
                                          OrchestrationType::UpgradeKyma, more[k], t0 + 3000 + k, 3 + k);
        o.description = std::string("state ") + toString(more[k]) + " with \"quotes\" and \xc3\xa9";
        s.insertOrchestration(o);
        s.insertOperations({v3Operation(o, "d" + std::to_string(k) + "-5f36-0d3b-4a53-9a2e-5b0f3c1a000" +
                                               std::to_string(4 + k),
                                        0, theirs[k])});
    }
}

}  // namespace keb::test
