#include "lib/spec/field_error.h"

#include "absl/strings/str_cat.h"

namespace netrig::spec {

std::string FieldError::ToString() const {
  if (path.empty()) return message;
  return absl::StrCat(path, ": ", message);
}

std::ostream& operator<<(std::ostream& os, const FieldError& e) {
  os << e.ToString();
  if (e.line > 0) os << " (line " << e.line << ", column " << e.column << ")";
  return os;
}

std::string JoinErrors(const std::vector<FieldError>& errors) {
  std::string out;
  for (const FieldError& e : errors) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", e.ToString());
  }
  return out;
}

}  // namespace netrig::spec
