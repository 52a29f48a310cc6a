// Plain model of the orchestration domain (SPEC sections 1-4).
// No I/O, no JSON here: wire conversion lives in wire.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keb {

// Milliseconds since the Unix epoch, UTC. The core never reads a clock: every
// function that needs "now" takes it as an argument.
using Millis = std::int64_t;
constexpr Millis kSecond = 1000;
constexpr Millis kMinute = 60 * kSecond;
constexpr Millis kHour = 60 * kMinute;
constexpr Millis kDay = 24 * kHour;

enum class OrchestrationType { UpgradeKyma, UpgradeCluster };

// Paused (SPEC 10) comes last so the stored numbers of the other states never change.
enum class OrchestrationState { Pending, InProgress, Canceling, Canceled, Retrying, Succeeded, Failed, Paused };
constexpr int kOrchestrationStateCount = 8;

enum class OperationState { Pending, InProgress, Succeeded, Failed, Canceled };

// SPEC 10: the state of one stage of a staged orchestration.
enum class StageState { Pending, InProgress, Soaking, Succeeded, Failed };

// Wire names: "upgradeKyma", "pending", "in progress", ...
const char* toString(OrchestrationType t);
const char* toString(OrchestrationState s);
const char* toString(OperationState s);
std::optional<OrchestrationType> parseOrchestrationType(std::string_view s);
std::optional<OrchestrationState> parseOrchestrationState(std::string_view s);
std::optional<OperationState> parseOperationState(std::string_view s);
const char* toString(StageState s);  // "pending", "in progress", "soaking", "succeeded", "failed"
std::optional<StageState> parseStageState(std::string_view s);
// Every orchestration state, in enum order (loops over states: metrics, counters).
const std::vector<OrchestrationState>& allOrchestrationStates();

bool isFinished(OrchestrationState s);  // canceled, succeeded, failed
bool isFinished(OperationState s);      // succeeded, failed, canceled

// SPEC 3: one include/exclude rule. Unset optionals are not checked.
struct Target {
    bool all = false;                          // "target": "all"
    std::optional<std::string> globalAccount;  // regex, unanchored search on label `account`
    std::optional<std::string> subAccount;     // regex on label `subaccount`
    std::optional<std::string> region;         // regex on spec.region
    std::optional<std::string> runtimeID;      // exact; when set nothing else is checked
    std::optional<std::string> planName;       // exact
    std::optional<std::string> shoot;          // exact
    std::optional<std::string> instanceID;     // exact
    bool operator==(const Target&) const = default;
};

struct Targets {
    std::vector<Target> include;
    std::vector<Target> exclude;
    bool operator==(const Targets&) const = default;
};

enum class ScheduleKind { Immediate, Now, Time };

// SPEC 10: a failure budget, a count (>= 0) or a percent (0..100) of the operations it covers.
struct FailureBudget {
    bool percent = false;
    std::int64_t value = 0;
    // Failures tolerated among `operations` (a percent is rounded down). More than this pauses.
    std::int64_t allowed(std::int64_t operations) const { return percent ? operations * value / 100 : value; }
    bool operator==(const FailureBudget&) const = default;
};

// SPEC 10: one stage of a progressive rollout.
struct Stage {
    std::string name;                 // [a-z0-9-]{1,40}, unique in the request
    std::optional<Targets> targets;   // nullopt: every runtime no earlier stage took (last stage only)
    std::optional<int> workers;       // nullopt: strategy.workers
    Millis soak = 0;                  // wait after the stage's last operation ended
    std::optional<FailureBudget> maxFailures;
    bool operator==(const Stage&) const = default;
};

// SPEC 10: no operation starts inside [from, to).
struct Blackout {
    Millis from = 0;
    Millis to = 0;
    std::string reason;
    bool operator==(const Blackout&) const = default;
};

struct Strategy {
    std::string type = "parallel";
    ScheduleKind schedule = ScheduleKind::Immediate;
    std::optional<Millis> scheduleTime;  // set when schedule == Time
    bool maintenanceWindow = false;
    int workers = 1;
    // SPEC 10, all optional: a request without them behaves as Part I.
    std::vector<Stage> stages;
    std::optional<FailureBudget> maxFailures;  // budget of the whole orchestration
    std::vector<Blackout> blackouts;
    bool operator==(const Strategy&) const = default;
};

struct KymaParams {
    std::string version;
    bool operator==(const KymaParams&) const = default;
};

struct KubernetesParams {
    std::string kubernetesVersion;
    std::string machineImage;
    std::string machineImageVersion;
    bool operator==(const KubernetesParams&) const = default;
};

// The request, normalised (SPEC 3).
struct Parameters {
    Targets targets;
    Strategy strategy;
    bool dryRun = false;
    // SPEC 14: top-level "notification": true (customer notifications, when the server sends them).
    bool notification = false;
    std::optional<KymaParams> kyma;
    std::optional<KubernetesParams> kubernetes;
    bool operator==(const Parameters&) const = default;
};

