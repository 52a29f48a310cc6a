// SPEC 14 end to end: keb-server --notification-url against a real notification receiver (a
// cpp-httplib server on 127.0.0.1 in this process), real HTTP, the demo fleet, memory and SQLite
// stores. What the receiver got is checked against the contract (methods, paths, payloads, date
// format), and the outbox's promises: at least once across a receiver outage and a kill -9, and
// never holding up an upgrade.
#include <map>
#include <mutex>
#include <set>

#include "server_harness.h"

using namespace keb::test;

namespace {

constexpr const char* kSecret = "notification-test-secret";

// The notification service: records every request; can answer slowly or not listen at all.
class Receiver {
public:
    struct Event {
        std::string method, path;
        Json body;
    };
    explicit Receiver(int port = 0) { listen(port); }
    ~Receiver() { down(); }

    void listen(int port) {
        server_ = std::make_unique<httplib::Server>();
        auto record = [this](const httplib::Request& req, httplib::Response& res) {
            if (delayMs_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delayMs_));
            std::lock_guard<std::mutex> lk(mu_);
            events_.push_back(Event{req.method, req.path, Json::parse(req.body, nullptr, false)});
            if (req.get_header_value("Content-Type") != "application/json") ++badContentType_;
            res.status = 200;
            res.set_content("{}", "application/json");
        };
        server_->Post(".*", record);
        server_->Patch(".*", record);
        port_ = port ? (server_->bind_to_port("127.0.0.1", port) ? port : -1) : server_->bind_to_any_port("127.0.0.1");
        ASSERT_GT(port_, 0) << "receiver cannot listen on " << port;
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // Stops listening (connections are refused until up()).
    void down() {
        if (!server_) return;
        server_->stop();
        if (thread_.joinable()) thread_.join();
        server_.reset();
    }
    void up() { listen(port_); }
    void setDelay(int ms) { delayMs_ = ms; }

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/notify"; }
    std::vector<Event> events() {
        std::lock_guard<std::mutex> lk(mu_);
        return events_;
    }
    std::size_t count() {
        std::lock_guard<std::mutex> lk(mu_);
        return events_.size();
    }
    int badContentType() {
        std::lock_guard<std::mutex> lk(mu_);
        return badContentType_;
    }

private:
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    int port_ = 0;
    std::atomic<int> delayMs_{0};
    std::mutex mu_;
    std::vector<Event> events_;
    int badContentType_ = 0;
};

// What the receiver got, per kind, each tenant once (duplicates, allowed by at least once, are
// counted apart).
struct Tally {
    int creates = 0, starts = 0, ends = 0, cancels = 0, other = 0, duplicates = 0;
    int foreign = 0;  // events of other orchestrations (not counted above)
    std::set<std::string> created, started, ended;
    std::size_t createTenants = 0;
};
Tally tally(const std::vector<Receiver::Event>& events, const std::string& orchestrationID) {
    static const std::regex date(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)");
    Tally t;
    for (const auto& e : events) {
        EXPECT_TRUE(e.body.is_object()) << e.path;
        if (!e.body.is_object()) continue;
        if (e.body.value("orchestrationId", "") != orchestrationID) {
            ++t.foreign;
            continue;
        }
        if (e.method == "POST" && e.path == "/notify/createMaintenanceEvent") {
            ++t.creates;
            EXPECT_EQ(e.body["eventType"], "1");
            t.createTenants = e.body["tenants"].size();
            for (const Json& ten : e.body["tenants"]) {
                t.created.insert(ten["instanceId"].get<std::string>());
                EXPECT_TRUE(std::regex_match(ten["startDateTime"].get<std::string>(), date)) << ten.dump();
                EXPECT_EQ(ten["endDateTime"], "") << "immediate: no end";
            }
        } else if (e.method == "PATCH" && e.path == "/notify/updateMaintenanceEvent") {
            EXPECT_EQ(e.body["tenants"].size(), 1u);
            const Json& ten = e.body["tenants"][0];
            const std::string inst = ten["instanceId"];
            if (ten["eventState"] == "1") {
                ++t.starts;
                EXPECT_TRUE(std::regex_match(ten["startDateTime"].get<std::string>(), date)) << ten.dump();
                EXPECT_FALSE(ten.contains("endDateTime"));
                if (!t.started.insert(inst).second) ++t.duplicates;
            } else if (ten["eventState"] == "2") {
                ++t.ends;
                EXPECT_TRUE(std::regex_match(ten["endDateTime"].get<std::string>(), date)) << ten.dump();
                EXPECT_FALSE(ten.contains("startDateTime"));
                if (!t.ended.insert(inst).second) ++t.duplicates;
            } else {
                ++t.other;
            }
        } else if (e.method == "PATCH" && e.path == "/notify/cancelMaintenanceEvent") {
            ++t.cancels;
            EXPECT_EQ(e.body.size(), 1u) << e.body.dump();
        } else {
            ++t.other;
        }
    }
    return t;
}

std::int64_t metric(Api& a, const std::string& name) {
    const Reply r = a.get("/metrics");
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
    return -1;
}

std::vector<std::string> serverArgs(const std::string& store, int fleet, const std::string& url,
                                    const std::string& duration = "100ms") {
    std::vector<std::string> a = {"--store", store, "--auth", std::string("hs256:") + kSecret, "--demo-fleet",
                                  std::to_string(fleet), "--demo-seed", "3", "--demo-upgrade-duration", duration,
                                  "--access-log", "off", "--engine-log", "off"};
    if (!url.empty()) {
        a.push_back("--notification-url");
        a.push_back(url);
    }
    return a;
}

std::string waitFinished(Api& a, const std::string& id, int timeoutMs) {
    std::string st;
    eventually(
        [&] {
            st = a.get("/orchestrations/" + id).json.value("state", "");
            return st == "succeeded" || st == "failed" || st == "canceled";
        },
        timeoutMs, 50);
    return st;
}

const std::string& tok() {
    static const std::string t = token(kSecret, "broker-upgrade:read broker-upgrade:write");
    return t;
}

}  // namespace

