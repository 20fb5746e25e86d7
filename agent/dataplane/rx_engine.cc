#include "agent/dataplane/rx_engine.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "lib/packet/frame.h"
#include "lib/packet/signature.h"

namespace netrig::agent::dataplane {

void FlowTable::FreeDeleter::operator()(stats::FlowRxState* p) const { std::free(p); }

FlowTable::FlowTable(const RxPlan& plan)
    : plan_(plan),
      histograms_(plan.stream_first_flow.empty() ? 1 : plan.stream_first_flow.size()),
      live_(new LiveStreamRx[histograms_.size()]) {
  const size_t n = plan.total_flows == 0 ? 1 : plan.total_flows;
  const size_t bytes = (n * sizeof(stats::FlowRxState) + 63) / 64 * 64;
  void* mem = std::aligned_alloc(64, bytes);
  if (mem == nullptr) {
    throw std::bad_alloc();  // fatal by policy: allocation failure before a trial
  }
  std::memset(mem, 0, bytes);
  states_.reset(static_cast<stats::FlowRxState*>(mem));
  config_.late_threshold_ns = plan.late_threshold_ns;
}

RxAnalyzer::RxAnalyzer(FlowTable& table, const TscClock& clock, LcoreCounters& counters)
    : table_(table), clock_(clock), counters_(counters) {}

namespace {

// Pass 1 result for one frame.
struct Probe {
  uint32_t flow;  // UINT32_MAX: not ours
  uint32_t seq;
  uint64_t tx_ns;
  uint32_t bytes;
};

}  // namespace

void RxAnalyzer::AnalyzeRaw(const uint8_t* const* data, const uint16_t* len, uint16_t n,
                            uint64_t rx_ns) {
  // Two passes: find every frame's flow and prefetch its state, then update. With tens of
  // thousands of flows the state is rarely in L1; overlapping the misses is what keeps the
  // per-packet cost flat.
  Probe probes[kBurstSize];
  stats::FlowRxState* states = table_.states();
  const uint32_t total = table_.plan_.total_flows;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    bytes += len[i];
    const int32_t off = packet::FindSignature(data[i], len[i]);
    if (off < 0) {
      probes[i].flow = UINT32_MAX;
      counters_.rx_not_probe.Add(1);
      continue;
    }
    const uint8_t* sig = data[i] + off;
    const uint32_t flow = packet::LoadBe32(sig + packet::kSigFlowOffset);
    if (flow >= total) {
      probes[i].flow = UINT32_MAX;
      counters_.rx_unknown_flow.Add(1);
      continue;
    }
    probes[i].flow = flow;
    probes[i].seq = packet::LoadBe32(sig + packet::kSigSeqOffset);
    probes[i].tx_ns = packet::LoadBe64(sig + packet::kSigTsOffset);
    probes[i].bytes = len[i] + 4u;  // frame size as RFC 1242 counts it (FCS included)
    rte_prefetch0(&states[flow]);
    rte_prefetch0(reinterpret_cast<const char*>(&states[flow]) + 64);
  }
  counters_.rx_packets.Add(n);
  counters_.rx_bytes.Add(bytes);
  // Live stream counters are added once per run of frames of the same stream (a burst is
  // usually one run), not per frame.
  uint32_t run_stream = UINT32_MAX;
  uint64_t run_packets = 0, run_bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const Probe& p = probes[i];
    if (p.flow == UINT32_MAX) {
      continue;
    }
    const uint32_t stream = table_.StreamOf(p.flow);
    const stats::Arrival a = stats::OnPacket(states[p.flow], p.seq, p.tx_ns, rx_ns, p.bytes,
                                             table_.config_, &table_.histograms_[stream]);
    if (stream != run_stream) {
      if (run_packets != 0) {
        table_.live_[run_stream].packets.Add(run_packets);
        table_.live_[run_stream].bytes.Add(run_bytes);
      }
      run_stream = stream;
      run_packets = 0;
      run_bytes = 0;
    }
    ++run_packets;
    run_bytes += p.bytes;
    if (a.kind == stats::ArrivalKind::kInOrder || a.kind == stats::ArrivalKind::kReordered) {
      table_.live_[stream].latency.Record(rx_ns >= p.tx_ns ? rx_ns - p.tx_ns : 0);
    }
  }
  if (run_packets != 0) {
    table_.live_[run_stream].packets.Add(run_packets);
    table_.live_[run_stream].bytes.Add(run_bytes);
  }
}

void RxAnalyzer::Analyze(rte_mbuf* const* pkts, uint16_t n, uint64_t rx_tsc) {
  const uint8_t* data[kBurstSize];
  uint16_t len[kBurstSize];
  for (uint16_t i = 0; i < n; ++i) {
    data[i] = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    len[i] = rte_pktmbuf_data_len(pkts[i]);
  }
  AnalyzeRaw(data, len, n, clock_.ToNs(rx_tsc));
}

RxEngine::RxEngine(uint16_t port_id, uint16_t queue_id, FlowTable& table, const TscClock& clock,
                   LcoreCounters& counters)
    : port_id_(port_id), queue_id_(queue_id), analyzer_(table, clock, counters), counters_(counters) {}

uint16_t RxEngine::Step() {
  rte_mbuf* pkts[kBurstSize];
  const uint16_t n = rte_eth_rx_burst(port_id_, queue_id_, pkts, kBurstSize);
  if (n == 0) {
    return 0;
  }
  analyzer_.Analyze(pkts, n, rte_rdtsc());
  rte_pktmbuf_free_bulk(pkts, n);
  return n;
}

}  // namespace netrig::agent::dataplane
