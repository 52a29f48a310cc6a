// Kubernetes API client over cpp-httplib.
#include "keb/kube/client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "keb/bits.h"

namespace keb::kube {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

X509_STORE* storeFromPem(const std::string& pem, std::string* error) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) {
        *error = "out of memory reading CA";
        return nullptr;
    }
    X509_STORE* store = X509_STORE_new();
    int n = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, cert);
        X509_free(cert);
        ++n;
    }
    BIO_free(bio);
    if (n == 0) {
        X509_STORE_free(store);
        *error = "certificate-authority data holds no PEM certificate";
        return nullptr;
    }
    return store;
}

// Reads the first PEM object of `pem` with one of OpenSSL's PEM_read_bio_* functions.
template <class T>
T* fromPem(const std::string& pem, T* (*read)(BIO*, T**, pem_password_cb*, void*)) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) return nullptr;
    T* out = read(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return out;
}

X509* certFromPem(const std::string& pem) { return fromPem<X509>(pem, PEM_read_bio_X509); }
EVP_PKEY* keyFromPem(const std::string& pem) { return fromPem<EVP_PKEY>(pem, PEM_read_bio_PrivateKey); }

}  // namespace

std::string HttpResult::header(const std::string& name) const {
    std::string want = lower(name);
    for (const auto& [k, v] : headers)
        if (lower(k) == want) return v;
    return "";
}

std::string HttpResult::message() const {
    if (status == 0) return error.empty() ? "no response" : error;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
    std::string b = body.size() > 300 ? body.substr(0, 300) + "..." : body;
    while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
    return "HTTP " + std::to_string(status) + (b.empty() ? "" : ": " + b);
}

bool LineSplitter::feed(std::string_view chunk, const std::function<bool(std::string_view)>& onLine) {
    std::size_t start = 0;
    while (start < chunk.size()) {
        auto nl = chunk.find('\n', start);
        if (nl == std::string_view::npos) {
            buf_.append(chunk.substr(start));
            if (buf_.size() > maxLine_) {
                error_ = "watch event larger than " + std::to_string(maxLine_) + " bytes";
                return false;
            }
            return true;
        }
        std::string_view piece = chunk.substr(start, nl - start);
        start = nl + 1;
        std::string_view line;
        if (!buf_.empty()) {
            buf_.append(piece);
            line = buf_;
        } else {
            line = piece;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bool ok = true;
        if (!line.empty()) ok = onLine(line);
        buf_.clear();
        if (!ok) return false;
    }
    return true;
}

std::optional<Millis> parseRetryAfter(const std::string& value) {
    std::string v = value;
    while (!v.empty() && v.back() == ' ') v.pop_back();
    if (v.empty() || v.size() > 9) return std::nullopt;
    Millis s = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        s = s * 10 + (c - '0');
    }
    return s * kSecond;
}

Millis backoffDelay(const RetryPolicy& p, int attempt, std::uint64_t salt) {
    Millis d = p.backoffBase;
    for (int i = 1; i < attempt && d < p.backoffMax; ++i) d *= 2;
    d = std::min(d, p.backoffMax);
    // jitter: 75%..125%
    Millis jitter = static_cast<Millis>(mix64(salt) % 501) - 250;  // -250..250 per mille
    d = d + d * jitter / 1000;
    return std::max<Millis>(d, 1);
}

std::unique_ptr<KubeClient> KubeClient::create(const KubeConfig& cfg, std::string* error) {
    std::string dummy;
    if (!error) error = &dummy;
    std::unique_ptr<KubeClient> c(new KubeClient());
    c->cfg_ = cfg;
    std::string rest;
    if (cfg.server.rfind("https://", 0) == 0) {
        c->https_ = true;
        rest = cfg.server.substr(8);
    } else if (cfg.server.rfind("http://", 0) == 0) {
        rest = cfg.server.substr(7);
    } else {
        *error = "server URL must start with https:// or http://: " + cfg.server;
        return nullptr;
    }
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    if (slash != std::string::npos) c->prefix_ = rest.substr(slash);
    while (!c->prefix_.empty() && c->prefix_.back() == '/') c->prefix_.pop_back();
    std::string host = hostport;
    int port = c->https_ ? 443 : 80;
    if (!hostport.empty() && hostport[0] == '[') {  // [ipv6]:port
        auto close = hostport.find(']');
        if (close == std::string::npos) {
            *error = "bad server address " + hostport;
            return nullptr;
        }
        host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size() && hostport[close + 1] == ':') port = std::atoi(hostport.c_str() + close + 2);
    } else {
        auto colon = hostport.rfind(':');
        if (colon != std::string::npos) {
            host = hostport.substr(0, colon);
            port = std::atoi(hostport.c_str() + colon + 1);
        }
    }
    if (host.empty() || port <= 0 || port > 65535) {
        *error = "bad server address in kubeconfig: " + cfg.server;
        return nullptr;
    }
    c->host_ = host;
    c->port_ = port;
    // Validate TLS material once so errors surface at connect time.
    auto probe = c->makeClient(error);
    if (!probe) return nullptr;
    c->giveBack(std::move(probe));
    return c;
}

