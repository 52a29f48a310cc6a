// Test harness for keb-server end-to-end tests: spawns the REAL binary on 127.0.0.1 with a
// free port (--listen 127.0.0.1:0 --port-file), talks HTTP with httplib::Client, checks every
// JSON answer against the OpenAPI document the server serves, and kills it with any signal.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/eventually.h"

#ifndef KEB_SERVER_BIN
#error "KEB_SERVER_BIN must be defined (path of keb-server)"
#endif

namespace keb::test {

using Json = nlohmann::json;

inline std::string readText(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A fresh temp directory, removed at the end unless KEB_KEEP_TEST_DIRS=1.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "keb-server-test-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        if (std::getenv("KEB_KEEP_TEST_DIRS")) return;
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Runs a command line through /bin/sh; returns its stdout (trailing newline removed).
inline std::string run(const std::string& cmd, int* status = nullptr) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = ::pclose(p);
    if (status) *status = st;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

class ServerProcess {
public:
    ~ServerProcess() { kill(SIGKILL); }

    // Starts keb-server with args (plus --listen/--port-file) and waits until it listens.
    // Returns false (and keeps the log) when it exited or did not listen within the timeout.
    bool start(const std::vector<std::string>& args, const std::string& dir, int timeoutMs = 15000,
               const std::string& binary = KEB_SERVER_BIN) {
        ++starts_;
        portFile_ = dir + "/port." + std::to_string(reinterpret_cast<std::uintptr_t>(this));
        std::filesystem::remove(portFile_);
        const std::string tag = std::filesystem::path(binary).filename().string() + "." + std::to_string(starts_);
        stdoutPath_ = dir + "/stdout." + tag + ".txt";
        stderrPath_ = dir + "/stderr." + tag + ".txt";
        std::vector<std::string> full = {binary, "--listen", "127.0.0.1:0", "--port-file", portFile_};
        full.insert(full.end(), args.begin(), args.end());
        std::fflush(nullptr);  // or the child would flush our buffered output a second time
        std::cout.flush();
        pid_ = ::fork();
        if (pid_ == 0) {
            FILE* o = std::freopen(stdoutPath_.c_str(), "w", stdout);
            FILE* e = std::freopen(stderrPath_.c_str(), "w", stderr);
            (void)o;
            (void)e;
            std::vector<char*> argv;
            for (auto& a : full) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            std::_Exit(127);
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        while (std::chrono::steady_clock::now() < deadline) {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                exitStatus_ = st;
                return false;
            }
            std::ifstream in(portFile_);
            int p = 0;
            if (in >> p && p > 0) {
                port_ = p;
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    // Sends sig and waits for the exit. Returns the wait status (or -1 when not running).
    int kill(int sig) {
        if (pid_ <= 0) return -1;
        ::kill(pid_, sig);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        exitStatus_ = st;
        return st;
    }
    bool running() const { return pid_ > 0; }
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string stdoutText() const { return readText(stdoutPath_); }
    std::string stderrText() const { return readText(stderrPath_); }
    int exitStatus() const { return exitStatus_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    int starts_ = 0;
    int exitStatus_ = 0;
    std::string portFile_, stdoutPath_, stderrPath_;
};

// ---------------------------------------------------------------- OpenAPI checks

// A minimal JSON Schema (OpenAPI 3.0 subset) validator: $ref, allOf, oneOf, nullable, type, enum,
// required, properties, items, minimum, minItems, pattern, format date-time. Appends
// "path: problem" to *errors.
inline void validateSchema(const Json& schema, const Json& v, const Json& root, const std::string& at,
                           std::vector<std::string>* errors) {
    if (v.is_null() && schema.value("nullable", false)) return;
    if (schema.contains("$ref")) {
        std::string ref = schema["$ref"].get<std::string>();  // "#/components/schemas/X"
        Json::json_pointer ptr(ref.substr(1));
        if (!root.contains(ptr)) {
            errors->push_back(at + ": unresolvable $ref " + ref);
            return;
        }
        validateSchema(root.at(ptr), v, root, at, errors);
        return;
    }
    if (schema.contains("allOf"))
        for (const auto& s : schema["allOf"]) validateSchema(s, v, root, at, errors);
    if (schema.contains("oneOf")) {
        int matching = 0;
        for (const auto& s : schema["oneOf"]) {
            std::vector<std::string> e;
            validateSchema(s, v, root, at, &e);
            matching += e.empty();
        }
        if (matching != 1)
            errors->push_back(at + ": " + v.dump().substr(0, 80) + " matches " + std::to_string(matching) +
                              " of the oneOf alternatives (want exactly 1)");
    }
    if (schema.contains("type")) {
        std::string t = schema["type"];
        bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) || (t == "string" && v.is_string()) ||
                  (t == "integer" && v.is_number_integer()) || (t == "number" && v.is_number()) ||
                  (t == "boolean" && v.is_boolean());
        if (!ok) {
            errors->push_back(at + ": expected " + t + ", got " + v.dump().substr(0, 80));
            return;
        }
    }
    if (schema.contains("enum")) {
        bool found = false;
        for (const auto& e : schema["enum"]) found = found || e == v;
        if (!found) errors->push_back(at + ": " + v.dump() + " not in enum");
    }
    if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>())
        errors->push_back(at + ": below minimum");
    if (v.is_string() && schema.contains("pattern") &&
        !std::regex_search(v.get<std::string>(), std::regex(schema["pattern"].get<std::string>())))
        errors->push_back(at + ": " + v.dump() + " does not match " + schema["pattern"].get<std::string>());
    if (v.is_string() && schema.value("format", "") == "date-time") {
        static const std::regex rfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
        if (!std::regex_match(v.get<std::string>(), rfc3339)) errors->push_back(at + ": " + v.dump() + " is not RFC 3339");
    }
    if (v.is_object()) {
        if (schema.contains("required"))
            for (const auto& r : schema["required"])
                if (!v.contains(r.get<std::string>())) errors->push_back(at + ": missing required property " + r.dump());
        if (schema.contains("properties"))
            for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it)
                if (v.contains(it.key())) validateSchema(it.value(), v[it.key()], root, at + "." + it.key(), errors);
    }
    if (v.is_array()) {
        if (schema.contains("minItems") && v.size() < schema["minItems"].get<std::size_t>())
            errors->push_back(at + ": fewer items than minItems");
        if (schema.contains("items"))
            for (std::size_t i = 0; i < v.size(); ++i)
                validateSchema(schema["items"], v[i], root, at + "[" + std::to_string(i) + "]", errors);
    }
}

// Checks one real answer against the document: the path+method must exist, the status must
// be documented for it, and a JSON body must satisfy the status's schema.
inline std::vector<std::string> checkAgainstOpenApi(const Json& doc, const std::string& method, const std::string& path,
                                                    int status, const std::string& contentType, const std::string& body) {
    std::vector<std::string> errors;
    auto split = [](const std::string& p) {
        std::vector<std::string> parts;
        std::stringstream ss(p);
        std::string s;
        while (std::getline(ss, s, '/'))
            if (!s.empty()) parts.push_back(s);
        return parts;
    };
    const auto actual = split(path.substr(0, path.find('?')));
    const Json* op = nullptr;
    std::string templ;
    for (auto it = doc["paths"].begin(); it != doc["paths"].end(); ++it) {
        auto t = split(it.key());
        if (t.size() != actual.size()) continue;
        bool match = true;
        for (std::size_t i = 0; i < t.size() && match; ++i) match = (t[i].front() == '{') || t[i] == actual[i];
        if (!match) continue;
        std::string m = method;
        for (auto& c : m) c = static_cast<char>(std::tolower(c));
        if (it.value().contains(m)) {
            op = &it.value()[m];
            templ = it.key();
        }
    }
    if (!op) return errors;  // not an API operation of the document (e.g. 404/405 paths)
    const std::string code = std::to_string(status);
    if (!(*op)["responses"].contains(code)) {
        errors.push_back(method + " " + templ + ": status " + code + " is not documented");
        return errors;
    }
    const Json& resp = (*op)["responses"][code];
    if (resp.contains("content") && resp["content"].contains("application/json")) {
        if (contentType.rfind("application/json", 0) != 0) {
            errors.push_back(method + " " + templ + " " + code + ": content type " + contentType);
            return errors;
        }
        Json v = Json::parse(body, nullptr, false);
        if (v.is_discarded()) {
            errors.push_back(method + " " + templ + " " + code + ": body is not JSON");
            return errors;
        }
        validateSchema(resp["content"]["application/json"]["schema"], v, doc, method + " " + templ + " " + code, &errors);
    }
    return errors;
}

struct Reply {
    int status = 0;  // 0: connection error
    std::string body;
    std::string contentType;
    Json json;  // discarded when not JSON
    httplib::Headers headers;
};

// HTTP client bound to one server; every reply is checked against the OpenAPI document.
class Api {
public:
    Api(int port, std::string token = "") : cli_("127.0.0.1", port), token_(std::move(token)) {
        cli_.set_connection_timeout(5, 0);
        cli_.set_read_timeout(20, 0);
        cli_.set_write_timeout(20, 0);
        cli_.set_url_encode(false);  // paths are sent exactly as written (e.g. state=in+progress)
    }
    void setToken(std::string t) { token_ = std::move(t); }
    void setOpenApi(const Json* doc) { doc_ = doc; }

    Reply call(const std::string& method, const std::string& path, const std::string& body = "",
               const std::string& contentType = "application/json", const httplib::Headers& extra = {}) {
        httplib::Headers h = extra;
        if (!token_.empty()) h.emplace("Authorization", "Bearer " + token_);
        auto send = [&]() -> httplib::Result {
            if (method == "GET") return cli_.Get(path.c_str(), h);
            if (method == "POST") return cli_.Post(path.c_str(), h, body, contentType.c_str());
            if (method == "PUT") return cli_.Put(path.c_str(), h, body, contentType.c_str());
            if (method == "DELETE") return cli_.Delete(path.c_str(), h);
            return cli_.Patch(path.c_str(), h, body, contentType.c_str());
        };
        httplib::Result r = send();
        Reply out;
        if (!r) return out;
        out.status = r->status;
        out.body = r->body;
        out.headers = r->headers;
        out.contentType = r->get_header_value("Content-Type");
        out.json = Json::parse(out.body, nullptr, false);
        if (doc_) {
            for (const auto& e : checkAgainstOpenApi(*doc_, method, path, out.status, out.contentType, out.body))
                ADD_FAILURE() << "OpenAPI mismatch: " << e << "\n  body: " << out.body.substr(0, 300);
        }
        // Every error answer is {"error": "..."} JSON.
        if (out.status >= 400) {
            EXPECT_TRUE(out.json.is_object() && out.json.contains("error") && out.json["error"].is_string())
                << method << " " << path << " -> " << out.status << " body: " << out.body.substr(0, 200);
        }
        return out;
    }
    Reply get(const std::string& path) { return call("GET", path); }
    Reply post(const std::string& path, const std::string& body, const std::string& ct = "application/json") {
        return call("POST", path, body, ct);
    }
    Reply put(const std::string& path, const std::string& body = "") { return call("PUT", path, body); }
    httplib::Client& raw() { return cli_; }

private:
    httplib::Client cli_;
    std::string token_;
    const Json* doc_ = nullptr;
};


inline std::string kymaBody(int workers = 5, const std::string& extra = "") {
    return R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":)" +
           std::to_string(workers) + R"(}},"kyma":{"version":"2.20.0"})" + extra + "}";
}

inline std::string token(const std::string& secret, const std::string& scope, const std::string& extraFlags = "") {
    return run(std::string(KEB_SERVER_BIN) + " token --secret '" + secret + "' --scope '" + scope + "' " + extraFlags);
}

}  // namespace keb::test
