// A regular-expression engine with Go RE2 syntax and linear-time matching.
//
// Pipeline: the pattern is parsed into a small syntax tree (Node), the tree is
// compiled into a Thompson program (Inst), and search() runs a Pike VM over the
// UTF-8 decoded input: every program counter is in the thread list at most once
// per input position, so the cost is O(len(text) * len(program)) whatever the
// pattern (no backtracking; (a*)*b on a long string of a's stays linear).
//
// Fast paths: a pattern that is a plain literal (optionally with ^ and/or $) is
// matched with substring search / prefix / suffix comparison; a program whose
// first instruction is an ASCII literal skips ahead with memchr while no thread
// is alive.
//
// Only the boolean "does it match anywhere" question is answered, so captures
// and greedy/lazy preference are parsed (for syntax compatibility) but have no
// effect. Case folding ((?i)) covers ASCII letters plus the two non-ASCII runes
// that fold to ASCII in Go (U+017F long s, U+212A Kelvin sign).
// Unicode classes (\pL, \p{Greek}) are not supported and are reported as errors.
#include "keb/regex.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace keb {
namespace {

constexpr std::uint32_t kMaxRune = 0x10FFFF;
constexpr std::uint32_t kRuneError = 0xFFFD;
constexpr int kMaxRepeat = 1000;     // Go's limit for {n,m}
constexpr int kMaxDepth = 250;       // nesting of groups (Go: 1000; kept lower for small wasm stacks)
constexpr std::size_t kMaxInsts = 100000;  // compiled program size limit

struct RuneRange {
    std::uint32_t lo, hi;
};

// Sorted, non-overlapping, non-adjacent ranges.
class RuneSet {
public:
    void add(std::uint32_t lo, std::uint32_t hi) { ranges_.push_back({lo, hi}); }
    void add(std::uint32_t r) { add(r, r); }
    void addSet(const RuneSet& o) { ranges_.insert(ranges_.end(), o.ranges_.begin(), o.ranges_.end()); }
    void normalize() {
        std::sort(ranges_.begin(), ranges_.end(), [](RuneRange a, RuneRange b) { return a.lo < b.lo; });
        std::vector<RuneRange> out;
        for (const auto& r : ranges_) {
            if (!out.empty() && r.lo <= out.back().hi + 1)
                out.back().hi = std::max(out.back().hi, r.hi);
            else
                out.push_back(r);
        }
        ranges_ = std::move(out);
    }
    void negate() {
        normalize();
        std::vector<RuneRange> out;
        std::uint32_t next = 0;
        for (const auto& r : ranges_) {
            if (r.lo > next) out.push_back({next, r.lo - 1});
            next = r.hi + 1;
        }
        if (next <= kMaxRune) out.push_back({next, kMaxRune});
        ranges_ = std::move(out);
    }
    // Adds the ASCII case variants of every letter in the set (and Go's two
    // non-ASCII runes that fold to ASCII letters).
    void foldCase() {
        normalize();
        std::vector<RuneRange> extra;
        for (const auto& r : ranges_) {
            auto overlap = [&](std::uint32_t lo, std::uint32_t hi, std::int32_t delta) {
                const std::uint32_t a = std::max(lo, r.lo), b = std::min(hi, r.hi);
                if (a <= b) extra.push_back({a + delta, b + delta});
            };
            overlap('a', 'z', -32);
            overlap('A', 'Z', 32);
            auto contains = [&](std::uint32_t c) { return r.lo <= c && c <= r.hi; };
            if (contains('k') || contains('K')) extra.push_back({0x212A, 0x212A});
            if (contains('s') || contains('S')) extra.push_back({0x017F, 0x017F});
            if (contains(0x212A)) extra.push_back({'k', 'k'}), extra.push_back({'K', 'K'});
            if (contains(0x017F)) extra.push_back({'s', 's'}), extra.push_back({'S', 'S'});
        }
        ranges_.insert(ranges_.end(), extra.begin(), extra.end());
        normalize();
    }
    const std::vector<RuneRange>& ranges() const { return ranges_; }

private:
    std::vector<RuneRange> ranges_;
};

enum class AssertKind : std::uint8_t { BeginLine, EndLine, BeginText, EndText, WordBoundary, NoWordBoundary };

enum class NodeKind { Empty, Literal, Class, AnyChar, AnyNotNL, Assert, Concat, Alternate, Repeat };

struct Node {
    NodeKind kind = NodeKind::Empty;
    std::uint32_t rune = 0;  // Literal
    bool fold = false;       // Literal: case-insensitive
    RuneSet set;             // Class
    AssertKind assert = AssertKind::BeginText;
    std::vector<std::unique_ptr<Node>> subs;  // Concat, Alternate, Repeat (one)
    int min = 0, max = -1;                    // Repeat; max -1 = unbounded
};

using NodePtr = std::unique_ptr<Node>;

NodePtr makeNode(NodeKind k) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    return n;
}

