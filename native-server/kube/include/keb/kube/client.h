// A small Kubernetes API client over cpp-httplib: TLS (CA, insecure, client
// certificates), bearer tokens, retries (429 Retry-After, 5xx and broken
// connections with exponential backoff) and streaming GETs for watches.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "keb/kube/kubeconfig.h"
#include "keb/model.h"

namespace httplib {
class ClientImpl;
}

namespace keb::kube {

struct HttpResult {
    int status = 0;          // 0: no HTTP answer (connection refused, reset, TLS error, timeout)
    std::string body;
    std::string error;       // transport error text when status == 0
    std::multimap<std::string, std::string> headers;
    int attempts = 1;
    std::string header(const std::string& name) const;  // case-insensitive, "" when absent
    // Human-readable reason: a Kubernetes Status message if the body is one, else the body / error.
    std::string message() const;
};

struct RetryPolicy {
    int maxAttempts = 6;
    Millis backoffBase = 200;
    Millis backoffMax = 10 * kSecond;
    Millis maxRetryAfter = 60 * kSecond;  // a Retry-After above this is capped
};

struct ClientCounters {
    std::atomic<long long> throttled429{0};
    std::atomic<long long> serverErrors5xx{0};
    std::atomic<long long> brokenConnections{0};
    std::atomic<long long> requests{0};
};

// Splits a byte stream into lines ('\n'; a trailing '\r' is dropped). Lines may
// cross any number of chunk boundaries. Empty lines are skipped.
class LineSplitter {
public:
    explicit LineSplitter(std::size_t maxLine = 64u << 20) : maxLine_(maxLine) {}
    // Calls onLine for each complete line; returns false when onLine returned false
    // or a line exceeded maxLine (error() says so).
    bool feed(std::string_view chunk, const std::function<bool(std::string_view)>& onLine);
    const std::string& pending() const { return buf_; }
    const std::string& error() const { return error_; }
    void reset() { buf_.clear(); error_.clear(); }

private:
    std::size_t maxLine_;
    std::string buf_;
    std::string error_;
};

// Parses a Retry-After header value (delta-seconds); nullopt when absent/invalid.
std::optional<Millis> parseRetryAfter(const std::string& value);
// Backoff before attempt `attempt` (1-based retry count): base * 2^(attempt-1), capped, with
// deterministic jitter derived from `salt` (no global randomness).
Millis backoffDelay(const RetryPolicy& p, int attempt, std::uint64_t salt);

class KubeClient {
public:
    static std::unique_ptr<KubeClient> create(const KubeConfig& cfg, std::string* error);
    ~KubeClient();

    // One attempt.
    HttpResult request(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::string& contentType = "");
    // With retries on 429 (Retry-After), 5xx and broken connections. Other statuses return at once.
    HttpResult call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& contentType, const RetryPolicy& policy);
    // Streaming GET (watch): onData receives raw chunks as they arrive; returning false ends
    // the stream. For non-2xx answers the body is collected into the result instead.
    HttpResult stream(const std::string& path, const std::function<bool(std::string_view)>& onData);

    // Wakes any retry sleep and breaks open streams; later calls fail fast.
    void shutdown();
    bool isShutdown() const { return shutdown_.load(); }
    // Sleeps d unless shutdown() is called; false when interrupted.
    bool sleepFor(Millis d);

    ClientCounters& counters() { return counters_; }
    const KubeConfig& config() const { return cfg_; }
    Millis readTimeout = 30 * kSecond;
    Millis watchReadTimeout = 120 * kSecond;

private:
    KubeClient() = default;
    std::unique_ptr<httplib::ClientImpl> makeClient(std::string* error);
    std::unique_ptr<httplib::ClientImpl> takeClient(std::string* error);
    void giveBack(std::unique_ptr<httplib::ClientImpl> c);
    std::string currentToken();

    KubeConfig cfg_;
    bool https_ = false;
    std::string host_;
    int port_ = 0;
    std::string prefix_;  // path prefix of the server URL
    std::mutex poolMu_;
    std::vector<std::unique_ptr<httplib::ClientImpl>> pool_;
    std::mutex streamMu_;
    std::vector<httplib::ClientImpl*> streams_;
    std::atomic<bool> shutdown_{false};
    std::mutex sleepMu_;
    std::condition_variable sleepCv_;
    ClientCounters counters_;
    std::atomic<std::uint64_t> salt_{0};
};

}  // namespace keb::kube
