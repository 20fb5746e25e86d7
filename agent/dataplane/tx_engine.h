// Transmit side of one stream on one port queue: builds frames from per-flow templates,
// stamps the signature (flow id, sequence number, TX time), paces on the TSC and hands bursts
// to rte_eth_tx_burst. Control thread: construct, Arm(). Owning lcore: Step(). After the
// lcore stopped: Finish() and the per-flow counters.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

#include "agent/dataplane/clock.h"
#include "agent/dataplane/lcore_counters.h"
#include "agent/dataplane/traffic_plan.h"

namespace netrig::agent::dataplane {

class TxEngine {
 public:
  TxEngine(const StreamPlan& plan, const TscClock& clock, rte_mempool* pool,
           LcoreCounters& counters);
  TxEngine(const TxEngine&) = delete;
  TxEngine& operator=(const TxEngine&) = delete;
  ~TxEngine();

  // Transmission runs for TSC times [start_tsc, end_tsc). Control thread, before launch.
  void Arm(uint64_t start_tsc, uint64_t end_tsc);

  // Sends the frames that are due at now_tsc (at most one burst). Returns frames accepted.
  uint16_t Step(uint64_t now_tsc);

  // True once the stream has nothing more to send and nothing pending.
  bool done() const { return done_ && pending_n_ == 0; }
  // TSC time of the next frame (for idle sleeping); UINT64_MAX when done.
  uint64_t next_due_tsc() const;

  // After the lcore stopped: frames stamped but never accepted by the driver are freed and
  // their sequence numbers rolled back, so the receiver never sees them as lost.
  void Finish();

  const StreamPlan& plan() const { return plan_; }
  const std::vector<uint64_t>& flow_tx_packets() const { return flow_packets_; }
  // Bytes sent per flow (frames incl. FCS). Control thread, after Finish().
  std::vector<uint64_t> flow_tx_bytes() const;
  uint64_t tx_packets() const { return tx_packets_; }
  uint64_t tx_bytes() const { return tx_bytes_; }
  uint64_t first_tx_tsc() const { return first_tx_tsc_; }
  uint64_t last_tx_tsc() const { return last_tx_tsc_; }

  // Frames (and their bytes incl. FCS) the driver accepted so far, for interim statistics:
  // any thread may read them while the lcore runs. Final counters come from the accessors
  // above, read after the lcore stopped.
  uint64_t live_tx_packets() const { return live_.packets.Read(); }
  uint64_t live_tx_bytes() const { return live_.bytes.Read(); }

 private:
  // Allocates up to `room` newly due frames into pending_ after the pending ones.
  uint16_t Due(uint64_t now_tsc, uint16_t room);
  uint16_t Stamp(rte_mbuf** bufs, uint16_t n, uint64_t now_tsc);
  void Transmit(uint64_t now_tsc);

  const StreamPlan& plan_;
  const TscClock& clock_;
  rte_mempool* pool_;
  LcoreCounters& counters_;
  const uint32_t sig_offset_;
  const uint32_t copy_len_;
  const bool patch_lengths_;

  uint64_t next_fp_ = 0;  // pacer: due time of the next frame, ticks << kPacerShift
  uint64_t end_fp_ = 0;
  uint64_t burst_left_ = 0;
  uint32_t flow_cursor_ = 0;
  uint32_t size_cursor_ = 0;
  bool done_ = true;
  uint64_t sent_total_ = 0;
  std::vector<uint64_t> flow_packets_;  // per flow: packets sent; low 32 bits = next seq
  std::vector<uint64_t> flow_bytes_;
  uint64_t tx_packets_ = 0;
  uint64_t tx_bytes_ = 0;
  uint64_t first_tx_tsc_ = 0;
  uint64_t last_tx_tsc_ = 0;

  // Single writer (the owning lcore), on its own cache line: the control thread reads it.
  struct alignas(64) Live {
    Counter packets;
    Counter bytes;
  };
  Live live_;

  // Stamped frames the driver did not accept yet, kept in order with their flow index.
  rte_mbuf* pending_[kBurstSize] = {};
  uint32_t pending_flow_[kBurstSize] = {};
  uint16_t pending_off_ = 0;
  uint16_t pending_n_ = 0;
};

}  // namespace netrig::agent::dataplane
