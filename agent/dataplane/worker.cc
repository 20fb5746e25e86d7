#include "agent/dataplane/worker.h"

#include <sys/prctl.h>
#include <time.h>

#include <algorithm>

#include <rte_cycles.h>
#include <rte_pause.h>

namespace netrig::agent::dataplane {

Worker::Worker(const TscClock& clock, WorkerOptions options) : clock_(clock), options_(options) {}

int Worker::LaunchTrampoline(void* self) {
  static_cast<Worker*>(self)->Run();
  return 0;
}

void Worker::IdleSleep(uint64_t now_tsc, uint64_t next_due_tsc, BusyMeter& busy) {
  const uint64_t max_ticks = clock_.NsToTicks(uint64_t{options_.max_sleep_us} * 1000);
  uint64_t ticks = max_ticks;
  if (next_due_tsc != UINT64_MAX) {
    if (next_due_tsc <= now_tsc) {
      return;
    }
    ticks = std::min(ticks, next_due_tsc - now_tsc);
  }
  // Don't sleep for less than ~5 us: the syscall would cost more than it saves.
  const uint64_t min_ticks = clock_.NsToTicks(5000);
  if (ticks < min_ticks) {
    rte_pause();
    return;
  }
  const uint64_t ns = (ticks * 1000000000u) / clock_.tsc_hz();
  timespec ts{static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u)};
  nanosleep(&ts, nullptr);
  busy.Resume(rte_rdtsc());  // the caller published busy time up to now_tsc
  counters_.idle_sleeps.Add(1);
}

void Worker::Run() {
  if (options_.mode == PollMode::kAdaptive) {
    // Default timer slack (50 us) would turn every short sleep into a long one.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  }
  uint32_t idle_loops = 0;
  uint64_t loops = 0;
  bool tx_done_published = false;
  BusyMeter busy;
  busy.Start(rte_rdtsc());
  for (;;) {
    const uint64_t now = rte_rdtsc();
    uint32_t work = 0;
    for (TxEngine* tx : tx_) {
      work += tx->Step(now);
    }
    for (RxEngine* rx : rx_) {
      work += rx->Step();
    }
    ++loops;
    if (work != 0) {
      idle_loops = 0;
    } else {
      ++idle_loops;
    }
    if ((loops & (kHousekeepingInterval - 1)) == 0 || idle_loops > 16) {
      if (stop_.load(std::memory_order_acquire)) {
        break;
      }
      uint64_t next_due = UINT64_MAX;
      bool all_done = true;
      for (TxEngine* tx : tx_) {
        next_due = std::min(next_due, tx->next_due_tsc());
        all_done = all_done && tx->done();
      }
      if (all_done && !tx_done_published) {
        tx_done_.store(true, std::memory_order_release);
        tx_done_published = true;
      }
      // Busy time goes out at every housekeeping point, so a scrape sees it advance mid-trial.
      const uint64_t hk_tsc = rte_rdtsc();
      busy.Publish(hk_tsc, counters_.busy_tsc);
      if (options_.mode == PollMode::kAdaptive && idle_loops > 16) {
        IdleSleep(hk_tsc, next_due, busy);
      }
    }
  }
  busy.Publish(rte_rdtsc(), counters_.busy_tsc);
  counters_.loops.Add(loops);
  if (!tx_done_published) {
    tx_done_.store(true, std::memory_order_release);
  }
}

}  // namespace netrig::agent::dataplane
