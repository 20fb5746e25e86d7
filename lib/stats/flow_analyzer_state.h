// Layout of FlowRxState and the inline OnPacket() fast path.
// Include lib/stats/flow_analyzer.h, not this file: it relies on Arrival, AnalyzerConfig and
// LatencyHistogram being declared before it.
//
// Size. The hot path (a consecutive in-order arrival: the case at line rate) reads and writes
// only the first two cache lines. The other three hold the two tracked sequence discontinuities
// and the per-flow reordering / duplicate / late / anomaly counters. These are touched only on
// a discontinuity, a reordered arrival, a duplicate, a late packet, a negative delay or the
// first packet. All counters are 64-bit: a soak test at line rate on one flow must not wrap
// them. The result is 320 bytes (5 cache lines). 192 bytes would mean dropping the second
// discontinuity record and the reordering-gap state, and narrowing counters to 32 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace netrig::stats {

// One jump of the in-order stream (RFC 4737 §3.3 discontinuity). Its packet s[j] is the
// reordering discontinuity (§4.2.3, §4.5.3) of every later arrival in [gap_lo, seq). No arrival
// before j can be above gap_lo, so j is the smallest index whose sequence number is above such
// a packet. That makes e = i - j exact.
// Zero-initialised, the range is empty and nothing matches.
struct SeqDiscontinuity {
  uint32_t gap_lo;    // NextExp before the jump: the first missing sequence number
  uint32_t seq;       // s[j]; the gap is [gap_lo, seq)
  uint32_t index_lo;  // j mod 2^32 (extents are differences; exact below 2^32 packets)
  uint32_t bytes_lo;  // in-order bytes before s[j], mod 2^32 (byte offsets exact below 4 GiB)
  uint64_t rx_ns;     // DstTime(j)
};
static_assert(sizeof(SeqDiscontinuity) == 24);

// Per-flow receive state. Plain data: all-zero bytes are a fresh flow (the agent allocates
// arrays with memset 0). Single writer, the lcore that owns the flow table. Read it on another
// thread only after that lcore has stopped, or on a copy.
struct alignas(64) FlowRxState {
  // ---- Cache line 0 (hot) ----
  uint64_t rx_bytes;    // every copy: unique, reordered, duplicate, late
  uint64_t unique;      // L of RFC 4737 and arrival index i of the last unique packet (1-based)
  uint64_t last_rx_ns;  // latest unique arrival
  uint64_t max_gap_ns;  // largest gap between successive unique arrivals
  uint64_t lat_min_ns;  // valid when unique > 0
  uint64_t lat_max_ns;
  uint64_t lat_sum_ns;
  uint32_t next_exp;  // NextExp (§3.3); valid when unique > 0
  uint32_t last_seq;  // sequence number of the last unique arrival
  // ---- Cache line 1 (hot) ----
  uint64_t dup_window;     // bit k set: NextExp - 1 - k was received (or seen late)
  uint64_t prev_delay_ns;  // delay of the last unique arrival (the IPDV reference)
  int64_t ipdv_min_ns;     // valid when ipdv_count > 0
  int64_t ipdv_max_ns;
  uint64_t ipdv_abs_sum_ns;
  uint64_t ipdv_count;
  uint64_t jitter_q4;      // RFC 3550 J scaled by 16 (A.8 integer form)
  uint64_t inorder_bytes;  // bytes of in-order arrivals (for the §4.4 byte offset)
  // ---- Cache line 2: sequence discontinuities (in-order path, only when the stream jumps) ----
  SeqDiscontinuity disc[2];  // [0] newest
  uint64_t seq_discontinuities;
  uint32_t last_reordered_seq;
  uint32_t max_n_reordering;
  // ---- Cache lines 3-4: reordered / duplicate / late / anomaly paths ----
  uint64_t reordered;
  uint64_t duplicates;
  uint64_t late;
  uint64_t first_rx_ns;           // first unique arrival
  uint64_t last_reordered_index;  // arrival index of the last reordered packet (0: none)
  uint64_t runs_q;                // §4.6.3 q = sum of r^2 (saturating)
  uint64_t late_time_sum_ns;
  uint64_t n_reordered_1;
  uint64_t n_reordered_3;
  uint64_t extent_unknown;  // reordered arrivals whose discontinuity is no longer tracked
  uint64_t beyond_window;   // reordered arrivals older than the duplicate window
  uint64_t negative_delay;
  uint64_t last_rdisc_index;  // j of the last reordering discontinuity (§4.5; 0: none)
  uint64_t last_rdisc_rx_ns;
  uint64_t reordering_discontinuities;
  uint32_t max_extent;
  uint32_t reserved;
};

