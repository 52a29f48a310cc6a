// The simulated notification service (see notification_sink.h).
#include "keb/sim/notification_sink.h"

#include <utility>

namespace keb::sim {
namespace {

constexpr std::size_t kMaxSamples = 10;
constexpr std::size_t kBatch = 256;  // rows read per round (the server's sender reads a few at a time too)

bool isString(const Json& j, const char* key) { return j.is_object() && j.contains(key) && j[key].is_string(); }

}  // namespace

std::int64_t NotificationSink::total() const {
    std::int64_t n = 0;
    for (std::int64_t c : counts_) n += c;
    return n;
}

void NotificationSink::problem(std::string what) {
    ++problems_;
    if (samples_.size() < kMaxSamples) samples_.push_back(std::move(what));
}

std::size_t NotificationSink::drain(Store& store,
                                    const std::function<void(const Notification&, std::size_t tenants)>& delivered) {
    std::size_t n = 0;
    for (;;) {
        std::vector<Notification> rows = store.pendingNotifications(kBatch);
        if (rows.empty()) return n;
        std::vector<std::int64_t> seqs;
        seqs.reserve(rows.size());
        for (const Notification& row : rows) {
            std::size_t tenants = 0;
            take(row, tenants);
            if (delivered) delivered(row, tenants);
            seqs.push_back(row.sequence);
        }
        store.markNotificationsDelivered(seqs);
        n += rows.size();
    }
}

// One delivered row: counted by kind, its payload checked against keb/notify.h's shapes.
void NotificationSink::take(const Notification& n, std::size_t& tenants) {
    ++counts_[static_cast<std::size_t>(n.kind)];
    const std::string where = std::string(toString(n.kind)) + " #" + std::to_string(n.sequence) + " of " +
                              n.orchestrationID;
    Json j = Json::parse(n.payload, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return problem(where + ": the payload is not a JSON object");
    if (!isString(j, "orchestrationId") || j["orchestrationId"].get<std::string>() != n.orchestrationID)
        return problem(where + ": orchestrationId is not the row's");
    if (n.kind == Notification::Kind::Cancel) {
        if (j.size() != 1) problem(where + ": a cancel carries only orchestrationId");
        return;
    }
    if (!j.contains("tenants") || !j["tenants"].is_array() || j["tenants"].empty())
        return problem(where + ": no tenants");
    const Json& list = j["tenants"];
    tenants = list.size();
    if (n.kind == Notification::Kind::Create) {
        if (!isString(j, "eventType") || (j["eventType"] != "1" && j["eventType"] != "0"))
            problem(where + ": eventType is not \"1\" or \"0\"");
        for (const Json& t : list) {
            if (!isString(t, "instanceId") || !isString(t, "startDateTime") || !isString(t, "endDateTime")) {
                problem(where + ": a tenant without instanceId, startDateTime or endDateTime");
                continue;
            }
            announced_.insert(n.orchestrationID + "/" + t["instanceId"].get<std::string>());
        }
        return;
    }
    const bool start = n.kind == Notification::Kind::Start;
    if (list.size() != 1) problem(where + ": an update carries one tenant, got " + std::to_string(list.size()));
    const Json& t = list[0];
    if (!isString(t, "instanceId") || !isString(t, start ? "startDateTime" : "endDateTime") ||
        !isString(t, "eventState") || t["eventState"] != (start ? "1" : "2"))
        return problem(where + ": the tenant is not {instanceId, " + (start ? "startDateTime" : "endDateTime") +
                       ", eventState \"" + (start ? "1" : "2") + "\"}");
    const std::string key = n.orchestrationID + "/" + t["instanceId"].get<std::string>();
    if (!announced_.count(key)) problem(where + ": tenant " + t["instanceId"].get<std::string>() + " was never announced");
    if (start) {
        started_.insert(key);
    } else {
        if (!started_.count(key)) ++endsWithoutStart_;
        ended_.insert(key);
    }
}

Json NotificationSink::summary() const {
    return {{"create", count(Notification::Kind::Create)},
            {"start", count(Notification::Kind::Start)},
            {"end", count(Notification::Kind::End)},
            {"cancel", count(Notification::Kind::Cancel)},
            {"tenantsAnnounced", tenantsAnnounced()},
            {"instancesStarted", instancesStarted()},
            {"instancesEnded", instancesEnded()},
            {"endsWithoutStart", endsWithoutStart()},
            {"problems", problems()},
            {"problemSamples", problemSamples()}};
}

}  // namespace keb::sim
