#include "auth.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <sstream>
#include <vector>

#include "keb/wire.h"

namespace keb::server {

namespace {
const char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

std::string hmacSha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
}

// A string member of a JSON object, "" when absent or of another type (Json::value() would throw
// on {"alg": 1}; found by tests/fuzz/fuzz_jwt.cpp).
std::string stringMember(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A numeric claim as whole seconds, saturated: a double outside the int64 range (exp 1e300)
// must not be cast directly (undefined behaviour; found by tests/fuzz/fuzz_jwt.cpp).
std::int64_t claimSeconds(double v) {
    constexpr double kLimit = 9.2e18;  // below INT64_MAX, above any real time
    if (!(v > -kLimit)) return -static_cast<std::int64_t>(kLimit);
    if (!(v < kLimit)) return static_cast<std::int64_t>(kLimit);
    return static_cast<std::int64_t>(v);
}

struct PkeyDeleter {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

PkeyPtr rsaFromJwk(const std::string& n, const std::string& e, std::string* error) {
    auto nb = base64UrlDecode(n), eb = base64UrlDecode(e);
    if (!nb || !eb || nb->empty() || eb->empty()) {
        *error = "invalid base64url in n or e";
        return nullptr;
    }
    BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(nb->data()), static_cast<int>(nb->size()), nullptr);
    BIGNUM* be = BN_bin2bn(reinterpret_cast<const unsigned char*>(eb->data()), static_cast<int>(eb->size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM* params = nullptr;
    EVP_PKEY_CTX* ctx = nullptr;
    EVP_PKEY* pkey = nullptr;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
        (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) > 0) {
    } else {
        *error = "cannot build an RSA key from n and e";
        pkey = nullptr;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    if (pkey && EVP_PKEY_get_bits(pkey) < 2048) {
        EVP_PKEY_free(pkey);
        *error = "RSA key shorter than 2048 bits";
        return nullptr;
    }
    return PkeyPtr(pkey);
}

bool verifyRs256(EVP_PKEY* key, std::string_view signingInput, std::string_view sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                               reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

PkeyPtr readPrivatePem(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    return PkeyPtr(k);
}

std::string bnToB64(const BIGNUM* bn) {
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    return base64UrlEncode(bytes);
}

// Splits "h.p.s"; decodes header and payload JSON objects.
struct ParsedToken {
    Json header, payload;
    std::string signingInput, signature;
};

std::optional<ParsedToken> parseToken(std::string_view authorization, std::string* error) {
    if (authorization.empty()) {
        *error = "missing bearer token (Authorization: Bearer <JWT>)";
        return std::nullopt;
    }
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                std::tolower(static_cast<unsigned char>(b)); })) {
        *error = "Authorization header must be 'Bearer <JWT>'";
        return std::nullopt;
    }
    std::string_view tok = authorization.substr(kBearer.size());
    while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\r')) tok.remove_suffix(1);
    auto d1 = tok.find('.');
    auto d2 = d1 == std::string_view::npos ? d1 : tok.find('.', d1 + 1);
    if (d1 == std::string_view::npos || d2 == std::string_view::npos || tok.find('.', d2 + 1) != std::string_view::npos) {
        *error = "malformed token: expected three dot-separated parts";
        return std::nullopt;
    }
    auto h = base64UrlDecode(tok.substr(0, d1));
    auto p = base64UrlDecode(tok.substr(d1 + 1, d2 - d1 - 1));
    auto s = base64UrlDecode(tok.substr(d2 + 1));
    if (!h || !p || !s) {
        *error = "malformed token: invalid base64url";
        return std::nullopt;
    }
    if (jsonNestedDeeperThan(*h) || jsonNestedDeeperThan(*p)) {
        *error = "malformed token: nested too deeply";
        return std::nullopt;
    }
    ParsedToken out;
    out.header = Json::parse(*h, nullptr, false);
    out.payload = Json::parse(*p, nullptr, false);
    if (!out.header.is_object() || !out.payload.is_object()) {
        *error = "malformed token: header and payload must be JSON objects";
        return std::nullopt;
    }
    out.signingInput = std::string(tok.substr(0, d2));
    out.signature = std::move(*s);
    return out;
}

// Checks time claims and builds the principal.
Principal principalFrom(const Json& claims, std::int64_t now, std::int64_t leeway, std::string* error) {
    Principal p;
    auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number()) {
        *error = "token has no numeric exp claim";
        return p;
    }
    if (now > exp->get<double>() + static_cast<double>(leeway)) {
        *error = "token expired";
        return p;
    }
    auto nbf = claims.find("nbf");
    if (nbf != claims.end()) {
        if (!nbf->is_number()) {
            *error = "token nbf claim is not a number";
            return p;
        }
        if (now + leeway < nbf->get<double>()) {
            *error = "token not valid yet (nbf)";
            return p;
        }
    }
    auto addScopes = [&](const std::string& s) {
        std::istringstream in(s);
        std::string w;
        while (in >> w) p.scopes.insert(w);
    };
    if (auto sc = claims.find("scope"); sc != claims.end()) {
        if (sc->is_string()) addScopes(sc->get<std::string>());
        else if (sc->is_array())
            for (const auto& v : *sc)
                if (v.is_string()) addScopes(v.get<std::string>());
    }
    if (auto sc = claims.find("scp"); sc != claims.end()) {
        if (sc->is_array()) {
            for (const auto& v : *sc)
                if (v.is_string()) p.scopes.insert(v.get<std::string>());
        } else if (sc->is_string()) {
            addScopes(sc->get<std::string>());
        }
    }
    if (auto sub = claims.find("sub"); sub != claims.end() && sub->is_string()) p.subject = sub->get<std::string>();
    p.authenticated = true;
    return p;
}

class NoAuth : public Authenticator {
public:
    bool isNone() const override { return true; }
    std::string describe() const override { return "none"; }
    Principal authenticate(std::string_view, std::int64_t, std::string*) const override { return Principal::all(); }
};

class Hs256Auth : public Authenticator {
public:
    Hs256Auth(std::string secret, std::int64_t leeway) : secret_(std::move(secret)), leeway_(leeway) {}
    std::string describe() const override { return "hs256"; }
    Principal authenticate(std::string_view authorization, std::int64_t now, std::string* error) const override {
        auto t = parseToken(authorization, error);
        if (!t) return {};
        if (stringMember(t->header, "alg") != "HS256") {
            *error = "token alg must be HS256";
            return {};
        }
        std::string mac = hmacSha256(secret_, t->signingInput);
        if (mac.size() != t->signature.size() || CRYPTO_memcmp(mac.data(), t->signature.data(), mac.size()) != 0) {
            *error = "invalid token signature";
            return {};
        }
        return principalFrom(t->payload, now, leeway_, error);
    }

private:
    std::string secret_;
    std::int64_t leeway_;
};

class JwksAuth : public Authenticator {
public:
    struct Key {
        std::string kid;
        PkeyPtr pkey;
    };
    JwksAuth(std::vector<Key> keys, std::int64_t leeway) : keys_(std::move(keys)), leeway_(leeway) {}
    std::string describe() const override { return "jwks (" + std::to_string(keys_.size()) + " RSA keys)"; }
    Principal authenticate(std::string_view authorization, std::int64_t now, std::string* error) const override {
        auto t = parseToken(authorization, error);
        if (!t) return {};
        if (stringMember(t->header, "alg") != "RS256") {
            *error = "token alg must be RS256";
            return {};
        }
        std::string kid;
        if (auto k = t->header.find("kid"); k != t->header.end() && k->is_string()) kid = k->get<std::string>();
        bool matched = false;
        for (const auto& key : keys_) {
            if (!kid.empty() && key.kid != kid) continue;
            matched = true;
            if (verifyRs256(key.pkey.get(), t->signingInput, t->signature))
                return principalFrom(t->payload, now, leeway_, error);
        }
        *error = matched ? "invalid token signature" : "unknown key id '" + kid + "'";
        return {};
    }

private:
    std::vector<Key> keys_;
    std::int64_t leeway_;
};

// Remembers tokens whose signature was verified (verification is most of the per-request cost
// of a GET). Time claims are checked again on every use; a token is only ever cached after
// the inner authenticator accepted it.
class CachingAuth : public Authenticator {
public:
    CachingAuth(std::unique_ptr<Authenticator> inner, std::int64_t leeway) : inner_(std::move(inner)), leeway_(leeway) {}
    std::string describe() const override { return inner_->describe(); }
    Principal authenticate(std::string_view authorization, std::int64_t now, std::string* error) const override {
        {
            std::shared_lock<std::shared_mutex> lk(mu_);
            auto it = cache_.find(authorization);
            if (it != cache_.end()) {
                const Entry& e = it->second;
                if (now - leeway_ > e.exp) {
                    *error = "token expired";
                    return {};
                }
                if (e.nbf && now + leeway_ < *e.nbf) {
                    *error = "token not valid yet (nbf)";
                    return {};
                }
                return e.principal;
            }
        }
        Principal p = inner_->authenticate(authorization, now, error);
        if (!p.authenticated) return p;
        std::string err;
        auto t = parseToken(authorization, &err);
        if (!t) return p;
        Entry e;
        e.principal = p;
        e.exp = claimSeconds(t->payload["exp"].get<double>());
        if (t->payload.contains("nbf")) e.nbf = claimSeconds(t->payload["nbf"].get<double>());
        std::unique_lock<std::shared_mutex> lk(mu_);
        if (cache_.size() >= 10000) cache_.clear();
        cache_.emplace(std::string(authorization), std::move(e));
        return p;
    }

private:
    struct Entry {
        Principal principal;
        std::int64_t exp = 0;
        std::optional<std::int64_t> nbf;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unique_ptr<Authenticator> inner_;
    std::int64_t leeway_;
    mutable std::shared_mutex mu_;
    mutable std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;
};

}  // namespace

std::string base64UrlEncode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::uint32_t buf = 0;
    int bits = 0;
    for (unsigned char c : data) {
        buf = (buf << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kB64Url[(buf >> bits) & 63];
        }
    }
    if (bits > 0) out += kB64Url[(buf << (6 - bits)) & 63];
    return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t buf = 0;
    int bits = 0;
    for (char c : text) {
        int v = b64Value(c);
        if (v < 0) return std::nullopt;
        buf = (buf << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buf >> bits) & 0xff);
        }
    }
    if (bits >= 6) return std::nullopt;  // a single dangling character is not valid base64
    return out;
}

