// Target regular expressions on RE2 (Go's regexp syntax and RE2's linear-time guarantee).
//
// Natively RE2 is Debian's libre2 (libre2-dev); in the wasm build it is the same RE2 release
// compiled from Debian's re2 source package with em++ (scripts/fetch-re2.sh), so the native
// and browser cores give the same answers and the same event log.
//
// What this wrapper adds around RE2, so behaviour stays Go's (and what it was before RE2):
//  - Invalid UTF-8 in the searched text: Go reads every byte that does not start a valid
//    UTF-8 sequence as U+FFFD (width 1); RE2 lets `.` match no such byte. Such text is
//    rewritten that way before the search (valid text, the normal case, is searched as is).
//  - `\C` (any single byte) is RE2-only and splits runes: rejected, as Go does.
//  - `(?<name>re)` (Go 1.22) is accepted as `(?P<name>re)`; RE2 2022-06 knows only the latter.
//  - Groups nest at most 250 deep (kept from the previous engine, Go allows 1000).
//  - Error messages have Go's wording ("missing closing ]: `[abc`") and stay valid UTF-8
//    (they end up in JSON): bytes outside valid UTF-8 are written as \xNN.
#include "keb/regex.h"

#include <re2/re2.h>

#include <cstdint>
#include <utility>

namespace keb {
namespace {

constexpr int kMaxDepth = 250;

// Width of the valid UTF-8 sequence at s[i] by Go's rules (no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 when the byte at i starts no valid sequence.
std::size_t validRuneWidth(std::string_view s, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return 1;
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

// Position of the first byte that starts no valid UTF-8 sequence, or npos.
std::size_t firstInvalidUtf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t w = validRuneWidth(s, i);
        if (w == 0) return i;
        i += w;
    }
    return std::string_view::npos;
}

// Go's reading of invalid UTF-8: each byte that starts no valid sequence is U+FFFD.
std::string replaceInvalidUtf8(std::string_view s, std::size_t from) {
    std::string out(s.substr(0, from));
    out.reserve(s.size() + 8);
    for (std::size_t i = from; i < s.size();) {
        const std::size_t w = validRuneWidth(s, i);
        if (w == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, w));
            i += w;
        }
    }
    return out;
}

// `arg` for an error message: invalid UTF-8 bytes as \xNN.
std::string printable(std::string_view arg) {
    std::string out;
    for (std::size_t i = 0; i < arg.size();) {
        const std::size_t w = validRuneWidth(arg, i);
        if (w == 0) {
            static constexpr char kHex[] = "0123456789abcdef";
            const auto b = static_cast<unsigned char>(arg[i]);
            out += "\\x";
            out += kHex[b >> 4];
            out += kHex[b & 15];
            ++i;
        } else {
            out.append(arg.substr(i, w));
            i += w;
        }
    }
    return out;
}

std::string message(std::string_view code, std::string_view arg) {
    return std::string(code) + ": `" + printable(arg) + "`";
}

// Checks what RE2 would accept but Go does not (\C, groups nested too deeply) and rewrites
// (?<name> into (?P<name>. Escapes, \Q...\E and character classes are skipped over the way
// RE2 reads them; anything malformed is left for RE2 to report.
bool preprocess(std::string_view p, std::string* out, std::string* error) {
    out->clear();
    out->reserve(p.size() + 4);
    int depth = 0;
    bool inClass = false;
    std::size_t classStart = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char e = p[i + 1];
            if (e == 'Q') {  // \Q...\E: literal text, up to \E or the end
                const std::size_t end = p.find("\\E", i + 2);
                const std::size_t stop = end == std::string_view::npos ? p.size() : end + 2;
                out->append(p.substr(i, stop - i));
                i = stop - 1;
                continue;
            }
            if (e == 'C' && !inClass) {
                *error = message("invalid escape sequence", "\\C");
                return false;
            }
            out->append(p.substr(i, 2));
            ++i;
            continue;
        }
        if (inClass) {
            // `[]a]` and `[^]a]`: a ']' right after the opening is a literal.
            if (c == ']' && i > classStart) inClass = false;
            // [:alpha:] inside a class: skip to its ':]' so its ']' does not close the class.
            if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
                const std::size_t end = p.find(":]", i + 2);
                if (end != std::string_view::npos) {
                    out->append(p.substr(i, end + 2 - i));
                    i = end + 1;
                    continue;
                }
            }
            out->push_back(c);
            continue;
        }
        if (c == '[') {
            inClass = true;
            classStart = i + 1;
            if (classStart < p.size() && p[classStart] == '^') ++classStart;
            out->push_back(c);
            continue;
        }
        if (c == '(') {
            if (++depth > kMaxDepth) {
                *error = message("expression nests too deeply", "(");
                return false;
            }
            if (p.substr(i, 3) == "(?<" && i + 3 < p.size() && p[i + 3] != '=' && p[i + 3] != '!') {
                out->append("(?P<");
                i += 2;
                continue;
            }
        } else if (c == ')' && depth > 0) {
            --depth;
        }
        out->push_back(c);
    }
    return true;
}

