// Elastic agent pools: how many agents a Deployment pool with spec.scaling should run.
//
// The target follows the controller's queue: ceil(queued runs / queuedRunsPerAgent), clamped
// to [minReplicas, maxReplicas]. Scaling up happens at once (queued runs wait for agents);
// scaling down waits until the target has stayed below the current count for a whole
// scale-down delay and then goes to the highest target seen during that delay, so a queue that
// empties between two runs of a suite does not tear agents down and recreate them (flapping).
#pragma once

#include "absl/time/time.h"
#include "proto/netrig/v1/testrun.pb.h"

namespace netrig::op {

// ceil(queued_runs / queuedRunsPerAgent (default 1)), clamped to [minReplicas, maxReplicas].
// Negative queue lengths count as 0.
int ScaledReplicas(const v1::AgentPoolScaling& scaling, int queued_runs);

// The scale-down stabilisation of one pool. Not thread-safe: one per pool, used under the
// reconciler's lock.
class ScaleDownDelay {
 public:
  explicit ScaleDownDelay(absl::Duration delay) : delay_(delay) {}

  // `current`: the replicas the workload has now (< 0: there is no workload yet); `target`:
  // ScaledReplicas now. Returns the replicas to set.
  int Next(int current, int target, absl::Time now);

  // When the current scale-down window started (InfinitePast: not waiting to scale down).
  absl::Time waiting_since() const { return since_; }

 private:
  absl::Duration delay_;
  absl::Time since_ = absl::InfinitePast();
  int highest_ = 0;  // the highest target seen since since_
};

}  // namespace netrig::op
