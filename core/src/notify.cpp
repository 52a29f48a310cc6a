// SPEC 14 notification bodies (keb/notify.h).
#include "keb/notify.h"

#include <nlohmann/json.hpp>

#include "keb/timefmt.h"

namespace keb {

using Json = nlohmann::ordered_json;

std::string formatNotificationTime(Millis t) {
    std::string s = formatRfc3339(t);  // 2006-01-02T15:04:05[.000]Z
    s.resize(19);
    s[10] = ' ';
    return s;
}

std::string createEventPayload(std::string_view orchestrationID, OrchestrationType type,
                               const std::vector<NotificationTenant>& tenants) {
    Json list = Json::array();
    for (const NotificationTenant& t : tenants)
        list.push_back(Json{{"instanceId", t.instanceID}, {"startDateTime", t.startDateTime}, {"endDateTime", t.endDateTime}});
    Json j{{"orchestrationId", orchestrationID},
           {"eventType", type == OrchestrationType::UpgradeKyma ? "1" : "0"},
           {"tenants", std::move(list)}};
    return j.dump();
}

namespace {
std::string updatePayload(std::string_view orchestrationID, std::string_view instanceID, const char* dateField,
                          Millis now, const char* state) {
    Json tenant{{"instanceId", instanceID}, {dateField, formatNotificationTime(now)}, {"eventState", state}};
    Json j{{"orchestrationId", orchestrationID}, {"tenants", Json::array({std::move(tenant)})}};
    return j.dump();
}
}  // namespace

std::string startEventPayload(std::string_view orchestrationID, std::string_view instanceID, Millis now) {
    return updatePayload(orchestrationID, instanceID, "startDateTime", now, "1");
}

std::string endEventPayload(std::string_view orchestrationID, std::string_view instanceID, Millis now) {
    return updatePayload(orchestrationID, instanceID, "endDateTime", now, "2");
}

std::string cancelEventPayload(std::string_view orchestrationID) {
    return Json{{"orchestrationId", orchestrationID}}.dump();
}

}  // namespace keb
