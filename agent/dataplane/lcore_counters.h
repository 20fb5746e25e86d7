// Per-lcore anomaly and traffic counters. Single writer (the owning lcore); the control thread
// only reads. load + store instead of fetch_add: no lock-prefixed RMW on the hot path.
#pragma once

#include <atomic>
#include <cstdint>

namespace netrig::agent::dataplane {

class Counter {
 public:
  void Add(uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t Read() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct alignas(64) LcoreCounters {
  Counter busy_tsc;  // TSC ticks the loop ran, minus adaptive idle sleeps (BusyMeter)
  Counter loops;
  Counter idle_sleeps;
  Counter tx_packets;
  Counter tx_bytes;
  Counter tx_alloc_fail;   // mempool empty: the pacer retries, offered load may fall short
  Counter tx_ring_full;    // tx_burst accepted fewer than offered; the tail is retried
  Counter rx_packets;      // every frame polled
  Counter rx_bytes;
  Counter rx_not_probe;    // no netrig signature (foreign traffic: ARP, IPv6 ND, ...)
  Counter rx_unknown_flow; // signature with a flow id outside the plan
};

// Busy-time accounting of one lcore loop, in TSC ticks: everything between Start() and the
// last Publish() counts as busy except the sleeps bracketed by Publish() and Resume(). The
// caller reads the TSC; this class only does arithmetic, so tests drive it with fake times.
// Owning lcore only.
class BusyMeter {
 public:
  void Start(uint64_t now_tsc) { mark_tsc_ = now_tsc; }
  // Adds the busy time since the last mark to `busy_tsc` (housekeeping, before a sleep, at exit).
  void Publish(uint64_t now_tsc, Counter& busy_tsc) {
    if (now_tsc > mark_tsc_) {
      busy_tsc.Add(now_tsc - mark_tsc_);
    }
    mark_tsc_ = now_tsc;
  }
  // After a sleep that began at the last Publish(): the slept time is not busy.
  void Resume(uint64_t now_tsc) { mark_tsc_ = now_tsc; }

 private:
  uint64_t mark_tsc_ = 0;
};

}  // namespace netrig::agent::dataplane
