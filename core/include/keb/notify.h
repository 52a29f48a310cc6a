// SPEC 14: the bodies of KEB's customer notifications (the notification service's contract).
// Built by the engine into its outbox rows (keb/store.h Notification); sent by the server.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "keb/model.h"

namespace keb {

// "2006-01-02 15:04:05" (UTC, seconds), the notification service's date format.
std::string formatNotificationTime(Millis t);

struct NotificationTenant {
    std::string instanceID;
    std::string startDateTime;
    std::string endDateTime;
};

// POST createMaintenanceEvent: {"orchestrationId","eventType":"1"|"0","tenants":[{"instanceId",
// "startDateTime","endDateTime"}]} ("1": Kyma upgrade, "0": Kubernetes).
std::string createEventPayload(std::string_view orchestrationID, OrchestrationType type,
                               const std::vector<NotificationTenant>& tenants);
// PATCH updateMaintenanceEvent, an upgrade started: {"orchestrationId","tenants":[{"instanceId",
// "startDateTime": now,"eventState":"1"}]}.
std::string startEventPayload(std::string_view orchestrationID, std::string_view instanceID, Millis now);
// PATCH updateMaintenanceEvent, an upgrade ended (success or failure): {"orchestrationId",
// "tenants":[{"instanceId","endDateTime": now,"eventState":"2"}]}.
std::string endEventPayload(std::string_view orchestrationID, std::string_view instanceID, Millis now);
// PATCH cancelMaintenanceEvent: {"orchestrationId"}.
std::string cancelEventPayload(std::string_view orchestrationID);

}  // namespace keb
