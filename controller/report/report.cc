#include "controller/report/report.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace netrig::controller::report {
namespace {

absl::Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> WriteReports(const v1::RunResults& results,
                                                      const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  const std::filesystem::path base(dir);
  const std::pair<const char*, std::string> files[] = {{"report.json", RenderJson(results)},
                                                       {"junit.xml", RenderJUnit(results)},
                                                       {"report.html", RenderHtml(results)}};
  std::vector<std::string> paths;
  for (const auto& [name, content] : files) {
    const std::filesystem::path path = base / name;
    if (absl::Status s = WriteFile(path, content); !s.ok()) {
      return s;
    }
    paths.push_back(path.string());
  }
  return paths;
}

}  // namespace netrig::controller::report
