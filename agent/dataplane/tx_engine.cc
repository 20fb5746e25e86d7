#include "agent/dataplane/tx_engine.h"

#include <algorithm>
#include <cstring>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_memcpy.h>

#include "lib/packet/checksum.h"
#include "lib/packet/signature.h"

namespace netrig::agent::dataplane {
namespace {

using packet::ChecksumFinish;
using packet::ChecksumWords32;
using packet::ChecksumWords64;
using packet::StoreBe16;

constexpr uint32_t kIpv4LenOffset = packet::kEthHeaderBytes + 2;
constexpr uint32_t kIpv4CsumOffset = packet::kEthHeaderBytes + 10;
constexpr uint32_t kIpv6LenOffset = packet::kEthHeaderBytes + 4;

}  // namespace

TxEngine::TxEngine(const StreamPlan& plan, const TscClock& clock, rte_mempool* pool,
                   LcoreCounters& counters)
    : plan_(plan),
      clock_(clock),
      pool_(pool),
      counters_(counters),
      sig_offset_(packet::SignatureOffset(plan.l3)),
      copy_len_(plan.l3 == packet::L3::kIpv4 ? 64 : kTemplateBytes),
      patch_lengths_(plan.sizes.size() > 1),
      flow_packets_(plan.flows, 0),
      flow_bytes_(plan.flows, 0) {}

TxEngine::~TxEngine() { Finish(); }

void TxEngine::Arm(uint64_t start_tsc, uint64_t end_tsc) {
  next_fp_ = start_tsc << kPacerShift;
  end_fp_ = end_tsc << kPacerShift;
  burst_left_ = plan_.burst_bytes;
  done_ = false;
}

uint64_t TxEngine::next_due_tsc() const {
  if (pending_n_ > 0) {
    return 0;
  }
  return done_ ? UINT64_MAX : (next_fp_ >> kPacerShift);
}

namespace {

// The per-frame loop, specialised on whether lengths must be patched (size cycles) and whether
// a UDP checksum is finished. Everything it touches is held in locals: stores into frame bytes
// (char) may alias any member, which would force reloads on every frame.
template <bool kPatchLengths, bool kUdpChecksum, bool kIpv4>
void StampFrames(rte_mbuf** bufs, uint16_t n, const FlowTemplate* __restrict templates,
                 const SizeEntry* __restrict sizes, uint32_t nflows, uint32_t nsizes,
                 uint32_t copy_len, uint32_t sig, uint64_t tx_ns, uint32_t& flow_cursor,
                 uint32_t& size_cursor, uint64_t* __restrict flow_packets,
                 uint64_t* __restrict flow_bytes, uint32_t* __restrict pending_flow,
                 uint64_t& total_bytes) {
  const uint64_t ts_words = ChecksumWords64(tx_ns);
  uint32_t f = flow_cursor;
  uint32_t sc = size_cursor;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = bufs[i];
    const SizeEntry& s = sizes[sc];
    const FlowTemplate& t = templates[f];
    // Raw mempool objects: rte_pktmbuf_free() left next = NULL and nb_segs = 1; set only what
    // a fresh TX frame needs instead of a full rte_pktmbuf_reset() (testpmd txonly does the same).
    m->data_off = RTE_PKTMBUF_HEADROOM;
    m->ol_flags = 0;
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    rte_memcpy(d, t.bytes, copy_len);
    m->data_len = s.data_len;
    m->pkt_len = s.data_len;
    if constexpr (kPatchLengths) {
      if constexpr (kIpv4) {
        StoreBe16(d + kIpv4LenOffset, s.ip_len);
        StoreBe16(d + kIpv4CsumOffset, ChecksumFinish(t.ip_header_sum + s.ip_len));
      } else {
        StoreBe16(d + kIpv6LenOffset, s.ip_len);
      }
      StoreBe16(d + sig - packet::kUdpHeaderBytes + 4, s.udp_len);
    }
    const uint64_t count = flow_packets[f];
    flow_packets[f] = count + 1;
    if constexpr (kPatchLengths) {
      flow_bytes[f] += s.frame_bytes;  // fixed sizes: derived from the packet count instead
    }
    bytes += s.frame_bytes;
    const uint32_t seq = static_cast<uint32_t>(count);
    packet::StoreBe32(d + sig + packet::kSigSeqOffset, seq);
    packet::StoreBe64(d + sig + packet::kSigTsOffset, tx_ns);
    if constexpr (kUdpChecksum) {
      // Template sum + both UDP length words (pseudo-header and header) + payload pattern +
      // the per-frame signature fields.
      const uint64_t sum =
          t.udp_sum + 2u * s.udp_len + s.payload_sum + ChecksumWords32(seq) + ts_words;
      uint16_t csum = ChecksumFinish(sum);
      if (csum == 0) {
        csum = 0xffff;
      }
      StoreBe16(d + sig - packet::kUdpHeaderBytes + 6, csum);
    }
    pending_flow[i] = f;
    f = (f + 1 == nflows) ? 0 : f + 1;
    if constexpr (kPatchLengths) {
      sc = (sc + 1 == nsizes) ? 0 : sc + 1;
    }
  }
  flow_cursor = f;
  size_cursor = sc;
  total_bytes += bytes;
}

}  // namespace

