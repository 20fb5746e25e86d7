#include "controller/report/html_util.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controller/report/format.h"

namespace netrig::controller::report::html {

std::string OrDash(absl::string_view text) { return text.empty() ? kDash : EscapeMarkup(text); }

std::string Row(const std::vector<std::string>& cells, absl::string_view tag) {
  std::string out = "<tr>";
  for (const std::string& c : cells) {
    absl::StrAppend(&out, "<", tag, ">", c, "</", tag, ">");
  }
  return out + "</tr>\n";
}

std::string Table(const std::vector<std::string>& headers, const std::string& rows,
                  absl::string_view css_class) {
  return absl::StrCat("<div class=\"scroll\"><table class=\"", css_class, "\"><thead>",
                      Row(headers, "th"), "</thead><tbody>\n", rows, "</tbody></table></div>\n");
}

std::string GroupedTable(const std::vector<std::pair<std::string, int>>& groups,
                         const std::vector<std::string>& headers, const std::string& rows,
                         absl::string_view css_class) {
  std::string group_row = "<tr class=\"group\">";
  for (const auto& [label, columns] : groups) {
    absl::StrAppend(&group_row, "<th colspan=\"", columns, "\">", EscapeMarkup(label), "</th>");
  }
  return absl::StrCat("<div class=\"scroll\"><table class=\"", css_class, "\"><thead>", group_row,
                      "</tr>\n", Row(headers, "th"), "</thead><tbody>\n", rows,
                      "</tbody></table></div>\n");
}

std::string Dl(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out = "<dl class=\"kv\">";
  for (const auto& [term, html] : items) {
    absl::StrAppend(&out, "<dt>", EscapeMarkup(term), "</dt><dd>", html, "</dd>");
  }
  return out + "</dl>\n";
}

std::string Badge(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  const char* css = "neutral";
  if (lower == "pass" || lower == "passed" || lower == "succeeded" || lower == "completed") {
    css = "pass";
  } else if (lower == "fail" || lower == "failed") {
    css = "fail";
  } else if (lower == "regressed" || lower == "skipped" || lower == "pending" ||
             lower == "cancelled" || lower == "inconclusive" || lower == "interrupted") {
    css = "warn";
  }
  return absl::StrCat("<span class=\"badge ", css, "\">", OrDash(text), "</span>");
}

std::string Section(absl::string_view title, const std::string& body) {
  return absl::StrCat("<section><h2>", EscapeMarkup(title), "</h2>\n",
                      body.empty() ? "<p class=\"nodata\">no data</p>\n" : body, "</section>\n");
}

}  // namespace netrig::controller::report::html
