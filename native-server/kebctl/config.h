// kebctl configuration, as kcp: flags > environment > config file.
//   config file: --config FILE, else $KCPCONFIG, else $HOME/.kcp/config.yaml (absent: no file)
//   keys (named as the flags): keb-api-url, token, token-file, ca-cert, timeout; other keys are
//   ignored, so a kcp config file works as it is.
//   environment: KCP_KEB_API_URL, KCP_TOKEN, KCP_TOKEN_FILE, KCP_CA_CERT, KCP_TIMEOUT
//   flags: --keb-api-url, --token, --token-file, --ca-cert, --timeout
// The token is one setting with two forms: the highest level that has either wins; at one
// level a token beats a token file (two forms given as flags is a usage error).
#pragma once
#include <functional>
#include <map>
#include <string>

namespace kebctl {

struct GlobalFlags {
    std::string config;
    std::string kebApiUrl, token, tokenFile, caCert, timeout;
};

struct Settings {
    std::string apiUrl;        // e.g. https://keb.example.com/prefix
    std::string apiUrlSource;  // "--keb-api-url", "KCP_KEB_API_URL", "keb-api-url in FILE"
    std::string token;         // may be empty (a server with --auth none)
    std::string tokenSource;
    std::string caCert;        // CA bundle for https (default: the system's)
    int timeoutSeconds = 60;   // connect/read/write timeout of each request
    std::string configFile;    // the file read, or empty
};

using EnvLookup = std::function<const char*(const char*)>;

// Throws UsageError (a missing URL, an unreadable explicit config file or token file, a bad
// value) naming where the value came from.
Settings resolveSettings(const GlobalFlags& flags, const EnvLookup& env);

// The keys of a config file (a YAML map of scalars); throws UsageError naming the file.
std::map<std::string, std::string> readConfigFile(const std::string& path);

}  // namespace kebctl
