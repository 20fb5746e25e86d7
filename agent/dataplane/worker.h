// The lcore main loop: TX engines, RX engines, housekeeping every kHousekeepingInterval loops
// (stop flag, idle backoff, busy time). Adaptive mode sleeps when nothing is due and nothing
// arrives, so an agent shares a small machine with the controller and a SUT; busy mode owns
// its core. Busy time (LcoreCounters::busy_tsc) is the loop's run time minus those sleeps.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "agent/dataplane/lcore_counters.h"
#include "agent/dataplane/rx_engine.h"
#include "agent/dataplane/tx_engine.h"

namespace netrig::agent::dataplane {

inline constexpr uint32_t kHousekeepingInterval = 256;

enum class PollMode { kBusy, kAdaptive };

struct WorkerOptions {
  PollMode mode = PollMode::kAdaptive;
  // Longest idle sleep in adaptive mode. It bounds the added RX timestamp error when a frame
  // arrives during a sleep, and the TX start error.
  uint32_t max_sleep_us = 20;
};

class Worker {
 public:
  Worker(const TscClock& clock, WorkerOptions options);
  void AddTx(TxEngine* tx) { tx_.push_back(tx); }
  void AddRx(RxEngine* rx) { rx_.push_back(rx); }
  LcoreCounters& counters() { return counters_; }
  const LcoreCounters& counters() const { return counters_; }

  // Runs until RequestStop(). Called on the worker lcore (rte_eal_remote_launch).
  void Run();
  static int LaunchTrampoline(void* self);

  void RequestStop() { stop_.store(true, std::memory_order_release); }
  // True once every TX engine of this worker is done.
  bool tx_done() const { return tx_done_.load(std::memory_order_acquire); }

 private:
  // Sleeps until next_due_tsc (at most max_sleep_us) when that is worth a syscall. Busy time
  // must have been published up to now_tsc; the sleep itself is not busy.
  void IdleSleep(uint64_t now_tsc, uint64_t next_due_tsc, BusyMeter& busy);

  const TscClock& clock_;
  WorkerOptions options_;
  std::vector<TxEngine*> tx_;
  std::vector<RxEngine*> rx_;
  LcoreCounters counters_;
  alignas(64) std::atomic<bool> stop_{false};
  std::atomic<bool> tx_done_{false};
};

}  // namespace netrig::agent::dataplane