TEST(NotificationE2E, RolloutOf50GivesOneCreateWith50TenantsAnd50StartsAnd50Ends) {
    TempDir dir;
    Receiver rx;
    ServerProcess s;
    ASSERT_TRUE(s.start(serverArgs("memory", 50, rx.url()), dir.path.string())) << s.stderrText();
    Api a(s.port(), tok());
    const Reply r = a.post("/upgrade/kyma", kymaBody(10, R"(,"notification":true)"));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_EQ(waitFinished(a, id, 30000), "succeeded");
    EXPECT_EQ(a.get("/orchestrations/" + id).json["parameters"]["notification"], true);
    ASSERT_TRUE(eventually([&] { return rx.count() >= 101; }, 15000)) << rx.count();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing more comes
    const std::vector<Receiver::Event> events = rx.events();
    EXPECT_EQ(events.size(), 101u);
    const Tally t = tally(events, id);
    EXPECT_EQ(t.creates, 1);
    EXPECT_EQ(t.createTenants, 50u);
    EXPECT_EQ(t.created.size(), 50u) << "50 distinct instances";
    EXPECT_EQ(t.starts, 50);
    EXPECT_EQ(t.ends, 50);
    EXPECT_EQ(t.started, t.created);
    EXPECT_EQ(t.ended, t.created);
    EXPECT_EQ(t.cancels + t.other + t.duplicates + t.foreign, 0);
    EXPECT_EQ(rx.badContentType(), 0);
    // The create came first; each instance's start before its end.
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events[0].path, "/notify/createMaintenanceEvent");
    std::set<std::string> seenStart;
    for (const auto& e : events) {
        if (e.path != "/notify/updateMaintenanceEvent") continue;
        const Json& ten = e.body["tenants"][0];
        if (ten["eventState"] == "1") seenStart.insert(ten["instanceId"]);
        else EXPECT_TRUE(seenStart.count(ten["instanceId"])) << "end before start: " << e.body.dump();
    }
    EXPECT_EQ(metric(a, "keb_notifications_sent_total"), 101);
    EXPECT_EQ(metric(a, "keb_notifications_failed_total"), 0);
    EXPECT_EQ(metric(a, "keb_notifications_queued"), 0);

    // A request without "notification" sends nothing.
    const std::size_t before = rx.count();
    const Reply quiet = a.post("/upgrade/kyma", kymaBody(10));
    ASSERT_EQ(quiet.status, 202);
    ASSERT_EQ(waitFinished(a, quiet.json["orchestrationID"], 30000), "succeeded");
    EXPECT_FALSE(a.get("/orchestrations/" + quiet.json["orchestrationID"].get<std::string>()).json["parameters"].contains("notification"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(rx.count(), before);
}

TEST(NotificationE2E, CancelSendsTheCancelEvent) {
    TempDir dir;
    Receiver rx;
    ServerProcess s;
    ASSERT_TRUE(s.start(serverArgs("memory", 10, rx.url(), "2s"), dir.path.string())) << s.stderrText();
    Api a(s.port(), tok());
    const Reply r = a.post("/upgrade/kyma", kymaBody(1, R"(,"notification":true)"));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return tally(rx.events(), id).starts >= 1; }, 10000));
    ASSERT_EQ(a.put("/orchestrations/" + id + "/cancel").status, 200);
    ASSERT_EQ(waitFinished(a, id, 30000), "canceled");
    ASSERT_TRUE(eventually([&] { return tally(rx.events(), id).cancels == 1; }, 10000));
    const Tally t = tally(rx.events(), id);
    EXPECT_EQ(t.creates, 1);
    EXPECT_EQ(t.createTenants, 10u);
    EXPECT_EQ(t.starts, 1);
    EXPECT_EQ(t.cancels, 1);
    for (const auto& e : rx.events())
        if (e.path == "/notify/cancelMaintenanceEvent") {
            EXPECT_EQ(e.body, Json({{"orchestrationId", id}}));
        }
}