// One runtime of the fleet, as the core sees it (built from a Gardener Shoot).
struct Runtime {
    std::string runtimeID;
    std::string instanceID;
    std::string globalAccountID;  // Shoot label `account`
    std::string subAccountID;     // Shoot label `subaccount`
    std::string planID;
    std::string planName;
    std::string region;     // spec.region
    std::string shootName;  // metadata.name
    // spec.maintenance.timeWindow, Gardener format HHMMSS+HHMM (may be empty/unparsable).
    std::string windowBegin;
    std::string windowEnd;
    bool deprovisioning = false;  // deletionTimestamp set
    bool suspended = false;
    std::string kubernetesVersion;
    std::string machineImage;
    std::string machineImageVersion;
    bool operator==(const Runtime&) const = default;
};

// SPEC 10: what a staged or budgeted orchestration has done so far (persisted with the
// orchestration, so the stage cursor, soak and acknowledged failures survive restarts).
struct StageProgress {
    StageState state = StageState::Pending;
    // Its operations are the seqs [firstSeq, firstSeq + operations): resolution creates them
    // stage by stage.
    std::int64_t firstSeq = 0;
    std::int64_t operations = 0;
    Millis startedAt = 0;
    Millis finishedAt = 0;  // its last operation ended (0: not yet)
    Millis soakUntil = 0;   // the next stage may start then (0: no soak running or done)
    // Failures acknowledged by a resume: not counted against the budget any more.
    std::int64_t acknowledgedFailures = 0;
    bool operator==(const StageProgress&) const = default;
};
struct RolloutProgress {
    std::vector<StageProgress> stages;  // one per strategy.stages entry, once resolved
    std::int64_t operations = 0;        // scheduled at resolution: the base of a percent budget
    std::int64_t unstaged = 0;          // runtimes that matched the targets but no stage
    std::int64_t acknowledgedFailures = 0;  // of the whole orchestration (see StageProgress)
    bool empty() const { return stages.empty() && operations == 0 && unstaged == 0 && acknowledgedFailures == 0; }
    bool operator==(const RolloutProgress&) const = default;
};

struct Orchestration {
    std::string orchestrationID;
    OrchestrationType type = OrchestrationType::UpgradeKyma;
    OrchestrationState state = OrchestrationState::Pending;
    std::string description;
    Millis createdAt = 0;
    Millis updatedAt = 0;
    Parameters parameters;
    // Internal (not on the wire, persisted): a sequence number for deterministic order.
    std::int64_t seq = 0;
    // Internal, persisted (SPEC 10): stage cursor, soak, acknowledged failures. Empty unless the
    // request has stages or a budget; the wire shows it as `stages` (keb/rollout.h).
    RolloutProgress rollout;
    bool operator==(const Orchestration&) const = default;
};

struct Operation {
    std::string operationID;
    std::string orchestrationID;
    std::string runtimeID;
    std::string instanceID;
    std::string globalAccountID;
    std::string subAccountID;
    std::string servicePlanID;
    std::string servicePlanName;
    std::string region;
    std::string shootName;
    bool dryRun = false;
    Millis maintenanceWindowBegin = 0;  // 0: not window-scheduled
    Millis maintenanceWindowEnd = 0;
    OperationState state = OperationState::Pending;
    std::string description;
    Millis createdAt = 0;
    Millis updatedAt = 0;
    // Internal, persisted: scheduling and restart bookkeeping.
    std::int64_t seq = 0;          // creation order inside the store (ties)
    Millis startAt = 0;            // when the operation may take a worker
    Millis startedAt = 0;          // when the upgrade was started (0: never)
    bool upgradeStarted = false;   // the backend acknowledged start: on restart poll, never start again
    bool immediate = false;        // retry with immediate=true: ignore windows
    std::string retryOf;           // operationID this one retries (empty for first attempts)
    std::string stage;             // SPEC 10: its stage's name (empty: not staged)
    // What is applied (detail view). Exactly one is set, by orchestration type.
    std::optional<KymaParams> kymaConfig;
    std::optional<KubernetesParams> clusterConfig;
    bool operator==(const Operation&) const = default;
};

// state -> count, every state present (zeros included).
using OperationStats = std::map<OperationState, std::int64_t>;

template <class T>
struct Page {
    std::vector<T> data;
    std::int64_t count = 0;       // items on this page
    std::int64_t totalCount = 0;  // all matching
};

// Paging and state filter (SPEC 2). Validated by the router before reaching a store.
struct OrchestrationQuery {
    int page = 1;
    int pageSize = 100;
    std::vector<OrchestrationState> states;  // empty: all
};

struct OperationQuery {
    int page = 1;
    int pageSize = 100;
    std::vector<OperationState> states;  // empty: all
};

}  // namespace keb
