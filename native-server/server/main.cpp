// keb-server entry point: the server, plus `token` and `jwks` helper subcommands.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app.h"
#include "auth.h"
#include "keb/timefmt.h"
#include "options.h"

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

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "token") return tokenCommand({args.begin() + 1, args.end()}, false);
    if (!args.empty() && args[0] == "jwks") return tokenCommand({args.begin() + 1, args.end()}, true);
    std::string error;
    bool help = false;
    auto options = keb::server::parseServerOptions(args, &error, &help);
    if (help) {
        std::cout << keb::server::serverUsage();
        return 0;
    }
    if (!options) {
        std::cerr << "keb-server: " << error << "\n";
        return 2;
    }
    return keb::server::runServer(*options);
}
