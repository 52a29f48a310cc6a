// Fuzz target: the regex compiler and matcher (core/include/keb/regex.h).
// Two modes, chosen by the first byte:
//  - raw (most inputs): after the first byte, the first line is the pattern, every further line a text to search;
//    checks that compile/search never crash, hang or leak, that a rejected pattern has an error
//    message, and that copies answer like the original.
//  - oracle (first byte % 4 == 0): the bytes are mapped onto a small syntax (a b . * + ? | ( ))
//    and texts over {a, b, c}; the answer of search() is compared with a tiny independent matcher
//    (sets of positions as bit masks, no backtracking), for every pattern that matcher accepts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keb/regex.h"

using namespace keb;

namespace {

[[noreturn]] void fail(const char* what, const std::string& pattern, const std::string& text = "") {
    std::fprintf(stderr, "fuzz_regex: %s\n  pattern: %s\n  text: %s\n", what, pattern.c_str(), text.c_str());
    std::abort();
}

// ---- The oracle: Go RE2 syntax restricted to literals a b, '.', * + ? (each optionally lazy),
// '|' and groups. Positions 0..n of a text (n <= 62) are bits of a uint64_t.
struct Node {
    enum Kind { Lit, Any, Cat, Alt, Star, Plus, Quest, Empty } kind;
    char c = 0;
    std::vector<std::unique_ptr<Node>> kids;
};

class OracleParser {
public:
    explicit OracleParser(std::string_view p) : p_(p) {}
    std::unique_ptr<Node> parse() {
        auto n = alternation();
        if (!n || pos_ != p_.size()) return nullptr;
        return n;
    }

private:
    std::unique_ptr<Node> alternation() {
        auto alt = std::make_unique<Node>(Node{Node::Alt});
        for (;;) {
            auto c = concat();
            if (!c) return nullptr;
            alt->kids.push_back(std::move(c));
            if (pos_ < p_.size() && p_[pos_] == '|') {
                ++pos_;
                continue;
            }
            return alt;
        }
    }
    std::unique_ptr<Node> concat() {
        auto cat = std::make_unique<Node>(Node{Node::Cat});
        while (pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
            std::unique_ptr<Node> atom;
            const char c = p_[pos_];
            if (c == '(') {
                if (++depth_ > 20) return nullptr;
                ++pos_;
                atom = alternation();
                --depth_;
                if (!atom || pos_ >= p_.size() || p_[pos_] != ')') return nullptr;
                ++pos_;
            } else if (c == '.') {
                atom = std::make_unique<Node>(Node{Node::Any});
                ++pos_;
            } else if (c == '*' || c == '+' || c == '?') {
                return nullptr;  // missing argument to repetition operator
            } else {
                atom = std::make_unique<Node>(Node{Node::Lit, c});
                ++pos_;
            }
            if (pos_ < p_.size() && (p_[pos_] == '*' || p_[pos_] == '+' || p_[pos_] == '?')) {
                const char op = p_[pos_++];
                if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy: same set of matches
                if (pos_ < p_.size() && (p_[pos_] == '*' || p_[pos_] == '+' || p_[pos_] == '?'))
                    return nullptr;  // invalid nested repetition operator
                auto rep = std::make_unique<Node>(Node{op == '*' ? Node::Star : op == '+' ? Node::Plus : Node::Quest});
                rep->kids.push_back(std::move(atom));
                atom = std::move(rep);
            }
            cat->kids.push_back(std::move(atom));
        }
        return cat;
    }
    std::string_view p_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

// End positions reachable from the start positions in `starts`.
std::uint64_t eval(const Node& n, std::uint64_t starts, std::string_view text) {
    const std::size_t len = text.size();
    switch (n.kind) {
        case Node::Lit:
        case Node::Any: {
            std::uint64_t out = 0;
            for (std::size_t p = 0; p < len; ++p)
                if ((starts >> p & 1) && (n.kind == Node::Any ? text[p] != '\n' : text[p] == n.c)) out |= 1ull << (p + 1);
            return out;
        }
        case Node::Empty:
            return starts;
        case Node::Cat: {
            std::uint64_t s = starts;
            for (const auto& k : n.kids) s = eval(*k, s, text);
            return s;
        }
        case Node::Alt: {
            std::uint64_t out = 0;
            for (const auto& k : n.kids) out |= eval(*k, starts, text);
            return out;
        }
        case Node::Quest:
            return starts | eval(*n.kids[0], starts, text);
        case Node::Star:
        case Node::Plus: {
            std::uint64_t reach = n.kind == Node::Star ? starts : 0;
            std::uint64_t frontier = starts;
            for (;;) {
                const std::uint64_t next = eval(*n.kids[0], frontier, text) & ~reach;
                if (!next) return reach;
                reach |= next;
                frontier = next;
            }
        }
    }
    return 0;
}

bool oracleSearch(const Node& root, std::string_view text) {
    const std::uint64_t all = text.size() >= 63 ? ~0ull : ((1ull << (text.size() + 1)) - 1);
    return eval(root, all, text) != 0;
}

void oracleMode(const std::uint8_t* data, std::size_t size) {
    static const char kPat[] = "ab.*+?|()aab";
    static const char kText[] = "abc";
    std::size_t patLen = size > 1 ? data[1] % 24 : 0;
    std::string pattern, text;
    std::size_t i = 2;
    for (; i < size && pattern.size() < patLen; ++i) pattern += kPat[data[i] % (sizeof kPat - 1)];
    for (; i < size && text.size() < 40; ++i) text += kText[data[i] % (sizeof kText - 1)];
    auto root = OracleParser(pattern).parse();
    if (!root) return;  // outside the oracle's syntax (Go rejects most of these too)
    std::string err;
    auto re = Regex::compile(pattern, &err);
    if (!re) fail(("rejected a pattern Go RE2 accepts: " + err).c_str(), pattern);
    for (std::size_t cut = 0; cut <= text.size(); cut += 7) {  // the text and some of its prefixes
        const std::string t = text.substr(0, text.size() - cut);
        if (re->search(t) != oracleSearch(*root, t)) fail("search() disagrees with the oracle", pattern, t);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 8 * 1024) return 0;
    if (size > 0 && data[0] % 4 == 0) {
        oracleMode(data, size);
        return 0;
    }
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t nl = input.find('\n');
    const std::string pattern(input.substr(0, nl));
    std::string err;
    auto re = Regex::compile(pattern, &err);
    if (!re) {
        if (err.empty()) fail("rejected without an error message", pattern);
        return 0;
    }
    if (re->pattern() != pattern) fail("pattern() differs from the compiled text", pattern);
    Regex copy = *re;
    std::string_view rest = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    std::vector<std::string_view> texts{rest};
    for (std::size_t pos = 0; pos < rest.size() && texts.size() < 16;) {
        std::size_t e = rest.find('\n', pos);
        texts.push_back(rest.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos));
        if (e == std::string_view::npos) break;
        pos = e + 1;
    }
    for (std::string_view t : texts) {
        const bool a = re->search(t);
        if (copy.search(t) != a) fail("a copy answers differently", pattern, std::string(t));
    }
    return 0;
}
