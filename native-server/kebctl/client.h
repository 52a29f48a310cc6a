// kebctl's HTTP client over the KEB API (cpp-httplib; https with OpenSSL).
// Every failure throws ApiError (exit code 1) with a message naming the request, the HTTP status
// and the server's {"error"}, or saying why the answer could not be used.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "request.h"

namespace httplib {
class Client;
}

namespace kebctl {

struct ApiError : std::runtime_error {
    int status = 0;  // HTTP status, 0 for network errors and unusable answers
    ApiError(const std::string& m, int s) : std::runtime_error(m), status(s) {}
};

using Query = std::vector<std::pair<std::string, std::string>>;

class ApiClient {
public:
    explicit ApiClient(const Settings& s);  // throws UsageError for a URL that does not parse
    ~ApiClient();

    OJson get(const std::string& path, const Query& q = {});
    OJson post(const std::string& path, const Query& q, const std::string& body, const std::string& contentType);
    OJson put(const std::string& path);

    // GET every page of a list (page_size pageSize until totalCount): {"data", "count", "totalCount"}.
    OJson listAll(const std::string& path, const Query& q, int pageSize);
    int requests() const { return requests_; }

private:
    OJson send(const std::string& method, const std::string& path, const Query& q, const std::string& body,
               const std::string& contentType);
    Settings settings_;
    std::string basePath_;  // path prefix of keb-api-url, no trailing '/'
    std::unique_ptr<httplib::Client> cli_;
    int requests_ = 0;
};

// Percent-encoding of a query component (RFC 3986 unreserved kept).
std::string urlEncode(const std::string& s);

}  // namespace kebctl