KubeClient::~KubeClient() { shutdown(); }

std::unique_ptr<httplib::ClientImpl> KubeClient::makeClient(std::string* error) {
    std::unique_ptr<httplib::ClientImpl> cli;
    if (https_) {
        std::unique_ptr<httplib::SSLClient> ssl;
        if (!cfg_.clientCertPem.empty()) {
            X509* cert = certFromPem(cfg_.clientCertPem);
            EVP_PKEY* key = keyFromPem(cfg_.clientKeyPem);
            if (!cert || !key) {
                if (cert) X509_free(cert);
                if (key) EVP_PKEY_free(key);
                *error = !cert ? "client certificate is not a PEM certificate" : "client key is not a PEM private key";
                return nullptr;
            }
            ssl = std::make_unique<httplib::SSLClient>(host_, port_, cert, key);
            X509_free(cert);  // SSL_CTX took its own references
            EVP_PKEY_free(key);
        } else {
            ssl = std::make_unique<httplib::SSLClient>(host_, port_);
        }
        if (!ssl->is_valid()) {
            *error = "cannot set up TLS (client certificate and key do not match?)";
            return nullptr;
        }
        if (cfg_.insecureSkipTlsVerify) {
            ssl->enable_server_certificate_verification(false);
        } else {
            ssl->enable_server_certificate_verification(true);
            if (!cfg_.caPem.empty()) {
                X509_STORE* store = storeFromPem(cfg_.caPem, error);
                if (!store) return nullptr;
                ssl->set_ca_cert_store(store);  // takes ownership
            }
        }
        cli = std::move(ssl);
    } else {
        cli = std::make_unique<httplib::ClientImpl>(host_, port_);
    }
    cli->set_connection_timeout(10, 0);
    cli->set_read_timeout(readTimeout / 1000, (readTimeout % 1000) * 1000);
    cli->set_write_timeout(30, 0);
    cli->set_keep_alive(true);
    cli->set_tcp_nodelay(true);
    return cli;
}

std::unique_ptr<httplib::ClientImpl> KubeClient::takeClient(std::string* error) {
    {
        std::lock_guard<std::mutex> lock(poolMu_);
        if (!pool_.empty()) {
            auto c = std::move(pool_.back());
            pool_.pop_back();
            return c;
        }
    }
    return makeClient(error);
}

void KubeClient::giveBack(std::unique_ptr<httplib::ClientImpl> c) {
    std::lock_guard<std::mutex> lock(poolMu_);
    if (pool_.size() < 64) pool_.push_back(std::move(c));
}

std::string KubeClient::currentToken() {
    if (!cfg_.tokenFile.empty()) {
        std::ifstream in(cfg_.tokenFile);
        if (in) {
            std::ostringstream ss;
            ss << in.rdbuf();
            std::string t = ss.str();
            while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
            if (!t.empty()) return t;
        }
    }
    return cfg_.token;
}

