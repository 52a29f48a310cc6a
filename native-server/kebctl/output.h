// kebctl output: kcp-style aligned tables, -o json, -o custom=HEADER:JSONPATH,... and the detail
// views of one orchestration / operation. Pure text functions (tested without a server).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "request.h"

namespace kebctl {

// -o value: table (default), json, or custom=<HEADER>:<jsonpath>,...
struct OutputFormat {
    enum Kind { Table, Json, Custom } kind = Table;
    struct Column {
        std::string header;
        std::vector<std::string> path;  // keys; "[N]" segments index arrays
    };
    std::vector<Column> columns;  // Custom only
};
// Throws UsageError naming -o/--output.
OutputFormat parseOutput(const std::string& text);

// A simple JSONPath: ".a.b", "a.b", "{.a}", "{.a.b}", "{a.b}", with "[N]" array indexes
// (".stages[0].name"). Throws UsageError (with flag in the message) when it does not parse.
std::vector<std::string> parseJsonPath(const std::string& text, const std::string& flag);
// The value at path: exact key first, else the only key equal ignoring case (kcp's Go field
// names such as {.OrchestrationID} keep working). nullptr when missing.
const OJson* lookup(const OJson& v, const std::vector<std::string>& path);
// Cell text of a value: strings as they are, null/missing empty, anything else as compact JSON.
std::string cellText(const OJson* v);

// kcp's table: columns separated by at least 3 spaces, each column at least 6 wide (Go tabwriter
// with minwidth 6, padding 3), widths in UTF-8 characters; no trailing spaces.
std::string renderTable(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

// A column of a built-in table: header + how to get the cell from an item.
struct TableColumn {
    std::string header;
    std::function<std::string(const OJson&)> cell;
};
std::string renderItems(const std::vector<TableColumn>& columns, const OJson& items);
// custom= columns over the items (an array) or one object.
std::string renderCustom(const OutputFormat& f, const OJson& itemsOrObject);

// SPEC 13 list columns.
std::vector<TableColumn> orchestrationColumns();  // ORCHESTRATION ID, TYPE, CREATED AT, STATE, DRY RUN, TARGETS, DETAILS
std::vector<TableColumn> operationColumns();      // OPERATION ID, SHOOT, GLOBALACCOUNT, SUBACCOUNT, STATE
std::vector<TableColumn> runtimeColumns();        // kebctl runtimes

// kcp's detail views.
std::string orchestrationDetails(const OJson& o);
std::string operationDetails(const OJson& op);
std::string retryResult(const OJson& r);
std::string previewText(const OJson& p);

// "2026-11-27T17:05:25Z" -> "2026/11/27 17:05:25" (kcp's CREATED AT); the input when it does not parse.
std::string kcpTime(const std::string& rfc3339);

}  // namespace kebctl