// The receiver is down for 30 s (the default 5 s retry): nothing is lost, the rollout is not held
// up, and the metrics show the failures and the queue.
TEST(NotificationE2E, ReceiverDown30sThenUpLosesNothing) {
    TempDir dir;
    Receiver rx;
    rx.down();
    ServerProcess s;
    ASSERT_TRUE(s.start(serverArgs("sqlite:" + (dir / "keb.db"), 20, rx.url()), dir.path.string())) << s.stderrText();
    Api a(s.port(), tok());
    const auto t0 = std::chrono::steady_clock::now();
    const Reply r = a.post("/upgrade/kyma", kymaBody(5, R"(,"notification":true)"));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_EQ(waitFinished(a, id, 30000), "succeeded");
    const double rolloutS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(rolloutS, 10.0) << "the rollout waited for the notification service";
    EXPECT_EQ(metric(a, "keb_notifications_queued"), 41);
    std::this_thread::sleep_for(std::chrono::seconds(30) - (std::chrono::steady_clock::now() - t0));
    const std::int64_t failed = metric(a, "keb_notifications_failed_total");
    EXPECT_GE(failed, 5) << "one try every 5 s for 30 s";
    EXPECT_LE(failed, 8) << "no faster than every 5 s";
    EXPECT_EQ(metric(a, "keb_notifications_sent_total"), 0);
    EXPECT_EQ(metric(a, "keb_notifications_queued"), 41);
    rx.up();
    ASSERT_TRUE(eventually([&] { return rx.count() >= 41; }, 15000)) << rx.count();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const Tally t = tally(rx.events(), id);
    EXPECT_EQ(t.creates, 1);
    EXPECT_EQ(t.createTenants, 20u);
    EXPECT_EQ(t.started.size(), 20u);
    EXPECT_EQ(t.ended.size(), 20u);
    EXPECT_EQ(rx.count(), 41u);
    EXPECT_EQ(metric(a, "keb_notifications_sent_total"), 41);
    EXPECT_EQ(metric(a, "keb_notifications_queued"), 0);
}

