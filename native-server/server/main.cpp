// keb-server entry point: the server, plus `token` and `jwks` helper subcommands.
#include <time.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app.h"
#include "auth.h"
#include "keb/timefmt.h"
#include "options.h"
#include "sqlite_store.h"
#include "store_factory.h"
#include "redact.h"

namespace {

std::optional<std::string> readFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int tokenCommand(const std::vector<std::string>& args, bool jwksOnly) {
    std::string secret, secretFile, scope = "broker-upgrade:read broker-upgrade:write", sub = "keb-operator", rsaKey, kid;
    std::string ttl = "1h", nbfIn;
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto need = [&](std::string* out) {
            if (i + 1 >= args.size()) {
                std::cerr << "keb-server token: " << args[i] << " needs a value\n";
                std::exit(2);
            }
            *out = args[++i];
        };
        if (args[i] == "--secret") need(&secret);
        else if (args[i] == "--secret-file") need(&secretFile);
        else if (args[i] == "--scope") need(&scope);
        else if (args[i] == "--sub") need(&sub);
        else if (args[i] == "--ttl") need(&ttl);
        else if (args[i] == "--nbf-in") need(&nbfIn);
        else if (args[i] == "--rsa-key") need(&rsaKey);
        else if (args[i] == "--kid") need(&kid);
        else {
            std::cerr << "keb-server token: unknown flag '" << args[i] << "' (see keb-server --help)\n";
            return 2;
        }
    }
    std::string err;
    if (jwksOnly) {
        auto pem = rsaKey.empty() ? std::nullopt : readFile(rsaKey);
        if (!pem) {
            std::cerr << "keb-server jwks: --rsa-key FILE (readable PEM) is required\n";
            return 2;
        }
        auto jwks = keb::server::jwksFromPem(*pem, kid, &err);
        if (!jwks) {
            std::cerr << "keb-server jwks: " << err << "\n";
            return 2;
        }
        std::cout << jwks->dump(2) << "\n";
        return 0;
    }
    if (!secretFile.empty()) {
        auto s = readFile(secretFile);
        if (!s) {
            std::cerr << "keb-server token: cannot read --secret-file " << secretFile << "\n";
            return 2;
        }
        secret = s->substr(0, s->find_first_of("\r\n"));
    }
    // --ttl may be negative ("-1h") to mint an expired token for tests.
    bool negative = !ttl.empty() && ttl[0] == '-';
    auto ttlMs = keb::parseDuration(negative ? std::string_view(ttl).substr(1) : std::string_view(ttl));
    if (!ttlMs) {
        std::cerr << "keb-server token: invalid --ttl '" << ttl << "'\n";
        return 2;
    }
    const long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    keb::Json claims = {{"sub", sub}, {"scope", scope}, {"iat", now},
                        {"exp", now + (negative ? -1 : 1) * (*ttlMs / 1000)}};
    if (!nbfIn.empty()) {
        auto d = keb::parseDuration(nbfIn);
        if (!d) {
            std::cerr << "keb-server token: invalid --nbf-in '" << nbfIn << "'\n";
            return 2;
        }
        claims["nbf"] = now + *d / 1000;
    }
    std::string token;
    if (!rsaKey.empty()) {
        auto pem = readFile(rsaKey);
        if (!pem) {
            std::cerr << "keb-server token: cannot read --rsa-key " << rsaKey << "\n";
            return 2;
        }
        token = keb::server::signRs256(claims, *pem, kid, &err);
        if (token.empty()) {
            std::cerr << "keb-server token: " << err << "\n";
            return 2;
        }
    } else {
        if (secret.empty()) {
            std::cerr << "keb-server token: --secret, --secret-file or --rsa-key is required\n";
            return 2;
        }
        token = keb::server::signHs256(claims, secret);
    }
    std::cout << token << "\n";
    return 0;
}

