// Receive side of one port queue: polls bursts, finds the signature, indexes the flow table
// by flow id (no hashing) and updates the per-flow analyzer. Several RxEngines on one lcore
// share that lcore's FlowTable, so a flow is analysed wherever it arrives.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <rte_mbuf.h>

#include "agent/dataplane/clock.h"
#include "agent/dataplane/lcore_counters.h"
#include "agent/dataplane/live_histogram.h"
#include "agent/dataplane/traffic_plan.h"
#include "lib/stats/flow_analyzer.h"
#include "lib/stats/latency_histogram.h"

namespace netrig::agent::dataplane {

// Live receive counters of one stream on one lcore, for interim statistics. Single writer (the
// lcore owning the FlowTable); the control thread reads them while the trial runs.
struct alignas(64) LiveStreamRx {
  Counter packets;        // probe frames of the stream's flows, as FlowStats::rx_packets
  Counter bytes;          // their frame bytes incl. FCS, as FlowStats::rx_bytes
  LiveHistogram latency;  // one-way delay of unique, non-late frames
};

// Per-lcore receive state: one FlowRxState per flow of the plan and one latency histogram per
// stream. Allocated (zeroed, cache-line aligned) by the control thread before the trial.
class FlowTable {
 public:
  explicit FlowTable(const RxPlan& plan);
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  const RxPlan& plan() const { return plan_; }
  stats::FlowRxState* states() { return states_.get(); }
  const stats::FlowRxState& state(uint32_t flow) const { return states_.get()[flow]; }
  stats::LatencyHistogram& histogram(uint32_t stream) { return histograms_[stream]; }
  const stats::LatencyHistogram& histogram(uint32_t stream) const { return histograms_[stream]; }
  // Any thread, while the lcore runs.
  const LiveStreamRx& live(uint32_t stream) const { return live_[stream]; }
  uint32_t stream_count() const { return static_cast<uint32_t>(histograms_.size()); }
  // Stream owning a flow id (streams own ascending contiguous ranges; few streams).
  uint32_t StreamOf(uint32_t flow) const {
    uint32_t s = 0;
    const uint32_t n = static_cast<uint32_t>(plan_.stream_first_flow.size());
    while (s + 1 < n && flow >= plan_.stream_first_flow[s + 1]) {
      ++s;
    }
    return s;
  }

 private:
  struct FreeDeleter {
    void operator()(stats::FlowRxState* p) const;
  };
  const RxPlan& plan_;
  std::unique_ptr<stats::FlowRxState, FreeDeleter> states_;
  std::vector<stats::LatencyHistogram> histograms_;
  std::unique_ptr<LiveStreamRx[]> live_;  // [stream_count()]
  stats::AnalyzerConfig config_;
  friend class RxEngine;
  friend class RxAnalyzer;
};

// The per-burst analysis, separate from polling so benchmarks and tests can feed it frames.
class RxAnalyzer {
 public:
  RxAnalyzer(FlowTable& table, const TscClock& clock, LcoreCounters& counters);
  // Analyses `n` frames received at rx_tsc. Does not free them.
  void Analyze(rte_mbuf* const* pkts, uint16_t n, uint64_t rx_tsc);
  // The same on raw frames (data pointers and lengths), for DPDK-free benchmarks and tests.
  void AnalyzeRaw(const uint8_t* const* data, const uint16_t* len, uint16_t n, uint64_t rx_ns);

 private:
  FlowTable& table_;
  const TscClock& clock_;
  LcoreCounters& counters_;
};

class RxEngine {
 public:
  RxEngine(uint16_t port_id, uint16_t queue_id, FlowTable& table, const TscClock& clock,
           LcoreCounters& counters);
  // Polls once; returns frames received.
  uint16_t Step();

 private:
  uint16_t port_id_;
  uint16_t queue_id_;
  RxAnalyzer analyzer_;
  LcoreCounters& counters_;
};

}  // namespace netrig::agent::dataplane
