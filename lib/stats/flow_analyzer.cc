#include "lib/stats/flow_analyzer.h"

#include <algorithm>
#include <limits>

namespace netrig::stats {
namespace {

constexpr uint32_t kWindowBits = 64;

uint64_t SatAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

uint64_t SatSquare(uint64_t a) {
  uint64_t r;
  return __builtin_mul_overflow(a, a, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

// True when serial number a precedes b (RFC 1982 over 32 bits).
bool SeqBefore(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// The tracked discontinuity whose gap [gap_lo, seq) holds `seq`, or null.
const SeqDiscontinuity* FindDiscontinuity(const FlowRxState& f, uint32_t seq) {
  for (const SeqDiscontinuity& d : f.disc) {
    if (seq - d.gap_lo < d.seq - d.gap_lo) {
      return &d;
    }
  }
  return nullptr;
}

// RFC 4737 §4.2-§4.6 bookkeeping for reordered arrival `i` with sequence number `seq`.
void AccountReordered(FlowRxState& f, uint32_t seq, uint64_t i, uint64_t rx_ns, Arrival& a) {
  ++f.reordered;
  // §4.6.3: q += r^2 where r counts the in-order arrivals since the previous reordered one.
  // No trailing term is added at the end of the sample (RFC 4737 §7.4 gives q = 50).
  f.runs_q = SatAdd(f.runs_q, SatSquare(i - 1 - f.last_reordered_index));

  if (const SeqDiscontinuity* d = FindDiscontinuity(f, seq); d != nullptr) {
    // §4.2.3: e = i - j. §4.3.3: LateTime = DstTime(i) - DstTime(i - e).
    const uint32_t e = static_cast<uint32_t>(i) - d->index_lo;
    const uint64_t j = i - e;
    a.extent = e;
    a.late_time_ns = rx_ns >= d->rx_ns ? rx_ns - d->rx_ns : 0;
    // §4.4.3 counts the packets after j that are above s. All in-order arrivals since j are.
    // Reordered ones in between are left out: exact when the reordered packets of one gap
    // arrive in ascending order.
    a.byte_offset = static_cast<uint32_t>(static_cast<uint32_t>(f.inorder_bytes) - d->bytes_lo);
    // §5.3: n = number of immediately preceding arrivals above s. Everything after the last
    // reordered arrival r is in order (so above s). If r came after j and is below s, that is
    // exact. Otherwise e is the answer when no reordered arrival below s sits between j and r.
    // That holds when one gap's packets arrive ascending, or all descending. It is an upper
    // bound otherwise.
    uint64_t n = e;
    if (f.last_reordered_index != 0 && i - f.last_reordered_index < e &&
        SeqBefore(f.last_reordered_seq, seq)) {
      n = i - f.last_reordered_index - 1;
    }
    a.n_reordering = static_cast<uint32_t>(n);
    // §4.5: first packet to find a discontinuity later than the last reordering discontinuity
    // makes it the new one; the gap is measured from the previous one.
    if (j > f.last_rdisc_index) {
      ++f.reordering_discontinuities;
      if (f.last_rdisc_index != 0) {
        const uint64_t gap = j - f.last_rdisc_index;
        a.gap_defined = true;
        a.gap = gap > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(gap);
        a.gap_time_ns = d->rx_ns - f.last_rdisc_rx_ns;
      }
      f.last_rdisc_index = j;
      f.last_rdisc_rx_ns = d->rx_ns;
    }
    f.max_extent = std::max(f.max_extent, e);
    f.late_time_sum_ns += a.late_time_ns;
    f.n_reordered_1 += n >= 1 ? 1 : 0;
    f.n_reordered_3 += n >= 3 ? 1 : 0;
    f.max_n_reordering = std::max(f.max_n_reordering, a.n_reordering);
  } else {
    ++f.extent_unknown;
  }
  f.last_reordered_index = i;
  f.last_reordered_seq = seq;
}

}  // namespace

namespace detail {

Arrival OnPacketSlow(FlowRxState& f, uint32_t seq, uint64_t tx_ns, uint64_t rx_ns, uint32_t bytes,
                     const AnalyzerConfig& cfg, LatencyHistogram* hist) {
  Arrival a;
  f.rx_bytes += bytes;
  uint64_t delay = rx_ns - tx_ns;
  if (rx_ns < tx_ns) {
    ++f.negative_delay;
    delay = 0;
  }
  const bool started = f.unique != 0;
  const int32_t d = static_cast<int32_t>(seq - f.next_exp);
  // For s < NextExp: distance below NextExp - 1, i.e. the window bit of s.
  const uint32_t back = static_cast<uint32_t>(-(static_cast<int64_t>(d) + 1));
  const bool in_window = started && d < 0 && back < kWindowBits;

  // §3.6: only the first copy counts. A copy of a late packet is a duplicate too.
  if (in_window && ((f.dup_window >> back) & 1) != 0) {
    ++f.duplicates;
    a.kind = ArrivalKind::kDuplicate;
    return a;
  }
  // RFC 4737 dT / RFC 5481 §8.6: beyond the loss-wait threshold the packet is lost. It
  // leaves NextExp alone. Inside the window it is marked, so later copies are duplicates
  // and not resurrected.
  if (delay > cfg.late_threshold_ns) {
    ++f.late;
    if (in_window) {
      f.dup_window |= uint64_t{1} << back;
    }
    a.kind = ArrivalKind::kLate;
    return a;
  }

  const uint64_t i = ++f.unique;
  if (!started) {
    // §3.6: the first packet is in order whatever its sequence number.
    f.first_rx_ns = rx_ns;
    f.last_rx_ns = rx_ns;
    f.lat_min_ns = delay;
    f.lat_max_ns = delay;
    f.ipdv_min_ns = std::numeric_limits<int64_t>::max();
    f.ipdv_max_ns = std::numeric_limits<int64_t>::min();
    f.next_exp = seq + 1;
    f.dup_window = 1;
    f.inorder_bytes += bytes;
  } else if (d >= 0) {
    if (d > 0) {
      a.discontinuity = true;
      a.discontinuity_size = static_cast<uint32_t>(d);
      ++f.seq_discontinuities;
      f.disc[1] = f.disc[0];
      f.disc[0] = SeqDiscontinuity{f.next_exp, seq, static_cast<uint32_t>(i),
                                   static_cast<uint32_t>(f.inorder_bytes), rx_ns};
    }
    f.dup_window = d >= static_cast<int32_t>(kWindowBits) - 1 ? 1 : (f.dup_window << (d + 1)) | 1;
    f.next_exp = seq + 1;
    f.inorder_bytes += bytes;
  } else {
    a.kind = ArrivalKind::kReordered;
    if (back < kWindowBits) {
      f.dup_window |= uint64_t{1} << back;
    } else {
      ++f.beyond_window;
    }
    AccountReordered(f, seq, i, rx_ns, a);
  }

  AccountArrival(f, delay, rx_ns, hist);
  if (started && seq == f.last_seq + 1) {
    AccountIpdv(f, delay);
  }
  f.last_seq = seq;
  f.prev_delay_ns = delay;
  return a;
}

}  // namespace detail

FlowSummary Summarize(const FlowRxState& f, uint64_t tx_packets) {
  FlowSummary s;
  s.tx_packets = tx_packets;
  s.rx_packets = f.unique + f.duplicates + f.late;
  s.rx_bytes = f.rx_bytes;
  s.unique_packets = f.unique;
  s.duplicates = f.duplicates;
  s.late = f.late;
  s.reordered = f.reordered;
  s.max_extent = f.max_extent;
  s.n_reordered_1 = f.n_reordered_1;
  s.n_reordered_3 = f.n_reordered_3;
  s.max_n_reordering = f.max_n_reordering;
  s.seq_discontinuities = f.seq_discontinuities;
  s.late_time_sum_ns = f.late_time_sum_ns;
  s.extent_unknown = f.extent_unknown;
  s.beyond_window = f.beyond_window;
  s.reordering_discontinuities = f.reordering_discontinuities;
  s.runs_p = f.unique;
  s.runs_a = f.unique - f.reordered;
  s.runs_x = f.reordered;
  s.runs_q = f.runs_q;
  s.negative_delay = f.negative_delay;
  if (f.unique > 0) {
    s.latency_count = f.unique;
    s.latency_min_ns = f.lat_min_ns;
    s.latency_max_ns = f.lat_max_ns;
    s.first_rx_ns = f.first_rx_ns;
    s.last_rx_ns = f.last_rx_ns;
    s.max_gap_ns = f.max_gap_ns;
  }
  if (f.ipdv_count > 0) {
    s.ipdv_count = f.ipdv_count;
    s.ipdv_min_ns = f.ipdv_min_ns;
    s.ipdv_max_ns = f.ipdv_max_ns;
  }
  if (f.unique > 0) {
    s.latency_avg_ns = static_cast<double>(f.lat_sum_ns) / static_cast<double>(f.unique);
  }
  if (f.ipdv_count > 0) {
    s.ipdv_mean_abs_ns = static_cast<double>(f.ipdv_abs_sum_ns) / static_cast<double>(f.ipdv_count);
  }
  s.jitter_rfc3550_ns = static_cast<double>(f.jitter_q4) / 16.0;
  s.lost = static_cast<int64_t>(tx_packets) - static_cast<int64_t>(f.unique);
  s.loss_ratio = tx_packets > 0 && s.lost > 0
                     ? static_cast<double>(s.lost) / static_cast<double>(tx_packets)
                     : 0;
  s.reordered_ratio =
      f.unique > 0 ? static_cast<double>(f.reordered) / static_cast<double>(f.unique) : 0;
  s.pdv_max_ns = s.latency_max_ns - s.latency_min_ns;
  return s;
}

void MergeSummary(FlowSummary& a, const FlowSummary& b) {
  const FlowSummary old = a;
  a.tx_packets += b.tx_packets;
  a.rx_packets += b.rx_packets;
  a.rx_bytes += b.rx_bytes;
  a.unique_packets += b.unique_packets;
  a.duplicates += b.duplicates;
  a.late += b.late;
  a.reordered += b.reordered;
  a.max_extent = std::max(a.max_extent, b.max_extent);
  a.n_reordered_1 += b.n_reordered_1;
  a.n_reordered_3 += b.n_reordered_3;
  a.max_n_reordering = std::max(a.max_n_reordering, b.max_n_reordering);
  a.seq_discontinuities += b.seq_discontinuities;
  a.late_time_sum_ns += b.late_time_sum_ns;
  a.extent_unknown += b.extent_unknown;
  a.beyond_window += b.beyond_window;
  a.reordering_discontinuities += b.reordering_discontinuities;
  a.runs_p += b.runs_p;
  a.runs_a += b.runs_a;
  a.runs_x += b.runs_x;
  a.runs_q = SatAdd(a.runs_q, b.runs_q);
  a.negative_delay += b.negative_delay;

  if (b.latency_count > 0) {
    if (old.latency_count == 0) {
      a.latency_min_ns = b.latency_min_ns;
      a.latency_max_ns = b.latency_max_ns;
      a.first_rx_ns = b.first_rx_ns;
      a.last_rx_ns = b.last_rx_ns;
      a.max_gap_ns = b.max_gap_ns;
    } else {
      a.latency_min_ns = std::min(a.latency_min_ns, b.latency_min_ns);
      a.latency_max_ns = std::max(a.latency_max_ns, b.latency_max_ns);
      a.first_rx_ns = std::min(a.first_rx_ns, b.first_rx_ns);
      a.last_rx_ns = std::max(a.last_rx_ns, b.last_rx_ns);
      // Gaps of the interleaved stream cannot be recovered; the larger half's is an upper bound.
      a.max_gap_ns = std::max(a.max_gap_ns, b.max_gap_ns);
    }
    a.latency_count = old.latency_count + b.latency_count;
    a.latency_avg_ns = (old.latency_avg_ns * static_cast<double>(old.latency_count) +
                        b.latency_avg_ns * static_cast<double>(b.latency_count)) /
                       static_cast<double>(a.latency_count);
  }
  if (b.ipdv_count > 0) {
    if (old.ipdv_count == 0) {
      a.ipdv_min_ns = b.ipdv_min_ns;
      a.ipdv_max_ns = b.ipdv_max_ns;
    } else {
      a.ipdv_min_ns = std::min(a.ipdv_min_ns, b.ipdv_min_ns);
      a.ipdv_max_ns = std::max(a.ipdv_max_ns, b.ipdv_max_ns);
    }
    a.ipdv_count = old.ipdv_count + b.ipdv_count;
    const double wa = static_cast<double>(old.ipdv_count);
    const double wb = static_cast<double>(b.ipdv_count);
    a.ipdv_mean_abs_ns = (old.ipdv_mean_abs_ns * wa + b.ipdv_mean_abs_ns * wb) / (wa + wb);
    // The RFC 3550 estimator is a running filter; the pair-weighted mean is an approximation.
    a.jitter_rfc3550_ns = (old.jitter_rfc3550_ns * wa + b.jitter_rfc3550_ns * wb) / (wa + wb);
  }

  a.lost = static_cast<int64_t>(a.tx_packets) - static_cast<int64_t>(a.unique_packets);
  a.loss_ratio = a.tx_packets > 0 && a.lost > 0
                     ? static_cast<double>(a.lost) / static_cast<double>(a.tx_packets)
                     : 0;
  a.reordered_ratio = a.unique_packets > 0
                          ? static_cast<double>(a.reordered) / static_cast<double>(a.unique_packets)
                          : 0;
  a.pdv_max_ns = a.latency_max_ns - a.latency_min_ns;
}

std::vector<std::optional<double>> ReferenceIpdv(const std::vector<std::optional<double>>& d) {
  std::vector<std::optional<double>> out(d.size());
  for (size_t i = 1; i < d.size(); ++i) {
    if (d[i].has_value() && d[i - 1].has_value()) {
      out[i] = *d[i] - *d[i - 1];
    }
  }
  return out;
}

std::vector<std::optional<double>> ReferencePdv(const std::vector<std::optional<double>>& d) {
  std::optional<double> min;
  for (const auto& v : d) {
    if (v.has_value() && (!min.has_value() || *v < *min)) {
      min = v;
    }
  }
  std::vector<std::optional<double>> out(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i].has_value()) {
      out[i] = *d[i] - *min;
    }
  }
  return out;
}

}  // namespace netrig::stats
