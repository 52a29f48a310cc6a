#include "notification_sender.h"

#include <httplib.h>

#include <chrono>

#include "log.h"

namespace keb::server {

std::string NotificationUrl::schemeHostPort() const {
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<NotificationUrl> parseNotificationUrl(const std::string& url, std::string* error) {
    auto fail = [&](const std::string& why) -> std::optional<NotificationUrl> {
        *error = "--notification-url: " + why + " (want http(s)://HOST[:PORT][/PATH], got '" + url + "')";
        return std::nullopt;
    };
    NotificationUrl u;
    std::string rest;
    if (url.rfind("http://", 0) == 0) {
        u.scheme = "http";
        u.port = 80;
        rest = url.substr(7);
    } else if (url.rfind("https://", 0) == 0) {
        u.scheme = "https";
        u.port = 443;
        rest = url.substr(8);
    } else {
        return fail("the scheme must be http or https");
    }
    for (char c : rest)
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return fail("spaces and control characters are not allowed");
    if (rest.find_first_of("?#") != std::string::npos) return fail("no query or fragment");
    const std::size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    u.path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
    if (authority.find('@') != std::string::npos) return fail("no user info");
    std::string portText;
    if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
        const std::size_t close = authority.find(']');
        if (close == std::string::npos) return fail("unclosed [ in the host");
        u.host = authority.substr(1, close - 1);
        std::string after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return fail("junk after the host");
            portText = after.substr(1);
            if (portText.empty()) return fail("empty port");
        }
    } else {
        const std::size_t colon = authority.find(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) {
            portText = authority.substr(colon + 1);
            if (portText.empty()) return fail("empty port");
        }
    }
    if (u.host.empty()) return fail("no host");
    for (char c : u.host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':'))
            return fail("bad character '" + std::string(1, c) + "' in the host");
    if (!portText.empty()) {
        if (portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string::npos)
            return fail("the port must be a number from 1 to 65535");
        const int p = std::stoi(portText);
        if (p < 1 || p > 65535) return fail("the port must be a number from 1 to 65535");
        u.port = p;
    }
    return u;
}

std::pair<const char*, const char*> notificationEndpoint(Notification::Kind kind) {
    switch (kind) {
        case Notification::Kind::Create: return {"POST", "/createMaintenanceEvent"};
        case Notification::Kind::Start:
        case Notification::Kind::End: return {"PATCH", "/updateMaintenanceEvent"};
        case Notification::Kind::Cancel: return {"PATCH", "/cancelMaintenanceEvent"};
    }
    return {"POST", "/createMaintenanceEvent"};
}

NotificationSender::NotificationSender(NotificationUrl url, StoreAccess store, Millis retryInterval, Millis idlePoll)
    : url_(std::move(url)), store_(std::move(store)), retryInterval_(retryInterval), idlePoll_(idlePoll) {}

NotificationSender::~NotificationSender() { stop(); }

void NotificationSender::start() { thread_ = std::thread([this] { run(); }); }

void NotificationSender::stop() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void NotificationSender::wake() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

bool NotificationSender::waitFor(Millis d, bool wakeable) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(d), [&] { return stopping_ || (wakeable && woken_); });
    woken_ = false;
    return !stopping_;
}

bool NotificationSender::send(const Notification& n) {
    const auto [method, endpoint] = notificationEndpoint(n.kind);
    const std::string path = url_.path + endpoint;
    httplib::Client cli(url_.schemeHostPort());
    cli.set_connection_timeout(5, 0);
    cli.set_read_timeout(10, 0);
    cli.set_write_timeout(10, 0);
    httplib::Result r = std::string_view(method) == "POST" ? cli.Post(path.c_str(), n.payload, "application/json")
                                                           : cli.Patch(path.c_str(), n.payload, "application/json");
    if (r && r->status >= 200 && r->status < 300) return true;
    const std::string why = r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error());
    logEvent("warn", "notification.failed",
             {{"kind", toString(n.kind)},
              {"orchestrationID", n.orchestrationID},
              {"sequence", n.sequence},
              {"url", url_.schemeHostPort() + path},
              {"error", why},
              {"retryIn", static_cast<std::int64_t>(retryInterval_)}});
    return false;
}

void NotificationSender::run() {
    for (;;) {
        std::vector<Notification> batch;
        try {
            batch = store_.pending(100);
        } catch (const std::exception& ex) {
            logEvent("error", "notification.store", {{"error", ex.what()}});
            if (!waitFor(retryInterval_, false)) return;
            continue;
        }
        if (batch.empty()) {
            if (!waitFor(idlePoll_, true)) return;
            continue;
        }
        std::vector<std::int64_t> delivered;
        bool error = false;
        for (const Notification& n : batch) {
            {
                std::lock_guard<std::mutex> lk(mu_);
                if (stopping_) break;
            }
            if (!send(n)) {
                failed_.fetch_add(1);
                error = true;
                break;  // in order: the same row again after the retry interval
            }
            sent_.fetch_add(1);
            delivered.push_back(n.sequence);
        }
        if (!delivered.empty()) {
            try {
                store_.markDelivered(delivered);
            } catch (const std::exception& ex) {  // sent again later: at least once
                logEvent("error", "notification.store", {{"error", ex.what()}});
                error = true;
            }
        }
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (stopping_) return;
        }
        if (error && !waitFor(retryInterval_, false)) return;
    }
}

}  // namespace keb::server
