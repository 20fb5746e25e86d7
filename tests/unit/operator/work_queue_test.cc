#include "operator/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace netrig::op {
namespace {

class WorkQueueTest : public ::testing::Test {
 protected:
  WorkQueue::Options Options() {
    WorkQueue::Options o;
    o.clock = [this] { return now_; };
    return o;
  }
  std::string Next(WorkQueue& q) {
    std::string key;
    return q.TryGet(&key) ? key : "";
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(WorkQueueTest, AQueuedKeyIsQueuedOnce) {
  WorkQueue q(Options());
  q.Add("ci/a");
  q.Add("ci/b");
  q.Add("ci/a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(Next(q), "ci/a");
  EXPECT_EQ(Next(q), "ci/b");
  EXPECT_EQ(Next(q), "");
}

TEST_F(WorkQueueTest, AKeyAddedWhileProcessingRunsAgainAfterDone) {
  WorkQueue q(Options());
  q.Add("ci/a");
  ASSERT_EQ(Next(q), "ci/a");
  // Changed while its worker reconciles it: not handed to a second worker now...
  q.Add("ci/a");
  q.Add("ci/a");
  EXPECT_EQ(Next(q), "");
  // ...but once, right after the first worker is done.
  q.Done("ci/a");
  EXPECT_EQ(Next(q), "ci/a");
  q.Done("ci/a");
  EXPECT_EQ(Next(q), "");
}

TEST_F(WorkQueueTest, BackoffDoublesFromFiveMillisecondsToFiveMinutes) {
  WorkQueue q(Options());
  EXPECT_EQ(q.NextBackoff("ci/a"), absl::Milliseconds(5));
  absl::Duration expected = absl::Milliseconds(5);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(q.NextBackoff("ci/a"), std::min(expected, absl::Minutes(5))) << i;
    q.AddRateLimited("ci/a");
    expected *= 2;
  }
  EXPECT_EQ(q.NumRequeues("ci/a"), 30);
  EXPECT_EQ(q.NextBackoff("ci/a"), absl::Minutes(5));
  // Per key: another key starts from the bottom.
  EXPECT_EQ(q.NextBackoff("ci/b"), absl::Milliseconds(5));
  q.Forget("ci/a");
  EXPECT_EQ(q.NextBackoff("ci/a"), absl::Milliseconds(5));
}

TEST_F(WorkQueueTest, ARateLimitedKeyComesBackAfterItsDelay) {
  WorkQueue q(Options());
  q.AddRateLimited("ci/a");  // 5 ms
  q.AddRateLimited("ci/a");  // 10 ms later than now; the earlier time wins
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.DelayedLen(), 1u);
  now_ += absl::Milliseconds(4);
  EXPECT_EQ(Next(q), "");
  now_ += absl::Milliseconds(1);
  EXPECT_EQ(Next(q), "ci/a");
}

TEST_F(WorkQueueTest, RequeueAfterTimersAndAnEventBeforeThem) {
  WorkQueue q(Options());
  q.AddAfter("ci/poll", absl::Seconds(2));
  q.AddAfter("ci/cron", absl::Hours(1));
  now_ += absl::Seconds(2);
  EXPECT_EQ(Next(q), "ci/poll");
  q.Done("ci/poll");
  // An event for the delayed key queues it now; the timer does not add it a second time.
  q.Add("ci/cron");
  EXPECT_EQ(Next(q), "ci/cron");
  q.Done("ci/cron");
  now_ += absl::Hours(2);
  EXPECT_EQ(Next(q), "");
}

TEST(WorkQueueRealClockTest, GetBlocksUntilAddAndShutDownWakesIt) {
  WorkQueue q;
  std::atomic<int> got{0};
  std::thread worker([&] {
    std::string key;
    while (q.Get(&key)) {
      got.fetch_add(1);
      q.Done(key);
    }
  });
  q.Add("ci/a");
  q.AddAfter("ci/b", absl::Milliseconds(20));
  for (int i = 0; i < 500 && got.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(got.load(), 2);
  q.ShutDown();
  worker.join();
  q.Add("ci/c");  // ignored after shutdown
  EXPECT_EQ(q.Len(), 0u);
}

}  // namespace
}  // namespace netrig::op
