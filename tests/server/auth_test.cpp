// Bearer token verification (native-server/server/auth.h): regression tests for what
// tests/fuzz/fuzz_jwt.cpp found. Every bad token is a 401 with a reason, never an exception
// (keb-server answered 503 for a token whose header had "alg": 1), and claims far outside the
// range of times (exp 1e300) are compared without undefined behaviour.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "auth.h"

using namespace keb;
using namespace keb::server;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "regression-secret-123";

// A token with any header and payload text, signed HS256 with kSecret.
std::string hsToken(const std::string& header, const std::string& payload) {
    const std::string input = base64UrlEncode(header) + "." + base64UrlEncode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return "Bearer " + input + "." + base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

std::unique_ptr<Authenticator> hs256() {
    std::string err;
    auto a = Authenticator::create("hs256:" + kSecret, 30, &err);
    EXPECT_TRUE(a) << err;
    return a;
}

struct TempFile {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("keb-auth-test-" + std::to_string(::getpid()) + ".json");
    ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST(Auth, AlgOfAnotherTypeIsRefusedNotThrown) {
    auto auth = hs256();
    for (const char* header : {R"({"alg":1})", R"({"alg":["HS256"]})", R"({"alg":null})", R"({"alg":{"x":1}})"}) {
        std::string err;
        Principal p;
        EXPECT_NO_THROW(p = auth->authenticate(hsToken(header, R"({"exp":1900000000})"), kNow, &err)) << header;
        EXPECT_FALSE(p.authenticated) << header;
        EXPECT_EQ(err, "token alg must be HS256") << header;
    }
}

TEST(Auth, ClaimsBeyondAnyTimeAreComparedSafely) {
    auto auth = hs256();
    std::string err;
    // Far future exp: valid, and valid again from the verified-token cache.
    const std::string forever = hsToken(R"({"alg":"HS256"})", R"({"exp":1e300,"scope":"broker-upgrade:read"})");
    for (int i = 0; i < 2; ++i) {
        Principal p = auth->authenticate(forever, kNow, &err);
        EXPECT_TRUE(p.authenticated) << err;
        EXPECT_EQ(p.scopes.count(kScopeRead), 1u);
    }
    // Far past exp: expired.
    Principal p = auth->authenticate(hsToken(R"({"alg":"HS256"})", R"({"exp":-1e300})"), kNow, &err);
    EXPECT_FALSE(p.authenticated);
    EXPECT_EQ(err, "token expired");
    // nbf far in the past: valid, twice (second time from the cache).
    const std::string oldNbf = hsToken(R"({"alg":"HS256"})", R"({"exp":1900000000,"nbf":-1e300})");
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(auth->authenticate(oldNbf, kNow, &err).authenticated) << err;
    // exp just inside the leeway stays valid from the cache; later it expires.
    const std::string soon = hsToken(R"({"alg":"HS256"})", R"({"exp":1800000000})");
    EXPECT_TRUE(auth->authenticate(soon, kNow + 30, &err).authenticated) << err;
    EXPECT_TRUE(auth->authenticate(soon, kNow + 30, &err).authenticated) << err;
    EXPECT_FALSE(auth->authenticate(soon, kNow + 31, &err).authenticated);
    EXPECT_EQ(err, "token expired");
}

TEST(Auth, JwksMembersOfAnotherTypeAreNotAnException) {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    ASSERT_TRUE(key);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* mem = nullptr;
    const long n = BIO_get_mem_data(bio, &mem);
    const std::string pem(mem, static_cast<std::size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(key);
    std::string err;
    auto jwk = jwksFromPem(pem, "k1", &err);
    ASSERT_TRUE(jwk) << err;
    Json good = (*jwk)["keys"][0];
    Json numericKid = good;
    numericKid["kid"] = 7;  // kept, as a key without a kid
    Json numericKty = good;
    numericKty["kty"] = 5;  // not an RSA key: skipped
    TempFile f;
    std::ofstream(f.path) << Json{{"keys", Json::array({numericKty, numericKid})}}.dump();
    std::unique_ptr<Authenticator> auth;
    ASSERT_NO_THROW(auth = Authenticator::create("jwks:" + f.path.string(), 30, &err));
    ASSERT_TRUE(auth) << err;
    EXPECT_EQ(auth->describe(), "jwks (1 RSA keys)");
    // A token whose header has a non-string alg: refused, not thrown.
    const std::string tok = signRs256(Json{{"exp", 1900000000}}, pem, "", &err);
    ASSERT_FALSE(tok.empty()) << err;
    EXPECT_TRUE(auth->authenticate("Bearer " + tok, kNow, &err).authenticated) << err;
    const std::string bad = "Bearer " + base64UrlEncode(R"({"alg":false})") + tok.substr(tok.find('.'));
    Principal p;
    EXPECT_NO_THROW(p = auth->authenticate(bad, kNow, &err));
    EXPECT_FALSE(p.authenticated);
    EXPECT_EQ(err, "token alg must be RS256");
}
