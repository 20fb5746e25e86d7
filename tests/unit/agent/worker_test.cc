// The worker loop's busy-time accounting on a real loop (TSC, nanosleep): an idle adaptive
// worker is mostly asleep, a busy-polling one is busy for its whole run time. Measured against
// wall time, so the bounds are loose; BusyMeterTest covers the arithmetic exactly.
#include "agent/dataplane/worker.h"

#include <gtest/gtest.h>
#include <rte_cycles.h>

#include <chrono>
#include <thread>

#include "agent/dataplane/clock.h"

namespace netrig::agent::dataplane {
namespace {

struct WorkerRun {
  uint64_t busy_tsc = 0;
  uint64_t wall_tsc = 0;
  uint64_t idle_sleeps = 0;
};

// Runs a worker without engines on a plain thread for about `duration`.
WorkerRun RunIdleWorker(PollMode mode, std::chrono::milliseconds duration) {
  const TscClock clock(rte_get_tsc_hz(), rte_rdtsc(), 0);
  WorkerOptions options;
  options.mode = mode;
  Worker worker(clock, options);
  const uint64_t begin = rte_rdtsc();
  std::thread lcore([&] { worker.Run(); });
  std::this_thread::sleep_for(duration);
  worker.RequestStop();
  lcore.join();
  return {worker.counters().busy_tsc.Read(), rte_rdtsc() - begin,
          worker.counters().idle_sleeps.Read()};
}

TEST(WorkerBusyTimeTest, IdleAdaptiveWorkerIsBusyForASmallShareOfItsRunTime) {
  const WorkerRun r = RunIdleWorker(PollMode::kAdaptive, std::chrono::milliseconds(200));
  ASSERT_GT(r.idle_sleeps, 100u);
  EXPECT_GT(r.busy_tsc, 0u);
  // Each 20 us sleep follows 17 empty loops (well under a microsecond): the slept time must
  // not count. Half is a loose bound for a loaded 2-core machine.
  EXPECT_LT(static_cast<double>(r.busy_tsc), 0.5 * static_cast<double>(r.wall_tsc))
      << "busy " << r.busy_tsc << " of " << r.wall_tsc << " ticks";
}

TEST(WorkerBusyTimeTest, BusyPollingWorkerIsBusyForItsWholeRunTime) {
  const WorkerRun r = RunIdleWorker(PollMode::kBusy, std::chrono::milliseconds(200));
  EXPECT_EQ(r.idle_sleeps, 0u);
  EXPECT_LE(r.busy_tsc, r.wall_tsc);
  // Everything between the thread's start and its exit counts (thread start-up is not).
  EXPECT_GT(static_cast<double>(r.busy_tsc), 0.9 * static_cast<double>(r.wall_tsc))
      << "busy " << r.busy_tsc << " of " << r.wall_tsc << " ticks";
}

}  // namespace
}  // namespace netrig::agent::dataplane