std::unique_ptr<Authenticator> Authenticator::create(const std::string& spec, std::int64_t leeway,
                                                     std::string* error) {
    if (spec == "none") return std::make_unique<NoAuth>();
    if (spec.rfind("hs256:", 0) == 0) {
        std::string secret = spec.substr(6);
        if (secret.size() < 8) {
            *error = "--auth hs256:SECRET needs a secret of at least 8 characters";
            return nullptr;
        }
        return std::make_unique<CachingAuth>(std::make_unique<Hs256Auth>(secret, leeway), leeway);
    }
    if (spec.rfind("jwks:", 0) == 0) {
        std::string file = spec.substr(5);
        std::ifstream in(file);
        if (!in) {
            *error = "cannot read JWKS file '" + file + "'";
            return nullptr;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        Json doc = Json::parse(ss.str(), nullptr, false);
        if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
            *error = "JWKS file '" + file + "' must be a JSON object with a \"keys\" array";
            return nullptr;
        }
        std::vector<JwksAuth::Key> keys;
        for (const auto& k : doc["keys"]) {
            if (!k.is_object() || stringMember(k, "kty") != "RSA") continue;
            if (k.contains("use") && k["use"] != "sig") continue;
            if (k.contains("alg") && k["alg"] != "RS256") continue;
            if (!k.contains("n") || !k["n"].is_string() || !k.contains("e") || !k["e"].is_string()) {
                *error = "JWKS file '" + file + "': RSA key without string n/e";
                return nullptr;
            }
            std::string err;
            auto pkey = rsaFromJwk(k["n"].get<std::string>(), k["e"].get<std::string>(), &err);
            if (!pkey) {
                *error = "JWKS file '" + file + "': " + err;
                return nullptr;
            }
            keys.push_back({stringMember(k, "kid"), std::move(pkey)});
        }
        if (keys.empty()) {
            *error = "JWKS file '" + file + "' has no RSA signing key (kty RSA, RS256)";
            return nullptr;
        }
        return std::make_unique<CachingAuth>(std::make_unique<JwksAuth>(std::move(keys), leeway), leeway);
    }
    *error = "--auth must be none, hs256:SECRET or jwks:FILE (got '" + spec + "')";
    return nullptr;
}

