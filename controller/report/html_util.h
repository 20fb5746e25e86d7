// Small HTML builders shared by the report page's sections. Cells and definitions passed in
// are already-escaped HTML; plain text goes through EscapeMarkup() (or OrDash()) first.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace netrig::controller::report::html {

inline constexpr char kDash[] = "\xE2\x80\x94";  // em dash: "no value"

// Escaped text, or an em dash when it is empty.
std::string OrDash(absl::string_view text);
// <tr> with one <td> (or <th>) per cell.
std::string Row(const std::vector<std::string>& cells, absl::string_view tag = "td");
// A scrollable table with a header row; rows from Row().
std::string Table(const std::vector<std::string>& headers, const std::string& rows,
                  absl::string_view css_class = "data");
// A table with a grouping header row above the column headers: groups are (label, columns).
std::string GroupedTable(const std::vector<std::pair<std::string, int>>& groups,
                         const std::vector<std::string>& headers, const std::string& rows,
                         absl::string_view css_class = "data");
// <dl class="kv">: terms are plain text (escaped here), definitions are HTML.
std::string Dl(const std::vector<std::pair<std::string, std::string>>& items);
// A coloured badge for a verdict or a state; the colour comes from a fixed set of classes,
// never from the text itself.
std::string Badge(absl::string_view text);
// <section><h2>title</h2>body</section>, or "no data" when body is empty.
std::string Section(absl::string_view title, const std::string& body);

}  // namespace netrig::controller::report::html
