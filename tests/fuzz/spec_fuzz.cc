// Fuzz target for lib/spec: YAML/JSON text of any shape must never crash, hang or throw, and
// the results must be coherent:
//  - every error has a message, and positions are either unknown (0) or 1-based;
//  - a TestRun that parses without errors compiles (CompileTestRun agrees with ParseTestRun);
//  - its proto3 JSON parses back to the same message (the REST form of what netrigctl read);
//  - ParseDocuments agrees with ParseTestRun on single TestRun documents.
//
// Built twice (tests/fuzz/CMakeLists.txt):
//  - spec_fuzzer: libFuzzer binary (clang only), `spec_fuzzer -max_total_time=60 corpus/`.
//  - spec_fuzz_regression: with NETRIG_FUZZ_REGRESSION defined, the same entry point driven by
//    gtest over valid specs of every kind, every truncation of one, and seeded mutations.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/status/statusor.h"
#include "lib/spec/testrun.h"

#ifdef NETRIG_FUZZ_REGRESSION
#include <random>

#include "gtest/gtest.h"
#endif

namespace netrig::spec {
namespace {

[[noreturn]] void Fail(const char* condition, const std::string& input) {
  std::fprintf(stderr, "spec_fuzz: property violated: %s\ninput (%zu bytes):\n%s\n", condition,
               input.size(), input.c_str());
  std::abort();
}

#define NB_FUZZ_CHECK(cond)          \
  do {                               \
    if (!(cond)) Fail(#cond, text);  \
  } while (0)

void CheckErrors(const std::vector<FieldError>& errors, const std::string& text) {
  for (const FieldError& e : errors) {
    NB_FUZZ_CHECK(!e.message.empty());
    NB_FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    NB_FUZZ_CHECK((e.line == 0) == (e.column == 0));
    NB_FUZZ_CHECK(!e.ToString().empty());
  }
}

int CheckOne(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const ParseResult run = ParseTestRun(text);
  CheckErrors(run.errors, text);
  CheckErrors(run.warnings, text);
  if (run.ok()) {
    const absl::StatusOr<RunPlan> plan = CompileTestRun(run.object);
    NB_FUZZ_CHECK(plan.ok());
    NB_FUZZ_CHECK(!plan->rfc2544.tests.empty());
    NB_FUZZ_CHECK(!plan->rfc2544.frame_sizes.empty());
    NB_FUZZ_CHECK(!plan->ports.empty());
    const std::string json = ToJson(run.object);
    NB_FUZZ_CHECK(!json.empty());
    const ParseResult back = ParseTestRun(json);
    NB_FUZZ_CHECK(back.ok());
    NB_FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(back.object, run.object));
  }
  const std::vector<Document> docs = ParseDocuments(text);
  for (const Document& d : docs) {
    CheckErrors(d.errors, text);
    CheckErrors(d.warnings, text);
  }
  if (run.ok()) {
    NB_FUZZ_CHECK(docs.size() == 1);
    NB_FUZZ_CHECK(docs[0].ok());
    NB_FUZZ_CHECK(std::holds_alternative<v1::TestRun>(docs[0].object));
  }
  return 0;
}

}  // namespace
}  // namespace netrig::spec

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return netrig::spec::CheckOne(data, size);
}

