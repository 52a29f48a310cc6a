// kebctl's HTTP client. See client.h.
#include "client.h"

#include <httplib.h>

namespace kebctl {
namespace {

std::string reasonOf(int status, const std::string& given) {
    if (!given.empty()) return given;
    switch (status) {
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        default: return "";
    }
}

std::string excerpt(const std::string& body) {
    std::string s;
    for (char c : body.substr(0, 120)) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (body.size() > 120) s += "...";
    return s;
}

}  // namespace

std::string urlEncode(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

ApiClient::ApiClient(const Settings& s) : settings_(s) {
    // scheme://host[:port][/prefix]
    const std::string& url = s.apiUrl;
    const auto schemeEnd = url.find("://");
    const auto pathStart = url.find('/', schemeEnd + 3);
    const std::string hostPart = url.substr(0, pathStart);
    basePath_ = pathStart == std::string::npos ? "" : url.substr(pathStart);
    while (!basePath_.empty() && basePath_.back() == '/') basePath_.pop_back();
    if (hostPart.size() <= schemeEnd + 3) throw UsageError(s.apiUrlSource + ": \"" + url + "\" has no host");
    cli_ = std::make_unique<httplib::Client>(hostPart);
    if (!cli_->is_valid()) throw UsageError(s.apiUrlSource + ": \"" + url + "\" is not a usable URL");
    cli_->set_connection_timeout(s.timeoutSeconds, 0);
    cli_->set_read_timeout(s.timeoutSeconds, 0);
    cli_->set_write_timeout(s.timeoutSeconds, 0);
    cli_->set_url_encode(false);  // paths and queries are encoded here
    if (!s.caCert.empty()) cli_->set_ca_cert_path(s.caCert.c_str());
    cli_->set_keep_alive(true);
}

ApiClient::~ApiClient() = default;

OJson ApiClient::send(const std::string& method, const std::string& path, const Query& q, const std::string& body,
                      const std::string& contentType) {
    std::string target = basePath_ + path;
    for (std::size_t i = 0; i < q.size(); ++i)
        target += (i == 0 ? "?" : "&") + urlEncode(q[i].first) + "=" + urlEncode(q[i].second);
    httplib::Headers h{{"Accept", "application/json"}, {"User-Agent", "kebctl"}};
    if (!settings_.token.empty()) h.emplace("Authorization", "Bearer " + settings_.token);
    ++requests_;
    httplib::Result r = method == "GET"    ? cli_->Get(target.c_str(), h)
                        : method == "POST" ? cli_->Post(target.c_str(), h, body, contentType.c_str())
                                           : cli_->Put(target.c_str(), h, body, contentType.c_str());
    const std::string what = method + " " + settings_.apiUrl + path;
    if (!r) {
        std::string why = httplib::to_string(r.error());
        if (r.error() == httplib::Error::SSLServerVerification)
            why += " (the server's certificate is not trusted: give its CA with --ca-cert FILE)";
        throw ApiError(what + ": cannot reach the KEB API: " + why, 0);
    }
    const std::string ct = r->get_header_value("Content-Type");
    OJson j = OJson::parse(r->body, nullptr, false);
    const bool isJson = !j.is_discarded();
    if (r->status >= 400) {
        std::string msg = what + ": HTTP " + std::to_string(r->status);
        const std::string reason = reasonOf(r->status, r->reason);
        if (!reason.empty()) msg += " " + reason;
        if (isJson && j.is_object() && j.contains("error") && j["error"].is_string()) {
            msg += ": " + j["error"].get<std::string>();
        } else if (r->body.empty()) {
            msg += " (empty answer)";
        } else {
            msg += ": the answer is not the KEB API's JSON error (" + (ct.empty() ? std::string("no content type") : ct) +
                   "): " + excerpt(r->body);
        }
        throw ApiError(msg, r->status);
    }
    if (!isJson)
        throw ApiError(what + ": HTTP " + std::to_string(r->status) + " but the answer is not JSON (" +
                           (ct.empty() ? std::string("no content type") : ct) + "): " + excerpt(r->body) +
                           "; is " + settings_.apiUrlSource + " the KEB API?",
                       r->status);
    return j;
}

OJson ApiClient::get(const std::string& path, const Query& q) { return send("GET", path, q, "", ""); }
OJson ApiClient::post(const std::string& path, const Query& q, const std::string& body, const std::string& contentType) {
    return send("POST", path, q, body, contentType);
}
OJson ApiClient::put(const std::string& path) { return send("PUT", path, {}, "", "application/json"); }

OJson ApiClient::listAll(const std::string& path, const Query& q, int pageSize) {
    OJson all = OJson::array();
    long long total = 0;
    for (int page = 1;; ++page) {
        Query pq = q;
        pq.emplace_back("page", std::to_string(page));
        pq.emplace_back("page_size", std::to_string(pageSize));
        OJson p = get(path, pq);
        if (!p.is_object() || !p.contains("data") || !p["data"].is_array() || !p.contains("totalCount") ||
            !p["totalCount"].is_number_integer())
            throw ApiError("GET " + settings_.apiUrl + path + ": the answer is not a list ({\"data\": [...], \"totalCount\": N})", 200);
        total = p["totalCount"].get<long long>();
        for (auto& item : p["data"]) all.push_back(std::move(item));
        // totalCount may grow while paging (new orchestrations come last): stop at a short page too.
        if (static_cast<long long>(all.size()) >= total || p["data"].empty() || static_cast<int>(p["data"].size()) < pageSize) break;
    }
    OJson out = OJson::object();
    out["data"] = std::move(all);
    out["count"] = out["data"].size();
    out["totalCount"] = std::max<long long>(total, static_cast<long long>(out["data"].size()));
    return out;
}

}  // namespace kebctl
