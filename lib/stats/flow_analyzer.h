// Per-flow receive analysis: counters, loss, duplicates, RFC 4737 reordering, latency,
// RFC 3393 / RFC 5481 delay variation, arrival times and the largest inter-arrival gap.
//
// FlowRxState is plain data, zero-initialised for a fresh flow, owned by one lcore.
// OnPacket() is the data-plane update: inline, no allocation, no locks, no floating point.
// Summarize() turns a state into reportable numbers on the control thread.
//
// Sequence numbers are 32-bit and compared with serial-number arithmetic (RFC 1982), so a
// flow may wrap past 2^32 without being declared reordered.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/stats/latency_histogram.h"

namespace netrig::stats {

// What one arrival was. The data plane ignores it; tests and tools read it.
enum class ArrivalKind : uint8_t {
  kInOrder,    // s >= NextExp (RFC 4737 §3.3)
  kReordered,  // s < NextExp, first copy
  kDuplicate,  // a copy of a sequence number already received (RFC 4737 §3.6: not reordered)
  kLate,       // delay above AnalyzerConfig::late_threshold_ns: counted as lost, no stats
};

struct Arrival {
  ArrivalKind kind = ArrivalKind::kInOrder;
  bool discontinuity = false;       // in-order with s > NextExp (§3.3)
  uint32_t discontinuity_size = 0;  // s - NextExp
  // Reordered packets only (0 when unknown, e.g. older than the tracked history):
  uint32_t extent = 0;         // §4.2.3: e = i - j, smallest j with s[j] > s[i]
  uint64_t late_time_ns = 0;   // §4.3.3: DstTime(i) - DstTime(i - e)
  uint64_t byte_offset = 0;    // §4.4.3: bytes of in-order packets since the discontinuity
  uint32_t n_reordering = 0;   // §5.3: largest n for which the packet is n-reordered
  bool gap_defined = false;    // §4.5: this reordering discontinuity follows an earlier one
  uint32_t gap = 0;            //       j' - j (packets) between successive discontinuities
  uint64_t gap_time_ns = 0;    //       DstTime(j') - DstTime(j)
};

struct AnalyzerConfig {
  // RFC 7640 §4.1 / RFC 5481 §8.6 loss-wait threshold: a packet whose one-way delay exceeds it
  // is late, counted as lost and kept out of the latency statistics.
  uint64_t late_threshold_ns = UINT64_MAX;
};

// See flow_analyzer_state.h for the layout (320 bytes; the in-order path touches the first 128).
struct FlowRxState;

}  // namespace netrig::stats

#include "lib/stats/flow_analyzer_state.h"  // IWYU pragma: export

