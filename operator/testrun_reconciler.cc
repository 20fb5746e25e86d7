#include "operator/testrun_reconciler.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "lib/spec/testrun.h"
#include "operator/conditions.h"
#include "operator/log.h"

namespace netrig::op {
namespace {

using kube::Json;

// Proto3 JSON (camelCase, json_name overrides) of a status part, as a JSON value.
Json ProtoJson(const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  if (!google::protobuf::util::MessageToJsonString(m, &text, options).ok()) return Json::object();
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json::object() : j;
}

// Writes `value` at status[key], or erases the key when `value` is empty.
void SetOrErase(Json& status, const char* key, const std::string& value) {
  if (value.empty()) {
    status.erase(key);
  } else {
    status[key] = value;
  }
}

std::string ObjectKey(const Json& obj) {
  return absl::StrCat(kube::NamespaceOf(obj), "/", kube::NameOf(obj));
}

// The Succeeded condition of a finished run: True only for a passing run.
Condition SucceededCondition(const std::string& phase, const std::string& verdict,
                             const std::string& summary, int64_t generation) {
  Condition c{"Succeeded", "Unknown", phase.empty() ? "Pending" : phase, summary, generation};
  if (!IsFinishedPhase(phase)) {
    c.message = phase == "Running" ? "the run is in progress" : "the run is queued";
    return c;
  }
  if (phase == "Succeeded" && verdict != "Fail" && verdict != "Regressed") {
    c.status = "True";
    c.reason = "Succeeded";
    return c;
  }
  c.status = "False";
  if (verdict == "Regressed" || verdict == "Fail") {
    c.reason = verdict == "Fail" ? "VerdictFail" : "Regressed";
  } else {
    c.reason = phase;  // Failed | Cancelled | Interrupted
  }
  return c;
}

}  // namespace

Json TestRunDocument(const Json& obj) {
  Json meta = {{"name", kube::NameOf(obj)}, {"namespace", kube::NamespaceOf(obj)}};
  const Json::json_pointer labels("/metadata/labels");
  if (obj.contains(labels) && obj[labels].is_object() && !obj[labels].empty()) {
    meta["labels"] = obj[labels];
  }
  Json doc = {{"apiVersion", std::string(spec::kApiVersion)},
              {"kind", "TestRun"},
              {"metadata", std::move(meta)}};
  if (obj.contains("spec")) doc["spec"] = obj["spec"];
  return doc;
}

std::vector<std::string> ValidateTestRunObject(const Json& obj) {
  spec::ParseResult parsed = spec::ParseTestRun(TestRunDocument(obj).dump());
  std::vector<std::string> errors;
  errors.reserve(parsed.errors.size());
  for (const spec::FieldError& e : parsed.errors) errors.push_back(e.ToString());
  return errors;
}

std::string ProgressMessage(const v1::TestRunProgress& p, const std::string& phase) {
  if (phase == "Succeeded") return "done";
  if (IsFinishedPhase(phase)) return absl::AsciiStrToLower(phase);
  if (!p.test().empty()) {
    std::string out = p.test();
    if (p.frame_size() > 0) absl::StrAppend(&out, " ", p.frame_size(), "B");
    if (p.trial() > 0) absl::StrAppend(&out, " trial ", p.trial());
    if (p.offered_rate_percent() > 0) {
      absl::StrAppend(&out, absl::StrFormat(" (%.1f%%)", p.offered_rate_percent()));
    }
    if (p.frame_sizes_total() > 0) {
      absl::StrAppend(&out, ", ", p.frame_sizes_done(), "/", p.frame_sizes_total(), " frame sizes");
    }
    return out;
  }
  if (!p.message().empty()) return p.message();
  if (p.frame_sizes_total() > 0) {
    return absl::StrCat(p.frame_sizes_done(), "/", p.frame_sizes_total(), " frame sizes");
  }
  if (phase == "Running") return "starting";
  if (phase == "Scheduled") return "scheduled";
  return "queued";
}

TestRunReconciler::TestRunReconciler(kube::Api* api, ControllerClient* controller,
                                     TestRunReconcilerOptions options)
    : api_(api), controller_(controller), options_(std::move(options)) {}

absl::Time TestRunReconciler::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::StatusOr<ReconcileResult> TestRunReconciler::Reconcile(const std::string& ns,
                                                             const std::string& name) {
  absl::StatusOr<Json> got = api_->Get(kube::kTestRuns, ns, name);
  if (absl::IsNotFound(got.status())) return ReconcileResult{};  // gone: nothing left to do
  if (!got.ok()) return got.status();
  Json obj = *std::move(got);

  if (IsBeingDeleted(obj)) return Finalize(std::move(obj));
  if (AddFinalizer(obj, kRunCleanupFinalizer)) {
    absl::StatusOr<Json> updated = api_->Replace(kube::kTestRuns, ns, name, obj);
    if (!updated.ok()) return updated.status();  // a conflict retries with a fresh read
    obj = *std::move(updated);
  }

  const Json status =
      obj.contains("status") && obj["status"].is_object() ? obj["status"] : Json::object();
  const int64_t generation = kube::GenerationOf(obj);
  const std::string run_id = StringAt(status, Json::json_pointer("/runID"));

  if (run_id.empty()) {
    std::vector<std::string> errors = ValidateTestRunObject(obj);
    if (!errors.empty()) return MarkInvalid(obj, errors);
    absl::StatusOr<v1::Run> run = controller_->SubmitRun(
        TestRunDocument(obj).dump(), {{kTestRunUidLabel, kube::UidOf(obj)}}, kube::UidOf(obj));
    if (absl::IsInvalidArgument(run.status())) {
      // The controller knows more than lib/spec (agents, SUT templates): still bad input.
      return MarkInvalid(obj, absl::StrSplit(run.status().message(), '\n', absl::SkipEmpty()));
    }
    if (!run.ok()) return run.status();
    Json next = status;
    next["runID"] = run->id();
    RemoveCondition(next, "SpecIgnored");
    SetCondition(next,
                 {"Submitted", "True", "Submitted",
                  absl::StrCat("submitted to the controller as run ", run->id()), generation},
                 Now());
    MirrorRun(*run, generation, next);
    if (absl::Status s = WriteStatus(obj, next); !s.ok()) return s;
    Log(Severity::kInfo,
        absl::StrCat("testrun ", ObjectKey(obj), ": submitted as run ", run->id()));
    RecordEvent(*api_, obj, "Normal", "Submitted",
                absl::StrCat("submitted to the controller as run ", run->id()), Now());
    return ReconcileResult{IsFinishedPhase(next.value("phase", "")) ? absl::ZeroDuration()
                                                                    : options_.poll_interval};
  }

  absl::StatusOr<v1::Run> run = controller_->GetRun(run_id);
  Json next = status;
  const std::string old_phase = status.value("phase", "");
  if (absl::IsNotFound(run.status())) {
    // The controller lost the run (its store was reset). Never resubmit: report it.
    if (IsFinishedPhase(old_phase)) return ReconcileResult{};
    next["phase"] = "Interrupted";
    if (!next.contains("completionTime")) next["completionTime"] = kube::FormatTime(Now());
    SetCondition(next, {"Running", "False", "Interrupted", "", generation}, Now());
    SetCondition(next,
                 {"Succeeded", "False", "RunLost",
                  absl::StrCat("the controller has no run ", run_id), generation},
                 Now());
  } else if (!run.ok()) {
    return run.status();
  } else {
    MirrorRun(*run, generation, next);
  }

  // A run is immutable once submitted: say so when the spec changed after that.
  const Json* submitted = FindCondition(next, "Submitted");
  const int64_t submitted_generation =
      submitted != nullptr ? submitted->value("observedGeneration", int64_t{0}) : generation;
  bool spec_ignored_now = false;
  if (submitted_generation > 0 && generation > submitted_generation) {
    spec_ignored_now = SetCondition(
        next,
        {"SpecIgnored", "True", "RunImmutable",
         absl::StrCat("the spec changed (generation ", generation, ") after run ", run_id,
                      " was submitted with generation ", submitted_generation,
                      "; a submitted run cannot change: create a new TestRun to run the new spec"),
         generation},
        Now());
  }

  const std::string new_phase = next.value("phase", "");
  if (absl::Status s = WriteStatus(obj, next); !s.ok()) return s;
  if (spec_ignored_now) {
    RecordEvent(*api_, obj, "Warning", "SpecChangeIgnored",
                FindCondition(next, "SpecIgnored")->value("message", ""), Now());
  }
  if (IsFinishedPhase(new_phase) && !IsFinishedPhase(old_phase)) {
    const std::string verdict = next.value("verdict", "");
    Log(Severity::kInfo, absl::StrCat("testrun ", ObjectKey(obj), ": run ", run_id, " ", new_phase,
                                      verdict.empty() ? "" : ", verdict ", verdict));
    RecordEvent(
        *api_, obj, new_phase == "Succeeded" ? "Normal" : "Warning", new_phase,
        absl::StrCat("run ", run_id, " ", absl::AsciiStrToLower(new_phase),
                     verdict.empty() ? "" : ": verdict ", verdict,
                     next.value("summary", "").empty() ? "" : "; ", next.value("summary", "")),
        Now());
  }
  if (IsFinishedPhase(new_phase)) return ReconcileResult{};
  return ReconcileResult{options_.poll_interval};
}

void TestRunReconciler::MirrorRun(const v1::Run& run, int64_t generation, Json& status) const {
  const v1::TestRunStatus& st = run.test_run().status();
  const std::string phase = st.phase().empty() ? "Pending" : st.phase();
  status["phase"] = phase;
  status["runID"] = run.id();
  status["observedGeneration"] = generation;

  Json progress = ProtoJson(st.progress());
  progress["message"] = ProgressMessage(st.progress(), phase);
  status["progress"] = std::move(progress);

  SetOrErase(status, "startTime", st.start_time());
  SetOrErase(status, "completionTime", st.completion_time());
  SetOrErase(status, "verdict", st.verdict());
  SetOrErase(status, "summary", st.summary());

  Json results = Json::array();
  for (const v1::TestRunResult& r : st.results()) {
    if (results.size() >= kMaxStatusResults) break;
    results.push_back(ProtoJson(r));
  }
  if (results.empty()) {
    status.erase("results");
  } else {
    status["results"] = std::move(results);
  }

  if (IsFinishedPhase(phase)) {
    std::string report;
    if (!options_.controller_rest.empty()) {
      std::string base = options_.controller_rest;
      while (!base.empty() && base.back() == '/') base.pop_back();
      report = absl::StrCat(base, "/v1/runs/", run.id(), "/results");
    } else {
      report = st.report_url();
    }
    SetOrErase(status, "reportURL", report);
  }

  const absl::Time now = Now();
  const bool running = phase == "Running";
  SetCondition(status,
               {"Running", running ? "True" : "False", phase,
                running ? ProgressMessage(st.progress(), phase) : "", generation},
               now);
  SetCondition(status, SucceededCondition(phase, st.verdict(), st.summary(), generation), now);
}

absl::StatusOr<ReconcileResult> TestRunReconciler::MarkInvalid(
    const Json& obj, const std::vector<std::string>& errors) {
  const int64_t generation = kube::GenerationOf(obj);
  Json next = obj.contains("status") && obj["status"].is_object() ? obj["status"] : Json::object();
  const std::string message = absl::StrJoin(errors, "; ");
  const Json* before = FindCondition(next, "Succeeded");
  const bool already_reported = before != nullptr && before->value("reason", "") == "Invalid" &&
                                before->value("message", "") == message;
  next["phase"] = "Failed";
  next["observedGeneration"] = generation;
  next.erase("verdict");
  next["progress"] = Json{{"message", "invalid spec"}};
  SetCondition(next, {"Running", "False", "Invalid", "", generation}, Now());
  SetCondition(next, {"Succeeded", "False", "Invalid", message, generation}, Now());
  if (absl::Status s = WriteStatus(obj, next); !s.ok()) return s;
  if (!already_reported) {
    Log(Severity::kWarning, absl::StrCat("testrun ", ObjectKey(obj), ": invalid: ", message));
    RecordEvent(*api_, obj, "Warning", "Invalid", message, Now());
  }
  // Nothing changes until the spec does (which is a new watch event): no requeue.
  return ReconcileResult{};
}

absl::Status TestRunReconciler::WriteStatus(const Json& obj, const Json& status) {
  const Json before = obj.contains("status") ? obj["status"] : Json::object();
  if (before == status) return absl::OkStatus();
  Json updated = obj;
  updated["status"] = status;
  absl::StatusOr<Json> written =
      api_->ReplaceStatus(kube::kTestRuns, kube::NamespaceOf(obj), kube::NameOf(obj), updated);
  return written.status();
}

absl::StatusOr<ReconcileResult> TestRunReconciler::Finalize(Json obj) {
  if (!HasFinalizer(obj, kRunCleanupFinalizer)) return ReconcileResult{};
  const std::string ns = kube::NamespaceOf(obj);
  const std::string name = kube::NameOf(obj);
  const Json status = obj.contains("status") ? obj["status"] : Json::object();
  std::string run_id = StringAt(status, Json::json_pointer("/runID"));

  // A crash between SubmitRun and the status write leaves a run the status does not name:
  // find it by the uid label. A run marked Invalid was never submitted.
  const Json* succeeded = FindCondition(status, "Succeeded");
  const bool invalid = succeeded != nullptr && succeeded->value("reason", "") == "Invalid";
  if (run_id.empty() && !invalid) {
    absl::StatusOr<v1::ListRunsResponse> runs = controller_->ListRuns("");
    if (!runs.ok()) return runs.status();
    for (const v1::Run& r : runs->runs()) {
      const auto& labels = r.test_run().metadata().labels();
      auto it = labels.find(kTestRunUidLabel);
      if (it != labels.end() && it->second == kube::UidOf(obj)) run_id = r.id();
    }
  }

  if (!run_id.empty()) {
    absl::StatusOr<v1::Run> run = controller_->GetRun(run_id);
    if (!run.ok() && !absl::IsNotFound(run.status())) return run.status();
    if (run.ok() && !IsFinishedPhase(run->test_run().status().phase())) {
      absl::StatusOr<v1::Run> cancelled =
          controller_->CancelRun(run_id, absl::StrCat("TestRun ", ns, "/", name, " deleted"));
      if (!cancelled.ok() && !absl::IsFailedPrecondition(cancelled.status()) &&
          !absl::IsNotFound(cancelled.status())) {
        return cancelled.status();
      }
      if (!cancelled.ok() || !IsFinishedPhase(cancelled->test_run().status().phase())) {
        // The controller tears the SUT down before it reports the run finished: wait for that.
        return ReconcileResult{options_.finalizer_poll};
      }
    }
    // SUT pods the kubernetes provider may have left behind.
    kube::ListOptions selector;
    selector.label_selector = absl::StrCat(kRunLabel, "=", run_id);
    absl::StatusOr<Json> pods = api_->List(kube::kPods, ns, selector);
    if (!pods.ok()) return pods.status();
    const Json& items = (*pods)["items"];
    if (items.is_array() && !items.empty()) {
      for (const Json& pod : items) {
        kube::DeleteOptions now_please;
        now_please.grace_period_seconds = 0;  // the run is over: nothing to drain
        absl::Status s = api_->Delete(kube::kPods, ns, kube::NameOf(pod), now_please);
        if (!s.ok() && !absl::IsNotFound(s)) return s;
      }
      Log(Severity::kInfo, absl::StrCat("testrun ", ns, "/", name, ": deleted ", items.size(),
                                        " SUT pod(s) of run ", run_id));
      return ReconcileResult{options_.finalizer_poll};  // until the list comes back empty
    }
  }

  RemoveFinalizer(obj, kRunCleanupFinalizer);
  absl::StatusOr<Json> updated = api_->Replace(kube::kTestRuns, ns, name, obj);
  if (!updated.ok() && !absl::IsNotFound(updated.status())) return updated.status();
  Log(Severity::kInfo, absl::StrCat("testrun ", ns, "/", name, ": cleaned up",
                                    run_id.empty() ? "" : " run ", run_id));
  return ReconcileResult{};
}

}  // namespace netrig::op
