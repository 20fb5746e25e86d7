// Cost per packet of the RX analyzer (signature lookup, flow table, RFC 4737 tracking,
// latency/IPDV stats and the per-stream histogram) with 65,536 flows arriving in random order.
// Frames are pre-built 64-byte IPv4/UDP test frames; each flow's sequence numbers increase.
// The reference is a counter-only pass over the same frames (find the signature, count per
// flow): the ratio is what full analysis costs over merely classifying.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "agent/dataplane/clock.h"
#include "agent/dataplane/lcore_counters.h"
#include "agent/dataplane/rx_engine.h"
#include "lib/packet/frame.h"

namespace {

using netrig::agent::dataplane::FlowTable;
using netrig::agent::dataplane::kBurstSize;
using netrig::agent::dataplane::LcoreCounters;
using netrig::agent::dataplane::RxAnalyzer;
using netrig::agent::dataplane::RxPlan;
using netrig::agent::dataplane::TscClock;

constexpr uint32_t kFrameLen = 60;  // 64-byte frame without FCS

struct Corpus {
  std::vector<uint8_t> frames;  // packets back to back, kFrameLen each
  uint32_t count = 0;
};

Corpus MakeCorpus(uint32_t flows, uint32_t packets) {
  netrig::packet::FrameSpec spec;
  spec.frame_bytes = 64;
  auto base = netrig::packet::BuildFrame(spec, {0, 0, 0});
  Corpus c;
  c.count = packets;
  c.frames.resize(size_t{packets} * kFrameLen);
  std::mt19937_64 rng(42);
  std::vector<uint32_t> next_seq(flows, 0);
  std::uniform_int_distribution<uint32_t> pick(0, flows - 1);
  const uint32_t sig = netrig::packet::SignatureOffset(netrig::packet::L3::kIpv4);
  for (uint32_t i = 0; i < packets; ++i) {
    uint8_t* f = c.frames.data() + size_t{i} * kFrameLen;
    std::copy(base->begin(), base->end(), f);
    const uint32_t flow = pick(rng);
    netrig::packet::WriteSignature(f + sig, {flow, next_seq[flow]++, 1000u + i * 10u});
  }
  return c;
}

void BM_Analyze(benchmark::State& state, bool full) {
  const uint32_t flows = static_cast<uint32_t>(state.range(0));
  const uint32_t packets = 1u << 22;  // 4 Mi frames x 60 B = 240 MiB: far beyond any cache
  static Corpus corpus;
  if (corpus.count == 0) corpus = MakeCorpus(flows, packets);
  RxPlan plan;
  plan.total_flows = flows;
  plan.stream_first_flow = {0};
  FlowTable table(plan);
  TscClock clock(2'000'000'000u, 0, 0);
  LcoreCounters counters;
  RxAnalyzer analyzer(table, clock, counters);
  std::vector<uint64_t> per_flow(flows, 0);
  uint32_t pos = 0;
  uint64_t rx_ns = 100'000'000;  // above every TX stamp in the corpus: delays are positive
  const uint8_t* data[kBurstSize];
  uint16_t len[kBurstSize];
  for (uint16_t i = 0; i < kBurstSize; ++i) len[i] = kFrameLen;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurstSize; ++i) {
      data[i] = corpus.frames.data() + size_t{pos} * kFrameLen;
      pos = pos + 1 == corpus.count ? 0 : pos + 1;
    }
    if (pos < kBurstSize) {
      // The corpus wrapped: its sequence numbers start again, so start the flows afresh
      // (otherwise every later packet would take the old-duplicate path).
      state.PauseTiming();
      std::memset(static_cast<void*>(table.states()), 0,
                  sizeof(*table.states()) * size_t{flows});
      state.ResumeTiming();
    }
    rx_ns += 320;
    if (full) {
      analyzer.AnalyzeRaw(data, len, kBurstSize, rx_ns);
    } else {
      for (uint16_t i = 0; i < kBurstSize; ++i) {
        const int32_t off = netrig::packet::FindSignature(data[i], len[i]);
        if (off >= 0) {
          ++per_flow[netrig::packet::LoadBe32(data[i] + off + netrig::packet::kSigFlowOffset) %
                     flows];
        }
      }
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kBurstSize);
  state.counters["ns_per_packet"] = benchmark::Counter(
      double(state.iterations()) * kBurstSize,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  benchmark::DoNotOptimize(per_flow.data());
}

void BM_AnalyzeFull(benchmark::State& state) { BM_Analyze(state, true); }
void BM_CountOnly(benchmark::State& state) { BM_Analyze(state, false); }

BENCHMARK(BM_AnalyzeFull)->Arg(65536)->MinTime(2.0);
BENCHMARK(BM_CountOnly)->Arg(65536)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
