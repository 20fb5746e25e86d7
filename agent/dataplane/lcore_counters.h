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

}  // namespace netrig::agent::dataplane
