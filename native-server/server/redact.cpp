#include "redact.h"

#include <cctype>
#include <cstddef>

namespace keb::server {

namespace {

std::vector<std::string> gLogSecrets;

bool iequalAt(const std::string& s, std::size_t i, const char* word) {
    for (std::size_t k = 0; word[k]; ++k)
        if (i + k >= s.size() || std::tolower(static_cast<unsigned char>(s[i + k])) != word[k]) return false;
    return true;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percentDecoded(const std::string& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size() && hexValue(v[i + 1]) >= 0 && hexValue(v[i + 2]) >= 0) {
            out += static_cast<char>(hexValue(v[i + 1]) * 16 + hexValue(v[i + 2]));
            i += 2;
        } else {
            out += v[i];
        }
    }
    return out;
}

// Where a password=VALUE value ends: a quoted keyword value ('...' with \' escapes) or up to
// whitespace, '&' (URI query) or '#'.
std::size_t valueEnd(const std::string& s, std::size_t start) {
    if (start < s.size() && s[start] == '\'') {
        std::size_t i = start + 1;
        while (i < s.size() && s[i] != '\'') i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
        return i < s.size() ? i + 1 : s.size();
    }
    std::size_t i = start;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '&' && s[i] != '#' && s[i] != '"')
        ++i;
    return i;
}

// Calls fn(begin, end) for each password value in s (URI userinfo and password=VALUE), in order.
template <class F>
void forEachPassword(const std::string& s, F&& fn) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    // URIs (postgresql://, a misspelt scheme too): scheme://user:PASSWORD@host
    for (std::size_t at = 0; (at = s.find("://", at)) != std::string::npos; at += 3) {
        const std::size_t auth = at + 3;
        // The authority ends at the query, a space or a quote; the userinfo at its last '@'.
        std::size_t stop = auth;
        while (stop < s.size() && s[stop] != '?' && s[stop] != '#' && s[stop] != '\'' && s[stop] != '"' &&
               !std::isspace(static_cast<unsigned char>(s[stop])))
            ++stop;
        const std::size_t amp = s.rfind('@', stop == 0 ? 0 : stop - 1);
        if (amp == std::string::npos || amp < auth || amp >= stop) continue;
        const std::size_t colon = s.find(':', auth);
        if (colon == std::string::npos || colon > amp) continue;
        spans.emplace_back(colon + 1, amp);
    }
    // password=VALUE (URI query parameter or libpq keyword), any case, spaces around '='.
    for (std::size_t i = 0; (i = s.find_first_of("pP", i)) != std::string::npos; ++i) {
        if (!iequalAt(s, i, "password")) continue;
        if (i > 0 && (std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_')) continue;
        std::size_t j = i + 8;
        while (j < s.size() && s[j] == ' ') ++j;
        if (j >= s.size() || s[j] != '=') continue;
        ++j;
        while (j < s.size() && s[j] == ' ') ++j;
        spans.emplace_back(j, valueEnd(s, j));
    }
    for (auto [b, e] : spans) fn(b, e);
}

}  // namespace

std::string redactStoreSpec(const std::string& spec) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    forEachPassword(spec, [&](std::size_t b, std::size_t e) {
        if (e > b) spans.emplace_back(b, e);
    });
    if (spans.empty()) return spec;
    std::vector<bool> hidden(spec.size(), false);
    for (auto [b, e] : spans)
        for (std::size_t i = b; i < e; ++i) hidden[i] = true;
    std::string out;
    for (std::size_t i = 0; i < spec.size();) {
        if (!hidden[i]) {
            out += spec[i++];
            continue;
        }
        out += "***";
        while (i < spec.size() && hidden[i]) ++i;
    }
    return out;
}

std::vector<std::string> storeSecrets(const std::string& spec) {
    std::vector<std::string> out;
    auto add = [&](std::string v) {
        if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
        if (v.empty()) return;
        for (const auto& have : out)
            if (have == v) return;
        out.push_back(std::move(v));
    };
    forEachPassword(spec, [&](std::size_t b, std::size_t e) {
        const std::string raw = spec.substr(b, e - b);
        add(raw);
        add(percentDecoded(raw));
    });
    return out;
}

std::string scrubSecrets(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        // Very short values would mangle every message they occur in by chance; they are still
        // hidden where they appear as a password (redactStoreSpec below).
        if (s.size() < 3) continue;
        for (std::size_t at = 0; (at = text.find(s, at)) != std::string::npos;) {
            text.replace(at, s.size(), "***");
            at += 3;
        }
    }
    return redactStoreSpec(text);
}

void setLogSecrets(std::vector<std::string> secrets) { gLogSecrets = std::move(secrets); }
const std::vector<std::string>& logSecrets() { return gLogSecrets; }

}  // namespace keb::server