uint16_t TxEngine::Stamp(rte_mbuf** bufs, uint16_t n, uint64_t now_tsc) {
  const uint64_t tx_ns = clock_.ToNs(now_tsc);
  const uint32_t nflows = plan_.flows;
  const uint32_t nsizes = static_cast<uint32_t>(plan_.sizes.size());
  const bool v4 = plan_.l3 == packet::L3::kIpv4;
  uint32_t fc = flow_cursor_, sc = size_cursor_;
  uint64_t bytes = tx_bytes_;
#define NB_STAMP(P, C, V)                                                                   \
  StampFrames<P, C, V>(bufs, n, plan_.templates.data(), plan_.sizes.data(), nflows, nsizes, \
                       copy_len_, sig_offset_, tx_ns, fc, sc, flow_packets_.data(),         \
                       flow_bytes_.data(), pending_flow_ + (bufs - pending_), bytes)
  if (!patch_lengths_) {
    if (!plan_.udp_checksum) {
      NB_STAMP(false, false, true);
    } else {
      NB_STAMP(false, true, true);
    }
  } else if (v4) {
    if (!plan_.udp_checksum) {
      NB_STAMP(true, false, true);
    } else {
      NB_STAMP(true, true, true);
    }
  } else {
    NB_STAMP(true, true, false);
  }
#undef NB_STAMP
  flow_cursor_ = fc;
  size_cursor_ = sc;
  tx_bytes_ = bytes;
  return n;
}

void TxEngine::Transmit(uint64_t now_tsc) {
  // Frame sizes of a size cycle are read before the burst: the driver may free (and another
  // lcore reuse) every mbuf it accepts.
  const bool size_cycle = patch_lengths_;
  uint16_t sizes[kBurstSize];
  if (size_cycle) {
    for (uint16_t i = 0; i < pending_n_; ++i) {
      sizes[i] = pending_[pending_off_ + i]->data_len;
    }
  }
  const uint16_t sent = rte_eth_tx_burst(plan_.port_id, plan_.queue_id, pending_ + pending_off_,
                                         pending_n_);
  if (sent > 0) {
    tx_packets_ += sent;
    counters_.tx_packets.Add(sent);
    uint64_t bytes = uint64_t{sent} * 4u;  // FCS
    if (size_cycle) {
      for (uint16_t i = 0; i < sent; ++i) {
        bytes += sizes[i];
      }
    } else {
      bytes = uint64_t{sent} * plan_.sizes[0].frame_bytes;
    }
    live_.packets.Add(sent);
    live_.bytes.Add(bytes);
    if (first_tx_tsc_ == 0) {
      first_tx_tsc_ = now_tsc;
    }
    last_tx_tsc_ = now_tsc;
  }
  pending_off_ += sent;
  pending_n_ -= sent;
  if (pending_n_ > 0) {
    counters_.tx_ring_full.Add(1);
  } else {
    pending_off_ = 0;
  }
}

