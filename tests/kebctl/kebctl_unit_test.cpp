// kebctl's pure parts: target/stage/budget/blackout strings -> request JSON, -o parsing, JSONPath,
// kcp-aligned tables, configuration precedence (flags > env > file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "config.h"
#include "output.h"
#include "request.h"

using namespace kebctl;

namespace {

// The message of the UsageError fn throws ("" when none).
template <class F>
std::string usageError(F fn) {
    try {
        fn();
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(KebctlRequest, TargetStringsAsKcp) {
    EXPECT_EQ(parseTarget("all", "--target", true).dump(), R"({"target":"all"})");
    EXPECT_EQ(parseTarget("account=CA.*,subaccount=sa-1,region=europe|eu-,runtime-id=rt-1,instance-id=i-1,shoot=c-1,plan=azure",
                          "--target", true)
                  .dump(),
              R"({"globalAccount":"CA.*","subAccount":"sa-1","region":"europe|eu-","runtimeID":"rt-1","instanceID":"i-1","shoot":"c-1","planName":"azure"})");
    EXPECT_NE(usageError([] { parseTarget("acount=x", "--target", true); }).find("--target"), std::string::npos);
    EXPECT_NE(usageError([] { parseTarget("acount=x", "--target", true); }).find("invalid selector \"acount\""), std::string::npos);
    EXPECT_NE(usageError([] { parseTarget("region=", "--target", true); }).find("region is missing its value"), std::string::npos);
    EXPECT_NE(usageError([] { parseTarget("region", "--target", true); }).find("missing its value"), std::string::npos);
    EXPECT_NE(usageError([] { parseTarget("", "--target", true); }).find("--target: empty target"), std::string::npos);
    EXPECT_NE(usageError([] { parseTarget("all", "--target-exclude", false); }).find("--target-exclude"), std::string::npos);
    EXPECT_NE(usageError([] { parseTarget("region=a,region=b", "--target", true); }).find("given twice"), std::string::npos);
}

TEST(KebctlRequest, StagesBudgetsBlackouts) {
    EXPECT_EQ(parseStage("canary:region=westeurope:workers=2:soak=24h:max-failures=0").dump(),
              R"({"name":"canary","targets":{"include":[{"region":"westeurope"}]},"workers":2,"soak":"24h","maxFailures":0})");
    EXPECT_EQ(parseStage("wave1:account=CA:1,plan=azure:max-failures=5%").dump(),
              R"({"name":"wave1","targets":{"include":[{"globalAccount":"CA:1","planName":"azure"}]},"maxFailures":"5%"})")
        << "a ':' inside the target stays in the target";
    EXPECT_EQ(parseStage("rest").dump(), R"({"name":"rest"})");
    EXPECT_EQ(parseStage("rest::soak=1h").dump(), R"({"name":"rest","soak":"1h"})");
    EXPECT_EQ(parseStage("all-of-it:all").dump(), R"({"name":"all-of-it","targets":{"include":[{"target":"all"}]}})");
    EXPECT_NE(usageError([] { parseStage("canary:all:soak=soon"); }).find("--stage canary:all:soak=soon: invalid soak duration"),
              std::string::npos);
    EXPECT_NE(usageError([] { parseStage("canary:all:workers=0"); }).find("workers must be an integer >= 1"), std::string::npos);
    EXPECT_NE(usageError([] { parseStage("Canary:all"); }).find("invalid stage name"), std::string::npos);
    EXPECT_NE(usageError([] { parseStage("canary:all:max-failures=120%"); }).find("at most 100%"), std::string::npos);
    EXPECT_NE(usageError([] { parseStage("canary:bogus=1"); }).find("invalid selector"), std::string::npos);

    EXPECT_EQ(parseBudget("3", "--max-failures").dump(), "3");
    EXPECT_EQ(parseBudget("0%", "--max-failures").dump(), R"("0%")");
    EXPECT_EQ(parseBudget("100%", "--max-failures").dump(), R"("100%")");
    for (const char* bad : {"-1", "1.5", "%", "x%", "101%", "", "5 %"})
        EXPECT_NE(usageError([&] { parseBudget(bad, "--max-failures"); }).find("--max-failures"), std::string::npos) << bad;

    EXPECT_EQ(parseBlackout("2026-12-24T00:00:00Z/2026-12-27T00:00:00Z/christmas").dump(),
              R"({"from":"2026-12-24T00:00:00Z","to":"2026-12-27T00:00:00Z","reason":"christmas"})");
    EXPECT_NE(usageError([] { parseBlackout("2026-12-27T00:00:00Z/2026-12-24T00:00:00Z"); }).find("TO must be after FROM"),
              std::string::npos);
    EXPECT_NE(usageError([] { parseBlackout("tomorrow/2026-12-24T00:00:00Z"); }).find("--blackout"), std::string::npos);
    EXPECT_NE(usageError([] { parseBlackout("2026-12-24T00:00:00Z"); }).find("FROM/TO"), std::string::npos);
}

TEST(KebctlRequest, WholeBody) {
    UpgradeFlags f;
    f.kind = "kyma";
    f.targets = {"all"};
    f.excludes = {"region=us-"};
    f.parallelWorkers = 5;
    f.schedule = "now";
    f.version = "2.20.0";
    f.stages = {"canary:plan=trial:soak=1h", "rest"};
    f.maxFailures = "1%";
    f.blackouts = {"2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"};
    f.notification = true;
    EXPECT_EQ(buildUpgradeBody(f).dump(),
              R"({"targets":{"include":[{"target":"all"}],"exclude":[{"region":"us-"}]},)"
              R"("strategy":{"type":"parallel","schedule":"now","parallel":{"workers":5},)"
              R"("stages":[{"name":"canary","targets":{"include":[{"planName":"trial"}]},"soak":"1h"},{"name":"rest"}],)"
              R"("maxFailures":"1%","blackouts":[{"from":"2026-12-24T00:00:00Z","to":"2026-12-27T00:00:00Z"}]},)"
              R"("kyma":{"version":"2.20.0"},"notification":true})");

    UpgradeFlags c;
    c.kind = "cluster";
    c.targets = {"runtime-id=rt-1"};
    c.schedule = "maintenancewindow";
    c.dryRun = true;
    c.kubernetesVersion = "1.28.3";
    c.machineImage = "gardenlinux";
    c.machineImageVersion = "1312.3.0";
    EXPECT_EQ(buildUpgradeBody(c).dump(),
              R"({"targets":{"include":[{"runtimeID":"rt-1"}]},"strategy":{"type":"parallel","schedule":"maintenanceWindow"},)"
              R"("dryRun":true,"kubernetes":{"kubernetesVersion":"1.28.3","machineImage":"gardenlinux","machineImageVersion":"1312.3.0"}})");

    UpgradeFlags none;
    none.kind = "kyma";
    EXPECT_NE(usageError([&] { buildUpgradeBody(none); }).find("--target"), std::string::npos);
    UpgradeFlags badSchedule = f;
    badSchedule.schedule = "tonight";
    EXPECT_NE(usageError([&] { buildUpgradeBody(badSchedule); }).find("--schedule"), std::string::npos);
    UpgradeFlags badStrategy = f;
    badStrategy.strategy = "serial";
    EXPECT_NE(usageError([&] { buildUpgradeBody(badStrategy); }).find("--strategy"), std::string::npos);
    UpgradeFlags restFirst = f;
    restFirst.stages = {"rest", "canary:all"};
    EXPECT_NE(usageError([&] { buildUpgradeBody(restFirst); }).find("only the last stage"), std::string::npos);
    UpgradeFlags dup = f;
    dup.stages = {"a:all", "a:all"};
    EXPECT_NE(usageError([&] { buildUpgradeBody(dup); }).find("duplicate"), std::string::npos);
}

TEST(KebctlOutput, JsonPathForms) {
    OJson o = OJson::parse(R"({"orchestrationID":"o-1","parameters":{"strategy":{"parallel":{"workers":5}}},
                              "stages":[{"name":"canary"},{"name":"rest"}],"dryRun":false,"n":null})");
    for (const char* p : {".orchestrationID", "orchestrationID", "{.orchestrationID}", "{orchestrationID}", "{.OrchestrationID}"})
        EXPECT_EQ(cellText(lookup(o, parseJsonPath(p, "-o"))), "o-1") << p;
    EXPECT_EQ(cellText(lookup(o, parseJsonPath("{.parameters.strategy.parallel.workers}", "-o"))), "5");
    EXPECT_EQ(cellText(lookup(o, parseJsonPath(".stages[1].name", "-o"))), "rest");
    EXPECT_EQ(cellText(lookup(o, parseJsonPath(".stages[5].name", "-o"))), "");
    EXPECT_EQ(cellText(lookup(o, parseJsonPath(".dryRun", "-o"))), "false");
    EXPECT_EQ(cellText(lookup(o, parseJsonPath(".n", "-o"))), "");
    EXPECT_EQ(cellText(lookup(o, parseJsonPath(".missing.deeper", "-o"))), "");
    EXPECT_EQ(cellText(lookup(o, parseJsonPath(".parameters.strategy", "-o"))), R"({"parallel":{"workers":5}})");
    for (const char* bad : {"", "{}", ".", "a..b", "{.a", ".a[x]", ".a[]"})
        EXPECT_NE(usageError([&] { parseJsonPath(bad, "--output"); }).find("--output"), std::string::npos) << bad;
}

TEST(KebctlOutput, OutputFlagAndCustomColumns) {
    EXPECT_EQ(parseOutput("table").kind, OutputFormat::Table);
    EXPECT_EQ(parseOutput("json").kind, OutputFormat::Json);
    auto f = parseOutput("custom=ID:.orchestrationID,STATE:{.state}");
    ASSERT_EQ(f.kind, OutputFormat::Custom);
    ASSERT_EQ(f.columns.size(), 2u);
    EXPECT_EQ(f.columns[1].header, "STATE");
    for (const char* bad : {"yaml", "custom=", "custom=ID", "custom=ID:.a,", "custom=ID:{.a"})
        EXPECT_NE(usageError([&] { parseOutput(bad); }).find("--output"), std::string::npos) << bad;
    OJson items = OJson::parse(R"([{"orchestrationID":"a","state":"failed"},{"orchestrationID":"bbbbbbbbbb","state":"in progress"}])");
    EXPECT_EQ(renderCustom(f, items),
              "ID           STATE\n"
              "a            failed\n"
              "bbbbbbbbbb   in progress\n");
}

TEST(KebctlOutput, TablesAlignLikeKcp) {
    // Go's tabwriter with minwidth 6, padding 3: a column is max(widest + 3, 6) wide.
    EXPECT_EQ(renderTable({"A", "BB", "C"}, {{"x", "yyyyyy", "z"}}),
              "A     BB       C\n"
              "x     yyyyyy   z\n");
    EXPECT_EQ(renderTable({"ÄÖ", "X"}, {{"é", "y"}}), "ÄÖ    X\né     y\n") << "widths in characters, not bytes";
    OJson o = OJson::parse(R"({"orchestrationID":"o-1","type":"upgradeKyma","createdAt":"2026-11-27T17:05:25.123Z",
        "state":"in progress","parameters":{"dryRun":true,"kyma":{"version":"2.20.0"},
        "targets":{"include":[{"target":"all"},{"globalAccount":"CA.*","region":"eu"},{"runtimeID":"rt-123456789"}]}}})");
    const std::string t = renderItems(orchestrationColumns(), OJson::array({o}));
    EXPECT_EQ(t,
              "ORCHESTRATION ID   TYPE           CREATED AT            STATE         DRY RUN   TARGETS                DETAILS\n"
              "o-1                kyma upgrade   2026/11/27 17:05:25   in progress   true      all, GlobalAccoun...   Kyma: 2.20.0\n");
    EXPECT_EQ(kcpTime("2026-11-27T18:05:25+01:00"), "2026/11/27 17:05:25");
    EXPECT_EQ(kcpTime("garbage"), "garbage");
}

TEST(KebctlOutput, DetailViews) {
    OJson o = OJson::parse(R"({"orchestrationID":"o-1","type":"upgradeCluster","state":"paused","description":"paused by operator",
        "parameters":{"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":3},"maxFailures":"5%",
        "blackouts":[{"from":"2026-12-24T00:00:00Z","to":"2026-12-27T00:00:00Z","reason":"xmas"}]},
        "kubernetes":{"kubernetesVersion":"1.28.3"},"targets":{"include":[{"target":"all"}],"exclude":[{"region":"us"}]}},
        "operationStats":{"succeeded":3,"failed":0,"pending":7},
        "stages":[{"name":"canary","state":"succeeded","operationStats":{"succeeded":3},"failures":0,"maxFailures":1}]})");
    const std::string d = orchestrationDetails(o);
    for (const char* want : {"Orchestration ID: o-1\n", "State:            paused\n", "K8s Version:      1.28.3\n",
                             "Max Failures:     5%\n", "Targets:\n  target = all\n", "Exclude Targets:\n  region = us\n",
                             "Blackouts:\n  2026-12-24T00:00:00Z - 2026-12-27T00:00:00Z  xmas\n",
                             "Operations:\n      pending: 7\n    succeeded: 3\n", "Stages:\n", "canary   succeeded"})
        EXPECT_NE(d.find(want), std::string::npos) << want << "\n---\n" << d;
    EXPECT_EQ(d.find("failed:"), std::string::npos) << "zero counts are left out, as kcp";
}

