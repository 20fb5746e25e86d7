#include "lib/spec/validation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"
#include "lib/spec/yaml_decoder.h"

namespace netrig::spec::internal {

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 64)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  return absl::StrCat(out, s.size() > 64 ? "...\"" : "\"");
}

absl::Duration CheckDuration(Issues& issues, const std::string& path, const std::string& text,
                             const DurationRule& rule) {
  if (text.empty()) return rule.def;
  absl::StatusOr<absl::Duration> d = ParseDurationText(text);
  if (!d.ok()) {
    issues.Error(path, std::string(d.status().message()));
    return rule.def;
  }
  if (rule.positive && *d <= absl::ZeroDuration()) {
    issues.Error(path, "must be greater than 0");
    return rule.def;
  }
  if (*d > rule.max) {
    issues.Error(path, absl::StrCat(text, " is above the ", HumanDuration(rule.max),
                                    " maximum"));
    return rule.def;
  }
  return *d;
}

bool CheckOneOf(Issues& issues, const std::string& path, const std::string& value,
                const std::vector<std::string>& allowed, absl::string_view what) {
  for (const std::string& a : allowed) {
    if (value == a) return true;
  }
  const std::string suggestion = DidYouMean(value, allowed);
  issues.Error(path, absl::StrCat("unknown ", what, " ", Quote(value),
                                  suggestion.empty() ? "" : absl::StrCat(" (did you mean ", suggestion, "?)"),
                                  "; expected one of ", absl::StrJoin(allowed, ", ")));
  return false;
}

void CheckTypeMeta(Issues& issues, const std::string& api_version, const std::string& kind,
                   absl::string_view expected_kind, bool required) {
  if (api_version.empty()) {
    if (required) issues.Error("apiVersion", absl::StrCat("required (", kApiVersion, ")"));
  } else if (api_version != kApiVersion) {
    issues.Error("apiVersion",
                 absl::StrCat("expected ", kApiVersion, ", got ", Quote(api_version)));
  }
  if (kind.empty()) {
    if (required) issues.Error("kind", absl::StrCat("required (", expected_kind, ")"));
  } else if (kind != expected_kind) {
    issues.Error("kind", absl::StrCat("expected ", expected_kind, ", got ", Quote(kind)));
  }
}

void CheckLabels(Issues& issues, const google::protobuf::Map<std::string, std::string>& labels,
                 const std::string& path, bool values_are_labels) {
  for (const auto& [key, value] : labels) {
    const std::string kpath = MapKeyPath(path, key);
    if (std::string why = CheckQualifiedName(key); !why.empty()) {
      issues.Error(kpath, absl::StrCat("invalid key: ", why));
    }
    if (values_are_labels) {
      if (std::string why = CheckLabelValue(value); !why.empty()) {
        issues.Error(kpath, absl::StrCat("invalid value ", Quote(value), ": ", why));
      }
    }
  }
}

void CheckObjectMeta(Issues& issues, const v1::ObjectMeta& meta, const std::string& path) {
  const std::string name_path = JoinPath(path, "name");
  if (meta.name().empty()) {
    if (meta.generate_name().empty()) issues.Error(name_path, "required");
  } else if (!IsDnsSubdomain(meta.name())) {
    issues.Error(name_path, absl::StrCat(Quote(meta.name()),
                                         " is not a valid name: use lowercase letters, digits, "
                                         "'-' and '.', starting and ending with a letter or "
                                         "digit, at most 253 characters"));
  }
  if (!meta.generate_name().empty() && !meta.name().empty()) {
    issues.Warn(JoinPath(path, "generateName"), "ignored because name is set");
  }
  if (!meta.namespace_().empty() && !IsDnsLabel(meta.namespace_())) {
    issues.Error(JoinPath(path, "namespace"),
                 absl::StrCat(Quote(meta.namespace_()),
                              " is not a valid namespace: lowercase letters, digits and '-', at "
                              "most 63 characters"));
  }
  CheckLabels(issues, meta.labels(), JoinPath(path, "labels"), /*values_are_labels=*/true);
  CheckLabels(issues, meta.annotations(), JoinPath(path, "annotations"), false);
  if (meta.generation() < 0) issues.Error(JoinPath(path, "generation"), "must not be negative");
  if (!meta.creation_timestamp().empty()) {
    CheckTimestamp(issues, JoinPath(path, "creationTimestamp"), meta.creation_timestamp());
  }
}

void CheckTimestamp(Issues& issues, const std::string& path, const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    issues.Error(path, absl::StrCat("expected an RFC 3339 time such as 2024-05-01T12:00:00Z, got ",
                                    Quote(text)));
  }
}

void CheckConditions(Issues& issues,
                     const google::protobuf::RepeatedPtrField<v1::StatusCondition>& conditions,
                     const std::string& path) {
  for (int i = 0; i < conditions.size(); ++i) {
    const v1::StatusCondition& c = conditions[i];
    const std::string cpath = IndexPath(path, static_cast<size_t>(i));
    if (c.type().empty()) issues.Error(JoinPath(cpath, "type"), "required");
    for (int j = 0; j < i; ++j) {
      if (!c.type().empty() && conditions[j].type() == c.type()) {
        issues.Error(JoinPath(cpath, "type"),
                     absl::StrCat("duplicate condition type ", Quote(c.type()), " (also ",
                                  IndexPath(path, static_cast<size_t>(j)), ")"));
        break;
      }
    }
    CheckOneOf(issues, JoinPath(cpath, "status"), c.status(), {"True", "False", "Unknown"},
               "condition status");
    if (!c.last_transition_time().empty()) {
      CheckTimestamp(issues, JoinPath(cpath, "lastTransitionTime"), c.last_transition_time());
    }
  }
}

void CheckLevel(Issues& issues, const std::string& path, const std::string& level) {
  if (level.empty()) return;
  CheckOneOf(issues, path, level, {"L1", "L2", "L3"}, "level");
}

}  // namespace netrig::spec::internal
