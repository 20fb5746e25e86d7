#include "operator/testsuite_reconciler.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/spec/cron.h"
#include "lib/spec/testrun.h"
#include "operator/conditions.h"
#include "operator/controller_client.h"
#include "operator/log.h"

namespace netrig::op {
namespace {

using kube::Json;

// Attempts at a free name when another TestRun already took <suite>-<template>-<second>.
constexpr int kNameAttempts = 16;

std::string Annotation(const Json& obj, const std::string& key) {
  const Json::json_pointer p("/metadata/annotations");
  if (!obj.contains(p) || !obj[p].is_object()) return "";
  const Json& a = obj[p];
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

std::string Label(const Json& obj, const std::string& key) {
  const Json::json_pointer p("/metadata/labels");
  if (!obj.contains(p) || !obj[p].is_object()) return "";
  const Json& l = obj[p];
  return l.contains(key) && l[key].is_string() ? l[key].get<std::string>() : "";
}

std::string Phase(const Json& run) { return StringAt(run, Json::json_pointer("/status/phase")); }

// The verdict a finished run counts as in the suite's lastVerdict.
std::string EffectiveVerdict(const Json& run) {
  const std::string verdict = StringAt(run, Json::json_pointer("/status/verdict"));
  if (!verdict.empty()) return verdict;
  const std::string phase = Phase(run);
  if (phase == "Succeeded") return "Pass";
  if (phase == "Failed") return "Fail";
  return "Inconclusive";  // Cancelled, Interrupted
}

// Newest first: creation time, then name (the suffix is a unix time).
bool NewerFirst(const Json& a, const Json& b) {
  const std::string ta = StringAt(a, Json::json_pointer("/metadata/creationTimestamp"));
  const std::string tb = StringAt(b, Json::json_pointer("/metadata/creationTimestamp"));
  if (ta != tb) return ta > tb;
  const std::string na = kube::NameOf(a), nb = kube::NameOf(b);
  if (na.size() != nb.size()) return na.size() > nb.size();
  return na > nb;
}

Json SuiteDocument(const Json& obj) {
  Json meta = {{"name", kube::NameOf(obj)}, {"namespace", kube::NamespaceOf(obj)}};
  Json doc = {{"apiVersion", std::string(spec::kApiVersion)},
              {"kind", "TestSuite"},
              {"metadata", std::move(meta)}};
  if (obj.contains("spec")) doc["spec"] = obj["spec"];
  return doc;
}

}  // namespace

int VerdictSeverity(const std::string& verdict) {
  if (verdict == "Fail") return 4;
  if (verdict == "Regressed") return 3;
  if (verdict == "Inconclusive") return 2;
  if (verdict == "Pass") return 1;
  return 0;
}

Json TestRunFromTemplate(const Json& suite, size_t index, const std::string& suffix,
                         const std::string& trigger, const Json& annotations) {
  const Json& tmpl = suite["spec"]["runs"][index];
  const std::string suite_name = kube::NameOf(suite);
  const std::string template_name = tmpl.value("name", "");
  Json labels =
      tmpl.contains("labels") && tmpl["labels"].is_object() ? tmpl["labels"] : Json::object();
  labels[kSuiteLabel] = suite_name;
  labels[kTemplateLabel] = template_name;
  labels[kTriggerLabel] = trigger;
  Json spec = tmpl.contains("spec") && tmpl["spec"].is_object() ? tmpl["spec"] : Json::object();
  const std::string suite_level = suite["spec"].value("level", "");
  if (!spec.contains("level") && !suite_level.empty()) spec["level"] = suite_level;
  Json metadata = {
      {"name", absl::StrCat(suite_name, "-", template_name, "-", suffix)},
      {"namespace", kube::NamespaceOf(suite)},
      {"labels", std::move(labels)},
      {"ownerReferences", Json::array({{{"apiVersion", kube::kTestSuites.ApiVersion()},
                                        {"kind", kube::kTestSuites.kind},
                                        {"name", suite_name},
                                        {"uid", kube::UidOf(suite)},
                                        {"controller", true},
                                        {"blockOwnerDeletion", true}}})},
  };
  if (annotations.is_object() && !annotations.empty()) metadata["annotations"] = annotations;
  return Json{{"apiVersion", kube::kTestRuns.ApiVersion()},
              {"kind", kube::kTestRuns.kind},
              {"metadata", std::move(metadata)},
              {"spec", std::move(spec)}};
}

TestSuiteReconciler::TestSuiteReconciler(kube::Api* api, TestSuiteReconcilerOptions options)
    : api_(api), options_(std::move(options)) {}

absl::Time TestSuiteReconciler::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::Status TestSuiteReconciler::CreateRuns(const Json& suite, const std::string& suffix,
                                             const std::string& trigger, const Json& annotations,
                                             const std::string& only_template) {
  const Json& runs = suite["spec"]["runs"];
  int64_t base = 0;
  const bool numeric = absl::SimpleAtoi(suffix, &base);
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!only_template.empty() && runs[i].value("name", "") != only_template) continue;
    // The same name again is this very execution (a repeat after a crash) when it carries the
    // same annotations; otherwise another execution took that second: try the next one.
    for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
      const std::string s = numeric ? absl::StrCat(base + attempt) : suffix;
      Json run = TestRunFromTemplate(suite, i, s, trigger, annotations);
      absl::StatusOr<Json> created = api_->Create(kube::kTestRuns, kube::NamespaceOf(suite), run);
      if (created.ok()) {
        Log(Severity::kInfo, absl::StrCat("testsuite ", kube::NamespaceOf(suite), "/", kube::NameOf(suite),
                                          ": created testrun ", kube::NameOf(run), " (", trigger, ")"));
        break;
      }
      if (!absl::IsAlreadyExists(created.status())) return created.status();
      absl::StatusOr<Json> existing =
          api_->Get(kube::kTestRuns, kube::NamespaceOf(suite), kube::NameOf(run));
      if (!existing.ok()) return existing.status();
      const Json* owner = ControllerOwner(*existing);
      const bool same_execution = owner != nullptr && owner->value("uid", "") == kube::UidOf(suite) &&
                                  (*existing)["metadata"].value("annotations", Json::object()) ==
                                      run["metadata"].value("annotations", Json::object());
      if (same_execution || !numeric) break;
      if (attempt + 1 == kNameAttempts) return created.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ReconcileResult> TestSuiteReconciler::Reconcile(const std::string& ns,
                                                               const std::string& name) {
  absl::StatusOr<Json> got = api_->Get(kube::kTestSuites, ns, name);
  if (absl::IsNotFound(got.status())) return ReconcileResult{};
  if (!got.ok()) return got.status();
  Json suite = *std::move(got);
  // Owned TestRuns go with the suite (ownerReferences): nothing of ours to clean up.
  if (IsBeingDeleted(suite)) return ReconcileResult{};

  const absl::Time now = Now();
  const int64_t generation = kube::GenerationOf(suite);
  const Json old_status =
      suite.contains("status") && suite["status"].is_object() ? suite["status"] : Json::object();
  Json status = old_status;
  status["observedGeneration"] = generation;

  spec::Parsed<v1::TestSuite> parsed = spec::ParseTestSuite(SuiteDocument(suite).dump());
  if (!parsed.ok()) {
    std::vector<std::string> errors;
    for (const spec::FieldError& e : parsed.errors) errors.push_back(e.ToString());
    const std::string message = absl::StrJoin(errors, "; ");
    const Json* before = FindCondition(old_status, "Ready");
    SetCondition(status, {"Ready", "False", "Invalid", message, generation}, now);
    if (status != old_status) {
      Json updated = suite;
      updated["status"] = status;
      absl::StatusOr<Json> w = api_->ReplaceStatus(kube::kTestSuites, ns, name, updated);
      if (!w.ok()) return w.status();
    }
    if (before == nullptr || before->value("message", "") != message) {
      Log(Severity::kWarning, absl::StrCat("testsuite ", ns, "/", name, ": invalid: ", message));
      RecordEvent(*api_, suite, "Warning", "Invalid", message, now);
    }
    return ReconcileResult{};
  }
  const v1::TestSuiteSpec& spec = parsed.object.spec();

  auto list_owned = [&]() -> absl::StatusOr<std::vector<Json>> {
    kube::ListOptions options;
    options.label_selector = absl::StrCat(kSuiteLabel, "=", name);
    absl::StatusOr<Json> list = api_->List(kube::kTestRuns, ns, options);
    if (!list.ok()) return list.status();
    std::vector<Json> owned;
    if ((*list)["items"].is_array()) {
      for (const Json& item : (*list)["items"]) {
        const Json* owner = ControllerOwner(item);
        if (owner != nullptr && owner->value("uid", "") == kube::UidOf(suite)) owned.push_back(item);
      }
    }
    return owned;
  };

  // ---- schedule
  absl::Duration requeue = absl::ZeroDuration();
  std::string ready_reason = "Manual";
  std::string ready_message = "runs when spec.trigger changes";
  if (!spec.schedule().empty()) {
    absl::StatusOr<spec::CronSchedule> cron = spec::CronSchedule::Parse(spec.schedule());
    if (!cron.ok()) return cron.status();  // validated above: cannot happen
    absl::Time base = ParseKubeTime(status.value("lastScheduleTime", ""));
    if (base == absl::InfinitePast()) {
      base = ParseKubeTime(StringAt(suite, Json::json_pointer("/metadata/creationTimestamp")));
    }
    if (base == absl::InfinitePast()) base = now;
    if (spec.suspend()) {
      ready_reason = "Suspended";
      ready_message = "scheduled executions are suspended (spec.suspend)";
    } else {
      const absl::Time fire = cron->Last(now, base);
      if (fire != absl::InfinitePast()) {
        const std::string fire_text = kube::FormatTime(fire);
        if (absl::Status s = CreateRuns(suite, absl::StrCat(absl::ToUnixSeconds(fire)), "schedule",
                                        Json{{kScheduledTimeAnnotation, fire_text}}, "");
            !s.ok()) {
          return s;
        }
        status["lastScheduleTime"] = fire_text;
        RecordEvent(*api_, suite, "Normal", "Scheduled",
                    absl::StrCat("created the runs scheduled for ", fire_text), now);
      }
      const absl::Time next = cron->Next(now);
      if (next != absl::InfiniteFuture()) {
        requeue = std::max(next - now, absl::Seconds(1));
        ready_reason = "Scheduled";
        ready_message = absl::StrCat("next execution at ", kube::FormatTime(next));
      } else {
        ready_reason = "NeverFires";
        ready_message = absl::StrCat("schedule ", spec.schedule(), " has no future fire time");
      }
    }
  }

  // ---- trigger
  const std::string trigger = spec.trigger();
  if (!trigger.empty() && Annotation(suite, kLastTriggerAnnotation) != trigger) {
    absl::StatusOr<std::vector<Json>> owned = list_owned();
    if (!owned.ok()) return owned.status();
    for (const v1::TestRunTemplate& t : spec.runs()) {
      const bool done = std::any_of(owned->begin(), owned->end(), [&](const Json& r) {
        return Label(r, kTemplateLabel) == t.name() &&
               Annotation(r, kTriggerValueAnnotation) == trigger;
      });
      if (done) continue;
      if (absl::Status s = CreateRuns(suite, absl::StrCat(absl::ToUnixSeconds(now)), "operator",
                                      Json{{kTriggerValueAnnotation, trigger}}, t.name());
          !s.ok()) {
        return s;
      }
    }
    suite["metadata"]["annotations"][kLastTriggerAnnotation] = trigger;
    absl::StatusOr<Json> updated = api_->Replace(kube::kTestSuites, ns, name, suite);
    if (!updated.ok()) return updated.status();
    suite = *std::move(updated);
    RecordEvent(*api_, suite, "Normal", "Triggered",
                absl::StrCat("created the runs for trigger ", trigger), now);
  }

  // ---- history and status
  absl::StatusOr<std::vector<Json>> owned = list_owned();
  if (!owned.ok()) return owned.status();
  std::map<std::string, std::vector<Json>> finished;  // by template, newest first
  std::vector<std::string> active;
  for (const Json& run : *owned) {
    if (IsBeingDeleted(run)) continue;
    if (IsFinishedPhase(Phase(run))) {
      finished[Label(run, kTemplateLabel)].push_back(run);
    } else {
      active.push_back(kube::NameOf(run));
    }
  }
  const uint32_t limit = spec.has_history_limit() ? spec.history_limit() : kDefaultHistoryLimit;
  Json latest = Json::object();
  std::string worst;
  for (auto& [template_name, runs] : finished) {
    std::sort(runs.begin(), runs.end(), NewerFirst);
    for (size_t i = limit; i < runs.size(); ++i) {
      absl::Status s = api_->Delete(kube::kTestRuns, ns, kube::NameOf(runs[i]));
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    if (runs.empty() || limit == 0) continue;
    const Json& newest = runs.front();
    Json summary = {{"testRun", kube::NameOf(newest)}, {"phase", Phase(newest)}};
    const std::string verdict = StringAt(newest, Json::json_pointer("/status/verdict"));
    const std::string completed = StringAt(newest, Json::json_pointer("/status/completionTime"));
    if (!verdict.empty()) summary["verdict"] = verdict;
    if (!completed.empty()) summary["completionTime"] = completed;
    latest[template_name] = std::move(summary);
    const std::string effective = EffectiveVerdict(newest);
    if (VerdictSeverity(effective) > VerdictSeverity(worst)) worst = effective;
  }
  std::sort(active.begin(), active.end());
  if (latest.empty()) {
    status.erase("latest");
  } else {
    status["latest"] = std::move(latest);
  }
  if (worst.empty()) {
    status.erase("lastVerdict");
  } else {
    status["lastVerdict"] = worst;
  }
  if (active.empty()) {
    status.erase("activeRuns");
  } else {
    status["activeRuns"] = active;
  }
  SetCondition(status, {"Ready", "True", ready_reason, ready_message, generation}, now);

  if (status != old_status) {
    Json updated = suite;
    updated["status"] = status;
    absl::StatusOr<Json> w = api_->ReplaceStatus(kube::kTestSuites, ns, name, updated);
    if (!w.ok()) return w.status();
  }
  return ReconcileResult{requeue};
}

}  // namespace netrig::op