std::string re2Message(const RE2& re, std::string_view original, bool rewroteNames) {
    std::string arg = re.error_arg();
    if (rewroteNames) {  // report the user's (?<name> rather than our (?P<name>
        for (std::size_t at; (at = arg.find("(?P<")) != std::string::npos;) arg.replace(at, 4, "(?<");
    }
    switch (re.error_code()) {
        case RE2::ErrorMissingParen: return "missing closing )";
        case RE2::ErrorUnexpectedParen: return message("unexpected )", arg);
        case RE2::ErrorMissingBracket: return message("missing closing ]", arg);
        case RE2::ErrorRepeatArgument: return message("missing argument to repetition operator", arg);
        case RE2::ErrorRepeatOp: return message("invalid nested repetition operator", arg);
        case RE2::ErrorRepeatSize: return message("invalid repeat count", arg);
        case RE2::ErrorBadCharRange: return message("invalid character class range", arg);
        case RE2::ErrorBadCharClass: return message("invalid character class", arg);
        case RE2::ErrorBadEscape: return message("invalid escape sequence", arg);
        case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression: ``";
        case RE2::ErrorBadPerlOp: return message("invalid or unsupported Perl syntax", arg);
        case RE2::ErrorBadNamedCapture: return message("invalid named capture", arg);
        case RE2::ErrorBadUTF8: {
            const std::size_t at = firstInvalidUtf8(original);
            return message("invalid UTF-8", at == std::string_view::npos ? std::string_view() : original.substr(at));
        }
        case RE2::ErrorPatternTooLarge: return "expression too large";
        default: return printable(re.error());
    }
}

}  // namespace

struct Regex::Impl {
    std::string pattern;
    std::unique_ptr<RE2> re;
};

std::optional<Regex> Regex::compile(std::string_view pattern, std::string* error) {
    std::string rewritten, err;
    if (!preprocess(pattern, &rewritten, &err)) {
        if (error) *error = std::move(err);
        return std::nullopt;
    }
    RE2::Options options;  // RE2 syntax (= Go's), UTF-8, leftmost-first, ^/$ at text ends
    options.set_log_errors(false);
    options.set_never_capture(true);  // only "does it match" is asked
    auto impl = std::make_shared<Impl>();
    impl->pattern = std::string(pattern);
    impl->re = std::make_unique<RE2>(rewritten, options);
    if (!impl->re->ok()) {
        if (error) *error = re2Message(*impl->re, pattern, rewritten.size() != pattern.size());
        return std::nullopt;
    }
    return Regex(std::move(impl));
}

bool Regex::search(std::string_view text) const {
    if (!impl_) return false;  // moved-from
    const RE2& re = *impl_->re;
    const std::size_t bad = firstInvalidUtf8(text);
    if (bad == std::string_view::npos) return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
    const std::string fixed = replaceInvalidUtf8(text, bad);
    return RE2::PartialMatch(fixed, re);
}

const std::string& Regex::pattern() const {
    static const std::string kEmpty;
    return impl_ ? impl_->pattern : kEmpty;
}

Regex::Regex(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Regex::Regex(const Regex&) = default;
Regex& Regex::operator=(const Regex&) = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

}  // namespace keb
