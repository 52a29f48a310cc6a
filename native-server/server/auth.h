// Bearer token authentication (issue 4): HS256 (shared secret) and RS256 (JWKS file).
// Verifies the signature, `exp` (required) and `nbf` (optional) with a leeway, and turns the
// `scope` (space separated) or `scp` (array) claim into a keb::Principal. Scope checks per route
// are the router's job (403); every failure here is a 401.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keb/api.h"

namespace keb::server {

std::string base64UrlEncode(std::string_view data);
std::optional<std::string> base64UrlDecode(std::string_view text);

class Authenticator {
public:
    virtual ~Authenticator() = default;
    // spec: "none", "hs256:SECRET", "jwks:FILE". nullptr and *error on a bad spec/file.
    static std::unique_ptr<Authenticator> create(const std::string& spec, std::int64_t leewaySeconds,
                                                 std::string* error);
    virtual bool isNone() const { return false; }
    virtual std::string describe() const = 0;
    // authorization: the raw Authorization header ("" when absent). On failure the result is
    // not authenticated and *error says why (never contains the token).
    virtual Principal authenticate(std::string_view authorization, std::int64_t nowSeconds,
                                   std::string* error) const = 0;
};

// Token minting (keb-server token, tests).
std::string signHs256(const Json& claims, const std::string& secret);
// pem: an RSA private key in PEM. Empty string and *error on failure.
std::string signRs256(const Json& claims, const std::string& pem, const std::string& kid, std::string* error);
// A JWKS document {"keys":[{kty,kid,alg,use,n,e}]} for the public half of an RSA PEM key.
std::optional<Json> jwksFromPem(const std::string& pem, const std::string& kid, std::string* error);

}  // namespace keb::server
