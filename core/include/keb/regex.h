// A small regular-expression engine with Go RE2 syntax and RE2's guarantee:
// matching is linear in the input (Pike VM over a compiled program, no
// backtracking), so an operator's pattern can never blow up on 100,000 runtimes.
// Why not std::regex: ECMAScript semantics (not RE2), backtracking, and very slow.
// Why not libre2: it does not build for the browser core (em++) without extra
// sources; the subset used by orchestration targets is small.
// Supported: literals, escapes (\. \d \w \s \D \W \S \b \B), ., [...] classes with
// ranges and negation and [[:alpha:]]-style classes, ^ $, groups ( ) (?: ) (?i),
// alternation |, quantifiers * + ? {n} {n,} {n,m} and their lazy forms.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace keb {

class Regex {
public:
    // Compiles pattern; on a syntax error returns nullopt and sets *error (RE2-style message).
    static std::optional<Regex> compile(std::string_view pattern, std::string* error = nullptr);
    // Unanchored search, like Go's regexp.MatchString.
    bool search(std::string_view text) const;
    const std::string& pattern() const;

    Regex(const Regex&);
    Regex& operator=(const Regex&);
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;
    ~Regex();

    struct Impl;

private:
    explicit Regex(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

}  // namespace keb
