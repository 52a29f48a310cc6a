// expect.notifications (SPEC 14): what the simulated notification service received, by kind
// (create, start, end, cancel: counts, each optional), and `queued`: rows still in the store's
// outbox at the end. The payloads themselves are always checked too ("notifications.payloads"):
// the shapes of keb/notify.h, and every start/end names a tenant its orchestration's create
// event announced (NotificationSink).
#include "common.h"

namespace keb::sim::checkers {
namespace {

class NotificationsChecker : public Checker {
public:
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        const NotificationsExpect& want = *sim.scenario().expect.notifications;
        const NotificationSink& got = sim.notifications();
        auto one = [&](const std::optional<CountExpect>& w, const char* name, std::int64_t n) {
            if (!w) return;
            out.push_back({std::string("notifications.") + name, w->holds(n),
                           "expected " + w->describe() + ", got " + std::to_string(n)});
        };
        one(want.create, "create", got.count(Notification::Kind::Create));
        one(want.start, "start", got.count(Notification::Kind::Start));
        one(want.end, "end", got.count(Notification::Kind::End));
        one(want.cancel, "cancel", got.count(Notification::Kind::Cancel));
        one(want.queued, "queued", sim.notificationsQueued());
        out.push_back({"notifications.payloads", got.problems() == 0,
                       std::to_string(got.total()) + " delivered, " + std::to_string(got.problems()) +
                           " breaking the contract" + sampleText(got.problemSamples(), got.problems())});
    }
};

}  // namespace

extern const CheckerSpec kNotifications{
    .name = "notifications",
    .parse = [](const ScenarioNode& n, Scenario& sc) {
        n.onlyKeys({"create", "start", "end", "cancel", "queued"});
        NotificationsExpect e;
        if (n.has("create")) e.create = parseCount(n["create"]);
        if (n.has("start")) e.start = parseCount(n["start"]);
        if (n.has("end")) e.end = parseCount(n["end"]);
        if (n.has("cancel")) e.cancel = parseCount(n["cancel"]);
        if (n.has("queued")) e.queued = parseCount(n["queued"]);
        sc.expect.notifications = e;
    },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.notifications) return nullptr;
        return std::make_unique<NotificationsChecker>();
    },
};

}  // namespace keb::sim::checkers
