// Fuzz target: request validation (core/include/keb/validate.h) and the wire form it feeds.
// The input is a POST /upgrade/{kyma|cluster} body (both types are tried).
// Checks, besides "no crash, no leak, no UB":
//  - a rejected body has an error message; parseUpgradeRequest never throws;
//  - an accepted body round-trips: parametersFromJson(toJson(p)) == p, and the stored form of an
//    orchestration carrying p reads back equal (orchestrationFromStoreJson(toStoreJson(o)) == o);
//  - appendJsonString(s) is byte-identical to dumpWire(Json(s)) for any bytes (invalid UTF-8 too).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keb/validate.h"
#include "keb/wire.h"

using namespace keb;

namespace {
[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail = "") {
    std::fprintf(stderr, "fuzz_validate: %s\n  %s\n  input: %.*s\n", what, detail.c_str(),
                 static_cast<int>(std::min<std::size_t>(input.size(), 400)), input.data());
    std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    for (OrchestrationType type : {OrchestrationType::UpgradeKyma, OrchestrationType::UpgradeCluster}) {
        std::string err;
        std::optional<Parameters> p;
        try {
            p = parseUpgradeRequest(type, body, &err);
        } catch (const std::exception& ex) {
            fail("parseUpgradeRequest threw", body, ex.what());
        }
        if (!p) {
            if (err.empty()) fail("rejected without an error message", body);
            continue;
        }
        Json wire = toJson(*p);
        Parameters back;
        try {
            back = parametersFromJson(wire);
        } catch (const std::exception& ex) {
            fail("parametersFromJson(toJson(p)) threw", body, std::string(ex.what()) + " on " + dumpWire(wire));
        }
        if (!(back == *p)) fail("parametersFromJson(toJson(p)) != p", body, dumpWire(wire) + " vs " + dumpWire(toJson(back)));

        Orchestration o;
        o.orchestrationID = "o-1";
        o.type = type;
        o.description = "fuzz";
        o.createdAt = 1;
        o.updatedAt = 2;
        o.parameters = *p;
        o.seq = 3;
        Json stored = toStoreJson(o);
        Orchestration o2;
        try {
            o2 = orchestrationFromStoreJson(Json::parse(dumpWire(stored)));
        } catch (const std::exception& ex) {
            fail("orchestrationFromStoreJson(toStoreJson(o)) threw", body, ex.what());
        }
        if (!(o2 == o)) fail("store form does not round-trip", body, dumpWire(stored));
        // The wire text of the orchestration, as served.
        std::size_t split = 0;
        std::string text = orchestrationWireText(o, &split);
        if (text != dumpWire(toJson(o))) fail("orchestrationWireText != dumpWire(toJson(o))", body, text);
    }

    std::string out;
    appendJsonString(out, body);
    std::string expect = dumpWire(Json(std::string(body)));
    if (out != expect) fail("appendJsonString != dumpWire(Json(s))", body, out + " vs " + expect);
    return 0;
}
