// Internal helpers shared by the validators of lib/spec (not part of the public API).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/spec/field_error.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig::spec::internal {

class Issues {
 public:
  Issues(std::vector<FieldError>* errors, std::vector<FieldError>* warnings)
      : errors_(errors), warnings_(warnings) {}
  void Error(std::string path, std::string message) {
    if (errors_ != nullptr) errors_->push_back(FieldError{std::move(path), std::move(message)});
  }
  void Warn(std::string path, std::string message) {
    if (warnings_ != nullptr) warnings_->push_back(FieldError{std::move(path), std::move(message)});
  }
  std::vector<FieldError>* errors() const { return errors_; }
  std::vector<FieldError>* warnings() const { return warnings_; }

 private:
  std::vector<FieldError>* errors_;
  std::vector<FieldError>* warnings_;
};

// A duration field: empty -> `def`; must parse; must lie in [min, max] (or (0, max] when
// `positive`). Returns the value (def on error, so callers can continue).
struct DurationRule {
  absl::Duration def;
  bool positive = true;                 // must be > 0 (else >= 0)
  absl::Duration max = absl::Hours(1);
};
absl::Duration CheckDuration(Issues& issues, const std::string& path, const std::string& text,
                             const DurationRule& rule);

// Value must be one of `allowed`; error names them and suggests the closest.
bool CheckOneOf(Issues& issues, const std::string& path, const std::string& value,
                const std::vector<std::string>& allowed, absl::string_view what);

// apiVersion / kind. `required` for text input; protos from RPCs may leave them empty.
void CheckTypeMeta(Issues& issues, const std::string& api_version, const std::string& kind,
                   absl::string_view expected_kind, bool required);
void CheckObjectMeta(Issues& issues, const v1::ObjectMeta& meta, const std::string& path);
// Keys and values of a label-style map (Kubernetes rules).
void CheckLabels(Issues& issues, const google::protobuf::Map<std::string, std::string>& labels,
                 const std::string& path, bool values_are_labels);
void CheckConditions(Issues& issues,
                     const google::protobuf::RepeatedPtrField<v1::StatusCondition>& conditions,
                     const std::string& path);
void CheckTimestamp(Issues& issues, const std::string& path, const std::string& text);
// "L1" | "L2" | "L3" or empty.
void CheckLevel(Issues& issues, const std::string& path, const std::string& level);

std::string Quote(absl::string_view s);

}  // namespace netrig::spec::internal
