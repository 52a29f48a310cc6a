// The GET /runtimes page scanner of live mode (web/src/live_runtimes.*) against nlohmann::json
// on the same text: same rows and fields, escapes decoded, unknown keys and values skipped, bad
// JSON rejected.
#include "live_runtimes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keb::web {
namespace {

std::string str(const nlohmann::json& j, const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void expectSameAsTree(const std::string& text) {
    RuntimesPage page;
    std::string error;
    ASSERT_TRUE(scanRuntimesPage(text, page, &error)) << error;
    const auto j = nlohmann::json::parse(text);
    ASSERT_TRUE(page.hasData);
    ASSERT_EQ(page.rows.size(), j["data"].size());
    EXPECT_EQ(page.totalCount, j.value("totalCount", std::size_t{0}));
    for (std::size_t i = 0; i < page.rows.size(); ++i) {
        const auto& r = page.rows[i];
        const auto& item = j["data"][i];
        EXPECT_EQ(r.runtimeID, str(item, "runtimeID"));
        EXPECT_EQ(r.instanceID, str(item, "instanceID"));
        EXPECT_EQ(r.globalAccountID, str(item, "globalAccountID"));
        EXPECT_EQ(r.subAccountID, str(item, "subAccountID"));
        EXPECT_EQ(r.planName, str(item, "planName"));
        EXPECT_EQ(r.region, str(item, "region"));
        EXPECT_EQ(r.shootName, str(item, "shootName"));
        EXPECT_EQ(r.windowBegin, str(item, "maintenanceWindowBegin"));
        EXPECT_EQ(r.windowEnd, str(item, "maintenanceWindowEnd"));
        EXPECT_EQ(r.kubernetesVersion, str(item, "kubernetesVersion"));
        const auto op = item.contains("lastOperation") && item["lastOperation"].is_object() ? item["lastOperation"] : nlohmann::json::object();
        EXPECT_EQ(r.operationID, str(op, "operationID"));
        EXPECT_EQ(r.orchestrationID, str(op, "orchestrationID"));
        EXPECT_EQ(r.state, str(op, "state"));
        const Runtime rt = r.toRuntime();
        EXPECT_EQ(rt.runtimeID, str(item, "runtimeID"));
        EXPECT_EQ(rt.region, str(item, "region"));
    }
}

TEST(LiveRuntimesPage, SameFieldsAsTheJsonTree) {
    nlohmann::json data = nlohmann::json::array();
    for (int i = 0; i < 50; ++i) {
        nlohmann::json r = {{"runtimeID", "rt-" + std::to_string(i)}, {"instanceID", "in-" + std::to_string(i)},
                            {"globalAccountID", "ga"}, {"subAccountID", "sa"}, {"planName", i % 2 ? "aws" : "azure"},
                            {"region", "eu-west-" + std::to_string(i % 3)}, {"shootName", "c-" + std::to_string(i)},
                            {"maintenanceWindowBegin", "010000+0000"}, {"maintenanceWindowEnd", "050000+0000"},
                            {"kubernetesVersion", "1.29.5"}, {"labels", {{"a", {1, 2.5, -3e2, true, false, nullptr}}}}};
        if (i % 3 == 0)
            r["lastOperation"] = {{"operationID", "op-" + std::to_string(i)}, {"orchestrationID", "o-1"},
                                  {"state", i % 2 ? "in progress" : "succeeded"}, {"extra", {{"x", "y"}}}};
        data.push_back(r);
    }
    const nlohmann::json page = {{"count", 50}, {"data", data}, {"totalCount", 100000}};
    expectSameAsTree(page.dump());
    expectSameAsTree(page.dump(2));  // whitespace everywhere
}

TEST(LiveRuntimesPage, EscapesAreDecoded) {
    const std::string text =
        R"({"totalCount": 2, "data": [{"runtimeID": "a\"b\\c\/d\n\u00e9\u20ac\ud83d\ude00", "region": "x"},)"
        R"( {"runtimeID": "plain", "shootName": 7, "lastOperation": null}]})";
    expectSameAsTree(text);
    RuntimesPage page;
    ASSERT_TRUE(scanRuntimesPage(text, page, nullptr));
    EXPECT_EQ(page.rows[0].runtimeID, "a\"b\\c/d\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    EXPECT_EQ(page.rows[1].shootName, "");  // not a string: empty, like the tree path
}

TEST(LiveRuntimesPage, EmptyAndMissing) {
    RuntimesPage page;
    ASSERT_TRUE(scanRuntimesPage(R"({"data": [], "totalCount": 0})", page, nullptr));
    EXPECT_TRUE(page.hasData);
    EXPECT_TRUE(page.hasTotal);
    EXPECT_TRUE(page.rows.empty());
    ASSERT_TRUE(scanRuntimesPage(R"({"error": "unauthorized"})", page, nullptr));
    EXPECT_FALSE(page.hasData);
    EXPECT_FALSE(page.hasTotal);
}

TEST(LiveRuntimesPage, BadJsonIsRejected) {
    for (const char* bad : {"", "{", "[]", R"({"data": [{"runtimeID": "x"}]} extra)", R"({"data": [{"runtimeID": "x"},]})",
                            R"({"data": [{"runtimeID": "x}]})", R"({"data": [{"runtimeID": "\x"}]})",
                            R"({"data": [{"runtimeID": "\ud800"}]})", R"({"totalCount": 01, "data": []})",
                            R"({"data": [tru]})", "<html>502 Bad Gateway</html>", R"({"data": [{"a": 1.}]})"}) {
        RuntimesPage page;
        std::string error;
        EXPECT_FALSE(scanRuntimesPage(bad, page, &error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
        EXPECT_TRUE(page.rows.empty()) << bad;
        EXPECT_TRUE(nlohmann::json::parse(bad, nullptr, false).is_discarded() ||
                    !nlohmann::json::parse(bad, nullptr, false).is_object())
            << "nlohmann accepts it: " << bad;
    }
}

}  // namespace
}  // namespace keb::web