uint16_t TxEngine::Due(uint64_t now_tsc, uint16_t room) {
  if (done_) {
    return 0;
  }
  const uint64_t now_fp = now_tsc << kPacerShift;
  if (plan_.max_packets != 0 && sent_total_ >= plan_.max_packets) {
    done_ = true;
    return 0;
  }
  if (plan_.unlimited) {
    if (now_fp >= end_fp_) {
      done_ = true;
      return 0;
    }
    if (next_fp_ > now_fp) {
      return 0;  // before the start time
    }
    uint16_t n = room;
    if (plan_.max_packets != 0) {
      n = static_cast<uint16_t>(std::min<uint64_t>(n, plan_.max_packets - sent_total_));
    }
    return rte_mempool_get_bulk(pool_, reinterpret_cast<void**>(pending_ + pending_n_), n) == 0
               ? n
               : (counters_.tx_alloc_fail.Add(1), uint16_t{0});
  }
  if (next_fp_ >= end_fp_) {
    done_ = true;
    return 0;
  }
  if (next_fp_ > now_fp) {
    return 0;
  }
  // How many frames are due now: walk the pacer over the size cycle (a few adds per frame).
  uint16_t n = 0;
  uint64_t due = next_fp_;
  uint32_t sc = size_cursor_;
  uint64_t burst_left = burst_left_;
  const uint32_t nsizes = static_cast<uint32_t>(plan_.sizes.size());
  const uint64_t limit =
      plan_.max_packets != 0 ? std::min<uint64_t>(room, plan_.max_packets - sent_total_) : room;
  while (n < limit && due <= now_fp && due < end_fp_) {
    const SizeEntry& s = plan_.sizes[sc];
    sc = (sc + 1 == nsizes) ? 0 : sc + 1;
    due += s.cost_fp;
    if (plan_.burst_bytes != 0) {
      if (burst_left <= s.frame_bytes) {
        due += plan_.gap_fp;
        burst_left = plan_.burst_bytes;
      } else {
        burst_left -= s.frame_bytes;
      }
    }
    ++n;
  }
  if (n == 0) {
    return 0;
  }
  if (rte_mempool_get_bulk(pool_, reinterpret_cast<void**>(pending_ + pending_n_), n) != 0) {
    counters_.tx_alloc_fail.Add(1);
    return 0;  // pacer time not consumed: the frames go out late, not never
  }
  next_fp_ = due;
  burst_left_ = burst_left;
  return n;
}

uint16_t TxEngine::Step(uint64_t now_tsc) {
  // Frames the driver refused last time go first, in order. Top the burst up with newly due
  // frames so every tx_burst call offers a full burst when traffic is due: on AF_XDP each
  // call may cost a wakeup syscall.
  if (pending_off_ != 0) {
    for (uint16_t i = 0; i < pending_n_; ++i) {
      pending_[i] = pending_[pending_off_ + i];
      pending_flow_[i] = pending_flow_[pending_off_ + i];
    }
    pending_off_ = 0;
  }
  const uint16_t n = Due(now_tsc, kBurstSize - pending_n_);
  if (n != 0) {
    Stamp(pending_ + pending_n_, n, now_tsc);
    sent_total_ += n;
    pending_n_ += n;
  }
  if (pending_n_ == 0) {
    return 0;
  }
  const uint16_t before = pending_n_;
  Transmit(now_tsc);
  return before - pending_n_;
}

std::vector<uint64_t> TxEngine::flow_tx_bytes() const {
  if (patch_lengths_) {
    return flow_bytes_;
  }
  std::vector<uint64_t> out(flow_packets_.size());
  for (size_t f = 0; f < out.size(); ++f) {
    out[f] = flow_packets_[f] * plan_.sizes[0].frame_bytes;
  }
  return out;
}

void TxEngine::Finish() {
  if (pending_n_ == 0) {
    return;
  }
  // The unsent frames are the newest of their flows, so undoing their counts leaves every
  // flow's sequence numbers contiguous.
  for (uint16_t i = 0; i < pending_n_; ++i) {
    const uint16_t k = pending_off_ + i;
    const uint32_t f = pending_flow_[k];
    const uint32_t bytes = pending_[k]->data_len + 4u;
    --flow_packets_[f];
    if (patch_lengths_) {
      flow_bytes_[f] -= bytes;
    }
    tx_bytes_ -= bytes;
  }
  rte_pktmbuf_free_bulk(pending_ + pending_off_, pending_n_);
  sent_total_ -= pending_n_;
  pending_n_ = 0;
  pending_off_ = 0;
}

}  // namespace netrig::agent::dataplane
