#include "operator/agentpool/agent_pool_scaling.h"

#include <algorithm>

namespace netrig::op {

int ScaledReplicas(const v1::AgentPoolScaling& scaling, int queued_runs) {
  const int per_agent = scaling.has_queued_runs_per_agent() && scaling.queued_runs_per_agent() > 0
                            ? static_cast<int>(scaling.queued_runs_per_agent())
                            : 1;
  const int queued = std::max(0, queued_runs);
  const int wanted = (queued + per_agent - 1) / per_agent;
  const int lo = static_cast<int>(scaling.min_replicas());
  const int hi = std::max(lo, static_cast<int>(scaling.max_replicas()));
  return std::clamp(wanted, lo, hi);
}

int ScaleDownDelay::Next(int current, int target, absl::Time now) {
  if (current < 0 || target >= current) {
    since_ = absl::InfinitePast();
    return target;
  }
  if (since_ == absl::InfinitePast()) {
    since_ = now;
    highest_ = target;
  } else {
    highest_ = std::max(highest_, target);
  }
  if (now - since_ < delay_) return current;
  const int next = highest_;
  since_ = absl::InfinitePast();
  return next;
}

}  // namespace netrig::op