std::string signHs256(const Json& claims, const std::string& secret) {
    std::string input = base64UrlEncode(Json{{"alg", "HS256"}, {"typ", "JWT"}}.dump()) + "." +
                        base64UrlEncode(claims.dump());
    return input + "." + base64UrlEncode(hmacSha256(secret, input));
}

std::string signRs256(const Json& claims, const std::string& pem, const std::string& kid, std::string* error) {
    auto key = readPrivatePem(pem);
    if (!key) {
        *error = "cannot read the RSA private key (PEM)";
        return "";
    }
    Json header{{"alg", "RS256"}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
              EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    if (ok) {
        sig.resize(len);
        ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                            reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
        sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        *error = "RS256 signing failed";
        return "";
    }
    return input + "." + base64UrlEncode(sig);
}

std::optional<Json> jwksFromPem(const std::string& pem, const std::string& kid, std::string* error) {
    auto key = readPrivatePem(pem);
    if (!key) {
        *error = "cannot read the RSA private key (PEM)";
        return std::nullopt;
    }
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        BN_free(n);
        BN_free(e);
        *error = "not an RSA key";
        return std::nullopt;
    }
    Json k{{"kty", "RSA"}, {"use", "sig"}, {"alg", "RS256"}, {"kid", kid}, {"n", bnToB64(n)}, {"e", bnToB64(e)}};
    BN_free(n);
    BN_free(e);
    return Json{{"keys", Json::array({k})}};
}

}  // namespace keb::server