// ------------------------------------------------------------------ configuration

namespace {

struct Env {
    std::map<std::string, std::string> vars;
    EnvLookup lookup() const {
        return [this](const char* n) -> const char* {
            auto it = vars.find(n);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

struct Dir {
    std::filesystem::path path;
    Dir() {
        std::string t = (std::filesystem::temp_directory_path() / "kebctl-unit-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~Dir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::filesystem::create_directories((path / name).parent_path());
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

}  // namespace

TEST(KebctlConfig, FlagsBeatEnvBeatFile) {
    Dir d;
    const std::string home = d.path.string();
    d.write(".kcp/config.yaml", "keb-api-url: http://from-home-file:1\ntoken: home-token\noidc-issuer-url: https://ignored\n");
    const std::string cfg = d.write("other.yaml", "keb-api-url: http://from-config-flag:2\ntoken-file: " +
                                                      d.write("tok", "  file-token\n") + "\n");
    Env env;
    env.vars["HOME"] = home;

    Settings s = resolveSettings({}, env.lookup());
    EXPECT_EQ(s.apiUrl, "http://from-home-file:1");
    EXPECT_EQ(s.token, "home-token");
    EXPECT_EQ(s.configFile, home + "/.kcp/config.yaml");

    env.vars["KCPCONFIG"] = cfg;
    s = resolveSettings({}, env.lookup());
    EXPECT_EQ(s.apiUrl, "http://from-config-flag:2") << "$KCPCONFIG before $HOME/.kcp/config.yaml";
    EXPECT_EQ(s.token, "file-token") << "token-file read and trimmed";

    GlobalFlags f;
    f.config = d.write("third.yaml", "keb-api-url: http://from-flag-file:3\n");
    s = resolveSettings(f, env.lookup());
    EXPECT_EQ(s.apiUrl, "http://from-flag-file:3") << "--config before $KCPCONFIG";
    EXPECT_EQ(s.token, "") << "only the chosen file is read";

    env.vars["KCP_KEB_API_URL"] = "http://from-env:4";
    env.vars["KCP_TOKEN"] = "env-token";
    s = resolveSettings(f, env.lookup());
    EXPECT_EQ(s.apiUrl, "http://from-env:4");
    EXPECT_EQ(s.apiUrlSource, "KCP_KEB_API_URL");
    EXPECT_EQ(s.token, "env-token");

    f.kebApiUrl = "https://from-flag:5/prefix";
    f.tokenFile = d.write("tok2", "flag-file-token");
    s = resolveSettings(f, env.lookup());
    EXPECT_EQ(s.apiUrl, "https://from-flag:5/prefix");
    EXPECT_EQ(s.apiUrlSource, "--keb-api-url");
    EXPECT_EQ(s.token, "flag-file-token") << "a token file given as a flag beats KCP_TOKEN";
    EXPECT_EQ(s.tokenSource, "--token-file");

    f.token = "flag-token";
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("--token and --token-file"), std::string::npos);
}

TEST(KebctlConfig, ErrorsNameTheSource) {
    Dir d;
    Env env;
    env.vars["HOME"] = d.path.string();
    EXPECT_NE(usageError([&] { resolveSettings({}, env.lookup()); }).find("no KEB API URL"), std::string::npos);
    GlobalFlags f;
    f.config = (d.path / "missing.yaml").string();
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("--config"), std::string::npos);
    f.config = d.write("list.yaml", "- a\n- b\n");
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("list.yaml"), std::string::npos);
    f.config = d.write("bad.yaml", "keb-api-url: [unclosed\n");
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("not valid YAML"), std::string::npos);
    f.config = d.write("ftp.yaml", "keb-api-url: ftp://x\n");
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("keb-api-url in "), std::string::npos);
    f.config.clear();
    f.kebApiUrl = "http://x";
    f.tokenFile = (d.path / "nope").string();
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("--token-file"), std::string::npos);
    f.tokenFile.clear();
    f.timeout = "forever";
    EXPECT_NE(usageError([&] { resolveSettings(f, env.lookup()); }).find("--timeout"), std::string::npos);
    f.timeout = "30s";
    EXPECT_EQ(resolveSettings(f, env.lookup()).timeoutSeconds, 30);
}

