#include "options.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "keb/timefmt.h"
#include "notification_sender.h"
#include "store_factory.h"

namespace keb::server {

const char* serverUsage() {
    return R"(keb-server: the orchestration API of Kyma Environment Broker (production shell)

Usage: keb-server [flags]
       keb-server token --secret S|--secret-file F [--scope "broker-upgrade:read broker-upgrade:write"]
                        [--ttl 1h] [--sub NAME] [--nbf-in DUR]      mint an HS256 token
       keb-server token --rsa-key KEY.pem [--kid K] [...]          mint an RS256 token
       keb-server jwks --rsa-key KEY.pem [--kid K]                 print the JWKS of a key
       keb-server fill --store SPEC --operations N [--state succeeded|in-progress]
                                                                   benchmark data, one transaction

Server flags:
  --listen HOST:PORT            address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  --store SPEC                  where state lives: sqlite:PATH, memory or a postgresql://
                                (postgres://) libpq URI, passed as-is (default sqlite:keb.db)
  --sqlite-synchronous full|normal
                                full (default): each commit is fsynced (survives power loss);
                                normal: survives kill -9 but not power loss (faster writes)
  --auth none|hs256:SECRET|jwks:FILE
                                token verification (default: hs256 with a secret generated once and
                                kept in PATH.jwt-secret next to the SQLite file; a ready token is printed)
  --auth-leeway DUR             clock skew allowed on exp/nbf (default 30s)
  --demo-fleet N                serve an in-process simulated fleet of N runtimes with a simulated
                                upgrade backend (no Gardener needed)
  --demo-seed S                 seed of the demo fleet and upgrade fates (default 1)
  --demo-upgrade-duration DUR   how long one demo upgrade takes (default 1s)
  --demo-failure-rate P         probability that a demo upgrade fails (default 0)
  --demo-step-latency DUR       every demo backend call blocks this long (simulates a slow network)
  --kubeconfig FILE --gardener-project NAME [--kyma-upgrade-url URL]
                                Gardener mode: fleet and upgrades through the Kubernetes API
  --poll-interval DUR           status check interval (default 1m; demo: the upgrade duration)
  --step-retry DUR              a step that met a transient error (backend call threw,
                                Gardener 429/5xx, broken connection) runs again after this
                                (default 5s)
  --operation-timeout DUR       give up an operation after (default 3h)
  --maintenance-policy FILE     maintenance policy JSON (SPEC 5)
  --blackouts FILE              server-wide blackouts: a JSON list of {"from": RFC3339, "to": RFC3339,
                                "reason": "..."}; no operation of any orchestration starts inside
                                [from, to) (SPEC 10; a request's strategy.blackouts add to them).
                                A bad file stops the server at start (exit 2) naming the entry
  --notification-url URL        send customer notifications (SPEC 14) for requests with
                                "notification": true to the notification service at URL
                                (http(s)://HOST[:PORT][/PATH]); a URL that does not parse stops the
                                server at start (exit 2). Failed sends are retried every 5s.
  --lease-ttl DUR               PostgreSQL store with several replicas: the leader lease (default
                                15s; renewed every ttl/3; a killed leader is replaced within about ttl)
  --replica-id ID               this replica's name in the lease and /healthz (default HOSTNAME-PID)
  --advertise-url URL           where the other replicas forward writes to this one when it leads
                                (default http://HOST:PORT as bound by --listen)
  --workers N                   upgrade worker threads (default 16)
  --http-threads N              HTTP handler threads (default 32)
  --web-root DIR                serve static files (the browser simulator) at /
  --tls-cert FILE --tls-key FILE  serve HTTPS
  --max-body BYTES              request body limit, 413 above (default 1048576)
  --read-timeout DUR --write-timeout DUR --keep-alive-timeout DUR   (defaults 10s, 10s, 5s)
  --keep-alive-requests N       requests served on one connection before it is closed (default 100;
                                cpp-httplib holds a thread per connection: closing lets waiting
                                clients in; reconnecting every few requests costs throughput)
  --access-log on|off           one JSON log line per request (default on)
  --engine-log on|off           one JSON log line per engine event (default on)
  --response-cache on|off       cache GET responses until the next store write (default on)
  --port-file FILE              write the bound port to FILE once listening
  --help                        this text

Durations: 500ms, 2s, 5m, 1h, 1h30m.
)";
}

namespace {
template <class T>
bool parseNumber(const std::string& s, T* out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}
bool parseOnOff(const std::string& v, bool* out) {
    if (v == "on" || v == "true" || v == "1") return *out = true, true;
    if (v == "off" || v == "false" || v == "0") return *out = false, true;
    return false;
}
}  // namespace

std::optional<ServerOptions> parseServerOptions(const std::vector<std::string>& args, std::string* error, bool* help) {
    ServerOptions o;
    *help = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string flag = args[i];
        std::string value;
        bool inlineValue = false;
        if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
            inlineValue = true;
        }
        if (flag == "--help" || flag == "-h") {
            *help = true;
            return o;
        }
        auto need = [&]() -> bool {
            if (inlineValue) return true;
            if (i + 1 >= args.size()) {
                *error = flag + " needs a value";
                return false;
            }
            value = args[++i];
            return true;
        };
        auto duration = [&](Millis* out) -> bool {
            if (!need()) return false;
            auto d = parseDuration(value);
            if (!d || *d < 0) {
                *error = flag + ": invalid duration '" + value + "' (write e.g. 500ms, 2s, 5m, 1h)";
                return false;
            }
            *out = *d;
            return true;
        };
        auto integer = [&](int* out, int lo, int hi) -> bool {
            if (!need()) return false;
            if (!parseNumber(value, out) || *out < lo || *out > hi) {
                *error = flag + ": expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                         ", got '" + value + "'";
                return false;
            }
            return true;
        };
        auto onOff = [&](bool* out) -> bool {
            if (!need()) return false;
            if (!parseOnOff(value, out)) {
                *error = flag + ": expected on or off, got '" + value + "'";
                return false;
            }
            return true;
        };
        bool ok = true;
        if (flag == "--listen") {
            if (!(ok = need())) break;
            auto colon = value.rfind(':');
            int port = 0;
            if (colon == std::string::npos || colon == 0 || !parseNumber(value.substr(colon + 1), &port) || port < 0 ||
                port > 65535) {
                *error = "--listen: expected HOST:PORT, got '" + value + "'";
                return std::nullopt;
            }
            o.host = value.substr(0, colon);
            if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
            o.port = port;
        } else if (flag == "--store") {
            if (!(ok = need())) break;
            if (std::string why = storeSpecError(value); !why.empty()) {  // the factory knows the stores
                *error = "--store: " + why;
                return std::nullopt;
            }
            o.store = value;
        } else if (flag == "--sqlite-synchronous") {
            if (!(ok = need())) break;
            if (value == "full") o.sqliteSynchronousFull = true;
            else if (value == "normal") o.sqliteSynchronousFull = false;
            else {
                *error = "--sqlite-synchronous: expected full or normal, got '" + value + "'";
                return std::nullopt;
            }
        } else if (flag == "--auth") {
            if (!(ok = need())) break;
            o.auth = value;
        } else if (flag == "--auth-leeway") {
            ok = duration(&o.authLeeway);
        } else if (flag == "--demo-fleet") {
            ok = integer(&o.demoFleet, 0, 10'000'000);
        } else if (flag == "--demo-seed") {
            if (!(ok = need())) break;
            if (!parseNumber(value, &o.demoSeed)) {
                *error = "--demo-seed: expected an unsigned integer, got '" + value + "'";
                return std::nullopt;
            }
        } else if (flag == "--demo-upgrade-duration") {
            ok = duration(&o.demoUpgradeDuration);
        } else if (flag == "--demo-failure-rate") {
            if (!(ok = need())) break;
            char* end = nullptr;
            o.demoFailureRate = std::strtod(value.c_str(), &end);
            if (value.empty() || *end || !(o.demoFailureRate >= 0 && o.demoFailureRate <= 1)) {
                *error = "--demo-failure-rate: expected a number from 0 to 1, got '" + value + "'";
                return std::nullopt;
            }
        } else if (flag == "--demo-step-latency") {
            ok = duration(&o.demoStepLatency);
        } else if (flag == "--poll-interval") {
            Millis d = 0;
            ok = duration(&d);
            if (ok && d <= 0) {
                *error = "--poll-interval must be positive";
                return std::nullopt;
            }
            o.pollInterval = d;
        } else if (flag == "--step-retry") {
            ok = duration(&o.stepRetryInterval);
        } else if (flag == "--operation-timeout") {
            ok = duration(&o.operationTimeout);
        } else if (flag == "--maintenance-policy") {
            if (!(ok = need())) break;
            o.maintenancePolicyFile = value;
        } else if (flag == "--blackouts") {
            if (!(ok = need())) break;
            o.blackoutsFile = value;
        } else if (flag == "--notification-url") {
            if (!(ok = need())) break;
            if (!parseNotificationUrl(value, error)) {
                ok = false;
                break;
            }
            o.notificationUrl = value;
        } else if (flag == "--notification-retry") {  // tests: the retry interval (default 5s)
            ok = duration(&o.notificationRetry);
        } else if (flag == "--lease-ttl") {
            ok = duration(&o.leaseTtl);
            if (ok && o.leaseTtl < 300) {
                *error = "--lease-ttl must be at least 300ms, got '" + value + "'";
                return std::nullopt;
            }
        } else if (flag == "--replica-id") {
            if (!(ok = need())) break;
            if (value.empty() || value.size() > 200) {
                *error = "--replica-id: expected 1 to 200 characters";
                return std::nullopt;
            }
            o.replicaId = value;
        } else if (flag == "--advertise-url") {
            if (!(ok = need())) break;
            if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
                *error = "--advertise-url: expected http(s)://HOST:PORT, got '" + value + "'";
                return std::nullopt;
            }
            o.advertiseUrl = value;
        } else if (flag == "--workers") {
            ok = integer(&o.workers, 1, 1024);
        } else if (flag == "--http-threads") {
            ok = integer(&o.httpThreads, 1, 4096);
        } else if (flag == "--web-root") {
            if (!(ok = need())) break;
            o.webRoot = value;
        } else if (flag == "--tls-cert") {
            if (!(ok = need())) break;
            o.tlsCert = value;
        } else if (flag == "--tls-key") {
            if (!(ok = need())) break;
            o.tlsKey = value;
        } else if (flag == "--kubeconfig") {
            if (!(ok = need())) break;
            o.kubeconfig = value;
        } else if (flag == "--gardener-project") {
            if (!(ok = need())) break;
            o.gardenerProject = value;
        } else if (flag == "--kyma-upgrade-url") {
            if (!(ok = need())) break;
            o.kymaUpgradeURL = value;
        } else if (flag == "--max-body") {
            int n = 0;
            ok = integer(&n, 1024, 1 << 30);
            o.maxBody = static_cast<std::size_t>(n);
        } else if (flag == "--read-timeout") {
            ok = duration(&o.readTimeout);
        } else if (flag == "--write-timeout") {
            ok = duration(&o.writeTimeout);
        } else if (flag == "--keep-alive-timeout") {
            ok = duration(&o.keepAliveTimeout);
        } else if (flag == "--keep-alive-requests") {
            ok = integer(&o.keepAliveRequests, 1, 1'000'000);
        } else if (flag == "--access-log") {
            ok = onOff(&o.accessLog);
        } else if (flag == "--engine-log") {
            ok = onOff(&o.engineLog);
        } else if (flag == "--response-cache") {
            ok = onOff(&o.responseCache);
        } else if (flag == "--port-file") {
            if (!(ok = need())) break;
            o.portFile = value;
        } else {
            *error = "unknown flag '" + args[i] + "' (see --help)";
            return std::nullopt;
        }
        if (!ok) return std::nullopt;
    }
    if (error->empty()) {
        if (o.tlsCert.empty() != o.tlsKey.empty()) {
            *error = "--tls-cert and --tls-key go together";
            return std::nullopt;
        }
        if (o.kubeconfig.empty() != o.gardenerProject.empty()) {
            *error = "--kubeconfig and --gardener-project go together";
            return std::nullopt;
        }
        if (!o.kubeconfig.empty() && o.demoFleet > 0) {
            *error = "--demo-fleet and --kubeconfig exclude each other";
            return std::nullopt;
        }
        if (o.replicaId.empty()) {
            char host[256] = {0};
            if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "keb");
            o.replicaId = std::string(host) + "-" + std::to_string(::getpid());
        }
        return o;
    }
    return std::nullopt;
}

}  // namespace keb::server
