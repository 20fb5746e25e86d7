// netrig resources (apiVersion netrig.io/v1alpha1) from YAML or JSON, validated with field-path
// errors. The one implementation behind netrigctl, the REST API and the Kubernetes operator:
// the same input gives the same errors everywhere.
//
//   ParseResult r = ParseTestRun(text);          // syntax + schema + semantic checks
//   if (!r.ok()) for (const FieldError& e : r.errors) std::cerr << e.ToString() << "\n";
//   absl::StatusOr<RunPlan> plan = CompileTestRun(r.object);   // typed, defaults applied
//
// Every error is collected, not just the first: each has the path as the user wrote it and the
// reason, e.g. "spec.benchmark.rfc2544.frameSizes[2]: 20 is below the 64-byte minimum".
// Syntax errors carry line and column. Nothing here throws or crashes on any input
// (tests/fuzz/spec_fuzz.cc); inputs above kMaxInputBytes are rejected.
//
// Rules of thumb for what is an error and what is a warning:
//  - errors: malformed values, values outside what the platform can run (frame sizes
//    64..9216, percentages 0..100, trials <= 1 h), references that do not resolve (traffic to
//    an unknown port), RFC rules the platform enforces (latency/backToBack need throughput;
//    frame-loss granularity <= 10%);
//  - warnings: RFC recommendations the spec departs from (trials < 60 s, < 20 latency trials,
//    non-zero loss tolerance, shorter waits). They are allowed — a lab demo needs short
//    trials — and CompileTestRun records them in RunPlan::deviations for the report.
#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/spec/field_error.h"
#include "lib/spec/run_plan.h"
#include "lib/spec/yaml_decoder.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig::spec {

inline constexpr absl::string_view kApiVersion = "netrig.io/v1alpha1";
inline constexpr size_t kMaxInputBytes = 1 << 20;  // 1 MiB of YAML/JSON per input

// The result of parsing one document of a known kind.
template <typename Message>
struct Parsed {
  Message object;                     // everything that could be decoded, even when !ok()
  std::vector<FieldError> errors;
  std::vector<FieldError> warnings;   // RFC deviations and ignored fields; never block
  bool ok() const { return errors.empty(); }
};
using ParseResult = Parsed<v1::TestRun>;

// ---------------------------------------------------------------- TestRun

// YAML or JSON text -> TestRun. apiVersion and kind are required here (files are meant to be
// kubectl-compatible); `status`, when present, is decoded but ignored (a warning).
ParseResult ParseTestRun(absl::string_view yaml_or_json);

// Semantic validation of a TestRun that may have come over gRPC/REST as a proto. apiVersion
// and kind may be empty here (the RPC implies them) but must be right when set. Status is
// checked for well-formedness when present.
std::vector<FieldError> ValidateTestRun(const v1::TestRun& run);
std::vector<FieldError> ValidateTestRun(const v1::TestRun& run, std::vector<FieldError>* warnings);

// Validates and converts to the typed plan. InvalidArgument listing every error, one
// "path: message" per line, when the spec is invalid.
absl::StatusOr<RunPlan> CompileTestRun(const v1::TestRun& run);

// The spec part alone (a TestSuite's run templates use it too). `path` is the spec's path
// ("spec", "spec.runs[0].spec").
void ValidateTestRunSpec(const v1::TestRunSpec& spec, const std::string& path,
                         std::vector<FieldError>* errors, std::vector<FieldError>* warnings);

// ---------------------------------------------------------------- other kinds

Parsed<v1::TestSuite> ParseTestSuite(absl::string_view yaml_or_json);
Parsed<v1::AgentPool> ParseAgentPool(absl::string_view yaml_or_json);
Parsed<v1::SutTemplate> ParseSutTemplate(absl::string_view yaml_or_json);
std::vector<FieldError> ValidateTestSuite(const v1::TestSuite& suite,
                                          std::vector<FieldError>* warnings = nullptr);
std::vector<FieldError> ValidateAgentPool(const v1::AgentPool& pool,
                                          std::vector<FieldError>* warnings = nullptr);
std::vector<FieldError> ValidateSutTemplate(const v1::SutTemplate& tmpl,
                                            std::vector<FieldError>* warnings = nullptr);

// ---------------------------------------------------------------- any kind, many documents

// One document of any kind: reads apiVersion and kind first, then parses and validates the
// matching message. An unknown kind is an error at `kind` (with a did-you-mean), a wrong
// apiVersion at `apiVersion`; `object` is then monostate (unknown kind) or the decoded kind.
struct Document {
  size_t index = 0;                   // 0-based position in a multi-document stream
  std::string kind;                   // as written
  std::variant<std::monostate, v1::TestRun, v1::TestSuite, v1::AgentPool, v1::SutTemplate>
      object;
  std::vector<FieldError> errors;
  std::vector<FieldError> warnings;
  bool ok() const { return errors.empty(); }
};
Document ParseDocument(absl::string_view yaml_or_json);
// A `---`-separated stream. Empty documents (a leading or trailing ---) are skipped. A syntax
// error anywhere yields a single Document carrying it (yaml-cpp cannot resume after one).
std::vector<Document> ParseDocuments(absl::string_view yaml_or_json);

// Proto3 JSON (camelCase keys) of any of these messages; ParseTestRun etc. read it back.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace netrig::spec