TEST(KebctlOutput, PreviewPrediction) {
    // SPEC 12's 200 answer of POST /upgrade/kyma?preview=true, as the server will send it.
    OJson p = OJson::parse(R"({"runtimes":120,"skippedCount":2,"skipped":[{"runtimeID":"rt-9","reason":"suspended"}],
        "predictedStart":"2026-12-01T02:00:00Z","predictedEnd":"2026-12-01T09:30:00Z","predictedEndP90":"2026-12-01T11:00:00Z",
        "peakWorkers":10,"hourly":[{"hour":"2026-12-01T02:00:00Z","starts":40}],
        "stages":[{"name":"canary","runtimes":5,"predictedStart":"2026-12-01T02:00:00Z","predictedEnd":"2026-12-01T02:20:00Z"}],
        "assumptions":{"durationMedian":"15m","durationP90":"25m","failureRate":0.01,"source":"history","historyOperations":1000}})");
    const std::string t = previewText(p);
    for (const char* want : {"Runtimes:          120\n", "Skipped:           2\n", "Predicted End P90: 2026-12-01T11:00:00Z\n",
                             "Peak Workers:      10\n", "duration median 15m, p90 25m, failure rate 0.01 (history, 1000 operations)",
                             "Stages:\n  NAME     RUNTIMES   PREDICTED START", "canary   5", "Skipped Runtimes:\n  rt-9: suspended\n"})
        EXPECT_NE(t.find(want), std::string::npos) << want << "\n---\n" << t;
}
