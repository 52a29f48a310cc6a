// Upgrade work of one operation (SPEC 6). The engine does not call this itself: it
// hands out Actions, the driver (simulator or server) runs them through a backend and
// feeds the StepResult back into Engine::complete.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "keb/model.h"

namespace keb {

struct StepResult {
    enum class Kind { Done, Failed, Again };
    Kind kind = Kind::Again;
    std::string reason;    // for Failed (and a progress note for Again)
    Millis retryAfter = 0; // for Again; 0 means the engine's poll interval

    static StepResult done() { return {Kind::Done, "", 0}; }
    static StepResult failed(std::string why) { return {Kind::Failed, std::move(why), 0}; }
    static StepResult again(Millis after, std::string note = "") { return {Kind::Again, std::move(note), after}; }
};

struct Action {
    enum class Kind { Start, Poll };
    Kind kind = Kind::Start;
    OrchestrationType type = OrchestrationType::UpgradeKyma;
    // Snapshot of the operation as stored when the action was handed out (runtime ids, shoot
    // name, kymaConfig/clusterConfig). Shared and immutable: polls of one operation hand out the
    // same snapshot, so a poll costs no copy and no store read.
    std::shared_ptr<const Operation> op;
    const Operation& operation() const { return *op; }

    // The engine's handle of the operation (drivers pass the Action back unchanged).
    std::uint32_t orchestrationHandle = 0;
    std::int64_t seq = 0;
};

class UpgradeBackend {
public:
    virtual ~UpgradeBackend() = default;
    // Starts the upgrade of op's runtime. Must be idempotent per operationID: a second
    // start of the same operation (after a crash) must not upgrade the runtime again.
    virtual StepResult start(OrchestrationType type, const Operation& op, Millis now) = 0;
    virtual StepResult poll(OrchestrationType type, const Operation& op, Millis now) = 0;
};

}  // namespace keb
