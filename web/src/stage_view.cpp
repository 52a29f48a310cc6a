#include "stage_view.h"

#include <algorithm>
#include <cstdio>

#include "keb/timefmt.h"

namespace keb::web {

namespace {

std::int64_t intField(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string strField(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Millis timeField(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return 0;
    auto t = parseRfc3339(it->get_ref<const std::string&>());
    return t ? *t : 0;
}

const Json* strategyOf(const Json& orchestration) {
    auto p = orchestration.find("parameters");
    if (p == orchestration.end() || !p->is_object()) return nullptr;
    auto s = p->find("strategy");
    if (s == p->end() || !s->is_object()) return nullptr;
    return &*s;
}

}  // namespace

std::vector<StageRowView> stageRows(const Json& orchestration) {
    std::vector<StageRowView> rows;
    auto it = orchestration.find("stages");
    if (it == orchestration.end() || !it->is_array()) return rows;
    rows.reserve(it->size());
    for (const Json& s : *it) {
        if (!s.is_object()) continue;
        StageRowView r;
        r.name = strField(s, "name");
        r.state = strField(s, "state");
        if (auto st = s.find("operationStats"); st != s.end() && st->is_object()) {
            for (auto e = st->begin(); e != st->end(); ++e) {
                if (!e.value().is_number_integer()) continue;
                const std::int64_t n = e.value().get<std::int64_t>();
                r.total += n;
                if (e.key() == "succeeded") r.succeeded = n;
                if (e.key() == "failed") r.failed = n;
                if (e.key() == "in progress") r.inProgress = n;
                if (e.key() == "succeeded" || e.key() == "failed" || e.key() == "canceled") r.done += n;
            }
        }
        r.failures = intField(s, "failures");
        if (auto m = s.find("maxFailures"); m != s.end() && m->is_number_integer()) r.maxFailures = m->get<std::int64_t>();
        r.startedAt = timeField(s, "startedAt");
        r.finishedAt = timeField(s, "finishedAt");
        r.soakUntil = timeField(s, "soakUntil");
        rows.push_back(std::move(r));
    }
    return rows;
}

std::string budgetText(const StageRowView& r) {
    return std::to_string(r.failures) + " / " + (r.maxFailures < 0 ? std::string("-") : std::to_string(r.maxFailures));
}

bool overBudget(const StageRowView& r) { return r.maxFailures >= 0 && r.failures > r.maxFailures; }

std::string formatSpan(Millis ms) {
    if (ms < 0) ms = 0;
    const std::int64_t s = ms / 1000;
    const std::int64_t d = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
    char buf[48];
    if (d > 0)
        std::snprintf(buf, sizeof buf, "%lldd %02lldh", static_cast<long long>(d), static_cast<long long>(h));
    else if (h > 0)
        std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(h), static_cast<long long>(m));
    else if (m > 0)
        std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(m), static_cast<long long>(sec));
    else
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(sec));
    return buf;
}

std::string soakText(const StageRowView& r, Millis now) {
    if (r.state != "soaking" || r.soakUntil == 0) return "";
    if (r.soakUntil <= now) return "soak ends";
    return "soak " + formatSpan(r.soakUntil - now) + " left";
}

std::string orchestrationBudgetText(const Json& orchestration) {
    const Json* s = strategyOf(orchestration);
    if (!s) return "";
    auto m = s->find("maxFailures");
    if (m == s->end() || m->is_null()) return "";
    if (m->is_string()) return m->get<std::string>();
    if (m->is_number_integer()) return std::to_string(m->get<std::int64_t>());
    return m->dump();
}

const char* markKindName(MarkKind k) {
    switch (k) {
        case MarkKind::StageStarted: return "stage started";
        case MarkKind::StageSoaking: return "soak";
        case MarkKind::StageFinished: return "stage finished";
        case MarkKind::Paused: return "paused";
        case MarkKind::Resumed: return "resumed";
    }
    return "";
}