// Decodes one UTF-8 rune at s[pos]; invalid sequences yield U+FFFD with width 1 (as Go).
std::uint32_t decodeRune(std::string_view s, std::size_t pos, std::size_t* width) {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80) {
        *width = 1;
        return b0;
    }
    auto cont = [&](std::size_t i) -> int {
        if (pos + i >= s.size()) return -1;
        const auto b = static_cast<unsigned char>(s[pos + i]);
        return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
    };
    *width = 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        const int c1 = cont(1);
        if (c1 < 0) return kRuneError;
        *width = 2;
        return ((b0 & 0x1Fu) << 6) | static_cast<std::uint32_t>(c1);
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const int c1 = cont(1), c2 = cont(2);
        if (c1 < 0 || c2 < 0) return kRuneError;
        const std::uint32_t r = ((b0 & 0x0Fu) << 12) | (static_cast<std::uint32_t>(c1) << 6) | static_cast<std::uint32_t>(c2);
        if (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
        *width = 3;
        return r;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const int c1 = cont(1), c2 = cont(2), c3 = cont(3);
        if (c1 < 0 || c2 < 0 || c3 < 0) return kRuneError;
        const std::uint32_t r = ((b0 & 0x07u) << 18) | (static_cast<std::uint32_t>(c1) << 12) |
                                (static_cast<std::uint32_t>(c2) << 6) | static_cast<std::uint32_t>(c3);
        if (r < 0x10000 || r > kMaxRune) return kRuneError;
        *width = 4;
        return r;
    }
    return kRuneError;
}

