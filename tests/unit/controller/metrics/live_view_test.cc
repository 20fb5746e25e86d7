#include "controller/api/live_view.h"

#include <gtest/gtest.h>

namespace netrig::controller::api {
namespace {

run::LiveSample Sample(double t, uint64_t tx, uint64_t rx, bool sender, bool receiver) {
  run::LiveSample s;
  s.stream = "west-east";
  s.port = "west";
  s.elapsed_s = t;
  s.tx_packets = tx;
  s.rx_packets = rx;
  s.sender = sender;
  s.receiver = receiver;
  s.latency_p99_ns = 2'000'000;
  return s;
}

TEST(LiveViewTest, RatesComeFromConsecutiveReportsAndLossFromTheTrialSoFar) {
  LiveView v;
  auto out = v.Update({Sample(1.0, 1000, 900, true, true)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].offered_fps, 1000);
  EXPECT_DOUBLE_EQ(out[0].received_fps, 900);
  EXPECT_DOUBLE_EQ(out[0].loss_ratio, 0.1);
  EXPECT_DOUBLE_EQ(out[0].latency_p99_s, 0.002);
  out = v.Update({Sample(2.0, 3000, 2900, true, true)});
  EXPECT_DOUBLE_EQ(out[0].offered_fps, 2000);
  EXPECT_DOUBLE_EQ(out[0].received_fps, 2000);
  EXPECT_NEAR(out[0].loss_ratio, 100.0 / 3000, 1e-12);
  // A new trial: elapsed time starts again.
  out = v.Update({Sample(0.5, 100, 100, true, true)});
  EXPECT_DOUBLE_EQ(out[0].offered_fps, 200);
  EXPECT_DOUBLE_EQ(out[0].loss_ratio, 0);
}

TEST(LiveViewTest, SenderAndReceiverMayBeDifferentAgents) {
  LiveView v;
  v.Update({Sample(1.0, 1000, 0, true, false)});
  auto out = v.Update({Sample(1.0, 0, 500, false, true)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].offered_fps, 1000);  // the receiver's report does not zero it
  EXPECT_DOUBLE_EQ(out[0].received_fps, 500);
  EXPECT_DOUBLE_EQ(out[0].loss_ratio, 0.5);
}

}  // namespace
}  // namespace netrig::controller::api
