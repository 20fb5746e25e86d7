// The contract between netrig-operator's manager and its reconcilers.
//
// Reconcilers are level-triggered and idempotent: Reconcile(ns, name) reads the object's current
// state (and whatever it owns) from the API, makes the world match the spec, writes status, and
// returns. It must give the same result when called twice in a row, after a restart, or for an
// object that no longer exists (then it cleans up and returns OK). The manager calls it on every
// watch event of the object (and of what it owns), at most once at a time per object, and again
// after `requeue_after` or, with backoff, after an error.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace netrig::op {

struct ReconcileResult {
  // Call again after this long even if nothing changes (polling the controller, cron times).
  // Zero: only on the next event.
  absl::Duration requeue_after = absl::ZeroDuration();
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // The custom resource this reconciler owns (kube::kTestRuns...).
  virtual const kube::Resource& resource() const = 0;
  // An error is logged, counted, and the object is retried with exponential backoff; it never
  // ends the operator. Bad user input is not an error: it is reported in the object's status
  // (condition Ready/Succeeded False, reason Invalid, message naming the field) and returns OK.
  virtual absl::StatusOr<ReconcileResult> Reconcile(const std::string& ns,
                                                    const std::string& name) = 0;
};

}  // namespace netrig::op