static_assert(std::is_trivially_copyable_v<FlowRxState> && std::is_standard_layout_v<FlowRxState>);
static_assert(alignof(FlowRxState) == 64);
static_assert(sizeof(FlowRxState) == 320, "5 cache lines; see the comment at the top");
// The consecutive in-order path touches only fields in the first 128 bytes.
static_assert(offsetof(FlowRxState, inorder_bytes) + sizeof(uint64_t) <= 128);
static_assert(offsetof(FlowRxState, disc) == 128);
static_assert(offsetof(FlowRxState, reordered) == 192);

namespace detail {

// Everything except a consecutive in-order arrival: the first packet, discontinuities,
// reordered, duplicate, late and negative-delay packets. Defined out of line in flow_analyzer.cc
// so the inlined fast path stays small.
Arrival OnPacketSlow(FlowRxState& f, uint32_t seq, uint64_t tx_ns, uint64_t rx_ns, uint32_t bytes,
                     const AnalyzerConfig& cfg, LatencyHistogram* hist);

// Arrival time, latency and histogram of a unique, non-late packet (all paths).
inline void AccountArrival(FlowRxState& f, uint64_t delay_ns, uint64_t rx_ns,
                           LatencyHistogram* hist) {
  if (rx_ns >= f.last_rx_ns) {  // RX timestamps that step back are not a gap
    const uint64_t gap = rx_ns - f.last_rx_ns;
    f.max_gap_ns = gap > f.max_gap_ns ? gap : f.max_gap_ns;
    f.last_rx_ns = rx_ns;
  }
  f.lat_sum_ns += delay_ns;
  f.lat_min_ns = delay_ns < f.lat_min_ns ? delay_ns : f.lat_min_ns;
  f.lat_max_ns = delay_ns > f.lat_max_ns ? delay_ns : f.lat_max_ns;
  if (hist != nullptr) {
    hist->Record(delay_ns);
  }
}

// RFC 3393 IPDV of (previous unique arrival, this one) when their sequence numbers are
// consecutive; RFC 3550 jitter from its absolute value.
inline void AccountIpdv(FlowRxState& f, uint64_t delay_ns) {
  // Modular difference read as signed: exact while |ipdv| < 2^63 ns.
  const int64_t ipdv = static_cast<int64_t>(delay_ns - f.prev_delay_ns);
  const uint64_t abs_ipdv =
      ipdv < 0 ? uint64_t{0} - static_cast<uint64_t>(ipdv) : static_cast<uint64_t>(ipdv);
  f.ipdv_min_ns = ipdv < f.ipdv_min_ns ? ipdv : f.ipdv_min_ns;
  f.ipdv_max_ns = ipdv > f.ipdv_max_ns ? ipdv : f.ipdv_max_ns;
  f.ipdv_abs_sum_ns += abs_ipdv;
  ++f.ipdv_count;
  // J += (|D| - J) / 16 with J kept as 16 * J (RFC 3550 A.8); never negative.
  f.jitter_q4 += abs_ipdv - ((f.jitter_q4 + 8) >> 4);
}

}  // namespace detail

inline Arrival OnPacket(FlowRxState& f, uint32_t seq, uint64_t tx_ns, uint64_t rx_ns,
                        uint32_t bytes, const AnalyzerConfig& cfg, LatencyHistogram* hist) {
  const uint64_t delay = rx_ns - tx_ns;
  // Fast path: s == NextExp and the previous unique arrival was s - 1 (so the IPDV pair is
  // defined), not late, non-negative delay. A fresh state (next_exp == last_seq == 0) never
  // matches, so the first packet takes the slow path.
  if (seq != f.next_exp || f.last_seq + 1 != seq || rx_ns < tx_ns ||
      delay > cfg.late_threshold_ns) {
    return detail::OnPacketSlow(f, seq, tx_ns, rx_ns, bytes, cfg, hist);
  }
  f.rx_bytes += bytes;
  f.inorder_bytes += bytes;
  ++f.unique;
  f.next_exp = seq + 1;
  f.last_seq = seq;
  f.dup_window = (f.dup_window << 1) | 1;
  detail::AccountArrival(f, delay, rx_ns, hist);
  detail::AccountIpdv(f, delay);
  f.prev_delay_ns = delay;
  return Arrival{};
}

}  // namespace netrig::stats
