// TestSuite reconciler: a suite is a set of TestRun templates run on a cron schedule and/or
// whenever spec.trigger changes. The TestRuns it creates are ordinary TestRun objects (the
// TestRun reconciler submits them), owned by the suite.
//
// For each TestSuite (level-triggered; every step is safe to repeat):
//  1. validate with lib/spec; invalid: condition Ready=False reason Invalid naming the fields,
//     nothing created;
//  2. schedule: when the latest cron fire time after status.lastScheduleTime (or the suite's
//     creation) has passed and the suite is not suspended, create one TestRun per template named
//     <suite>-<template>-<unix fire time> (labels netrig.io/suite, netrig.io/template,
//     netrig.io/trigger=schedule) and set status.lastScheduleTime to that fire time. Missed
//     fire times (operator down, suspended) give one execution, not a burst; the fire time in
//     the name makes a repeat after a crash an AlreadyExists, not a second run;
//  3. trigger: when spec.trigger is set and differs from the annotation
//     netrig.io/last-trigger, create one TestRun per template (netrig.io/trigger=operator,
//     annotation netrig.io/trigger-value) unless that template already has one for this value,
//     then record the value in the annotation;
//  4. history: keep at most spec.historyLimit (default 3) finished TestRuns per template, the
//     newest; running ones are never deleted;
//  5. status: latest[template] (the newest finished run), lastVerdict (the worst verdict of
//     those), activeRuns, condition Ready; requeue at the next cron fire time.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "operator/reconciler.h"

namespace netrig::op {

inline constexpr char kSuiteLabel[] = "netrig.io/suite";
inline constexpr char kTemplateLabel[] = "netrig.io/template";
inline constexpr char kTriggerLabel[] = "netrig.io/trigger";
inline constexpr char kLastTriggerAnnotation[] = "netrig.io/last-trigger";
inline constexpr char kTriggerValueAnnotation[] = "netrig.io/trigger-value";
inline constexpr char kScheduledTimeAnnotation[] = "netrig.io/scheduled-time";
inline constexpr uint32_t kDefaultHistoryLimit = 3;

struct TestSuiteReconcilerOptions {
  std::function<absl::Time()> clock;  // default absl::Now
};

class TestSuiteReconciler : public Reconciler {
 public:
  TestSuiteReconciler(kube::Api* api, TestSuiteReconcilerOptions options);

  const kube::Resource& resource() const override { return kube::kTestSuites; }
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& ns,
                                            const std::string& name) override;

 private:
  absl::Time Now() const;
  // Creates one TestRun per template; AlreadyExists counts as done.
  absl::Status CreateRuns(const kube::Json& suite, const std::string& suffix,
                          const std::string& trigger, const kube::Json& annotations,
                          const std::string& only_template);

  kube::Api* api_;
  TestSuiteReconcilerOptions options_;
};

// The TestRun object a suite creates from template `index` (tests check its shape).
kube::Json TestRunFromTemplate(const kube::Json& suite, size_t index, const std::string& suffix,
                               const std::string& trigger, const kube::Json& annotations);

// Verdict ranks for "worst of": Fail > Regressed > Inconclusive > Pass > "" (unknown).
int VerdictSeverity(const std::string& verdict);

}  // namespace netrig::op