bool isWordRune(std::int64_t r) {
    return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_';
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool perlClass(char c, RuneSet* out) {
    RuneSet s;
    switch (c) {
        case 'd': case 'D': s.add('0', '9'); break;
        case 's': case 'S': s.add('\t', '\n'); s.add('\f', '\r'); s.add(' '); break;
        case 'w': case 'W': s.add('0', '9'); s.add('A', 'Z'); s.add('a', 'z'); s.add('_'); break;
        default: return false;
    }
    if (c >= 'A' && c <= 'Z') s.negate();
    s.normalize();
    *out = std::move(s);
    return true;
}

bool posixClass(std::string_view name, RuneSet* out) {
    RuneSet s;
    if (name == "alnum") { s.add('0', '9'); s.add('A', 'Z'); s.add('a', 'z'); }
    else if (name == "alpha") { s.add('A', 'Z'); s.add('a', 'z'); }
    else if (name == "ascii") { s.add(0, 0x7F); }
    else if (name == "blank") { s.add('\t'); s.add(' '); }
    else if (name == "cntrl") { s.add(0, 0x1F); s.add(0x7F); }
    else if (name == "digit") { s.add('0', '9'); }
    else if (name == "graph") { s.add('!', '~'); }
    else if (name == "lower") { s.add('a', 'z'); }
    else if (name == "print") { s.add(' ', '~'); }
    else if (name == "punct") { s.add('!', '/'); s.add(':', '@'); s.add('[', '`'); s.add('{', '~'); }
    else if (name == "space") { s.add('\t', '\r'); s.add(' '); }
    else if (name == "upper") { s.add('A', 'Z'); }
    else if (name == "word") { s.add('0', '9'); s.add('A', 'Z'); s.add('a', 'z'); s.add('_'); }
    else if (name == "xdigit") { s.add('0', '9'); s.add('A', 'F'); s.add('a', 'f'); }
    else return false;
    s.normalize();
    *out = std::move(s);
    return true;
}

struct Flags {
    bool fold = false;       // i
    bool multiLine = false;  // m
    bool dotNL = false;      // s
    bool ungreedy = false;   // U (parsed, no effect on a boolean match)
};

class Parser {
public:
    explicit Parser(std::string_view p) : p_(p) {}

    NodePtr parse() {
        NodePtr n = parseAlternate();
        if (failed()) return nullptr;
        if (pos_ < p_.size()) {
            // Only a ')' without an opening '(' stops the top-level alternation early.
            fail("unexpected )", p_);
            return nullptr;
        }
        return n;
    }
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }

private:
    // End of a \p / \P escape at pos_ (`\pL` or `\p{Greek}`), for the error message.
    std::size_t unicodeClassEnd() const {
        std::size_t e = pos_ + 2;
        if (e < p_.size() && p_[e] == '{') {
            while (e < p_.size() && p_[e] != '}') ++e;
            if (e < p_.size()) ++e;
        } else if (e < p_.size()) {
            ++e;
        }
        return e;
    }
    void fail(std::string_view code, std::string_view arg, bool withArg = true) {
        if (failed()) return;
        error_ = std::string(code);
        if (withArg) {
            error_ += ": `";
            appendPrintable(arg);
            error_ += "`";
        }
    }
    // The message must stay valid UTF-8 (it ends up in JSON): bytes that are not part of
    // a valid UTF-8 sequence are written as \xNN.
    void appendPrintable(std::string_view arg) {
        for (std::size_t i = 0; i < arg.size();) {
            std::size_t w;
            const std::uint32_t r = decodeRune(arg, i, &w);
            if (r == kRuneError && w == 1 && static_cast<unsigned char>(arg[i]) >= 0x80) {
                static constexpr char kHex[] = "0123456789abcdef";
                const auto b = static_cast<unsigned char>(arg[i]);
                error_ += "\\x";
                error_ += kHex[b >> 4];
                error_ += kHex[b & 15];
            } else {
                error_.append(arg.substr(i, w));
            }
            i += w;
        }
    }
    bool more() const { return pos_ < p_.size(); }
    char peek() const { return p_[pos_]; }

    NodePtr parseAlternate() {
        std::vector<NodePtr> branches;
        branches.push_back(parseConcat());
        if (failed()) return nullptr;
        while (more() && peek() == '|') {
            ++pos_;
            branches.push_back(parseConcat());
            if (failed()) return nullptr;
        }
        if (branches.size() == 1) return std::move(branches[0]);
        auto n = makeNode(NodeKind::Alternate);
        n->subs = std::move(branches);
        return n;
    }

    NodePtr parseConcat() {
        auto n = makeNode(NodeKind::Concat);
        while (more() && peek() != '|' && peek() != ')') {
            bool isAtom = true;
            NodePtr atom = parseAtom(&isAtom);
            if (failed()) return nullptr;
            if (!isAtom) {
                // A flag group like (?i): no operand for a following repetition.
                if (more() && startsRepeat()) {
                    const std::size_t s = pos_;
                    std::size_t e = s;
                    int mn, mx;
                    if (!repeatOp(&e, &mn, &mx)) e = s + 1;
                    fail("missing argument to repetition operator", p_.substr(s, e - s));
                    return nullptr;
                }
                continue;
            }
            atom = parseRepeats(std::move(atom));
            if (failed()) return nullptr;
            n->subs.push_back(std::move(atom));
        }
        if (n->subs.size() == 1) return std::move(n->subs[0]);
        if (n->subs.empty()) return makeNode(NodeKind::Empty);
        return n;
    }

    bool startsRepeat() const {
        const char c = peek();
        if (c == '*' || c == '+' || c == '?') return true;
        if (c == '{') {
            std::size_t e = pos_;
            int mn, mx;
            return repeatOp(&e, &mn, &mx);
        }
        return false;
    }

    // Parses {n}, {n,}, {n,m} starting at *pos (which is '{'). On success advances *pos
    // past '}' and returns true. Counts above kMaxRepeat are returned as-is (checked by caller).
    bool repeatOp(std::size_t* pos, int* mn, int* mx) const {
        std::size_t i = *pos;
        if (i >= p_.size() || p_[i] != '{') return false;
        ++i;
        auto number = [&](int* out) {
            const std::size_t s = i;
            long v = 0;
            while (i < p_.size() && p_[i] >= '0' && p_[i] <= '9') {
                if (v <= 100000) v = v * 10 + (p_[i] - '0');
                ++i;
            }
            if (i == s) return false;
            *out = static_cast<int>(std::min<long>(v, 100001));
            return true;
        };
        if (!number(mn)) return false;
        if (i < p_.size() && p_[i] == ',') {
            ++i;
            if (i < p_.size() && p_[i] == '}') {
                *mx = -1;
            } else if (!number(mx)) {
                return false;
            }
        } else {
            *mx = *mn;
        }
        if (i >= p_.size() || p_[i] != '}') return false;
        *pos = i + 1;
        return true;
    }

    NodePtr parseRepeats(NodePtr atom) {
        bool repeated = false;
        std::size_t lastOpStart = 0;
        while (more()) {
            const std::size_t opStart = pos_;
            int mn = 0, mx = -1;
            const char c = peek();
            if (c == '*') {
                mn = 0, mx = -1, ++pos_;
            } else if (c == '+') {
                mn = 1, mx = -1, ++pos_;
            } else if (c == '?') {
                mn = 0, mx = 1, ++pos_;
            } else if (c == '{') {
                std::size_t e = pos_;
                if (!repeatOp(&e, &mn, &mx)) break;  // a literal '{'
                pos_ = e;
                if (mn > kMaxRepeat || mx > kMaxRepeat || (mx >= 0 && mx < mn)) {
                    fail("invalid repeat count", p_.substr(opStart, pos_ - opStart));
                    return nullptr;
                }
            } else {
                break;
            }
            if (more() && peek() == '?') ++pos_;  // lazy form
            if (repeated) {
                fail("invalid nested repetition operator", p_.substr(lastOpStart, pos_ - lastOpStart));
                return nullptr;
            }
            repeated = true;
            lastOpStart = opStart;
            auto r = makeNode(NodeKind::Repeat);
            r->min = mn;
            r->max = mx;
            r->subs.push_back(std::move(atom));
            atom = std::move(r);
        }
        return atom;
    }

    NodePtr literal(std::uint32_t r) {
        auto n = makeNode(NodeKind::Literal);
        n->rune = r;
        n->fold = flags_.fold && foldable(r);
        return n;
    }
    static bool foldable(std::uint32_t r) {
        return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == 0x17F || r == 0x212A;
    }
    NodePtr classNode(RuneSet s) {
        auto n = makeNode(NodeKind::Class);
        n->set = std::move(s);
        return n;
    }
    NodePtr assertNode(AssertKind k) {
        auto n = makeNode(NodeKind::Assert);
        n->assert = k;
        return n;
    }

    NodePtr parseAtom(bool* isAtom) {
        const char c = peek();
        switch (c) {
            case '(':
                return parseGroup(isAtom);
            case '[':
                return parseClass();
            case '.':
                ++pos_;
                return makeNode(flags_.dotNL ? NodeKind::AnyChar : NodeKind::AnyNotNL);
            case '^':
                ++pos_;
                return assertNode(flags_.multiLine ? AssertKind::BeginLine : AssertKind::BeginText);
            case '$':
                ++pos_;
                return assertNode(flags_.multiLine ? AssertKind::EndLine : AssertKind::EndText);
            case '*':
            case '+':
            case '?': {
                std::size_t e = pos_ + 1;
                if (e < p_.size() && p_[e] == '?') ++e;
                fail("missing argument to repetition operator", p_.substr(pos_, e - pos_));
                return nullptr;
            }
            case '{': {
                std::size_t e = pos_;
                int mn, mx;
                if (repeatOp(&e, &mn, &mx)) {
                    fail("missing argument to repetition operator", p_.substr(pos_, e - pos_));
                    return nullptr;
                }
                ++pos_;
                return literal('{');
            }
            case '\\':
                return parseEscapeAtom(isAtom);
            default: {
                std::size_t w;
                const std::uint32_t r = decodeRune(p_, pos_, &w);
                if (r == kRuneError && w == 1 && static_cast<unsigned char>(c) >= 0x80) {
                    fail("invalid UTF-8", p_.substr(pos_));
                    return nullptr;
                }
                pos_ += w;
                return literal(r);
            }
        }
    }

    NodePtr parseGroup(bool* isAtom) {
        const std::size_t start = pos_;
        ++pos_;  // '('
        const Flags saved = flags_;
        if (more() && peek() == '?') {
            std::string_view rest = p_.substr(pos_);
            if (rest.substr(0, 3) == "?P<" || (rest.substr(0, 2) == "?<" && rest.substr(0, 3) != "?<=" &&
                                               rest.substr(0, 3) != "?<!")) {
                const std::size_t nameStart = pos_ + (rest[1] == 'P' ? 3 : 2);
                std::size_t i = nameStart;
                while (i < p_.size() && isWordRune(static_cast<unsigned char>(p_[i]))) ++i;
                if (i >= p_.size() || p_[i] != '>' || i == nameStart) {
                    const std::size_t end = std::min(p_.size(), i + 1);
                    fail("invalid named capture", p_.substr(start, end - start));
                    return nullptr;
                }
                pos_ = i + 1;
            } else {
                // Flags: (?flags) or (?flags:re), flags from [imsU] with an optional '-'.
                ++pos_;
                bool negate = false, sawFlag = false, sawNeg = false;
                Flags f = flags_;
                while (true) {
                    if (!more()) {
                        fail("missing closing )", p_, false);
                        return nullptr;
                    }
                    const char c = peek();
                    bool* target = nullptr;
                    if (c == 'i') target = &f.fold;
                    else if (c == 'm') target = &f.multiLine;
                    else if (c == 's') target = &f.dotNL;
                    else if (c == 'U') target = &f.ungreedy;
                    if (target) {
                        *target = !negate;
                        sawFlag = true;
                        ++pos_;
                        continue;
                    }
                    if (c == '-' && !sawNeg) {
                        negate = true;
                        sawNeg = true;
                        sawFlag = false;
                        ++pos_;
                        continue;
                    }
                    // Valid ends: "(?i)", "(?i-s)", "(?-s)", "(?i:", "(?:"; not "(?)", "(?-)", "(?i-)".
                    const bool validEnd = sawNeg ? sawFlag : (sawFlag || c == ':');
                    if ((c == ')' || c == ':') && validEnd) {
                        ++pos_;
                        if (c == ')') {
                            flags_ = f;  // applies to the rest of the enclosing group
                            *isAtom = false;
                            return nullptr;
                        }
                        flags_ = f;
                        break;  // (?flags:re) - a non-capturing group with those flags
                    }
                    fail("invalid or unsupported Perl syntax", p_.substr(start, pos_ + 1 - start));
                    return nullptr;
                }
            }
        }
        if (++depth_ > kMaxDepth) {
            fail("expression nests too deeply", p_.substr(start, pos_ - start));
            return nullptr;
        }
        NodePtr inner = parseAlternate();
        if (failed()) return nullptr;
        if (!more() || peek() != ')') {
            fail("missing closing )", p_, false);
            return nullptr;
        }
        ++pos_;
        --depth_;
        flags_ = saved;
        return inner;
    }

    // Parses an escape after '\' (pos_ at the backslash) that denotes one rune;
    // returns false with an error set otherwise. Used both inside and outside classes.
    bool escapeRune(std::uint32_t* out) {
        const std::size_t start = pos_;
        ++pos_;
        if (!more()) {
            fail("trailing backslash at end of expression", "");
            return false;
        }
        const char c = peek();
        ++pos_;
        switch (c) {
            case 'a': *out = 7; return true;
            case 'f': *out = '\f'; return true;
            case 't': *out = '\t'; return true;
            case 'n': *out = '\n'; return true;
            case 'r': *out = '\r'; return true;
            case 'v': *out = '\v'; return true;
            case '1': case '2': case '3': case '4': case '5': case '6': case '7':
                // A single non-zero digit would be a backreference: unsupported, as in Go.
                if (!more() || peek() < '0' || peek() > '7') break;
                [[fallthrough]];
            case '0': {
                std::uint32_t v = static_cast<std::uint32_t>(c - '0');
                for (int i = 0; i < 2 && more() && peek() >= '0' && peek() <= '7'; ++i) v = v * 8 + (p_[pos_++] - '0');
                *out = v;
                return true;
            }
            case 'x': {
                if (!more()) break;
                if (peek() == '{') {
                    ++pos_;
                    std::uint32_t v = 0;
                    int n = 0;
                    while (more() && hexValue(peek()) >= 0) {
                        v = v * 16 + static_cast<std::uint32_t>(hexValue(peek()));
                        if (v > kMaxRune) break;
                        ++pos_;
                        ++n;
                    }
                    if (n == 0 || v > kMaxRune || !more() || peek() != '}') {
                        while (more() && peek() != '}') ++pos_;
                        if (more()) ++pos_;
                        break;
                    }
                    ++pos_;
                    *out = v;
                    return true;
                }
                if (pos_ + 1 < p_.size() && hexValue(p_[pos_]) >= 0 && hexValue(p_[pos_ + 1]) >= 0) {
                    *out = static_cast<std::uint32_t>(hexValue(p_[pos_]) * 16 + hexValue(p_[pos_ + 1]));
                    pos_ += 2;
                    return true;
                }
                pos_ = std::min(p_.size(), pos_ + 2);
                break;
            }
            default:
                if (static_cast<unsigned char>(c) < 0x80 && !isWordRune(static_cast<unsigned char>(c))) {
                    *out = static_cast<unsigned char>(c);
                    return true;
                }
                if (static_cast<unsigned char>(c) >= 0x80) {
                    std::size_t w;
                    decodeRune(p_, pos_ - 1, &w);
                    pos_ = pos_ - 1 + w;
                }
                break;
        }
        fail("invalid escape sequence", p_.substr(start, pos_ - start));
        return false;
    }

    NodePtr parseEscapeAtom(bool* isAtom) {
        const std::size_t start = pos_;
        if (pos_ + 1 < p_.size()) {
            const char c = p_[pos_ + 1];
            RuneSet s;
            switch (c) {
                case 'A': pos_ += 2; return assertNode(AssertKind::BeginText);
                case 'z': pos_ += 2; return assertNode(AssertKind::EndText);
                case 'b': pos_ += 2; return assertNode(AssertKind::WordBoundary);
                case 'B': pos_ += 2; return assertNode(AssertKind::NoWordBoundary);
                case 'p':
                case 'P': {
                    fail("unsupported Unicode character class", p_.substr(start, unicodeClassEnd() - start));
                    return nullptr;
                }
                case 'Q': {
                    // \Q...\E: everything up to \E (or the end) is literal.
                    pos_ += 2;
                    std::size_t end = p_.find("\\E", pos_);
                    std::string_view lit = p_.substr(pos_, end == std::string_view::npos ? std::string_view::npos : end - pos_);
                    pos_ = end == std::string_view::npos ? p_.size() : end + 2;
                    auto n = makeNode(NodeKind::Concat);
                    for (std::size_t i = 0; i < lit.size();) {
                        std::size_t w;
                        n->subs.push_back(literal(decodeRune(lit, i, &w)));
                        i += w;
                    }
                    if (n->subs.empty()) {
                        *isAtom = false;
                        return nullptr;
                    }
                    if (n->subs.size() == 1) return std::move(n->subs[0]);
                    // A repetition after \Q..\E applies to the last rune only, as in Go.
                    NodePtr last = std::move(n->subs.back());
                    n->subs.pop_back();
                    last = parseRepeats(std::move(last));
                    if (failed()) return nullptr;
                    n->subs.push_back(std::move(last));
                    return n;
                }
                default:
                    if (perlClass(c, &s)) {
                        pos_ += 2;
                        if (flags_.fold) s.foldCase();
                        return classNode(std::move(s));
                    }
            }
        }
        std::uint32_t r;
        if (!escapeRune(&r)) return nullptr;
        return literal(r);
    }

    NodePtr parseClass() {
        const std::size_t start = pos_;
        ++pos_;  // '['
        bool negated = false;
        if (more() && peek() == '^') {
            negated = true;
            ++pos_;
        }
        RuneSet set;
        bool first = true;
        while (true) {
            if (!more()) {
                fail("missing closing ]", p_.substr(start));
                return nullptr;
            }
            if (peek() == ']' && !first) {
                ++pos_;
                break;
            }
            first = false;
            // POSIX class [:name:] / [:^name:]
            if (peek() == '[' && pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
                const std::size_t close = p_.find(":]", pos_ + 2);
                if (close != std::string_view::npos) {
                    std::string_view name = p_.substr(pos_ + 2, close - pos_ - 2);
                    bool neg = false;
                    if (!name.empty() && name[0] == '^') {
                        neg = true;
                        name.remove_prefix(1);
                    }
                    RuneSet s;
                    if (!posixClass(name, &s)) {
                        fail("invalid character class range", p_.substr(pos_, close + 2 - pos_));
                        return nullptr;
                    }
                    if (neg) s.negate();
                    set.addSet(s);
                    pos_ = close + 2;
                    continue;
                }
            }
            // Perl class inside a class.
            if (peek() == '\\' && pos_ + 1 < p_.size()) {
                RuneSet s;
                const char c = p_[pos_ + 1];
                if (perlClass(c, &s)) {
                    set.addSet(s);
                    pos_ += 2;
                    continue;
                }
                if (c == 'p' || c == 'P') {
                    fail("unsupported Unicode character class", p_.substr(pos_, unicodeClassEnd() - pos_));
                    return nullptr;
                }
            }
            const std::size_t itemStart = pos_;
            std::uint32_t lo;
            if (!classRune(&lo)) return nullptr;
            std::uint32_t hi = lo;
            if (pos_ + 1 < p_.size() && peek() == '-' && p_[pos_ + 1] != ']') {
                ++pos_;
                if (!classRune(&hi)) return nullptr;
                if (hi < lo) {
                    fail("invalid character class range", p_.substr(itemStart, pos_ - itemStart));
                    return nullptr;
                }
            }
            set.add(lo, hi);
        }
        set.normalize();
        if (flags_.fold) set.foldCase();
        if (negated) set.negate();
        return classNode(std::move(set));
    }

    bool classRune(std::uint32_t* out) {
        if (!more()) {
            fail("missing closing ]", p_);
            return false;
        }
        if (peek() == '\\') {
            if (pos_ + 1 < p_.size()) {
                const char c = p_[pos_ + 1];
                RuneSet dummy;
                if (perlClass(c, &dummy)) {
                    // A Perl class as a range end, e.g. [a-\d].
                    fail("invalid character class range", p_.substr(pos_, 2));
                    return false;
                }
            }
            return escapeRune(out);
        }
        std::size_t w;
        const std::uint32_t r = decodeRune(p_, pos_, &w);
        if (r == kRuneError && w == 1 && static_cast<unsigned char>(peek()) >= 0x80) {
            fail("invalid UTF-8", p_.substr(pos_));
            return false;
        }
        pos_ += w;
        *out = r;
        return true;
    }

    std::string_view p_;
    std::size_t pos_ = 0;
    Flags flags_;
    int depth_ = 0;
    std::string error_;
};

