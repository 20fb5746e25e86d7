// TestRun reconciler: a TestRun object becomes exactly one controller run, and the run's state
// flows back into the object's status.
//
// For each TestRun (level-triggered; every step is safe to repeat):
//  1. deleting (deletionTimestamp set): cancel the run unless it finished, wait until the
//     controller reports it finished (the controller destroys the SUT when a run ends), delete
//     any Pod labelled netrig.io/run=<runID> left in the namespace, then drop the finalizer;
//  2. add the finalizer netrig.io/run-cleanup;
//  3. no status.runID yet: validate the spec with lib/spec (the same checks as netrigctl and the
//     REST API). Invalid: condition Succeeded=False reason Invalid listing every
//     "path: message", nothing submitted, no retry until the spec changes. Valid: SubmitRun with
//     request_id = metadata.uid (a crash between the submit and the status write resubmits
//     with the same id, and the controller returns the run it already made), then write
//     status.runID;
//  4. status.runID set: never submit again; GetRun and mirror phase, progress, times, verdict,
//     summary, results and reportURL into status, with conditions Submitted, Running and
//     Succeeded; poll every `poll_interval` until the run finished.
// A run is immutable once submitted: a later spec change is reported (condition SpecIgnored,
// event SpecChangeIgnored) and otherwise ignored; Submitted.observedGeneration keeps the
// generation that was submitted.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/spec/field_error.h"
#include "operator/controller_client.h"
#include "operator/reconciler.h"

namespace netrig::op {

inline constexpr char kRunCleanupFinalizer[] = "netrig.io/run-cleanup";
// Label the kubernetes SUT provider puts on SUT pods (value: the controller's run id).
inline constexpr char kRunLabel[] = "netrig.io/run";
// Label on the controller's run: the TestRun object's uid (finds a run whose id was never
// written to status).
inline constexpr char kTestRunUidLabel[] = "netrig.io/testrun-uid";
// Results mirrored into status at most (the controller keeps the full list).
inline constexpr size_t kMaxStatusResults = 64;

struct TestRunReconcilerOptions {
  // The controller's REST base URL ("http://netrig-controller:7401") for status.reportURL;
  // empty: the report location the controller itself gives.
  std::string controller_rest;
  absl::Duration poll_interval = absl::Seconds(2);
  // How often the finalizer checks whether a cancelled run has finished.
  absl::Duration finalizer_poll = absl::Milliseconds(500);
  std::function<absl::Time()> clock;  // default absl::Now
};

class TestRunReconciler : public Reconciler {
 public:
  TestRunReconciler(kube::Api* api, ControllerClient* controller, TestRunReconcilerOptions options);

  const kube::Resource& resource() const override { return kube::kTestRuns; }
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& ns,
                                            const std::string& name) override;

 private:
  absl::StatusOr<ReconcileResult> Finalize(kube::Json obj);
  absl::StatusOr<ReconcileResult> MarkInvalid(const kube::Json& obj,
                                              const std::vector<std::string>& errors);
  // Copies the controller's view of the run into `status`.
  void MirrorRun(const v1::Run& run, int64_t generation, kube::Json& status) const;
  // ReplaceStatus when `status` differs from the object's; returns the written object.
  absl::Status WriteStatus(const kube::Json& obj, const kube::Json& status);
  absl::Time Now() const;

  kube::Api* api_;
  ControllerClient* controller_;
  TestRunReconcilerOptions options_;
};

// The TestRun document lib/spec and the controller read: apiVersion, kind, metadata (name,
// namespace, labels) and spec of the object.
kube::Json TestRunDocument(const kube::Json& obj);
// Validates the object with lib/spec; every error as "path: message", paths relative to the
// object (spec.benchmark.rfc2544...).
std::vector<std::string> ValidateTestRunObject(const kube::Json& obj);
// One line for the PROGRESS printer column: "throughput 512B trial 3 (47.5%)",
// "2/4 frame sizes", the controller's own message, or the phase in words.
std::string ProgressMessage(const v1::TestRunProgress& progress, const std::string& phase);

}  // namespace netrig::op
