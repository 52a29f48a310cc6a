// kubeconfig loading (the parts a client of one API server needs).
#pragma once
#include <optional>
#include <string>

namespace keb::kube {

// Everything resolved for the current context: file references are read, base64
// data decoded, so the result holds PEM text and the token itself.
struct KubeConfig {
    std::string contextName;
    std::string server;               // https://host:port[/prefix] or http://...
    std::string caPem;                // certificate-authority(-data)
    bool insecureSkipTlsVerify = false;
    std::string token;                // token, or the content of tokenFile (trimmed)
    std::string tokenFile;            // kept so the token can be re-read (rotated tokens)
    std::string clientCertPem;        // client-certificate(-data)
    std::string clientKeyPem;         // client-key(-data)
    std::string namespaceName;        // context namespace, if any
};

// Parses kubeconfig YAML text. Relative file paths are resolved against baseDir.
// Uses `current-context` unless `context` is given. nullopt with *error on failure.
std::optional<KubeConfig> parseKubeConfig(const std::string& yamlText, const std::string& baseDir,
                                          std::string* error, const std::string& context = "");
std::optional<KubeConfig> loadKubeConfig(const std::string& path, std::string* error,
                                         const std::string& context = "");

std::optional<std::string> base64Decode(const std::string& in);
std::string base64Encode(const std::string& in);

}  // namespace keb::kube
