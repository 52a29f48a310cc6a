// Store::WriteBatch helpers (keb/store.h).
#include "keb/store.h"

namespace keb {

const char* toString(Notification::Kind k) {
    switch (k) {
        case Notification::Kind::Create: return "create";
        case Notification::Kind::Start: return "start";
        case Notification::Kind::End: return "end";
        case Notification::Kind::Cancel: return "cancel";
    }
    return "create";
}

// The outbox part (notifications) does not change the name: a batch is named by its state change.
const char* Store::WriteBatch::describe() const {
    if (label) return label;
    const bool io = !insertedOrchestrations.empty(), uo = !updatedOrchestrations.empty(),
               iops = !insertedOperations.empty(), src = static_cast<bool>(operationSource),
               uops = !updatedOperations.empty(), mv = !moves.empty(), pr = !progress.empty();
    const int parts = io + uo + iops + src + uops + mv + pr;
    if (parts == 1) {
        if (io && insertedOrchestrations.size() == 1) return "insertOrchestration";
        if (uo && updatedOrchestrations.size() == 1) return "updateOrchestration";
        if (mv && moves.size() == 1) return "rescheduleOperations";
        if (pr && progress.size() == 1) return "updateOperationProgress";
        if (iops) return "insertOperations";
        if (uops) return "updateOperations";
    }
    if (uo && updatedOrchestrations.size() == 1 && !io && !mv && !pr) {
        if (src && !iops && !uops) return "updateOrchestrationAddingOperations";
        if (!src) return "updateOrchestrationWithOperations";
    }
    return "apply";
}

}  // namespace keb
