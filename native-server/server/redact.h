// Store URIs may carry a password (postgresql://user:PASSWORD@host/db, ?password=..., or the
// libpq keyword form password=...). Nothing keb-server prints or logs may show it (SPEC 11):
// the banner and start-up log show the URI redacted, and every logged event and start-up error
// is scrubbed of the password's value (libpq repeats parts of a bad URI in its messages).
#pragma once
#include <string>
#include <vector>

namespace keb::server {

// `spec` with every password replaced by *** (user:***@, password=***); other text unchanged.
// Also used on free text: any scheme://user:PASSWORD@ userinfo and any password=VALUE in it.
std::string redactStoreSpec(const std::string& spec);

// The password values `spec` holds, as written and percent-decoded (empty when none).
std::vector<std::string> storeSecrets(const std::string& spec);

// `text` with each of `secrets` replaced by *** and redactStoreSpec applied.
std::string scrubSecrets(std::string text, const std::vector<std::string>& secrets);

// Secrets every logEvent line is scrubbed of (set once at start-up, before threads log).
void setLogSecrets(std::vector<std::string> secrets);
const std::vector<std::string>& logSecrets();

}  // namespace keb::server