HttpResult KubeClient::request(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& contentType) {
    HttpResult r;
    if (shutdown_) {
        r.error = "client shut down";
        return r;
    }
    counters_.requests++;
    std::string err;
    auto cli = takeClient(&err);
    if (!cli) {
        r.error = err;
        return r;
    }
    httplib::Request req;
    req.method = method;
    req.path = prefix_ + path;
    req.headers.emplace("Accept", "application/json");
    req.headers.emplace("User-Agent", "keb-server/kube");
    std::string token = currentToken();
    if (!token.empty()) req.headers.emplace("Authorization", "Bearer " + token);
    if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
        req.body = body;
        req.headers.emplace("Content-Type", contentType.empty() ? "application/json" : contentType);
    }
    auto res = cli->send(req);
    if (!res) {
        r.error = "request " + method + " " + path + " failed: " + httplib::to_string(res.error());
        // A broken connection: do not reuse this client.
        return r;
    }
    r.status = res->status;
    r.body = std::move(res->body);
    for (auto& [k, v] : res->headers) r.headers.emplace(k, v);
    giveBack(std::move(cli));
    return r;
}

HttpResult KubeClient::call(const std::string& method, const std::string& path, const std::string& body,
                            const std::string& contentType, const RetryPolicy& policy) {
    HttpResult r;
    for (int attempt = 1;; ++attempt) {
        r = request(method, path, body, contentType);
        r.attempts = attempt;
        Millis wait = 0;
        if (r.status == 429) {
            counters_.throttled429++;
            auto ra = parseRetryAfter(r.header("Retry-After"));
            wait = ra ? std::min(*ra, policy.maxRetryAfter) : backoffDelay(policy, attempt, salt_++);
            if (wait == 0) wait = 1;
        } else if (r.status >= 500) {
            counters_.serverErrors5xx++;
            wait = backoffDelay(policy, attempt, salt_++);
        } else if (r.status == 0) {
            if (shutdown_) return r;
            counters_.brokenConnections++;
            wait = backoffDelay(policy, attempt, salt_++);
        } else {
            return r;
        }
        if (attempt >= policy.maxAttempts) return r;
        if (!sleepFor(wait)) return r;
    }
}

HttpResult KubeClient::stream(const std::string& path, const std::function<bool(std::string_view)>& onData) {
    HttpResult r;
    if (shutdown_) {
        r.error = "client shut down";
        return r;
    }
    counters_.requests++;
    std::string err;
    auto cli = makeClient(&err);  // a dedicated connection: it is held open
    if (!cli) {
        r.error = err;
        return r;
    }
    cli->set_read_timeout(watchReadTimeout / 1000, (watchReadTimeout % 1000) * 1000);
    cli->set_keep_alive(false);
    {
        std::lock_guard<std::mutex> lock(streamMu_);
        streams_.push_back(cli.get());
    }
    httplib::Request req;
    req.method = "GET";
    req.path = prefix_ + path;
    req.headers.emplace("Accept", "application/json");
    req.headers.emplace("User-Agent", "keb-server/kube");
    std::string token = currentToken();
    if (!token.empty()) req.headers.emplace("Authorization", "Bearer " + token);
    int status = 0;
    req.response_handler = [&](const httplib::Response& res) {
        status = res.status;
        for (auto& [k, v] : res.headers) r.headers.emplace(k, v);
        return true;
    };
    bool stoppedByCaller = false;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        if (status < 200 || status >= 300) {
            if (r.body.size() < (1u << 20)) r.body.append(data, n);
            return true;
        }
        if (shutdown_) return false;
        bool ok = onData(std::string_view(data, n));
        if (!ok) stoppedByCaller = true;
        return ok;
    };
    auto res = cli->send(req);
    {
        std::lock_guard<std::mutex> lock(streamMu_);
        streams_.erase(std::remove(streams_.begin(), streams_.end(), cli.get()), streams_.end());
    }
    r.status = status;
    if (!res && !stoppedByCaller) {
        if (status == 0) r.status = 0;
        r.error = "watch " + path + " broke: " + httplib::to_string(res.error());
    }
    return r;
}

void KubeClient::shutdown() {
    shutdown_ = true;
    {
        std::lock_guard<std::mutex> lock(sleepMu_);
    }
    sleepCv_.notify_all();
    std::lock_guard<std::mutex> lock(streamMu_);
    for (auto* c : streams_) c->stop();
}

bool KubeClient::sleepFor(Millis d) {
    std::unique_lock<std::mutex> lock(sleepMu_);
    return !sleepCv_.wait_for(lock, std::chrono::milliseconds(d), [&] { return shutdown_.load(); });
}

}  // namespace keb::kube
