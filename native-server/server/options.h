// Command line of keb-server (see --help and docs/server.md).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keb/model.h"

namespace keb::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string store = "sqlite:keb.db";  // sqlite:PATH | memory
    bool sqliteSynchronousFull = true;
    std::optional<std::string> auth;      // none | hs256:SECRET | jwks:FILE; unset: hs256 with a generated secret
    Millis authLeeway = 30 * kSecond;
    int demoFleet = 0;
    std::uint64_t demoSeed = 1;
    Millis demoUpgradeDuration = kSecond;
    double demoFailureRate = 0.0;
    Millis demoStepLatency = 0;
    std::optional<Millis> pollInterval;   // unset: 1m, or the demo upgrade duration in demo mode
    Millis stepRetryInterval = 5 * kSecond;
    Millis operationTimeout = 3 * kHour;
    std::string maintenancePolicyFile;
    std::string blackoutsFile;  // SPEC 10: server-wide blackouts (JSON list of {from, to, reason})
    int workers = 16;
    int httpThreads = 32;
    std::string webRoot;
    std::string tlsCert, tlsKey;
    std::string kubeconfig, gardenerProject, kymaUpgradeURL;
    std::size_t maxBody = 1024 * 1024;
    Millis readTimeout = 10 * kSecond;
    Millis writeTimeout = 10 * kSecond;
    Millis keepAliveTimeout = 5 * kSecond;
    int keepAliveRequests = 100;  // per connection (httplib's default is 5)
    bool accessLog = true;
    bool engineLog = true;
    bool responseCache = true;
    std::string portFile;
    // SPEC 14: customer notifications (unset: off). Checked when parsed (a bad URL: exit 2).
    std::string notificationUrl;
    Millis notificationRetry = 5 * kSecond;  // --notification-retry (for tests; not in --help)
    // SPEC 11: several replicas on one PostgreSQL store (ignored with SQLite or memory).
    Millis leaseTtl = 15 * kSecond;
    std::string replicaId;     // default hostname-pid (filled by the parser)
    std::string advertiseUrl;  // where followers forward writes; default http://HOST:PORT as bound
};

// Parses argv (without the program name). On error returns nullopt with *error set;
// *help is set for --help.
std::optional<ServerOptions> parseServerOptions(const std::vector<std::string>& args, std::string* error, bool* help);
const char* serverUsage();

}  // namespace keb::server
