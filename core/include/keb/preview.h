// SPEC 12: the fleet as the server sees it (GET /runtimes) and the prediction of a request
// (POST /upgrade/...?preview=true). Both read the fleet source and the store and write nothing.
// The preview runs the real engine on a private MemoryStore (a copy of the unfinished
// orchestrations, so busy runtimes and supersession count) over the live fleet, with an upgrade
// model from history, in simulated time: deterministic for the same store, fleet and request.
// predictedEnd is the run with every upgrade taking the median duration, predictedEndP90 the run
// with every upgrade taking the p90 duration; failures are drawn at the model's rate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "keb/engine.h"
#include "keb/fleet.h"
#include "keb/model.h"
#include "keb/store.h"
#include "keb/wire.h"

namespace keb {

// GET /runtimes query (validated by the router).
struct RuntimeQuery {
    int page = 1;
    int pageSize = 100;
    std::string region, globalAccountID, planName;  // exact; empty: any
    std::vector<OperationState> states;               // of the latest operation; empty: any
};

// 200 page {"data", "count", "totalCount"} in fleet order; 503 when the fleet cannot be listed.
struct RuntimesAnswer {
    int status = 200;
    Json body;
};
RuntimesAnswer listRuntimes(FleetSource& fleet, StoreReader& store, const RuntimeQuery& q, Millis now);

// The duration and failure model of one operation type (SPEC 12).
struct UpgradeModel {
    Millis median = 15 * kMinute;
    Millis p90 = 30 * kMinute;  // default: the lognormal of median 15m and sigma ln 2 / 1.2816 (p90 30m)
    double failureRate = 0;
    bool fromHistory = false;
    std::int64_t historyOperations = 0;
};
// Median, p90 and failure rate of the last 1,000 finished (succeeded or failed, started, not dry
// run) operations of that type in the store; the default when there are none.
UpgradeModel upgradeModelFromHistory(StoreReader& store, OrchestrationType type, std::size_t limit = 1000);

struct PreviewAnswer {
    int status = 200;  // 200, or 503 (fleet cannot be listed)
    Json body;
};
// Runs the request on a private copy: nothing in `store` or `fleet` is changed. `config` is the
// server's engine configuration (policy, blackouts).
PreviewAnswer previewUpgrade(OrchestrationType type, const Parameters& params, StoreReader& store, FleetSource& fleet,
                             const EngineConfig& config, Millis now);

}  // namespace keb
