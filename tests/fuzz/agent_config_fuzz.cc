// Fuzzing of the agent's configuration loader (YAML/JSON -> StandaloneRun -> ValidateRun):
// whatever the input, the loader returns a status whose message names a field or the syntax
// problem, and never crashes or hangs. The gtest replays seeded mutations of the shipped
// example deterministically; LLVMFuzzerTestOneInput is the libFuzzer entry point.
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "agent/control/config_loader.h"
#include "agent/control/standalone.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netrig::v1::StandaloneRun run;
  const absl::Status s = netrig::agent::control::ParseMessageText(
      absl::string_view(reinterpret_cast<const char*>(data), size), &run);
  if (s.ok()) {
    (void)netrig::agent::control::ValidateRun(run);  // must not crash on anything that decoded
  } else if (s.message().empty() || s.code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();  // every rejection is InvalidArgument with a message
  }
  return 0;
}

#ifdef NETRIG_FUZZ_REGRESSION
#include <gtest/gtest.h>

namespace {

std::string Example() {
  std::ifstream in(std::string(NETRIG_SOURCE_DIR) + "/examples/standalone-ring.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Feed(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(AgentConfigFuzzRegression, ExampleAndEveryTruncation) {
  const std::string text = Example();
  ASSERT_GT(text.size(), 100u);
  netrig::v1::StandaloneRun run;
  ASSERT_TRUE(netrig::agent::control::ParseMessageText(text, &run).ok());
  ASSERT_TRUE(netrig::agent::control::ValidateRun(run).ok());
  for (size_t n = 0; n < text.size(); ++n) Feed(text.substr(0, n));
}

TEST(AgentConfigFuzzRegression, SeededMutations) {
  const std::string text = Example();
  std::mt19937 rng(2544);
  const std::string punct = "[]{}:,-#&*!|>'\"%@` \n\t";
  int decoded = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string s = text;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[pos] = static_cast<char>(rng() % 256); break;
        case 1: s.insert(pos, 1, punct[rng() % punct.size()]); break;
        case 2: s.erase(pos, 1 + rng() % 8); break;
        case 3: s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16)); break;
      }
    }
    netrig::v1::StandaloneRun run;
    if (netrig::agent::control::ParseMessageText(s, &run).ok()) ++decoded;
    Feed(s);
  }
  // The mutations must exercise both the decoder and the validator.
  EXPECT_GT(decoded, 25);
  EXPECT_LT(decoded, 5000);
}

TEST(AgentConfigFuzzRegression, HandPickedInputs) {
  for (const char* s : {"", "[1],2", "{\"a\":1},\"b\":2}", "\"a\",b", "ports: *x", "&a [*a]",
                        "ports: [{name: p, pmd: net_ring, queues: 99999999999}]",
                        "streams: [{rate: {value: nan}}]", "streams: [{size: 1-0/0}]",
                        "streams: [{size: {sweep: {min_bytes: 64, max_bytes: 4000000000}}}]"}) {
    Feed(s);
  }
}

}  // namespace
#endif
