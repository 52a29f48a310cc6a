// keb-sim: runs scenario files against the real orchestration core in virtual time.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>


#include "keb/sim/simulation.h"
#include "keb/sim/swarm.h"
#include "keb/timefmt.h"

namespace {

const char* kHelp = R"(keb-sim: preview an orchestration rollout in virtual time.

The simulator drives the real orchestration core (the same engine, store
semantics and API router as keb-server) against a mocked Gardener fleet and a
simulated upgrade backend, following a scenario file. A run is a pure function
of (scenario, seed): the same inputs give the same event log (eventLogHash).

Usage:
  keb-sim run FILE [--seed N] [--trace OUT.jsonl] [--report OUT.json] [--quiet]
  keb-sim swarm [--seed N] [--runs K] [--out DIR] [--keep-going] [--quiet]
                [--store-failures-under-requests]
  keb-sim list DIR
  keb-sim --help

run     Runs one scenario (format: scenarios/README.md) to its end and checks
        its "expect" section. Prints progress every ~2 s of wall time on long
        runs (stderr), then final counts per state, each check (PASS/FAIL),
        the simulated span, wall time and events per second.
          --seed N          use seed N instead of the scenario's "seed"
          --trace FILE      write the event log as JSON lines (engine events
                            such as operation.start, and sim.* events)
          --report FILE     write the summary JSON (pure function of scenario
                            and seed; the same object the browser UI shows)
          --quiet           only print the verdict line
swarm   Random worlds (fleet, faults, and a timeline of submits, cancels,
        retries, restarts, outages, failure bursts, deleted shoots and store
        failures), run i from seed N+i; each must keep the invariants
        (nothing pending or in progress at the end), workersNeverExceeded, noRuntimeUpgradedTwice, allStartedInsideWindow,
        allFinished and (with restarts) nothingLostAcrossRestarts. Prints one
        line per run with its replay command (stdout). A failing world is
        written as a scenario file (path printed) that `keb-sim run FILE`
        reproduces exactly: same failed checks, same event-log hash.
          --seed N          first seed (default: random, printed)
          --runs K          number of worlds (default 100)
          --out DIR         where failing worlds are written (default .)
          --keep-going      run all K worlds; default: stop at the first failure
          --quiet           no line per passing run; progress every ~2 s (stderr)
          --store-failures-under-requests
                            store failures may also hit cancels and retries
                            (answered 500), not only the engine
list    Lists the scenario files of DIR with their name and fleet size;
        invalid files are reported.

Exit status:
  0  every expectation holds (swarm: every run passed)
  1  at least one expectation failed (swarm: a run failed)
  2  invalid scenario file or usage error (the message names the file and
     the JSON path of the bad field, e.g.
     "scenarios/x.json: timeline[3].at: expected RFC 3339 time or duration")
)";

int usage(const std::string& msg) {
    std::cerr << "keb-sim: " << msg << "\nRun 'keb-sim --help' for usage.\n";
    return 2;
}