// kill -9 after the state changes were committed but before their notifications were sent (the
// receiver is down then): a restart on the same SQLite file delivers them.
TEST(NotificationE2E, Kill9BeforeTheSendStillDeliversAfterRestart) {
    TempDir dir;
    Receiver rx;
    rx.down();
    const auto args = serverArgs("sqlite:" + (dir / "keb.db"), 8, rx.url());
    ServerProcess s;
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
    std::string id;
    {
        Api a(s.port(), tok());
        const Reply r = a.post("/upgrade/kyma", kymaBody(4, R"(,"notification":true)"));
        ASSERT_EQ(r.status, 202) << r.body;
        id = r.json["orchestrationID"];
        ASSERT_EQ(waitFinished(a, id, 30000), "succeeded");
        EXPECT_EQ(metric(a, "keb_notifications_queued"), 17);
        EXPECT_EQ(metric(a, "keb_notifications_sent_total"), 0);
    }
    s.kill(SIGKILL);
    rx.up();
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
    ASSERT_TRUE(eventually([&] { return rx.count() >= 17; }, 15000)) << rx.count();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const Tally t = tally(rx.events(), id);
    EXPECT_EQ(t.creates, 1);
    EXPECT_EQ(t.createTenants, 8u);
    EXPECT_EQ(t.started.size(), 8u);
    EXPECT_EQ(t.ended.size(), 8u);
    EXPECT_EQ(rx.count(), 17u);
    Api a(s.port(), tok());
    EXPECT_EQ(metric(a, "keb_notifications_queued"), 0);

    // Killed while sends are going on (a slow receiver): every notification still arrives, some
    // perhaps twice (at least once), none lost.
    rx.setDelay(150);
    const Reply r2 = a.post("/upgrade/kyma", kymaBody(4, R"(,"notification":true)"));
    ASSERT_EQ(r2.status, 202);
    const std::string id2 = r2.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return tally(rx.events(), id2).starts >= 2; }, 15000));
    s.kill(SIGKILL);
    rx.setDelay(0);
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
    Api b(s.port(), tok());
    ASSERT_EQ(waitFinished(b, id2, 30000), "succeeded");
    ASSERT_TRUE(eventually([&] {
        const Tally t2 = tally(rx.events(), id2);
        return t2.creates >= 1 && t2.started.size() == 8 && t2.ended.size() == 8;
    }, 15000));
    const Tally t2 = tally(rx.events(), id2);
    EXPECT_EQ(t2.other, 0);
    std::cout << "kill -9 during sends: " << t2.creates + t2.starts + t2.ends << " notifications received for 17 rows ("
              << t2.duplicates + (t2.creates - 1) << " sent twice)\n";
}

// A notification service that takes 2 s per request does not slow the rollout down.
TEST(NotificationE2E, ASlowReceiverNeverDelaysAnUpgrade) {
    TempDir dir;
    Receiver rx;
    rx.setDelay(2000);
    ServerProcess s;
    ASSERT_TRUE(s.start(serverArgs("memory", 30, rx.url()), dir.path.string())) << s.stderrText();
    Api a(s.port(), tok());
    const auto t0 = std::chrono::steady_clock::now();
    const Reply r = a.post("/upgrade/kyma", kymaBody(10, R"(,"notification":true)"));
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_EQ(waitFinished(a, r.json["orchestrationID"], 30000), "succeeded");
    const double s1 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // 30 upgrades of 100 ms, 10 at a time: well under a second of work; 61 notifications at 2 s
    // each would take two minutes if the engine waited for them.
    EXPECT_LT(s1, 6.0);
    EXPECT_LT(rx.count(), 10u) << "the notifications were not sent in the meantime?";
    EXPECT_GT(metric(a, "keb_notifications_queued"), 40);
}

// A --notification-url that does not parse stops the server at start: exit 2 and a message.
TEST(NotificationE2E, BadNotificationUrlExits2) {
    TempDir dir;
    for (const std::string url : {"ftp://example.com", "http://", "http://host:0", "http://host:x1", "not a url",
                                  "http://host/path?query=1", "https://user@host/"}) {
        ServerProcess s;
        EXPECT_FALSE(s.start(serverArgs("memory", 1, url), dir.path.string())) << url;
        EXPECT_TRUE(WIFEXITED(s.exitStatus()) && WEXITSTATUS(s.exitStatus()) == 2) << url << ": " << s.exitStatus();
        EXPECT_NE(s.stderrText().find("--notification-url"), std::string::npos) << s.stderrText();
    }
}
