// Typed access to a scenario file's JSON with precise errors: every value knows its JSON path, and
// fail() throws ScenarioError("<file>: <path>: <problem>"). Used by the scenario parser and by the
// checkers (checker.h), which parse their own "expect" fields.
#pragma once
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "keb/sim/scenario.h"
#include "keb/timefmt.h"
#include "keb/wire.h"

namespace keb::sim {

// A JSON value with its path, for typed access with precise errors.
class ScenarioNode {
public:
    ScenarioNode(const Json& j, std::string path, const std::string& file) : j_(j), path_(std::move(path)), file_(file) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw ScenarioError(file_ + ": " + (path_.empty() ? std::string("(top level)") : path_) + ": " + what);
    }
    // For messages that already name their JSON path (a core validator's, e.g.
    // "engine.blackouts[0].to: must be after from"): "<file>: <message>".
    [[noreturn]] void failNamed(const std::string& message) const { throw ScenarioError(file_ + ": " + message); }
    const Json& json() const { return j_; }
    const std::string& path() const { return path_; }
    bool has(const char* key) const { return j_.is_object() && j_.contains(key) && !j_.at(key).is_null(); }
    ScenarioNode operator[](const char* key) const {
        return ScenarioNode(j_.at(key), path_.empty() ? std::string(key) : path_ + "." + key, file_);
    }
    // For keys taken from the document: they may hold a NUL byte, which a const char* would cut
    // (j_.at then threw nlohmann's out_of_range; found by tests/fuzz/fuzz_scenario.cpp).
    ScenarioNode operator[](const std::string& key) const {
        return ScenarioNode(j_.at(key), path_.empty() ? key : path_ + "." + key, file_);
    }
    ScenarioNode at(std::size_t i) const { return ScenarioNode(j_.at(i), path_ + "[" + std::to_string(i) + "]", file_); }
    std::size_t size() const { return j_.size(); }

    void requireObject() const {
        if (!j_.is_object()) fail("expected an object");
    }
    void requireArray() const {
        if (!j_.is_array()) fail("expected an array");
    }
    // Unknown keys are errors in scenario files: a typo must not silently change a test.
    void onlyKeys(std::initializer_list<const char*> keys) const {
        requireObject();
        for (auto it = j_.begin(); it != j_.end(); ++it) {
            bool ok = false;
            for (const char* k : keys) ok = ok || it.key() == k;
            if (!ok) {
                std::string list;
                for (const char* k : keys) list += std::string(list.empty() ? "" : ", ") + k;
                ScenarioNode(it.value(), path_.empty() ? it.key() : path_ + "." + it.key(), file_)
                    .fail("unknown field (allowed: " + list + ")");
            }
        }
    }
    std::string str() const {
        if (!j_.is_string()) fail("expected a string");
        return j_.get<std::string>();
    }
    bool boolean() const {
        if (!j_.is_boolean()) fail("expected true or false");
        return j_.get<bool>();
    }
    std::int64_t integer(std::int64_t lo, std::int64_t hi) const {
        if (!j_.is_number_integer() && !(j_.is_number_float() && std::floor(j_.get<double>()) == j_.get<double>()))
            fail("expected an integer");
        const double d = j_.get<double>();
        if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
            fail("must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        return j_.is_number_unsigned() ? static_cast<std::int64_t>(j_.get<std::uint64_t>()) : j_.get<std::int64_t>();
    }
    double number(double lo, double hi) const {
        if (!j_.is_number()) fail("expected a number");
        const double d = j_.get<double>();
        if (!(d >= lo && d <= hi)) fail("must be between " + fmt(lo) + " and " + fmt(hi));
        return d;
    }
    double probability() const { return number(0.0, 1.0); }
    Millis duration() const {
        if (!j_.is_string()) fail("expected a duration like \"15m\", \"2h\", \"1d\"");
        auto d = parseOffset(j_.get<std::string>());
        if (!d || j_.get<std::string>().starts_with("+")) fail("expected a duration like \"15m\", \"2h\", \"1d\"");
        return *d;
    }
    // RFC 3339 time, or an offset "+2h" from the scenario start.
    Millis time(Millis start) const {
        if (j_.is_string()) {
            const std::string s = j_.get<std::string>();
            if (auto t = parseRfc3339(s)) return *t;
            if (!s.empty() && s[0] == '+')
                if (auto d = parseOffset(s)) return start + *d;
        }
        fail("expected RFC 3339 time or duration offset like \"+2h\"");
    }
    std::vector<std::string> strings() const {
        requireArray();
        std::vector<std::string> out;
        for (std::size_t i = 0; i < size(); ++i) out.push_back(at(i).str());
        return out;
    }

private:
    static std::string fmt(double d) {
        std::ostringstream o;
        o << d;
        return o.str();
    }
    const Json& j_;
    std::string path_;
    const std::string& file_;
};

// Shared forms of "expect" values: a count (exact or {"min", "max"}), state -> count, and the
// expected state of one submitted orchestration (also the timeline's "check" event).
CountExpect parseCount(const ScenarioNode& n);
std::map<OperationState, CountExpect> parseStateCounts(const ScenarioNode& n);
OrchestrationExpect parseOrchExpect(const ScenarioNode& n, int defaultIndex, int submitCount, bool allowIndex);

}  // namespace keb::sim