enum class Op : std::uint8_t { Rune, Class, Any, AnyNotNL, Split, Jmp, Assert, Match };

struct Inst {
    Op op;
    AssertKind assert = AssertKind::BeginText;
    std::uint32_t out = 0;
    std::uint32_t out1 = 0;
    std::uint32_t arg = 0;  // Rune: the rune; Class: index into classes
};

struct CompiledClass {
    std::uint64_t ascii[2] = {0, 0};
    std::vector<RuneRange> ranges;  // runes >= 0x80
    bool matches(std::uint32_t r) const {
        if (r < 128) return (ascii[r >> 6] >> (r & 63)) & 1;
        auto it = std::upper_bound(ranges.begin(), ranges.end(), r,
                                   [](std::uint32_t v, const RuneRange& rr) { return v < rr.lo; });
        if (it == ranges.begin()) return false;
        --it;
        return r <= it->hi;
    }
};

class Compiler {
public:
    bool compile(const Node& root) {
        emit(root);
        if (tooLarge_) return false;
        push({Op::Match});
        return !tooLarge_;
    }
    std::vector<Inst> prog;
    std::vector<CompiledClass> classes;

private:
    std::uint32_t pc() const { return static_cast<std::uint32_t>(prog.size()); }
    std::uint32_t push(Inst i) {
        if (prog.size() >= kMaxInsts) {
            tooLarge_ = true;
            return 0;
        }
        prog.push_back(i);
        prog.back().out = pc();  // default: fall through to the next instruction
        return pc() - 1;
    }
    std::uint32_t addClass(const RuneSet& s) {
        CompiledClass c;
        for (const auto& r : s.ranges()) {
            for (std::uint32_t x = r.lo; x <= std::min<std::uint32_t>(r.hi, 127); ++x) c.ascii[x >> 6] |= 1ULL << (x & 63);
            if (r.hi >= 128) c.ranges.push_back({std::max<std::uint32_t>(r.lo, 128), r.hi});
        }
        classes.push_back(std::move(c));
        return static_cast<std::uint32_t>(classes.size() - 1);
    }
    void emit(const Node& n) {
        if (tooLarge_) return;
        switch (n.kind) {
            case NodeKind::Empty:
                return;
            case NodeKind::Literal:
                if (n.fold) {
                    RuneSet s;
                    s.add(n.rune);
                    s.foldCase();
                    const std::uint32_t i = push({Op::Class});
                    if (!tooLarge_) prog[i].arg = addClass(s);
                } else {
                    const std::uint32_t i = push({Op::Rune});
                    if (!tooLarge_) prog[i].arg = n.rune;
                }
                return;
            case NodeKind::Class: {
                const std::uint32_t i = push({Op::Class});
                if (!tooLarge_) prog[i].arg = addClass(n.set);
                return;
            }
            case NodeKind::AnyChar:
                push({Op::Any});
                return;
            case NodeKind::AnyNotNL:
                push({Op::AnyNotNL});
                return;
            case NodeKind::Assert: {
                const std::uint32_t i = push({Op::Assert});
                if (!tooLarge_) prog[i].assert = n.assert;
                return;
            }
            case NodeKind::Concat:
                for (const auto& s : n.subs) emit(*s);
                return;
            case NodeKind::Alternate: {
                std::vector<std::uint32_t> jumps;
                for (std::size_t i = 0; i < n.subs.size(); ++i) {
                    const bool last = i + 1 == n.subs.size();
                    std::uint32_t split = 0;
                    if (!last) split = push({Op::Split});
                    emit(*n.subs[i]);
                    if (tooLarge_) return;
                    if (!last) {
                        jumps.push_back(push({Op::Jmp}));
                        if (tooLarge_) return;
                        prog[split].out1 = pc();
                    }
                }
                for (auto j : jumps) prog[j].out = pc();
                return;
            }
            case NodeKind::Repeat: {
                const Node& x = *n.subs[0];
                if (n.max == -1) {
                    if (n.min == 0) {
                        star(x);
                    } else {
                        for (int i = 0; i < n.min - 1; ++i) emit(x);
                        plus(x);
                    }
                    return;
                }
                for (int i = 0; i < n.min; ++i) emit(x);
                // (max - min) nested optionals, each exiting to the common end.
                std::vector<std::uint32_t> splits;
                for (int i = n.min; i < n.max && !tooLarge_; ++i) {
                    splits.push_back(push({Op::Split}));
                    emit(x);
                }
                if (tooLarge_) return;
                for (auto s : splits) prog[s].out1 = pc();
                return;
            }
        }
    }
    void star(const Node& x) {
        const std::uint32_t split = push({Op::Split});
        emit(x);
        const std::uint32_t j = push({Op::Jmp});
        if (tooLarge_) return;
        prog[j].out = split;
        prog[split].out1 = pc();
    }
    void plus(const Node& x) {
        const std::uint32_t begin = pc();
        emit(x);
        const std::uint32_t split = push({Op::Split});
        if (tooLarge_) return;
        prog[split].out = begin;
        prog[split].out1 = pc();
    }
    bool tooLarge_ = false;
};

