// kubeconfig parsing with yaml-cpp.
#include "keb/kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace keb::kube {

namespace {

bool readFile(const std::string& path, std::string* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return true;
}

std::string resolvePath(const std::string& p, const std::string& baseDir) {
    if (p.empty() || p[0] == '/' || baseDir.empty()) return p;
    return baseDir + "/" + p;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return s.substr(i);
}

// Finds the entry named `name` in a list of {name, <key>: {...}}.
YAML::Node findNamed(const YAML::Node& list, const std::string& name, const char* key) {
    if (!list || !list.IsSequence()) return YAML::Node();
    for (const auto& item : list) {
        if (item.IsMap() && item["name"] && item["name"].IsScalar() && item["name"].as<std::string>() == name)
            return item[key];
    }
    return YAML::Node();
}

std::string str(const YAML::Node& n, const char* key) {
    if (!n || !n.IsMap()) return "";
    YAML::Node v = n[key];
    if (!v || !v.IsScalar()) return "";
    return v.as<std::string>();
}

// "-data" (base64) wins over the file reference, like kubectl.
bool dataOrFile(const YAML::Node& n, const char* dataKey, const char* fileKey, const std::string& baseDir,
                std::string* out, std::string* error, const std::string& where) {
    std::string data = str(n, dataKey);
    if (!data.empty()) {
        auto d = base64Decode(data);
        if (!d) {
            *error = where + "." + dataKey + ": not valid base64";
            return false;
        }
        *out = *d;
        return true;
    }
    std::string file = str(n, fileKey);
    if (!file.empty()) {
        std::string path = resolvePath(file, baseDir);
        if (!readFile(path, out)) {
            *error = where + "." + fileKey + ": cannot read " + path;
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> base64Decode(const std::string& in) {
    static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned int buf = 0;
    int bits = 0;
    bool pad = false;
    for (char c : in) {
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
        if (c == '=') {
            pad = true;
            continue;
        }
        if (pad) return std::nullopt;
        char cc = c == '-' ? '+' : c == '_' ? '/' : c;
        auto pos = chars.find(cc);
        if (pos == std::string::npos) return std::nullopt;
        buf = (buf << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buf >> bits) & 0xFF));
        }
    }
    return out;
}

std::string base64Encode(const std::string& in) {
    static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    while (i + 2 < in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += chars[v >> 18 & 63];
        out += chars[v >> 12 & 63];
        out += chars[v >> 6 & 63];
        out += chars[v & 63];
        i += 3;
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += chars[v >> 18 & 63];
        out += chars[v >> 12 & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += chars[v >> 18 & 63];
        out += chars[v >> 12 & 63];
        out += chars[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<KubeConfig> parseKubeConfig(const std::string& yamlText, const std::string& baseDir,
                                          std::string* error, const std::string& context) {
    std::string dummy;
    if (!error) error = &dummy;
    YAML::Node root;
    try {
        root = YAML::Load(yamlText);
    } catch (const std::exception& e) {
        *error = std::string("kubeconfig is not valid YAML: ") + e.what();
        return std::nullopt;
    }
    if (!root.IsMap()) {
        *error = "kubeconfig: expected a mapping at the top level";
        return std::nullopt;
    }
    try {
        KubeConfig cfg;
        cfg.contextName = context.empty() ? str(root, "current-context") : context;
        if (cfg.contextName.empty()) {
            *error = "kubeconfig: no current-context set (and no context given)";
            return std::nullopt;
        }
        YAML::Node ctx = findNamed(root["contexts"], cfg.contextName, "context");
        if (!ctx || !ctx.IsMap()) {
            *error = "kubeconfig: context \"" + cfg.contextName + "\" not found in contexts";
            return std::nullopt;
        }
        std::string clusterName = str(ctx, "cluster");
        std::string userName = str(ctx, "user");
        cfg.namespaceName = str(ctx, "namespace");
        YAML::Node cluster = findNamed(root["clusters"], clusterName, "cluster");
        if (!cluster || !cluster.IsMap()) {
            *error = "kubeconfig: cluster \"" + clusterName + "\" (of context " + cfg.contextName + ") not found";
            return std::nullopt;
        }
        cfg.server = str(cluster, "server");
        if (cfg.server.empty()) {
            *error = "kubeconfig: cluster \"" + clusterName + "\" has no server";
            return std::nullopt;
        }
        while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
        if (cfg.server.rfind("https://", 0) != 0 && cfg.server.rfind("http://", 0) != 0) {
            *error = "kubeconfig: server \"" + cfg.server + "\" must start with https:// or http://";
            return std::nullopt;
        }
        std::string skip = str(cluster, "insecure-skip-tls-verify");
        cfg.insecureSkipTlsVerify = (skip == "true" || skip == "True");
        if (!dataOrFile(cluster, "certificate-authority-data", "certificate-authority", baseDir, &cfg.caPem, error,
                        "clusters[" + clusterName + "]"))
            return std::nullopt;
        if (!userName.empty()) {
            YAML::Node user = findNamed(root["users"], userName, "user");
            if (!user || !user.IsMap()) {
                *error = "kubeconfig: user \"" + userName + "\" (of context " + cfg.contextName + ") not found";
                return std::nullopt;
            }
            cfg.token = str(user, "token");
            cfg.tokenFile = resolvePath(str(user, "tokenFile"), baseDir);
            if (cfg.token.empty() && !cfg.tokenFile.empty()) {
                if (!readFile(cfg.tokenFile, &cfg.token)) {
                    *error = "kubeconfig: users[" + userName + "].tokenFile: cannot read " + cfg.tokenFile;
                    return std::nullopt;
                }
                cfg.token = trim(cfg.token);
            }
            std::string where = "users[" + userName + "]";
            if (!dataOrFile(user, "client-certificate-data", "client-certificate", baseDir, &cfg.clientCertPem, error,
                            where))
                return std::nullopt;
            if (!dataOrFile(user, "client-key-data", "client-key", baseDir, &cfg.clientKeyPem, error, where))
                return std::nullopt;
            if (cfg.clientCertPem.empty() != cfg.clientKeyPem.empty()) {
                *error = "kubeconfig: " + where + " needs both a client certificate and a client key";
                return std::nullopt;
            }
            if (user["exec"] && cfg.token.empty() && cfg.clientCertPem.empty()) {
                *error = "kubeconfig: " + where + " uses an exec credential plugin, which is not supported; "
                         "use a token, tokenFile or client certificate";
                return std::nullopt;
            }
        }
        return cfg;
    } catch (const std::exception& e) {
        *error = std::string("kubeconfig: unexpected structure: ") + e.what();
        return std::nullopt;
    }
}

std::optional<KubeConfig> loadKubeConfig(const std::string& path, std::string* error, const std::string& context) {
    std::string text;
    if (!readFile(path, &text)) {
        if (error) *error = "cannot read kubeconfig " + path;
        return std::nullopt;
    }
    std::string dir;
    auto slash = path.rfind('/');
    if (slash != std::string::npos) dir = path.substr(0, slash);
    return parseKubeConfig(text, dir.empty() ? "." : dir, error, context);
}

}  // namespace keb::kube
