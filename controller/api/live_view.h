// Live per-stream figures of an executing run, from the agents' interim reports: offered and
// received frame rates over the last interval, loss so far in the trial, latency quantiles.
// The sender's and the receiver's reports may come from different agents and arrive apart;
// each side's rate is computed from its own consecutive reports. Not thread-safe (one per run,
// guarded by the caller).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/metrics/controller_metrics.h"
#include "controller/run/rfc2544_executor.h"

namespace netrig::controller::api {

class LiveView {
 public:
  // Folds samples in; returns the streams whose figures changed.
  std::vector<metrics::LiveStream> Update(const std::vector<run::LiveSample>& samples);

 private:
  struct Side {
    uint64_t last = 0;
    double last_s = -1;
    double rate = 0;
  };
  struct Stream {
    Side tx, rx;
    metrics::LiveStream view;
  };
  std::map<std::string, Stream> streams_;
};

}  // namespace netrig::controller::api