long currentRssKb() {
    long pages = 0, rss = 0;
    std::ifstream in("/proc/self/statm");
    in >> pages >> rss;
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

long peakRssKb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int runCommand(int argc, char** argv) {
    std::string file, tracePath, reportPath;
    std::optional<std::uint64_t> seed;
    bool quiet = false;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= argc) return std::nullopt;
            (void)name;
            return std::string(argv[++i]);
        };
        if (a == "--seed") {
            auto v = value("--seed");
            if (!v) return usage("--seed needs a value");
            char* end = nullptr;
            errno = 0;
            const unsigned long long n = std::strtoull(v->c_str(), &end, 10);
            if (v->empty() || *end != '\0' || errno != 0 || (*v)[0] == '-') return usage("--seed: expected a non-negative integer, got \"" + *v + "\"");
            seed = n;
        } else if (a == "--trace") {
            auto v = value("--trace");
            if (!v) return usage("--trace needs a file name");
            tracePath = *v;
        } else if (a == "--report") {
            auto v = value("--report");
            if (!v) return usage("--report needs a file name");
            reportPath = *v;
        } else if (a == "--quiet" || a == "-q") {
            quiet = true;
        } else if (!a.empty() && a[0] == '-') {
            return usage("unknown option " + a);
        } else if (file.empty()) {
            file = a;
        } else {
            return usage("only one scenario file per run (got " + file + " and " + a + ")");
        }
    }
    if (file.empty()) return usage("run: missing scenario FILE");

    keb::sim::Scenario sc;
    try {
        sc = keb::sim::loadScenarioFile(file);
    } catch (const keb::sim::ScenarioError& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    std::ofstream trace;
    if (!tracePath.empty()) {
        trace.open(tracePath, std::ios::binary | std::ios::trunc);
        if (!trace) {
            std::cerr << "keb-sim: cannot write " << tracePath << "\n";
            return 2;
        }
    }
    const auto wall0 = std::chrono::steady_clock::now();
    keb::sim::Simulation sim(std::move(sc), seed);
    if (trace.is_open()) sim.setTraceSink([&](const std::string& line) { trace << line << '\n'; });
    sim.setLogCapacity(0);
    if (!quiet)
        std::cerr << "keb-sim: " << sim.scenario().name << " (seed " << sim.seed() << ", "
                  << sim.fleet().size() << " runtimes)\n";
    auto lastProgress = wall0;
    while (!sim.finished()) {
        sim.run(20000);
        const auto t = std::chrono::steady_clock::now();
        if (!quiet && t - lastProgress >= std::chrono::seconds(2)) {
            lastProgress = t;
            std::cerr << "  ... " << keb::formatRfc3339(sim.now()) << " (+"
                      << keb::formatDuration(sim.now() - sim.startTime()) << "), " << sim.eventsProcessed()
                      << " events, " << sim.workersInUse() << " in progress, RSS " << currentRssKb() / 1024
                      << " MB\n";
        }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    keb::Json report = sim.summary();
    if (trace.is_open()) trace.flush();
    if (!reportPath.empty()) {
        std::ofstream out(reportPath, std::ios::binary | std::ios::trunc);
        if (!out) {
            std::cerr << "keb-sim: cannot write " << reportPath << "\n";
            return 2;
        }
        out << report.dump(2) << "\n";
    }
    const bool passed = report["passed"].get<bool>();
    int failedChecks = 0;
    for (const auto& c : report["checks"]) failedChecks += c["ok"].get<bool>() ? 0 : 1;
    if (!quiet) {
        std::printf("scenario  %s\n", sim.scenario().name.c_str());
        std::printf("seed      %llu\n", static_cast<unsigned long long>(sim.seed()));
        std::printf("fleet     %zu runtimes (%zu live at the end)\n", report["fleet"]["runtimes"].get<std::size_t>(),
                    report["fleet"]["live"].get<std::size_t>());
        for (const auto& o : report["orchestrations"]) {
            std::printf("orchestration #%d %s: %s", o["index"].get<int>(), o["orchestrationID"].get<std::string>().c_str(),
                        o.value("state", std::string("?")).c_str());
            std::string stats;
            for (auto it = o["operationStats"].begin(); it != o["operationStats"].end(); ++it)
                if (it.value().get<std::int64_t>() > 0)
                    stats += (stats.empty() ? "" : ", ") + it.key() + " " + std::to_string(it.value().get<std::int64_t>());
            std::printf(" (%s; peak workers %d/%d)\n", stats.empty() ? "no operations" : stats.c_str(),
                        o["peakWorkers"].get<int>(), o["workers"].get<int>());
        }
        std::printf("upgrades  %llu started, %llu repeated start calls recognised, %d restart(s)\n",
                    static_cast<unsigned long long>(report["backend"]["upgrades"].get<std::uint64_t>()),
                    static_cast<unsigned long long>(report["backend"]["duplicateStarts"].get<std::uint64_t>()),
                    report["restarts"].get<int>());
        for (const auto& c : report["checks"])
            std::printf("  %s %s: %s\n", c["ok"].get<bool>() ? "PASS" : "FAIL", c["name"].get<std::string>().c_str(),
                        c["detail"].get<std::string>().c_str());
        const double events = static_cast<double>(sim.eventsProcessed());
        std::printf("simulated %s (%s .. %s)\n", report["simulatedSpan"].get<std::string>().c_str(),
                    report["start"].get<std::string>().c_str(), report["end"].get<std::string>().c_str());
        std::printf("wall      %.3f s, %.0f events, %.0f events/s, %llu log lines, peak RSS %ld KB\n", wall, events,
                    wall > 0 ? events / wall : 0.0, static_cast<unsigned long long>(sim.eventLogLines()),
                    peakRssKb());
        std::printf("hash      %s\n", report["eventLogHash"].get<std::string>().c_str());
    }
    if (report["checks"].empty())
        std::printf("%s: no expectations stated\n", file.c_str());
    std::printf("%s: %s (%d of %zu checks failed)\n", file.c_str(), passed ? "PASSED" : "FAILED", failedChecks,
                report["checks"].size());
    if (!passed)
        std::printf("replay: keb-sim run %s --seed %llu --trace trace.jsonl\n", file.c_str(),
                    static_cast<unsigned long long>(sim.seed()));
    return passed ? 0 : 1;
}

std::optional<std::uint64_t> parseUnsigned(const std::string& v) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') return std::nullopt;
    return n;
}

