#include "live_runtimes.h"

#include <cstdint>

namespace keb::web {

Runtime LiveRuntimeRow::toRuntime() const {
    Runtime r;
    r.runtimeID = runtimeID;
    r.instanceID = instanceID;
    r.globalAccountID = globalAccountID;
    r.subAccountID = subAccountID;
    r.planName = planName;
    r.region = region;
    r.shootName = shootName;
    r.windowBegin = windowBegin;
    r.windowEnd = windowEnd;
    r.kubernetesVersion = kubernetesVersion;
    return r;
}

void RuntimesPage::clear() {
    totalCount = 0;
    hasTotal = hasData = false;
    rows.clear();
    unescaped.clear();
}

namespace {

class Scanner {
public:
    Scanner(std::string_view t, RuntimesPage& out) : s_(t), out_(out) {}

    bool page(std::string* error) {
        ws();
        if (!object([&](std::string_view key) {
                if (key == "data") {
                    ws();
                    if (peek() != '[') return value();
                    out_.hasData = true;
                    return array([&] { return runtime(); });
                }
                if (key == "totalCount") return number(&out_.totalCount, &out_.hasTotal);
                return value();
            }))
            return fail(error);
        ws();
        if (i_ != s_.size()) return fail(error);
        return true;
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
    RuntimesPage& out_;

    bool fail(std::string* error) {
        if (error) *error = "GET /runtimes: not the expected JSON near byte " + std::to_string(i_);
        return false;
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
    }
    bool lit(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }

    template <class OnKey>
    bool object(OnKey&& onKey) {
        ws();
        if (peek() != '{') return false;
        ++i_;
        ws();
        if (peek() == '}') {
            ++i_;
            return true;
        }
        while (true) {
            ws();
            std::string_view key;
            if (!string(&key)) return false;
            ws();
            if (peek() != ':') return false;
            ++i_;
            if (!onKey(key)) return false;
            ws();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() == '}') {
                ++i_;
                return true;
            }
            return false;
        }
    }
    template <class OnItem>
    bool array(OnItem&& onItem) {
        ws();
        if (peek() != '[') return false;
        ++i_;
        ws();
        if (peek() == ']') {
            ++i_;
            return true;
        }
        while (true) {
            if (!onItem()) return false;
            ws();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() == ']') {
                ++i_;
                return true;
            }
            return false;
        }
    }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    static void utf8(std::string& o, std::uint32_t cp) {
        if (cp < 0x80) {
            o += static_cast<char>(cp);
        } else if (cp < 0x800) {
            o += static_cast<char>(0xC0 | (cp >> 6));
            o += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            o += static_cast<char>(0xE0 | (cp >> 12));
            o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            o += static_cast<char>(0xF0 | (cp >> 18));
            o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    bool hex4(std::uint32_t* v) {
        if (i_ + 4 > s_.size()) return false;
        *v = 0;
        for (int k = 0; k < 4; ++k) {
            const int h = hex(s_[i_ + k]);
            if (h < 0) return false;
            *v = *v * 16 + static_cast<std::uint32_t>(h);
        }
        i_ += 4;
        return true;
    }
    // A JSON string: a view into the text, or (with escapes) into out_.unescaped. out may be null.
    bool string(std::string_view* out) {
        if (peek() != '"') return false;
        const std::size_t start = ++i_;
        while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\') {
            if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
            ++i_;
        }
        if (i_ >= s_.size()) return false;
        if (s_[i_] == '"') {
            if (out) *out = s_.substr(start, i_ - start);
            ++i_;
            return true;
        }
        std::string o(s_.substr(start, i_ - start));
        while (i_ < s_.size() && s_[i_] != '"') {
            const char c = s_[i_++];
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                o += c;
                continue;
            }
            if (i_ >= s_.size()) return false;
            const char e = s_[i_++];
            switch (e) {
                case '"': o += '"'; break;
                case '\\': o += '\\'; break;
                case '/': o += '/'; break;
                case 'b': o += '\b'; break;
                case 'f': o += '\f'; break;
                case 'n': o += '\n'; break;
                case 'r': o += '\r'; break;
                case 't': o += '\t'; break;
                case 'u': {
                    std::uint32_t cp;
                    if (!hex4(&cp)) return false;
                    if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
                        std::uint32_t lo;
                        if (!lit("\\u") || !hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp < 0xE000) {
                        return false;
                    }
                    utf8(o, cp);
                    break;
                }
                default: return false;
            }
        }
        if (i_ >= s_.size()) return false;
        ++i_;
        if (out) {
            out_.unescaped.push_back(std::move(o));
            *out = out_.unescaped.back();
        }
        return true;
    }
    bool numberText() {
        const std::size_t start = i_;
        if (peek() == '-') ++i_;
        if (peek() == '0') {
            ++i_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++i_;
        } else {
            return false;
        }
        if (peek() == '.') {
            ++i_;
            if (!(peek() >= '0' && peek() <= '9')) return false;
            while (peek() >= '0' && peek() <= '9') ++i_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++i_;
            if (peek() == '+' || peek() == '-') ++i_;
            if (!(peek() >= '0' && peek() <= '9')) return false;
            while (peek() >= '0' && peek() <= '9') ++i_;
        }
        return i_ > start;
    }
    // A non-negative integer into *v (*has = true); any other value is skipped.
    bool number(std::size_t* v, bool* has) {
        ws();
        const std::size_t start = i_;
        if (peek() < '0' || peek() > '9') return value();
        if (!numberText()) return false;
        std::size_t n = 0;
        for (std::size_t k = start; k < i_; ++k) {
            if (s_[k] < '0' || s_[k] > '9') return true;  // a fraction or exponent: not a count
            n = n * 10 + static_cast<std::size_t>(s_[k] - '0');
        }
        *v = n;
        *has = true;
        return true;
    }
    bool value(int depth = 0) {
        if (depth > 64) return false;
        ws();
        switch (peek()) {
            case '"': return string(nullptr);
            case '{': return object([&](std::string_view) { return value(depth + 1); });
            case '[': return array([&] { return value(depth + 1); });
            case 't': return lit("true");
            case 'f': return lit("false");
            case 'n': return lit("null");
            default: return numberText();
        }
    }
    bool field(std::string_view* dst) {
        ws();
        if (peek() == '"') return string(dst);
        *dst = {};
        return value();
    }
    bool runtime() {
        ws();
        if (peek() != '{') return value();  // not an object: skipped, like the tree path did
        LiveRuntimeRow r;
        const bool ok = object([&](std::string_view k) {
            if (k == "runtimeID") return field(&r.runtimeID);
            if (k == "instanceID") return field(&r.instanceID);
            if (k == "globalAccountID") return field(&r.globalAccountID);
            if (k == "subAccountID") return field(&r.subAccountID);
            if (k == "planName") return field(&r.planName);
            if (k == "region") return field(&r.region);
            if (k == "shootName") return field(&r.shootName);
            if (k == "maintenanceWindowBegin") return field(&r.windowBegin);
            if (k == "maintenanceWindowEnd") return field(&r.windowEnd);
            if (k == "kubernetesVersion") return field(&r.kubernetesVersion);
            if (k == "lastOperation") {
                ws();
                if (peek() != '{') return value();
                return object([&](std::string_view ok2) {
                    if (ok2 == "operationID") return field(&r.operationID);
                    if (ok2 == "orchestrationID") return field(&r.orchestrationID);
                    if (ok2 == "state") return field(&r.state);
                    return value();
                });
            }
            return value();
        });
        if (ok) out_.rows.push_back(r);
        return ok;
    }
};

}  // namespace

bool scanRuntimesPage(std::string_view text, RuntimesPage& out, std::string* error) {
    out.clear();
    Scanner sc(text, out);
    if (!sc.page(error)) {
        out.clear();
        return false;
    }
    return true;
}

}  // namespace keb::web
