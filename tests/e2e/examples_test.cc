// The examples/ files work as-is, and the demo's output is what the README says it is.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"

namespace netrig {
namespace {

const std::string kAgent = NETRIG_AGENT_BIN;
const std::string kSource = NETRIG_SOURCE_DIR;

TEST(ExamplesTest, StandaloneRingExampleRunsWithoutLoss) {
  auto r = testing::RunCommand(kAgent + " run -c " + kSource +
                               "/examples/standalone-ring.yaml -o json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto& streams = j["stats"]["streams"];
  ASSERT_EQ(streams.size(), 3u);
  for (const auto& s : streams) {
    EXPECT_EQ(s["lost"], "0") << s.dump();
    EXPECT_EQ(s["duplicates"], "0") << s.dump();
    EXPECT_EQ(s["unique_packets"], s["tx_packets"]) << s.dump();
    EXPECT_NE(s["tx_packets"], "0") << s.dump();
    EXPECT_GT(s["latency_max_ns"].get<std::string>().size(), 0u);
  }
  // 1% of 10 Gb/s at 64 bytes for 2 s: 148,809.52 frames/s -> 297,620 frames are due.
  EXPECT_EQ(streams[0]["tx_packets"], "297620");
  // 50,000 frames/s for 2 s.
  EXPECT_EQ(streams[1]["tx_packets"], "100000");
}

TEST(ExamplesTest, TableOutputHasStreamAndFlowSections) {
  auto r = testing::RunCommand(kAgent + " run -c " + kSource +
                               "/examples/standalone-ring.yaml --max-rows 4 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("streams (duration 2.000 s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fixed64"), std::string::npos);
  EXPECT_NE(r.out.find("mix-v6"), std::string::npos);
  EXPECT_NE(r.out.find("flows (first 4 of 28)"), std::string::npos) << r.out;
}

TEST(ExamplesTest, ValidateOnlyChecksWithoutRunning) {
  auto r = testing::RunCommand(kAgent + " run --validate -c " + kSource +
                               "/examples/standalone-ring.yaml 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("configuration is valid"), std::string::npos);
}

}  // namespace
}  // namespace netrig