namespace netrig::stats {

// Updates `f` for one received test packet. `bytes` is the frame size as counted for rates
// (the caller decides: data length, or data length + FCS). `hist` (may be null) records the
// one-way delay of non-late packets. rx_ns < tx_ns (clock problem) records delay 0 and counts
// it in negative_delay.
//
// Classification, in this order:
//  - Duplicate: a copy of a sequence number in the 64-bit window just below NextExp that was
//    already received, or already seen late. Copies older than the window cannot be
//    recognised. Such an arrival is counted as reordered (and unique) in beyond_window.
//  - Late (delay > late_threshold_ns): lost, with no statistics. It leaves NextExp unchanged.
//    If it falls in the window it is marked there, so later copies are duplicates: only the
//    first copy counts, and it was lost.
//  - In order (s >= NextExp; the first packet of a flow always is) or reordered.
// Reordering detail (extent, late time, byte offset, n-reordering, gap) comes from the last
// two sequence discontinuities. A reordered packet from an older gap has extent 0 and is
// counted in extent_unknown. The byte offset counts in-order bytes since the discontinuity.
// n-reordering is exact when the last reordered arrival is below s, or when no reordered
// arrival below s came between the discontinuity and this one (one gap's packets arriving
// ascending or descending). Otherwise it is the upper bound e.
// IPDV is taken only between a unique arrival and the previous unique arrival when their
// sequence numbers are consecutive. Pairs split by reordering or loss are skipped;
// ReferenceIpdv() gives the exact RFC 5481 sending-order values offline.
// first_rx_ns / last_rx_ns / max_gap_ns refer to unique arrivals. RX times stepping back are
// not gaps.
inline Arrival OnPacket(FlowRxState& f, uint32_t seq, uint64_t tx_ns, uint64_t rx_ns,
                        uint32_t bytes, const AnalyzerConfig& cfg, LatencyHistogram* hist);

// Reportable per-flow numbers.
struct FlowSummary {
  uint64_t tx_packets = 0;      // from the sender (caller-provided)
  uint64_t rx_packets = 0;      // every copy received, duplicates and late included
  uint64_t rx_bytes = 0;
  uint64_t unique_packets = 0;  // first copies, late excluded (RFC 4737 L)
  uint64_t duplicates = 0;
  uint64_t late = 0;
  int64_t lost = 0;             // tx_packets - unique_packets (late count as lost); < 0 means
                                // more unique packets than sent (misconfiguration)
  double loss_ratio = 0;        // lost / tx_packets, 0..1 (0 when nothing was sent)
  uint64_t reordered = 0;
  double reordered_ratio = 0;   // §4.1.3: reordered / unique_packets
  uint32_t max_extent = 0;
  uint64_t n_reordered_1 = 0;   // packets that are 1-reordered (degree of 1-reordering * L)
  uint64_t n_reordered_3 = 0;   // packets that are 3-reordered (TCP dupACK threshold)
  uint32_t max_n_reordering = 0;
  uint64_t seq_discontinuities = 0;  // §3.3 discontinuities (gaps in the sequence)
  uint64_t late_time_sum_ns = 0;     // sum over reordered packets, for a mean late time
                                     // (divide by reordered - extent_unknown)
  // Reordered packets whose discontinuity was no longer tracked (only the last two are kept):
  // extent, late time, byte offset and n-reordering are unknown for them and left out.
  uint64_t extent_unknown = 0;
  // Reordered packets older than the 64-packet duplicate window. They cannot be checked for
  // duplication: a copy arriving that far behind is counted as unique and reordered.
  uint64_t beyond_window = 0;
  // §4.5 reordering discontinuities: distinct s[j] that at least one reordered packet found.
  uint64_t reordering_discontinuities = 0;
  // §4.6 reordering-free runs over the unique arrivals.
  uint64_t runs_p = 0, runs_a = 0, runs_x = 0, runs_q = 0;
  // Latency (one-way delay) over unique, non-late packets, ns.
  uint64_t latency_count = 0;
  uint64_t latency_min_ns = 0;
  uint64_t latency_max_ns = 0;
  double latency_avg_ns = 0;
  uint64_t negative_delay = 0;
  // RFC 3393 IPDV over consecutive sequence numbers received back to back, ns.
  uint64_t ipdv_count = 0;
  int64_t ipdv_min_ns = 0;
  int64_t ipdv_max_ns = 0;
  double ipdv_mean_abs_ns = 0;
  double jitter_rfc3550_ns = 0;  // J += (|ipdv| - J) / 16
  // RFC 5481 PDV range: max delay - min delay (percentiles come from the histogram).
  uint64_t pdv_max_ns = 0;
  uint64_t first_rx_ns = 0;
  uint64_t last_rx_ns = 0;
  uint64_t max_gap_ns = 0;  // largest inter-arrival gap between unique packets
};

FlowSummary Summarize(const FlowRxState& f, uint64_t tx_packets);

// Adds `b` into `a` (same flow seen on several lcores/queues): counters add, min/max combine,
// means are weighted. Reordering across the two halves cannot be recovered and is not invented.
void MergeSummary(FlowSummary& a, const FlowSummary& b);

// RFC 5481 reference computations over a sample in sending order (std::nullopt = lost /
// undefined delay), used by tests and offline tools.
// IPDV(i) = D(i) - D(i-1), undefined when either delay is undefined or for i = 0.
std::vector<std::optional<double>> ReferenceIpdv(const std::vector<std::optional<double>>& d);
// PDV(i) = D(i) - min(D), undefined where D(i) is.
std::vector<std::optional<double>> ReferencePdv(const std::vector<std::optional<double>>& d);

}  // namespace netrig::stats