#ifdef NETRIG_FUZZ_REGRESSION
// ---- Deterministic replay (gtest) ---------------------------------------------------------------
namespace netrig::spec {
namespace {

const char* const kSeeds[] = {
    R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata: {name: nightly-2544, namespace: default, labels: {team: net}}
spec:
  level: L1
  sut: {template: linux-router, version: "1.4.2", parameters: {rate: 500mbit}}
  ports:
    - {name: west, agent: {pool: default}, speed: 10G}
    - {name: east, agent: {pool: default, name: a-1, labels: {rack: r1}}, speed: 10G, pmd: net_af_xdp}
  benchmark:
    rfc2544:
      tests: [throughput, latency, frameLoss, backToBack]
      frameSizes: [64, 128, 256, 512, 1024, 1280, 1518]
      trialDuration: 30s
      lossTolerance: 0
      resolution: 0.1
      minRate: 0
      maxRate: 100
      l3: ipv4
      traffic: [{from: west, to: east, flows: 1024, bidirectional: true}]
      latency: {trials: 20, duration: 120s}
      frameLoss: {step: 10}
      backToBack: {trials: 50, maxBurstDuration: 2s, trialDuration: 2s}
      waits: {drain: 2s, settle: 5s}
  verdict: {baseline: last-pass, maxRegression: 5%}
  budget: 20m
)",
    R"({"apiVersion":"netrig.io/v1alpha1","kind":"TestRun","metadata":{"name":"j"},"spec":{"sut":{"static":{"name":"dut","mgmtAddress":"10.0.0.1:22","events":{"link-down":"x"}}},"ports":[{"name":"a"}],"benchmark":{"rfc2544":{"tests":["throughput"],"l3":"ipv6","frameSizes":[84,1518],"traffic":[{"from":"a","to":"a"}]}}},"status":{"phase":"Running","conditions":[{"type":"Scheduled","status":"True","lastTransitionTime":"2024-05-01T12:00:00Z"}]}})",
    R"(apiVersion: netrig.io/v1alpha1
kind: TestSuite
metadata: {name: nightly}
spec:
  level: L2
  schedule: "*/15 0-6 * jan-jun mon-fri"
  budget: 6h
  runs:
    - name: t64
      spec:
        sut: {template: linux-router}
        ports: [{name: west}, {name: east}]
        benchmark: {rfc2544: {tests: [throughput], traffic: [{from: west, to: east}]}}
)",
    R"(apiVersion: netrig.io/v1alpha1
kind: AgentPool
metadata: {name: default}
spec: {nodeSelector: {netrig.io/agent: "true"}, sriovResource: intel.com/sriov, hugepages: 2Gi, cpus: [2, 3], agentsPerNode: 1}
---
apiVersion: netrig.io/v1alpha1
kind: SutTemplate
metadata: {name: linux-shaper}
spec: {kind: netns, recipe: "tc qdisc add", events: [link-down], parameters: {rate: 1g}}
)",
};

// Tokens that steer the decoder and validators into their edge cases.
const char* const kTokens[] = {
    "~", "[]", "{}", "-1", "0", "1", "64", "84", "9217", "99999999999", "1e309", "nan", ".inf",
    "\"\"", "true", "yes", "0s", "61m", "30", "5%", "L4", "ipv6", "---\n", "*a", "&a x", "!!str",
    "[x, [y]]", "{a: {b: c}}", "? [k]\n: v", "\"\\xff\"", "\t", ":", "- ", "#", "'", "\"", "\n",
    "throughput", "latency", "backToBack", "frameSize", "static", "template", "rfc3918", "kind",
    "apiVersion", "TestSuite", "@daily", "*/0", "\xff", "\xc3\xa9"};

std::string Mutate(const std::string& base, std::mt19937_64& rng) {
  std::string s = base;
  const int mutations = 1 + static_cast<int>(rng() % 4);
  for (int m = 0; m < mutations && !s.empty(); ++m) {
    const size_t pos = rng() % s.size();
    switch (rng() % 7) {
      case 0:  // byte flip
        s[pos] = static_cast<char>(s[pos] ^ (1u << (rng() % 8)));
        break;
      case 1:  // delete a run of bytes
        s.erase(pos, 1 + rng() % 8);
        break;
      case 2: {  // insert a token
        const char* t = kTokens[rng() % std::size(kTokens)];
        s.insert(pos, t);
        break;
      }
      case 3: {  // replace the value after the next ':' with a token
        const size_t colon = s.find(": ", pos);
        if (colon == std::string::npos) break;
        const size_t end = s.find_first_of(",}\n", colon + 2);
        s.replace(colon + 2, (end == std::string::npos ? s.size() : end) - colon - 2,
                  kTokens[rng() % std::size(kTokens)]);
        break;
      }
      case 4: {  // duplicate a line (duplicate keys, repeated list items)
        const size_t start = s.rfind('\n', pos);
        const size_t b = start == std::string::npos ? 0 : start + 1;
        const size_t e = s.find('\n', pos);
        if (e == std::string::npos) break;
        s.insert(b, s.substr(b, e - b + 1));
        break;
      }
      case 5:  // truncate
        s.resize(pos);
        break;
      case 6: {  // change indentation
        const size_t nl = s.find('\n', pos);
        if (nl != std::string::npos) s.insert(nl + 1, rng() % 2 ? "  " : " ");
        break;
      }
    }
  }
  return s;
}

