// kebctl configuration. See config.h.
#include "config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "keb/timefmt.h"
#include "request.h"

namespace kebctl {
namespace {

std::string trim(std::string s) {
    const char* ws = " \t\r\n";
    s.erase(0, s.find_first_not_of(ws));
    const auto e = s.find_last_not_of(ws);
    s.erase(e == std::string::npos ? 0 : e + 1);
    return s;
}

std::string readTokenFile(const std::string& path, const std::string& source) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError(source + ": cannot read token file \"" + path + "\"");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string t = trim(ss.str());
    if (t.empty()) throw UsageError(source + ": token file \"" + path + "\" is empty");
    return t;
}

// One level of configuration (flags, environment or file).
struct Level {
    std::string name;  // how messages name this level's keys
    std::map<std::string, std::string> values;
    std::string label(const std::string& key) const {
        if (name == "flags") return "--" + key;
        if (name == "env") {
            std::string e = "KCP_";
            for (char c : key) e += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return e;
        }
        return key + " in " + name;
    }
};

}  // namespace

std::map<std::string, std::string> readConfigFile(const std::string& path) {
    std::map<std::string, std::string> out;
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw UsageError("config file \"" + path + "\": cannot read it");
    } catch (const YAML::Exception& e) {
        throw UsageError("config file \"" + path + "\": not valid YAML: " + e.what());
    }
    if (root.IsNull()) return out;
    if (!root.IsMap()) throw UsageError("config file \"" + path + "\": want a map of key: value lines (e.g. keb-api-url: https://...)");
    for (const auto& kv : root) {
        if (!kv.first.IsScalar()) continue;
        const std::string key = kv.first.as<std::string>();
        if (kv.second.IsScalar()) out[key] = kv.second.as<std::string>();
        else if (kv.second.IsNull()) out[key] = "";
        // Other shapes (kcp keys this client does not read) are ignored.
    }
    return out;
}

Settings resolveSettings(const GlobalFlags& flags, const EnvLookup& env) {
    Settings s;
    static const char* kKeys[] = {"keb-api-url", "token", "token-file", "ca-cert", "timeout"};

    Level fl{"flags", {}};
    auto setFlag = [&](const char* k, const std::string& v) {
        if (!v.empty()) fl.values[k] = v;
    };
    setFlag("keb-api-url", flags.kebApiUrl);
    setFlag("token", flags.token);
    setFlag("token-file", flags.tokenFile);
    setFlag("ca-cert", flags.caCert);
    setFlag("timeout", flags.timeout);
    if (fl.values.count("token") && fl.values.count("token-file"))
        throw UsageError("--token and --token-file: give one of them");

    Level en{"env", {}};
    for (const char* k : kKeys) {
        const char* v = env(en.label(k).c_str());
        if (v && *v) en.values[k] = v;
    }

    Level file{"", {}};
    std::string path;
    bool explicitFile = false;
    if (!flags.config.empty()) {
        path = flags.config;
        explicitFile = true;
    } else if (const char* c = env("KCPCONFIG"); c && *c) {
        path = c;
        explicitFile = true;
    } else if (const char* h = env("HOME"); h && *h) {
        path = std::string(h) + "/.kcp/config.yaml";
    }
    if (!path.empty()) {
        std::error_code ec;
        if (explicitFile || std::filesystem::exists(path, ec)) {
            if (explicitFile && !std::filesystem::exists(path, ec))
                throw UsageError((flags.config.empty() ? "KCPCONFIG" : "--config") + std::string(": config file \"") + path +
                                 "\" does not exist");
            file.values = readConfigFile(path);
            file.name = path;
            s.configFile = path;
        }
    }

    const Level* levels[] = {&fl, &en, &file};
    auto pick = [&](const char* key, std::string* value, std::string* source) {
        for (const Level* l : levels) {
            auto it = l->values.find(key);
            if (it != l->values.end() && !it->second.empty()) {
                *value = it->second;
                if (source) *source = l->label(key);
                return true;
            }
        }
        return false;
    };

    if (!pick("keb-api-url", &s.apiUrl, &s.apiUrlSource))
        throw UsageError("no KEB API URL: set --keb-api-url, KCP_KEB_API_URL or keb-api-url in the config file (" +
                         (path.empty() ? std::string("$HOME/.kcp/config.yaml") : path) + ")");
    if (s.apiUrl.rfind("http://", 0) != 0 && s.apiUrl.rfind("https://", 0) != 0)
        throw UsageError(s.apiUrlSource + ": \"" + s.apiUrl + "\" is not an http:// or https:// URL");

    // Token: the first level holding a token or a token file.
    for (const Level* l : levels) {
        auto t = l->values.find("token");
        if (t != l->values.end() && !t->second.empty()) {
            s.token = trim(t->second);
            s.tokenSource = l->label("token");
            break;
        }
        auto f = l->values.find("token-file");
        if (f != l->values.end() && !f->second.empty()) {
            s.tokenSource = l->label("token-file");
            s.token = readTokenFile(f->second, s.tokenSource);
            break;
        }
    }

    std::string caSource;
    pick("ca-cert", &s.caCert, &caSource);
    if (!s.caCert.empty()) {
        std::error_code ec;
        if (!std::filesystem::exists(s.caCert, ec)) throw UsageError(caSource + ": CA file \"" + s.caCert + "\" does not exist");
    }
    std::string timeout, timeoutSource;
    if (pick("timeout", &timeout, &timeoutSource)) {
        const auto d = keb::parseDuration(timeout);
        if (!d || *d < 1000 || *d > 3600 * 1000)
            throw UsageError(timeoutSource + ": invalid timeout \"" + timeout + "\" (want a duration from 1s to 1h, e.g. 30s)");
        s.timeoutSeconds = static_cast<int>(*d / 1000);
    }
    return s;
}

}  // namespace kebctl
