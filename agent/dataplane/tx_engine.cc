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

uint16_t TxEngine::Stamp(rte_mbuf** bufs, uint16_t n, uint64_t now_tsc) {
  const uint64_t tx_ns = clock_.ToNs(now_tsc);
  const uint64_t ts_words = ChecksumWords64(tx_ns);
  const uint32_t nflows = plan_.flows;
  const uint32_t nsizes = static_cast<uint32_t>(plan_.sizes.size());
  const FlowTemplate* templates = plan_.templates.data();
  const SizeEntry* sizes = plan_.sizes.data();
  const uint32_t sig = sig_offset_;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = bufs[i];
    const uint32_t f = flow_cursor_;
    flow_cursor_ = (f + 1 == nflows) ? 0 : f + 1;
    const SizeEntry& s = sizes[size_cursor_];
    size_cursor_ = (size_cursor_ + 1 == nsizes) ? 0 : size_cursor_ + 1;
    const FlowTemplate& t = templates[f];
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    rte_memcpy(d, t.bytes, copy_len_);
    m->data_len = s.data_len;
    m->pkt_len = s.data_len;
    if (patch_lengths_) {
      if (plan_.l3 == packet::L3::kIpv4) {
        StoreBe16(d + kIpv4LenOffset, s.ip_len);
        StoreBe16(d + kIpv4CsumOffset, ChecksumFinish(t.ip_header_sum + s.ip_len));
      } else {
        StoreBe16(d + kIpv6LenOffset, s.ip_len);
      }
      StoreBe16(d + sig - packet::kUdpHeaderBytes + 4, s.udp_len);
    }
    const uint32_t seq = static_cast<uint32_t>(flow_packets_[f]);
    ++flow_packets_[f];
    flow_bytes_[f] += s.frame_bytes;
    tx_bytes_ += s.frame_bytes;
    packet::StoreBe32(d + sig + packet::kSigSeqOffset, seq);
    packet::StoreBe64(d + sig + packet::kSigTsOffset, tx_ns);
    if (plan_.udp_checksum) {
      // Template sum + both UDP length words (pseudo-header and header) + payload pattern +
      // the per-frame signature fields.
      const uint64_t sum = t.udp_sum + 2u * s.udp_len + s.payload_sum + ChecksumWords32(seq) +
                           ts_words;
      uint16_t csum = ChecksumFinish(sum);
      if (csum == 0) {
        csum = 0xffff;
      }
      StoreBe16(d + sig - packet::kUdpHeaderBytes + 6, csum);
    }
    pending_flow_[i] = f;
  }
  return n;
}

void TxEngine::Transmit(uint64_t now_tsc) {
  const uint16_t sent = rte_eth_tx_burst(plan_.port_id, plan_.queue_id, pending_ + pending_off_,
                                         pending_n_);
  if (sent > 0) {
    tx_packets_ += sent;
    counters_.tx_packets.Add(sent);
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

uint16_t TxEngine::Step(uint64_t now_tsc) {
  if (pending_n_ > 0) {
    const uint16_t before = pending_n_;
    Transmit(now_tsc);
    return before - pending_n_;
  }
  if (done_) {
    return 0;
  }
  const uint64_t now_fp = now_tsc << kPacerShift;
  if (next_fp_ >= end_fp_ ||
      (plan_.max_packets != 0 && sent_total_ >= plan_.max_packets)) {
    done_ = true;
    return 0;
  }
  if (next_fp_ > now_fp) {
    return 0;
  }
  // How many frames are due now: walk the pacer over the size cycle (cheap: a few adds).
  uint16_t n = 0;
  if (plan_.unlimited) {
    n = kBurstSize;
  } else {
    uint64_t due = next_fp_;
    uint32_t sc = size_cursor_;
    uint64_t burst_left = burst_left_;
    const uint32_t nsizes = static_cast<uint32_t>(plan_.sizes.size());
    while (n < kBurstSize && due <= now_fp && due < end_fp_) {
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
    if (plan_.max_packets != 0) {
      n = static_cast<uint16_t>(std::min<uint64_t>(n, plan_.max_packets - sent_total_));
    }
    if (n == 0) {
      return 0;
    }
    if (rte_pktmbuf_alloc_bulk(pool_, pending_, n) != 0) {
      counters_.tx_alloc_fail.Add(1);
      return 0;  // pacer time not consumed: the frames go out late, not never
    }
    next_fp_ = due;
    burst_left_ = burst_left;
  }
  if (plan_.unlimited) {
    if (plan_.max_packets != 0) {
      n = static_cast<uint16_t>(std::min<uint64_t>(n, plan_.max_packets - sent_total_));
    }
    if (rte_pktmbuf_alloc_bulk(pool_, pending_, n) != 0) {
      counters_.tx_alloc_fail.Add(1);
      return 0;
    }
    if (now_fp >= end_fp_) {
      rte_pktmbuf_free_bulk(pending_, n);
      done_ = true;
      return 0;
    }
  }
  Stamp(pending_, n, now_tsc);
  sent_total_ += n;
  pending_off_ = 0;
  pending_n_ = n;
  const uint16_t before = pending_n_;
  Transmit(now_tsc);
  return before - pending_n_;
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
    flow_bytes_[f] -= bytes;
    tx_bytes_ -= bytes;
  }
  rte_pktmbuf_free_bulk(pending_ + pending_off_, pending_n_);
  sent_total_ -= pending_n_;
  pending_n_ = 0;
  pending_off_ = 0;
}

}  // namespace netrig::agent::dataplane