void Replay(const std::string& s) {
  if (const char* dump = std::getenv("NETRIG_SPEC_FUZZ_DUMP"); dump != nullptr) {
    if (FILE* f = std::fopen(dump, "wb"); f != nullptr) {
      std::fwrite(s.data(), 1, s.size(), f);
      std::fclose(f);
    }
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(SpecFuzzRegressionTest, SeedsAreValid) {
  for (const char* seed : kSeeds) {
    for (const Document& d : ParseDocuments(seed)) {
      EXPECT_TRUE(d.ok()) << JoinErrors(d.errors) << "\n" << seed;
    }
    Replay(seed);
  }
}

TEST(SpecFuzzRegressionTest, EveryTruncationOfAValidSpec) {
  const std::string seed = kSeeds[0];
  for (size_t len = 0; len <= seed.size(); len += 3) Replay(seed.substr(0, len));
}

TEST(SpecFuzzRegressionTest, SeededRandomMutationsOfValidSpecs) {
  std::mt19937_64 rng(0x73706563667a7a);  // fixed seed: the same inputs every run
  // Outcome counts prove the mutations reach both sides, so a generator that degenerates
  // (always garbage, or never changing anything) fails instead of passing vacuously.
  size_t clean = 0, syntax = 0, schema = 0;
  for (int i = 0; i < 2500; ++i) {
    const std::string s = Mutate(kSeeds[rng() % std::size(kSeeds)], rng);
    Replay(s);
    const ParseResult r = ParseTestRun(s);
    if (r.ok()) {
      ++clean;
    } else if (r.errors.size() == 1 && r.errors[0].path.empty()) {
      ++syntax;
    } else {
      ++schema;
    }
  }
  std::printf("mutations: %zu clean, %zu syntax errors, %zu schema/semantic errors\n", clean,
              syntax, schema);
  EXPECT_GT(clean, 50u);
  EXPECT_GT(syntax, 50u);
  EXPECT_GT(schema, 500u);
}

TEST(SpecFuzzRegressionTest, HandPickedEdgeCases) {
  for (const char* s : {"", "~", "---", "--- ---", "[", "{", "\"", "a: *b", "&a [*a]",
                        "a: !<tag:yaml.org,2002:binary> AAAA", "? ? ? a", "- - - -",
                        "apiVersion: netrig.io/v1alpha1\nkind: TestRun\nspec: {ports: [{}]}",
                        "kind: TestRun\n", "kind: [TestRun]\n", "\xef\xbb\xbfkind: TestRun\n",
                        "%YAML 1.2\n---\nkind: x\n", "a: b: c", "a:\n\t- b"}) {
    Replay(s);
  }
  // Deep nesting: yaml-cpp's recursion guard must turn this into an error, not a crash.
  Replay(std::string(5000, '[') + std::string(5000, ']'));
  Replay("spec: " + std::string(3000, '{') + std::string(3000, '}'));
  // Alias fan-out: a few hundred bytes describing millions of values.
  std::string bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string("*") + prev + ",";
    bomb += "]\n";
  }
  bomb += "apiVersion: netrig.io/v1alpha1\nkind: AgentPool\nmetadata: {name: a}\nspec: {cpus: *h}\n";
  Replay(bomb);
}

}  // namespace
}  // namespace netrig::spec
#endif  // NETRIG_FUZZ_REGRESSION
