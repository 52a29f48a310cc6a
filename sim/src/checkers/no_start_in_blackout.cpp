// expect.noStartInBlackout (SPEC 10): no operation starts (operation.start) inside a blackout
// [from, to): the engine's (the scenario's engine.blackouts, keb-server --blackouts) or the
// orchestration's own (strategy.blackouts). Watches the engine's events.
#include <unordered_map>

#include "common.h"
#include "keb/rollout.h"
#include "keb/world/random.h"
#include "keb/timefmt.h"

namespace keb::sim::checkers {
namespace {

class NoStartInBlackout : public Checker {
public:
    explicit NoStartInBlackout(const Scenario& sc) : engine_(sc.engine.blackouts) {}

    void onEvent(Simulation& sim, const EngineEvent& e) override {
        if (e.kind != std::string_view("operation.start")) return;
        ++starts_;
        const BlackoutCalendar& cal = calendarOf(sim, e.orchestrationID);
        if (!cal.contains(e.at)) return;
        ++violations_;
        if (samples_.size() < Simulation::kMaxSamples)
            samples_.push_back("operation " + std::string(e.operationID) + " of orchestration " +
                               std::string(e.orchestrationID) + " started " + formatRfc3339(e.at) +
                               " inside a blackout (clear at " + formatRfc3339(cal.clearAt(e.at)) + ")");
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        (void)sim;
        out.push_back({"noStartInBlackout", violations_ == 0,
                       std::to_string(starts_) + " start(s), " + std::to_string(violations_) +
                           " inside a blackout" + sampleText(samples_, violations_)});
    }

private:
    // The engine's blackouts merged with the orchestration's own (those without own share engine_).
    const BlackoutCalendar& calendarOf(Simulation& sim, std::string_view orchestrationID) {
        const std::uint64_t h = world::hashWords(orchestrationID);
        if (lastOrch_ == h && last_) return *last_;
        auto it = own_.find(h);
        if (it == own_.end()) {
            const OrchestrationInfo* info = sim.orchestration(orchestrationID);
            std::optional<BlackoutCalendar> cal;
            if (info && !info->blackouts.empty())
                cal = BlackoutCalendar(info->blackouts, sim.scenario().engine.blackouts);
            it = own_.emplace(h, std::move(cal)).first;
        }
        lastOrch_ = h;
        last_ = it->second ? &*it->second : &engine_;
        return *last_;
    }

    BlackoutCalendar engine_;
    std::unordered_map<std::uint64_t, std::optional<BlackoutCalendar>> own_;  // nullopt: the engine's only
    std::uint64_t lastOrch_ = 0;
    const BlackoutCalendar* last_ = nullptr;
    std::int64_t starts_ = 0, violations_ = 0;
    std::vector<std::string> samples_;
};

}  // namespace

extern const CheckerSpec kNoStartInBlackout{
    .name = "noStartInBlackout",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.noStartInBlackout = n.boolean(); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.noStartInBlackout || !*sc.expect.noStartInBlackout) return nullptr;
        return std::make_unique<NoStartInBlackout>(sc);
    },
    .watchesEvents = true,
};

}  // namespace keb::sim::checkers