// Collects a plain literal (optionally framed by \A/^ and \z/$ without (?m)).
bool literalShape(const Node& root, std::string* lit, bool* anchorStart, bool* anchorEnd) {
    std::vector<const Node*> items;
    if (root.kind == NodeKind::Concat) {
        for (const auto& s : root.subs) items.push_back(s.get());
    } else {
        items.push_back(&root);
    }
    std::size_t b = 0, e = items.size();
    *anchorStart = *anchorEnd = false;
    if (b < e && items[b]->kind == NodeKind::Assert && items[b]->assert == AssertKind::BeginText) {
        *anchorStart = true;
        ++b;
    }
    if (e > b && items[e - 1]->kind == NodeKind::Assert && items[e - 1]->assert == AssertKind::EndText) {
        *anchorEnd = true;
        --e;
    }
    lit->clear();
    for (std::size_t i = b; i < e; ++i) {
        const Node* n = items[i];
        if (n->kind == NodeKind::Empty) continue;
        if (n->kind != NodeKind::Literal || n->fold) return false;
        const std::uint32_t r = n->rune;
        if (r == kRuneError) return false;  // must also match invalid bytes: use the VM
        if (r < 0x80) {
            lit->push_back(static_cast<char>(r));
        } else if (r < 0x800) {
            lit->push_back(static_cast<char>(0xC0 | (r >> 6)));
            lit->push_back(static_cast<char>(0x80 | (r & 0x3F)));
        } else if (r < 0x10000) {
            lit->push_back(static_cast<char>(0xE0 | (r >> 12)));
            lit->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
            lit->push_back(static_cast<char>(0x80 | (r & 0x3F)));
        } else {
            lit->push_back(static_cast<char>(0xF0 | (r >> 18)));
            lit->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
            lit->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
            lit->push_back(static_cast<char>(0x80 | (r & 0x3F)));
        }
    }
    return true;
}