bool StageMarks::consume(std::string_view line) {
    // {"at":"<RFC 3339>","kind":"<kind>",... : the kind starts within the first 48 characters.
    static constexpr std::string_view kKind = "\"kind\":\"";
    const std::size_t k = line.substr(0, 48).find(kKind);
    if (k == std::string_view::npos) return false;
    const std::string_view rest = line.substr(k + kKind.size());
    const bool stage = rest.substr(0, 6) == "stage.";
    const bool orchState = !stage && rest.substr(0, 20) == "orchestration.state\"";
    if (!stage && !orchState) return false;
    const auto j = Json::parse(line, nullptr, false);
    if (!j.is_object()) return false;
    StageMark m;
    m.orchestrationID = strField(j, "orchestrationID");
    m.state = strField(j, "state");
    m.detail = strField(j, "detail");
    auto at = parseRfc3339(strField(j, "at"));
    if (!at || m.orchestrationID.empty()) return false;
    m.at = *at;
    const std::string kind = strField(j, "kind");
    if (orchState) {
        bool& wasPaused = paused_[m.orchestrationID];
        if (m.state == "paused") {
            m.kind = MarkKind::Paused;
            wasPaused = true;
        } else if (wasPaused) {
            wasPaused = false;
            m.kind = MarkKind::Resumed;
        } else {
            if (isFinished(parseOrchestrationState(m.state).value_or(OrchestrationState::Pending)))
                paused_.erase(m.orchestrationID);
            return false;
        }
    } else if (kind == "stage.started") {
        m.kind = MarkKind::StageStarted;
    } else if (kind == "stage.soaking") {
        m.kind = MarkKind::StageSoaking;
    } else if (kind == "stage.finished") {
        m.kind = MarkKind::StageFinished;
    } else {
        return false;
    }
    if (stage) {
        m.stage = strField(j, "stage");
        m.nameLookedUp = !m.stage.empty();
        latest_[m.orchestrationID] = dropped_ + marks_.size();
    }
    marks_.push_back(std::move(m));
    if (marks_.size() > kMax) {
        const std::size_t n = marks_.size() - kMax / 2;  // drop in halves: amortised O(1) per mark
        marks_.erase(marks_.begin(), marks_.begin() + static_cast<std::ptrdiff_t>(n));
        dropped_ += n;
        for (auto it = latest_.begin(); it != latest_.end();)
            it = it->second < dropped_ ? latest_.erase(it) : std::next(it);
    }
    return true;
}

const StageMark* StageMarks::latestStage(const std::string& orchestrationID) const {
    auto it = latest_.find(orchestrationID);
    if (it == latest_.end() || it->second < dropped_) return nullptr;
    return &marks_[it->second - dropped_];
}

void StageMarks::clear() {
    marks_.clear();
    latest_.clear();
    paused_.clear();
    dropped_ = 0;
}

bool resolveStageName(StageMark& m, const Orchestration& o) {
    m.nameLookedUp = true;
    if (!m.stage.empty()) return true;
    if (m.kind == MarkKind::Paused || m.kind == MarkKind::Resumed) return false;
    const auto& stages = o.parameters.strategy.stages;
    const auto& progress = o.rollout.stages;
    for (std::size_t k = 0; k < stages.size() && k < progress.size(); ++k) {
        const StageProgress& p = progress[k];
        bool match = false;
        switch (m.kind) {
            case MarkKind::StageStarted: match = p.startedAt == m.at; break;
            case MarkKind::StageSoaking: match = p.finishedAt == m.at && stages[k].soak > 0; break;
            case MarkKind::StageFinished:
                match = (stages[k].soak > 0 && p.soakUntil == m.at) || (stages[k].soak == 0 && p.finishedAt == m.at);
                break;
            default: break;
        }
        if (match) {
            m.stage = stages[k].name;
            return true;
        }
    }
    return false;
}

std::vector<BlackoutSpan> engineBlackoutSpans(const std::vector<Blackout>& blackouts) {
    std::vector<BlackoutSpan> out;
    out.reserve(blackouts.size());
    for (const Blackout& b : blackouts) out.push_back(BlackoutSpan{b.from, b.to, b.reason, "engine"});
    return out;
}

std::vector<BlackoutSpan> requestBlackoutSpans(const Json& orchestration) {
    std::vector<BlackoutSpan> out;
    const Json* s = strategyOf(orchestration);
    if (!s) return out;
    auto list = s->find("blackouts");
    if (list == s->end() || !list->is_array()) return out;
    const std::string id = strField(orchestration, "orchestrationID").substr(0, 8);
    for (const Json& b : *list) {
        if (!b.is_object()) continue;
        const Millis from = timeField(b, "from"), to = timeField(b, "to");
        if (from == 0 || to <= from) continue;
        out.push_back(BlackoutSpan{from, to, strField(b, "reason"), id});
    }
    return out;
}

}  // namespace keb::web