// keb-server fill --store sqlite:PATH|postgresql://... --operations N [--state succeeded|in-progress]
// Benchmark/test helper: writes one orchestration with N operations in ONE transaction and
// prints {"orchestrationID","operations","insertMs"} as JSON.
int fillCommand(const std::vector<std::string>& args) {
    std::string store, state = "succeeded";
    long long n = 100000;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--store") store = args[i + 1];
        else if (args[i] == "--operations") n = std::atoll(args[i + 1].c_str());
        else if (args[i] == "--state") state = args[i + 1];
        else {
            std::cerr << "keb-server fill: unknown flag '" << args[i] << "'\n";
            return 2;
        }
    }
    if (store == "memory" || !keb::server::storeSpecError(store).empty() || n <= 0 ||
        (state != "succeeded" && state != "in-progress")) {
        std::cerr << "usage: keb-server fill --store sqlite:PATH|postgresql://... --operations N "
                     "[--state succeeded|in-progress]\n";
        return 2;
    }
    try {
        keb::server::StoreOpenOptions fillOpen;
        fillOpen.exclusive = false;  // an offline tool: no one-engine lock
        keb::server::OpenedStore opened = keb::server::openStore(store, fillOpen);
        keb::Store& db = *opened.store;
        const keb::Millis now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        keb::Orchestration o;
        static int counter = 0;
        o.orchestrationID = "fill-" + std::to_string(now) + "-" + std::to_string(counter++);
        o.state = state == "succeeded" ? keb::OrchestrationState::Succeeded : keb::OrchestrationState::InProgress;
        o.description = state == "succeeded" ? "filled for a benchmark" : "Scheduled " + std::to_string(n) + " operations";
        o.createdAt = o.updatedAt = now;
        keb::Target all;
        all.all = true;
        o.parameters.targets.include.push_back(all);
        o.parameters.strategy.workers = 1;
        o.parameters.kyma = keb::KymaParams{"2.20.0"};
        std::vector<keb::Operation> ops;
        ops.reserve(static_cast<std::size_t>(n));
        for (long long i = 0; i < n; ++i) {
            keb::Operation op;
            char id[64];
            std::snprintf(id, sizeof id, "op-%08lld", i);
            op.operationID = id;
            op.orchestrationID = o.orchestrationID;
            op.runtimeID = "runtime-" + std::to_string(i);
            op.instanceID = "instance-" + std::to_string(i);
            op.globalAccountID = "ga-" + std::to_string(i % 97);
            op.subAccountID = "sa-" + std::to_string(i);
            op.servicePlanID = "4deee563-e5ec-4731-b9b1-53b42d855f0c";
            op.servicePlanName = "azure";
            op.region = "westeurope";
            op.shootName = "c-" + std::to_string(i);
            const bool done = state == "succeeded" || i < n / 2;
            op.state = done ? keb::OperationState::Succeeded : keb::OperationState::Pending;
            op.description = done ? "upgrade succeeded" : "pending";
            op.createdAt = op.updatedAt = now;
            op.startAt = now;
            op.seq = i;
            op.kymaConfig = keb::KymaParams{"2.20.0"};
            ops.push_back(std::move(op));
        }
        db.insertOrchestration(o);
        auto cpuMs = [] {
            timespec ts{};
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
        };
        auto t0 = std::chrono::steady_clock::now();
        double c0 = cpuMs();
        db.insertOperations(ops);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        double insertCpu = cpuMs() - c0;
        t0 = std::chrono::steady_clock::now();
        c0 = cpuMs();
        auto back = db.operationsOf(o.orchestrationID);
        double readMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        double readCpu = cpuMs() - c0;
        if (static_cast<long long>(back.size()) != n) throw std::runtime_error("read back a different count");
        std::cout << keb::Json{{"orchestrationID", o.orchestrationID}, {"operations", n}, {"insertMs", ms},
                               {"insertCpuMs", insertCpu}, {"readAllMs", readMs}, {"readAllCpuMs", readCpu}}.dump()
                  << "\n";
        return 0;
    } catch (const std::exception& ex) {
        std::cerr << "keb-server fill: " << keb::server::scrubSecrets(ex.what(), keb::server::storeSecrets(store)) << "\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "token") return tokenCommand({args.begin() + 1, args.end()}, false);
    if (!args.empty() && args[0] == "fill") return fillCommand({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "jwks") return tokenCommand({args.begin() + 1, args.end()}, true);
    std::string error;
    bool help = false;
    auto options = keb::server::parseServerOptions(args, &error, &help);
    if (help) {
        std::cout << keb::server::serverUsage();
        return 0;
    }
    if (!options) {
        std::cerr << "keb-server: " << keb::server::redactStoreSpec(error) << "\n";
        return 2;
    }
    return keb::server::runServer(*options);
}