// The pattern can only match at position 0 (leading \A / ^ without (?m) on every path).
bool anchoredAtStart(const Node& n) {
    switch (n.kind) {
        case NodeKind::Assert:
            return n.assert == AssertKind::BeginText;
        case NodeKind::Concat:
            for (const auto& s : n.subs) {
                if (anchoredAtStart(*s)) return true;
                if (s->kind != NodeKind::Empty) return false;
            }
            return false;
        case NodeKind::Alternate:
            for (const auto& s : n.subs)
                if (!anchoredAtStart(*s)) return false;
            return !n.subs.empty();
        case NodeKind::Repeat:
            return n.min >= 1 && anchoredAtStart(*n.subs[0]);
        default:
            return false;
    }
}

// Sparse set of program counters (Briggs-Torczon), O(1) insert/clear.
// The arrays are provided by the caller (small programs use a stack buffer, so a search
// does not allocate).
class PcSet {
public:
    PcSet(std::uint32_t* sparse, std::uint32_t* dense) : sparse_(sparse), dense_(dense) {}
    bool contains(std::uint32_t pc) const {
        const std::uint32_t i = sparse_[pc];
        return i < size_ && dense_[i] == pc;
    }
    void insert(std::uint32_t pc) {
        sparse_[pc] = size_;
        dense_[size_++] = pc;
    }
    void clear() { size_ = 0; }
    std::uint32_t size() const { return size_; }
    std::uint32_t operator[](std::uint32_t i) const { return dense_[i]; }

private:
    std::uint32_t* sparse_;
    std::uint32_t* dense_;
    std::uint32_t size_ = 0;
};

