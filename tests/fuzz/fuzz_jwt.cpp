// Fuzz target: bearer token parsing and verification (native-server/server/auth.h): HS256 with a
// shared secret and RS256 with a JWKS file, both behind the verified-token cache, as keb-server
// builds them. The first byte picks the mode:
//  0: the rest is the raw Authorization header, checked by both authenticators;
//  1: the rest is "HEADER-JSON\nPAYLOAD-JSON": encoded and signed with the HS256 secret, so the
//     claims checks behind the signature (alg, exp, nbf, scope/scp, sub) are reached;
//  2: the same, signed RS256 with the key the JWKS file publishes;
//  3: the rest is a JWKS file: Authenticator::create("jwks:FILE") and one token against it.
// Checks: authenticate never throws; a failure is unauthenticated with a reason, and the reason
// never contains the token; a token accepted once is accepted again from the cache with the same
// principal; base64url round-trips.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "auth.h"

using namespace keb;
using namespace keb::server;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "fuzz_jwt: %s\n  %s\n", what, detail.c_str());
    std::abort();
}

constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15
const std::string kSecret = "fuzz-secret-0123456789";
EVP_PKEY* rsaKey = nullptr;
std::unique_ptr<Authenticator> hs, jwks;
std::string jwksPath, scratchPath;

std::string hmac(std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
}

std::string rsaSign(std::string_view data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    std::string sig;
    if (ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, rsaKey) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
        sig.resize(len);
        if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
            fail("EVP_DigestSign");
        sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return sig;
}

void check(const Authenticator& auth, const std::string& header) {
    std::string err;
    Principal p;
    try {
        p = auth.authenticate(header, kNow, &err);
    } catch (const std::exception& e) {
        fail("authenticate threw", std::string(e.what()) + " on " + header.substr(0, 300));
    }
    if (!p.authenticated) {
        if (err.empty()) fail("refused without a reason", header.substr(0, 300));
        const std::size_t sp = header.find(' ');
        const std::string token = sp == std::string::npos ? "" : header.substr(sp + 1);
        // Only tokens made of JWT characters (base64url and dots) count: any other text of 16 or more
        // characters can be a phrase of the fixed reasons themselves ("ed token: expected three
        // dot-separated par" is one, found by a long run), and echoing code does not care which
        // characters a token has.
        const bool jwtChars = std::all_of(token.begin(), token.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '-' || c == '_' || c == '.';
        });
        if (jwtChars && token.size() >= 16 && err.find(token) != std::string::npos)
            fail("the reason contains the token", err);
        return;
    }
    // Again: now from the cache, same answer.
    std::string err2;
    Principal again = auth.authenticate(header, kNow, &err2);
    if (!again.authenticated || again.subject != p.subject || again.scopes != p.scopes)
        fail("the cached answer differs", header.substr(0, 300));
}

std::string signedToken(std::string_view input, bool rs256) {
    const std::size_t nl = input.find('\n');
    const std::string_view h = input.substr(0, nl);
    const std::string_view p = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    const std::string signingInput = base64UrlEncode(h) + "." + base64UrlEncode(p);
    return "Bearer " + signingInput + "." + base64UrlEncode(rs256 ? rsaSign(signingInput) : hmac(signingInput));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    rsaKey = EVP_RSA_gen(2048);
    if (!rsaKey) fail("EVP_RSA_gen");
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, rsaKey, nullptr, nullptr, 0, nullptr, nullptr);
    char* mem = nullptr;
    const long n = BIO_get_mem_data(bio, &mem);
    const std::string pem(mem, static_cast<std::size_t>(n));
    BIO_free(bio);
    std::string err;
    auto doc = jwksFromPem(pem, "k1", &err);
    if (!doc) fail("jwksFromPem", err);
    char tmpl[] = "/tmp/keb-fuzz-jwt-XXXXXX";
    if (!mkdtemp(tmpl)) fail("mkdtemp");
    jwksPath = std::string(tmpl) + "/jwks.json";
    scratchPath = std::string(tmpl) + "/fuzzed.json";
    std::ofstream(jwksPath) << doc->dump();
    hs = Authenticator::create("hs256:" + kSecret, 30, &err);
    jwks = Authenticator::create("jwks:" + jwksPath, 30, &err);
    if (!hs || !jwks) fail("Authenticator::create", err);
    static std::string dir = tmpl;
    std::atexit([] {
        std::remove(jwksPath.c_str());
        std::remove(scratchPath.c_str());
        rmdir(dir.c_str());
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > 16 * 1024) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0: {
            const std::string header(rest);
            check(*hs, header);
            check(*jwks, header);
            auto dec = base64UrlDecode(base64UrlEncode(rest));
            if (!dec || *dec != rest) fail("base64url does not round-trip");
            (void)base64UrlDecode(rest);
            break;
        }
        case 1:
            check(*hs, signedToken(rest, false));
            break;
        case 2:
            check(*jwks, signedToken(rest, true));
            break;
        case 3: {
            { std::ofstream(scratchPath, std::ios::binary | std::ios::trunc) << rest; }
            std::string err;
            auto auth = Authenticator::create("jwks:" + scratchPath, 30, &err);
            if (!auth) {
                if (err.empty()) fail("jwks file refused without a reason");
                break;
            }
            check(*auth, signedToken(R"({"alg":"RS256","kid":"k1"})"
                                     "\n"
                                     R"({"exp":1900000000,"scope":"broker-upgrade:read"})",
                                     true));
            break;
        }
    }
    return 0;
}
