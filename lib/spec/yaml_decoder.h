// YAML / JSON -> protobuf message by reflection, collecting every error with its field path.
//
// The general form of agent/control/config_loader.cc: walks a yaml-cpp node tree against a
// message descriptor and fills the message, but never stops at the first problem. JSON is
// YAML flow syntax, so one decoder serves both.
//
// Rules:
//  - Keys are the fields' proto3 JSON names (camelCase, or an explicit json_name such as
//    reportURL). snake_case proto names are accepted only with accept_proto_names.
//  - Unknown keys: "unknown field (did you mean frameSizes?)", or the list of known fields.
//  - Duplicate keys, two members of one oneof, a list where a mapping is expected, a number
//    that is not one ("expected an integer, got \"abc\""), out-of-range integers: all errors.
//  - `null` (or an empty value) for a singular field leaves it unset.
//  - Integers accept quoted digits (proto3 JSON writes int64 as strings); booleans accept only
//    true/false; numbers must be finite and plain ("90", not "90%").
//  - Map fields (map<string, X>) take a YAML mapping; paths of their entries are
//    `labels.app` or `labels["app.kubernetes.io/name"]`.
//  - The decoder never throws: yaml-cpp exceptions are turned into errors.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/string_view.h"
#include "lib/spec/field_error.h"

namespace netrig::spec {

struct SourcePosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};
// Field path -> where its value starts in the source text.
using SourceMap = std::unordered_map<std::string, SourcePosition>;

struct DecodeOptions {
  // Called when a message-typed field gets a scalar value ("rate: 50%"). Returns true when it
  // handled the value (it may append errors); false to report "expected a mapping".
  std::function<bool(const YAML::Node& node, google::protobuf::Message* message,
                     const std::string& path, std::vector<FieldError>* errors)>
      scalar_shorthand;
  // Also accept the snake_case proto field names as keys.
  bool accept_proto_names = false;
  // Stop after this many errors (a last error says so).
  size_t max_errors = 200;
  // Work limit: YAML aliases can make a small text expand to a huge tree. Exceeding it is an
  // error at the root path, and decoding stops.
  size_t max_nodes = 200'000;
  // When set, receives the position of every decoded field path.
  SourceMap* positions = nullptr;
};

// Fills `message` from `node` (merging into what is already there). Paths start with
// `path_prefix` ("" for a whole document, "spec" for a sub-tree). Returns every error found.
std::vector<FieldError> YamlToMessage(const YAML::Node& node, google::protobuf::Message* message,
                                      const std::string& path_prefix,
                                      const DecodeOptions& options = {});

// Path helpers shared by the decoder and the validators.
std::string JoinPath(absl::string_view parent, absl::string_view key);
std::string IndexPath(absl::string_view parent, size_t index);
// `parent.key` when key is a plain identifier, else `parent["key"]`.
std::string MapKeyPath(absl::string_view parent, absl::string_view key);

// Closest candidate by case-insensitive edit distance, or "" when none is close enough.
std::string DidYouMean(absl::string_view word, const std::vector<std::string>& candidates);

}  // namespace netrig::spec
