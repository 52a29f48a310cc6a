// Target regular expressions: Go RE2 syntax, unanchored search, matching linear in the input
// (no backtracking), so an operator's pattern can never blow up on 100,000 runtimes.
// Backed by RE2 (core/src/regex.cpp): Debian's libre2 natively, the same RE2 release compiled
// with em++ in the browser core. Until December 2026 this was a 1,200-line engine of our own;
// the tests in tests/core/regex_test.cpp and tests/fuzz/fuzz_regex.cpp were kept for RE2.
// Why not std::regex: ECMAScript semantics (not RE2), backtracking, and very slow.
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