constexpr std::int64_t kNoRune = -1;

}  // namespace

struct Regex::Impl {
    std::string pattern;
    bool literal = false;
    std::string lit;
    bool litStart = false, litEnd = false;
    std::vector<Inst> prog;
    std::vector<CompiledClass> classes;
    bool anchored = false;
    int firstByte = -1;  // start instruction is this ASCII literal

    bool assertHolds(AssertKind k, std::int64_t prev, std::int64_t cur) const {
        switch (k) {
            case AssertKind::BeginLine: return prev == kNoRune || prev == '\n';
            case AssertKind::EndLine: return cur == kNoRune || cur == '\n';
            case AssertKind::BeginText: return prev == kNoRune;
            case AssertKind::EndText: return cur == kNoRune;
            case AssertKind::WordBoundary: return isWordRune(prev) != isWordRune(cur);
            case AssertKind::NoWordBoundary: return isWordRune(prev) == isWordRune(cur);
        }
        return false;
    }

    // Adds pc and its epsilon closure at a position with context (prev, cur).
    // Returns true when Match is reachable without consuming input.
    // stack has room for 2 * prog.size() + 1 entries: a pc pushes at most two successors,
    // and only when it enters the set for the first time.
    bool addThread(PcSet& set, std::uint32_t* stack, std::uint32_t pc0, std::int64_t prev, std::int64_t cur) const {
        std::size_t top = 0;
        stack[top++] = pc0;
        while (top > 0) {
            const std::uint32_t pc = stack[--top];
            if (set.contains(pc)) continue;
            set.insert(pc);
            const Inst& in = prog[pc];
            switch (in.op) {
                case Op::Jmp:
                    stack[top++] = in.out;
                    break;
                case Op::Split:
                    stack[top++] = in.out1;
                    stack[top++] = in.out;
                    break;
                case Op::Assert:
                    if (assertHolds(in.assert, prev, cur)) stack[top++] = in.out;
                    break;
                case Op::Match:
                    return true;
                default:
                    break;
            }
        }
        return false;
    }

