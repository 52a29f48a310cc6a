// What the browser shows of progressive rollouts (SPEC 10), as pure functions and small
// collectors the panels read every frame without scanning operations:
// - stage rows of one GET /orchestrations/{id} answer (state, progress, failures/budget, soak),
// - stage and pause marks for the timeline, collected from the simulator's event-log lines
//   ("stage.started", "stage.soaking", "stage.finished", "orchestration.state" paused/resumed),
// - blackout spans (the engine's server-wide ones and each request's own).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keb/model.h"
#include "keb/wire.h"

namespace keb::web {

// ---- the `stages` of GET /orchestrations/{id} ----
struct StageRowView {
    std::string name;
    std::string state;  // pending, in progress, soaking, succeeded, failed
    std::int64_t total = 0, done = 0, inProgress = 0, succeeded = 0, failed = 0;  // operationStats
    std::int64_t failures = 0;      // counted against the budget (since the last resume)
    std::int64_t maxFailures = -1;  // the budget as a number; -1: none
    Millis startedAt = 0, finishedAt = 0, soakUntil = 0;  // 0: not set
};
// Rows of the answer's `stages` (empty when there is none); fields that are missing or of the
// wrong type read as 0 / empty.
std::vector<StageRowView> stageRows(const Json& orchestration);
// "1 / 2", or "1 / -" without a budget.
std::string budgetText(const StageRowView& r);
// True when the stage has more failures than its budget (the engine paused on it).
bool overBudget(const StageRowView& r);
// While soaking: "soak 3h 05m left" (soakUntil minus now; "soak ends" when due); else "".
std::string soakText(const StageRowView& r, Millis now);
// A span for people: "2d 03h", "3h 05m", "4m 10s", "12s", "0s" (negative: "0s").
std::string formatSpan(Millis ms);
// The orchestration's own budget as sent (strategy.maxFailures: 10 or "1%"), "" when none.
std::string orchestrationBudgetText(const Json& orchestration);

// ---- timeline marks from the event log ----
enum class MarkKind { StageStarted, StageSoaking, StageFinished, Paused, Resumed };
const char* markKindName(MarkKind k);  // "stage started", "soak", "stage finished", "paused", "resumed"

struct StageMark {
    Millis at = 0;
    MarkKind kind = MarkKind::StageStarted;
    std::string orchestrationID;
    std::string stage;   // the stage's name ("" for pause/resume, or when the line does not carry it)
    std::string state;   // the event's state (stage state, or the orchestration's)
    std::string detail;  // the event's detail (soak end, counts, pause reason)
    bool nameLookedUp = false;  // resolveStageName was tried (never again)
};

class StageMarks {
public:
    // One event-log line (JSON). Keeps stage events and pause/resume state changes; any other
    // line costs a bounded compare near its start. Returns true when the line was kept.
    bool consume(std::string_view line);
    const std::vector<StageMark>& marks() const { return marks_; }
    std::vector<StageMark>& marks() { return marks_; }
    // The latest stage event of an orchestration (nullptr: none): its current stage.
    const StageMark* latestStage(const std::string& orchestrationID) const;
    void clear();
    // Oldest marks are dropped beyond this many (a run has few stages; this bounds a long session).
    static constexpr std::size_t kMax = 5000;

private:
    std::vector<StageMark> marks_;
    std::size_t dropped_ = 0;                               // marks dropped from the front
    std::unordered_map<std::string, std::size_t> latest_;   // orchestrationID -> absolute mark index
    std::unordered_map<std::string, bool> paused_;          // orchestrationID -> last state was paused
};

// A mark without a stage name (the event-log line did not carry one) gets it from the stored
// orchestration: the stage whose startedAt (started), finishedAt (soak) or end (finished) is the
// mark's time. Returns true when a name was found.
bool resolveStageName(StageMark& m, const Orchestration& o);

// ---- blackouts ----
struct BlackoutSpan {
    Millis from = 0, to = 0;
    std::string reason;
    std::string source;  // "engine" (server-wide) or the orchestration's id (first 8 characters)
};
std::vector<BlackoutSpan> engineBlackoutSpans(const std::vector<Blackout>& blackouts);
// parameters.strategy.blackouts of an orchestration (GET answer or list item); bad entries skipped.
std::vector<BlackoutSpan> requestBlackoutSpans(const Json& orchestration);

}  // namespace keb::web