int swarmCommand(int argc, char** argv) {
    std::optional<std::uint64_t> seed;
    std::uint64_t runs = 100;
    std::string outDir = ".";
    bool keepGoing = false, quiet = false;
    keb::sim::SwarmOptions options;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const bool hasValue = i + 1 < argc;
        if (a == "--seed" || a == "--runs" || a == "--out") {
            if (!hasValue) return usage(a + " needs a value");
            const std::string v = argv[++i];
            if (a == "--out") {
                outDir = v;
                continue;
            }
            auto n = parseUnsigned(v);
            if (!n) return usage(a + ": expected a non-negative integer, got \"" + v + "\"");
            if (a == "--seed") seed = *n;
            else runs = *n;
        } else if (a == "--help" || a == "-h") {
            std::fputs(kHelp, stdout);
            return 0;
        } else if (a == "--keep-going") {
            keepGoing = true;
        } else if (a == "--store-failures-under-requests") {
            options.storeFailuresUnderRequests = true;
        } else if (a == "--quiet" || a == "-q") {
            quiet = true;
        } else {
            return usage("swarm: unknown argument " + a);
        }
    }
    if (runs == 0) return usage("--runs: expected at least 1");
    if (!seed) seed = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
    std::error_code ec;
    if (!std::filesystem::is_directory(outDir, ec)) return usage("--out: " + outDir + " is not a directory");

    std::printf("swarm: seeds %llu..%llu (%llu runs)\n", static_cast<unsigned long long>(*seed),
                static_cast<unsigned long long>(*seed + runs - 1), static_cast<unsigned long long>(runs));
    std::fflush(stdout);
    const auto wall0 = std::chrono::steady_clock::now();
    auto lastProgress = wall0;
    std::uint64_t done = 0, failed = 0, events = 0, fatal = 0;
    std::uint64_t staged = 0, budgeted = 0, pauses = 0, pausedWorlds = 0, blackoutWorlds = 0;  // SPEC 10
    for (std::uint64_t i = 0; i < runs; ++i) {
        const std::uint64_t s = *seed + i;
        const keb::sim::SwarmResult r = keb::sim::runSwarmWorld(s, options);
        ++done;
        events += r.events;
        fatal += static_cast<std::uint64_t>(r.fatalRestarts);
        staged += static_cast<std::uint64_t>(r.staged);
        budgeted += static_cast<std::uint64_t>(r.budgeted);
        pauses += static_cast<std::uint64_t>(r.pauses);
        pausedWorlds += r.pauses > 0 ? 1 : 0;
        blackoutWorlds += r.blackouts ? 1 : 0;
        char hash[20];
        std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.eventLogHash));
        if (!r.passed || !quiet)
            std::printf("[%llu/%llu] seed %llu %s: %d orchestration(s), %d restart(s) (%d after a store failure), "
                        "%llu events, hash %s; replay: keb-sim swarm --seed %llu --runs 1%s\n",
                        static_cast<unsigned long long>(done), static_cast<unsigned long long>(runs),
                        static_cast<unsigned long long>(s), r.passed ? "passed" : "FAILED", r.orchestrations,
                        r.restarts, r.fatalRestarts, static_cast<unsigned long long>(r.events), hash,
                        static_cast<unsigned long long>(s),
                        options.storeFailuresUnderRequests ? " --store-failures-under-requests" : "");
        if (!r.passed) {
            ++failed;
            for (const auto& c : r.failed) std::printf("  FAIL %s: %s\n", c.name.c_str(), c.detail.c_str());
            const std::string path = (std::filesystem::path(outDir) / ("swarm-" + std::to_string(s) + ".json")).string();
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out << r.scenarioText;
            out.close();
            if (!out) {
                std::cerr << "keb-sim: cannot write " << path << "\n";
                return 2;
            }
            std::printf("  wrote %s; reproduce: keb-sim run %s\n", path.c_str(), path.c_str());
        }
        std::fflush(stdout);
        if (!r.passed && !keepGoing) break;
        const auto t = std::chrono::steady_clock::now();
        if (quiet && t - lastProgress >= std::chrono::seconds(2)) {
            lastProgress = t;
            std::cerr << "  ... " << done << "/" << runs << " runs, " << failed << " failed, "
                      << std::chrono::duration<double>(t - wall0).count() << " s\n";
        }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    std::printf("swarm: %llu of %llu runs, %llu failed, %llu restarts after store failures, %llu events, %.1f s\n",
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(runs),
                static_cast<unsigned long long>(failed), static_cast<unsigned long long>(fatal),
                static_cast<unsigned long long>(events), wall);
    std::printf("swarm: SPEC 10: %llu staged orchestration(s), %llu with a failure budget, %llu pause(s) in %llu "
                "world(s), %llu world(s) with blackouts\n",
                static_cast<unsigned long long>(staged), static_cast<unsigned long long>(budgeted),
                static_cast<unsigned long long>(pauses), static_cast<unsigned long long>(pausedWorlds),
                static_cast<unsigned long long>(blackoutWorlds));
    return failed ? 1 : 0;
}

int listCommand(int argc, char** argv) {
    if (argc != 3) return usage("list: expected one directory");
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(argv[2], ec))
        if (e.path().extension() == ".json") files.push_back(e.path());
    if (ec) return usage(std::string("cannot list ") + argv[2] + ": " + ec.message());
    std::sort(files.begin(), files.end());
    int bad = 0;
    for (const auto& f : files) {
        try {
            auto sc = keb::sim::loadScenarioFile(f.string());
            std::printf("%-40s %-45s %7zu runtimes, %zu timeline events\n", f.filename().string().c_str(),
                        sc.name.c_str(), sc.fleet.size + sc.fleet.extra.size(), sc.timeline.size());
        } catch (const keb::sim::ScenarioError& e) {
            ++bad;
            std::printf("%-40s INVALID: %s\n", f.filename().string().c_str(), e.what());
        }
    }
    return bad ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage("missing command");
    const std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::fputs(kHelp, stdout);
        return 0;
    }
    try {
        if (cmd == "run") return runCommand(argc, argv);
        if (cmd == "list") return listCommand(argc, argv);
        if (cmd == "swarm") return swarmCommand(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "keb-sim: internal error: " << e.what() << "\n";
        return 3;
    }
    return usage("unknown command " + cmd);
}