    bool step(const Inst& in, std::uint32_t r) const {
        switch (in.op) {
            case Op::Rune: return in.arg == r;
            case Op::Class: return classes[in.arg].matches(r);
            case Op::Any: return true;
            case Op::AnyNotNL: return r != '\n';
            default: return false;
        }
    }

    bool run(std::string_view text) const {
        // Scratch: two sparse sets (sparse + dense arrays each) and the closure stack.
        const std::size_t n = prog.size();
        const std::size_t need = 6 * n + 1;
        constexpr std::size_t kSmall = 6 * 96 + 1;
        std::uint32_t small[kSmall];
        std::vector<std::uint32_t> large;
        std::uint32_t* buf = small;
        if (need > kSmall) {
            large.resize(need);
            buf = large.data();
        } else {
            std::memset(buf, 0, need * sizeof(std::uint32_t));
        }
        PcSet clist(buf, buf + n), nlist(buf + 2 * n, buf + 3 * n);
        std::uint32_t* stack = buf + 4 * n;
        std::size_t pos = 0;
        std::int64_t prev = kNoRune;
        std::size_t w = 0;
        std::int64_t cur = text.empty() ? kNoRune : static_cast<std::int64_t>(decodeRune(text, 0, &w));
        while (true) {
            if (clist.size() == 0) {
                if (anchored && pos > 0) return false;
                if (firstByte >= 0 && !anchored) {
                    const void* hit = pos < text.size()
                                          ? std::memchr(text.data() + pos, firstByte, text.size() - pos)
                                          : nullptr;
                    if (!hit) return false;
                    const std::size_t np = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
                    if (np != pos) {
                        pos = np;
                        prev = kNoRune;  // irrelevant: the first instruction consumes a rune
                        cur = decodeRune(text, pos, &w);
                    }
                }
            }
            if (!anchored || pos == 0) {
                if (addThread(clist, stack, 0, prev, cur)) return true;
            }
            if (cur == kNoRune) return false;
            const std::size_t npos = pos + w;
            std::size_t nw = 0;
            const std::int64_t next = npos < text.size() ? static_cast<std::int64_t>(decodeRune(text, npos, &nw)) : kNoRune;
            for (std::uint32_t i = 0; i < clist.size(); ++i) {
                const Inst& in = prog[clist[i]];
                if (step(in, static_cast<std::uint32_t>(cur))) {
                    if (addThread(nlist, stack, in.out, cur, next)) return true;
                }
            }
            std::swap(clist, nlist);
            nlist.clear();
            prev = cur;
            cur = next;
            pos = npos;
            w = nw;
        }
    }
};

std::optional<Regex> Regex::compile(std::string_view pattern, std::string* error) {
    Parser parser(pattern);
    NodePtr root = parser.parse();
    if (!root) {
        if (error) *error = parser.error();
        return std::nullopt;
    }
    auto impl = std::make_shared<Impl>();
    impl->pattern = std::string(pattern);
    std::string lit;
    bool as, ae;
    if (literalShape(*root, &lit, &as, &ae)) {
        impl->literal = true;
        impl->lit = std::move(lit);
        impl->litStart = as;
        impl->litEnd = ae;
        return Regex(std::move(impl));
    }
    Compiler c;
    if (!c.compile(*root)) {
        if (error) *error = "expression too large";
        return std::nullopt;
    }
    impl->prog = std::move(c.prog);
    impl->classes = std::move(c.classes);
    impl->anchored = anchoredAtStart(*root);
    if (impl->prog[0].op == Op::Rune && impl->prog[0].arg < 0x80) impl->firstByte = static_cast<int>(impl->prog[0].arg);
    return Regex(std::move(impl));
}

bool Regex::search(std::string_view text) const {
    if (!impl_) return false;  // moved-from
    const Impl& m = *impl_;
    if (m.literal) {
        if (m.litStart && m.litEnd) return text == m.lit;
        if (m.litStart) return text.substr(0, m.lit.size()) == m.lit;
        if (m.litEnd) return text.size() >= m.lit.size() && text.substr(text.size() - m.lit.size()) == m.lit;
        return text.find(m.lit) != std::string_view::npos;
    }
    return m.run(text);
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
