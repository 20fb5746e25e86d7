#include "agent/control/standalone.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "agent/control/plan_compiler.h"
#include "agent/dataplane/clock.h"
#include "agent/dataplane/rx_engine.h"
#include "agent/dataplane/tx_engine.h"
#include "agent/io/eal_session.h"
#include "agent/io/port.h"
#include "lib/common/status_macros.h"
#include "lib/rate/line_rate.h"
#include "lib/stats/flow_analyzer.h"

namespace netrig::agent::control {
namespace {

using dataplane::FlowTable;
using dataplane::RxEngine;
using dataplane::TscClock;
using dataplane::TxEngine;
using dataplane::Worker;

absl::StatusOr<absl::Duration> ParseDurationField(const std::string& text, absl::Duration dflt,
                                                  const std::string& field) {
  if (text.empty()) {
    return dflt;
  }
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not a duration (examples: 5s, 500ms, 1m)"));
  }
  return d;
}

absl::StatusOr<io::PortSpec> ToPortSpec(const v1::PortConfig& p, const std::string& path) {
  io::PortSpec spec;
  spec.name = p.name();
  auto pmd = io::ParsePmd(p.pmd());
  if (!pmd.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".pmd: ", pmd.status().message()));
  }
  spec.pmd = *pmd;
  spec.iface = p.iface();
  spec.pci = p.pci();
  spec.queues = p.queues() == 0 ? 1 : p.queues();
  spec.mac = p.mac();
  if (!p.speed().empty()) {
    auto bps = rate::ParseBitsPerSecond(p.speed());
    if (!bps.ok() || *bps == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".speed: ", bps.ok() ? "must be above 0" : bps.status().message()));
    }
    spec.speed_bps = *bps;
  }
  RETURN_IF_ERROR(io::ValidatePortSpec(spec, path));
  return spec;
}

uint64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

struct StreamRuntime {
  CompiledStream compiled;
  std::unique_ptr<TxEngine> engine;
  size_t tx_port = 0;
  unsigned worker = 0;
};

}  // namespace

absl::Status ValidateRun(const v1::StandaloneRun& run) {
  if (run.ports_size() == 0) {
    return absl::InvalidArgumentError("ports: at least one port is needed");
  }
  if (run.streams_size() == 0) {
    return absl::InvalidArgumentError("streams: at least one stream is needed");
  }
  std::vector<std::string> names;
  std::set<std::string> ifaces;
  for (int i = 0; i < run.ports_size(); ++i) {
    const std::string path = absl::StrCat("ports[", i, "]");
    ASSIGN_OR_RETURN(io::PortSpec spec, ToPortSpec(run.ports(i), path));
    if (std::find(names.begin(), names.end(), spec.name) != names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".name: \"", spec.name, "\" is used by another port"));
    }
    if (!spec.iface.empty() && !ifaces.insert(spec.iface).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".iface: \"", spec.iface, "\" is used by another port"));
    }
    names.push_back(spec.name);
  }
  for (int i = 0; i < run.streams_size(); ++i) {
    RETURN_IF_ERROR(ValidateStream(run.streams(i), absl::StrCat("streams[", i, "]"), names));
  }
  RETURN_IF_ERROR(ParseDurationField(run.duration(), absl::Seconds(5), "duration").status());
  RETURN_IF_ERROR(ParseDurationField(run.drain(), absl::Milliseconds(500), "drain").status());
  RETURN_IF_ERROR(ParseDurationField(run.late_threshold(), absl::InfiniteDuration(),
                                     "late_threshold").status());
  return absl::OkStatus();
}

absl::StatusOr<v1::StandaloneResult> RunStandalone(const v1::StandaloneRun& run,
                                                   const RunOptions& options) {
  RETURN_IF_ERROR(ValidateRun(run));
  ASSIGN_OR_RETURN(absl::Duration duration,
                   ParseDurationField(run.duration(), absl::Seconds(5), "duration"));
  ASSIGN_OR_RETURN(absl::Duration drain,
                   ParseDurationField(run.drain(), absl::Milliseconds(500), "drain"));
  ASSIGN_OR_RETURN(absl::Duration late, ParseDurationField(run.late_threshold(),
                                                           absl::InfiniteDuration(),
                                                           "late_threshold"));
  if (options.lcores.size() < 2) {
    return absl::InvalidArgumentError("lcores: need the main lcore and at least one worker");
  }

  std::vector<io::PortSpec> specs;
  std::vector<std::string> names;
  io::EalOptions eal;
  eal.lcores = options.lcores;
  eal.no_huge = options.no_huge < 0 ? !io::HugepagesAvailable() : options.no_huge != 0;
  eal.memory_mb = options.memory_mb;
  eal.log_level = options.eal_log_level;
  for (int i = 0; i < run.ports_size(); ++i) {
    ASSIGN_OR_RETURN(io::PortSpec spec, ToPortSpec(run.ports(i), absl::StrCat("ports[", i, "]")));
    if (spec.pmd == io::Pmd::kPci) {
      eal.pci_allow.push_back(spec.pci);
    } else {
      eal.vdevs.push_back(io::VdevArg(spec, i));
    }
    names.push_back(spec.name);
    specs.push_back(spec);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<io::EalSession> session, io::EalSession::Create(eal));
  const std::vector<unsigned>& worker_lcores = session->worker_lcores();
  const unsigned nworkers =
      std::max(1u, std::min<unsigned>(options.workers, static_cast<unsigned>(worker_lcores.size())));

  // Largest frame per port sizes its mbufs.
  std::vector<uint32_t> max_frame(specs.size(), 1518);
  for (int i = 0; i < run.streams_size(); ++i) {
    const auto idx = std::find(names.begin(), names.end(), run.streams(i).tx_port()) - names.begin();
    ASSIGN_OR_RETURN(std::vector<uint32_t> sizes,
                     StreamSizes(run.streams(i), absl::StrCat("streams[", i, "]")));
    for (uint32_t v : sizes) max_frame[idx] = std::max(max_frame[idx], v);
  }
  std::vector<io::PortInfo> ports;
  auto close_ports = [&]() {
    for (io::PortInfo& p : ports) io::ClosePort(p);
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    auto port = io::OpenPort(specs[i], static_cast<int>(i), max_frame[i]);
    if (!port.ok()) {
      close_ports();
      return port.status();
    }
    ports.push_back(*port);
  }

  const uint64_t tsc_hz = rte_get_tsc_hz();
  const TscClock clock(tsc_hz, rte_rdtsc(), RealtimeNs());

  // Compile streams; flow ids are dense and ascending by stream.
  std::vector<StreamRuntime> streams(run.streams_size());
  dataplane::RxPlan rx_plan;
  rx_plan.late_threshold_ns = late == absl::InfiniteDuration()
                                  ? UINT64_MAX
                                  : static_cast<uint64_t>(absl::ToInt64Nanoseconds(late));
  uint32_t next_flow = 0;
  for (int i = 0; i < run.streams_size(); ++i) {
    const v1::StreamConfig& s = run.streams(i);
    const std::string path = absl::StrCat("streams[", i, "]");
    if (s.first_flow_id() != 0 && s.first_flow_id() < next_flow) {
      close_ports();
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".first_flow_id: ", s.first_flow_id(), " overlaps the previous stream's flows (next free id ",
          next_flow, ")"));
    }
    const uint32_t first = std::max(next_flow, s.first_flow_id());
    const size_t tx = std::find(names.begin(), names.end(), s.tx_port()) - names.begin();
    const io::PortInfo* rx = nullptr;
    if (!s.rx_port().empty()) {
      rx = &ports[std::find(names.begin(), names.end(), s.rx_port()) - names.begin()];
    }
    auto compiled = CompileStream(s, path, ports[tx], rx, first, tsc_hz);
    if (!compiled.ok()) {
      close_ports();
      return compiled.status();
    }
    streams[i].compiled = std::move(*compiled);
    streams[i].compiled.plan.stream_index = static_cast<uint32_t>(i);
    streams[i].compiled.plan.queue_id = static_cast<uint16_t>(i % ports[tx].queues);
    streams[i].tx_port = tx;
    streams[i].worker =
        static_cast<unsigned>((tx * 64 + streams[i].compiled.plan.queue_id) % nworkers);
    rx_plan.stream_first_flow.push_back(first);
    next_flow = first + streams[i].compiled.plan.flows;
  }
  rx_plan.total_flows = next_flow;

  // Workers, each with its own flow table; RX queues and TX queues are owned by one worker.
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<FlowTable>> tables;
  dataplane::WorkerOptions wopts;
  wopts.mode = options.mode;
  for (unsigned w = 0; w < nworkers; ++w) {
    workers.push_back(std::make_unique<Worker>(clock, wopts));
    tables.push_back(std::make_unique<FlowTable>(rx_plan));
  }
  std::vector<std::unique_ptr<RxEngine>> rx_engines;
  // A port is polled when a stream names it as rx_port, or when it transmits nothing (a pure
  // analyzer port). A TX-only port is never polled: polling costs the generator (AF_XDP's RX
  // path may make a wakeup syscall per poll) and there is nothing to analyse.
  std::vector<bool> is_rx(ports.size(), false), is_tx(ports.size(), false);
  for (const StreamRuntime& s : streams) is_tx[s.tx_port] = true;
  for (int i = 0; i < run.streams_size(); ++i) {
    const auto it = std::find(names.begin(), names.end(), run.streams(i).rx_port());
    if (it != names.end()) is_rx[it - names.begin()] = true;
  }
  for (size_t p = 0; p < ports.size(); ++p) {
    if (!io::PmdReceives(ports[p].pmd) || (!is_rx[p] && is_tx[p])) continue;
    for (uint16_t q = 0; q < ports[p].queues; ++q) {
      const unsigned w = static_cast<unsigned>((p * 64 + q) % nworkers);
      rx_engines.push_back(std::make_unique<RxEngine>(ports[p].port_id, q, *tables[w], clock,
                                                      workers[w]->counters()));
      workers[w]->AddRx(rx_engines.back().get());
    }
  }
  const uint64_t start_tsc = rte_rdtsc() + tsc_hz / 20;  // 50 ms to launch the lcores
  const uint64_t end_tsc =
      start_tsc + clock.NsToTicks(static_cast<uint64_t>(absl::ToInt64Nanoseconds(duration)));
  for (StreamRuntime& s : streams) {
    s.engine = std::make_unique<TxEngine>(s.compiled.plan, clock, ports[s.tx_port].tx_pool,
                                          workers[s.worker]->counters());
    s.engine->Arm(start_tsc, end_tsc);
    workers[s.worker]->AddTx(s.engine.get());
  }
  for (unsigned w = 0; w < nworkers; ++w) {
    rte_eal_remote_launch(&Worker::LaunchTrampoline, workers[w].get(), worker_lcores[w]);
  }

  // Control thread: wait for TX to finish (or an interrupt), then the drain time.
  bool interrupted = false;
  const auto interrupted_now = [&] {
    return options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed);
  };
  const uint64_t tx_deadline = end_tsc + tsc_hz;  // a stuck worker must not hang the run
  for (;;) {
    bool all = true;
    for (auto& w : workers) all = all && w->tx_done();
    if (all && rte_rdtsc() >= end_tsc) break;
    if (rte_rdtsc() > tx_deadline) break;
    if (interrupted_now()) {
      interrupted = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!interrupted) {
    const uint64_t drain_end =
        rte_rdtsc() + clock.NsToTicks(static_cast<uint64_t>(absl::ToInt64Nanoseconds(drain)));
    while (rte_rdtsc() < drain_end && !interrupted_now()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (auto& w : workers) w->RequestStop();
  rte_eal_mp_wait_lcore();
  for (StreamRuntime& s : streams) s.engine->Finish();

  // Results: the lcores have stopped, so every counter is final.
  v1::StandaloneResult result;
  result.set_duration_s(absl::ToDoubleSeconds(duration));
  result.set_poll_mode(options.mode == dataplane::PollMode::kBusy ? "busy" : "adaptive");
  result.set_interrupted(interrupted);
  for (size_t p = 0; p < ports.size(); ++p) {
    v1::PortCapability* pc = result.add_ports();
    pc->set_name(ports[p].name);
    pc->set_pmd(io::PmdName(ports[p].pmd));
    pc->set_device(ports[p].device);
    pc->set_speed_bps(ports[p].speed_bps);
    pc->set_numa_node(ports[p].numa_node);
    pc->set_rx_queues(ports[p].queues);
    pc->set_tx_queues(ports[p].queues);
    pc->set_mac(packet::FormatMac(ports[p].mac));
    pc->set_max_frame_bytes(max_frame[p]);
  }
  v1::AgentCounters* c = result.mutable_counters();
  for (auto& w : workers) {
    const auto& k = w->counters();
    c->set_rx_packets(c->rx_packets() + k.rx_packets.Read());
    c->set_rx_not_probe(c->rx_not_probe() + k.rx_not_probe.Read());
    c->set_rx_unknown_flow(c->rx_unknown_flow() + k.rx_unknown_flow.Read());
    c->set_tx_alloc_fail(c->tx_alloc_fail() + k.tx_alloc_fail.Read());
    c->set_tx_ring_full(c->tx_ring_full() + k.tx_ring_full.Read());
    c->set_idle_sleeps(c->idle_sleeps() + k.idle_sleeps.Read());
  }
  v1::FlowStatsBatch* batch = result.mutable_stats();
  batch->set_final(!interrupted);
  batch->set_trial_id("standalone");
  const double dur_s = absl::ToDoubleSeconds(duration);
  for (size_t i = 0; i < streams.size(); ++i) {
    const StreamRuntime& s = streams[i];
    const dataplane::StreamPlan& plan = s.compiled.plan;
    const std::string& name =
        run.streams(i).name().empty() ? absl::StrCat("s", i) : run.streams(i).name();
    v1::StreamStats* ss = batch->add_streams();
    ss->set_stream(name);
    ss->set_tx_port(ports[s.tx_port].name);
    ss->set_flows(plan.flows);
    ss->set_avg_frame_bytes(s.compiled.avg_frame_bytes);
    ss->set_target_frames_per_second(s.compiled.frames_per_second);
    stats::LatencyHistogram hist;
    for (auto& t : tables) hist.Merge(t->histogram(static_cast<uint32_t>(i)));
    uint64_t first_rx = UINT64_MAX, last_rx = 0, lat_min = UINT64_MAX, lat_max = 0;
    double lat_sum = 0, jitter_sum = 0;
    uint64_t lat_n = 0;
    const std::vector<uint64_t> flow_tx_bytes = s.engine->flow_tx_bytes();
    for (uint32_t k = 0; k < plan.flows; ++k) {
      const uint32_t id = plan.first_flow_id + k;
      stats::FlowSummary sum = stats::Summarize(tables[0]->state(id), s.engine->flow_tx_packets()[k]);
      for (size_t w = 1; w < tables.size(); ++w) {
        stats::MergeSummary(sum, stats::Summarize(tables[w]->state(id), 0));
      }
      v1::FlowStats* fs = batch->add_flows();
      fs->set_flow_id(id);
      fs->set_stream(name);
      fs->set_tx_packets(sum.tx_packets);
      fs->set_tx_bytes(flow_tx_bytes[k]);
      fs->set_rx_packets(sum.rx_packets);
      fs->set_rx_bytes(sum.rx_bytes);
      fs->set_unique_packets(sum.unique_packets);
      fs->set_lost(sum.lost);
      fs->set_duplicates(sum.duplicates);
      fs->set_late(sum.late);
      fs->set_reordered(sum.reordered);
      fs->set_max_reorder_extent(sum.max_extent);
      fs->set_n_reordered_3(sum.n_reordered_3);
      fs->set_seq_discontinuities(sum.seq_discontinuities);
      fs->set_latency_min_ns(sum.latency_min_ns);
      fs->set_latency_avg_ns(static_cast<uint64_t>(std::llround(sum.latency_avg_ns)));
      fs->set_latency_max_ns(sum.latency_max_ns);
      fs->set_ipdv_min_ns(sum.ipdv_min_ns);
      fs->set_ipdv_max_ns(sum.ipdv_max_ns);
      fs->set_jitter_ns(static_cast<uint64_t>(std::llround(sum.jitter_rfc3550_ns)));
      fs->set_pdv_max_ns(sum.pdv_max_ns);
      fs->set_first_rx_unix_ns(sum.first_rx_ns);
      fs->set_last_rx_unix_ns(sum.last_rx_ns);
      fs->set_max_gap_ns(sum.max_gap_ns);
      ss->set_tx_packets(ss->tx_packets() + sum.tx_packets);
      ss->set_tx_bytes(ss->tx_bytes() + flow_tx_bytes[k]);
      ss->set_rx_packets(ss->rx_packets() + sum.rx_packets);
      ss->set_rx_bytes(ss->rx_bytes() + sum.rx_bytes);
      ss->set_unique_packets(ss->unique_packets() + sum.unique_packets);
      ss->set_lost(ss->lost() + sum.lost);
      ss->set_duplicates(ss->duplicates() + sum.duplicates);
      ss->set_reordered(ss->reordered() + sum.reordered);
      ss->set_late(ss->late() + sum.late);
      if (sum.unique_packets > 0) {
        ss->set_flows_seen(ss->flows_seen() + 1);
        first_rx = std::min(first_rx, sum.first_rx_ns);
        last_rx = std::max(last_rx, sum.last_rx_ns);
      }
      if (sum.latency_count > 0) {
        lat_min = std::min(lat_min, sum.latency_min_ns);
        lat_max = std::max(lat_max, sum.latency_max_ns);
        lat_sum += sum.latency_avg_ns * static_cast<double>(sum.latency_count);
        lat_n += sum.latency_count;
        jitter_sum += sum.jitter_rfc3550_ns;
      }
    }
    ss->set_tx_frames_per_second(static_cast<double>(ss->tx_packets()) / dur_s);
    ss->set_tx_duration_s(s.engine->last_tx_tsc() > s.engine->first_tx_tsc()
                              ? static_cast<double>(s.engine->last_tx_tsc() - s.engine->first_tx_tsc()) /
                                    static_cast<double>(tsc_hz)
                              : 0);
    if (last_rx > first_rx) {
      const double span = static_cast<double>(last_rx - first_rx) / 1e9;
      ss->set_rx_duration_s(span);
      ss->set_rx_frames_per_second(static_cast<double>(ss->unique_packets()) / span);
      ss->set_rx_bits_per_second(static_cast<double>(ss->rx_bytes()) * 8 / span);
    }
    if (lat_n > 0) {
      ss->set_latency_min_ns(lat_min);
      ss->set_latency_max_ns(lat_max);
      ss->set_latency_avg_ns(static_cast<uint64_t>(std::llround(lat_sum / static_cast<double>(lat_n))));
      ss->set_latency_p50_ns(hist.Quantile(0.5));
      ss->set_latency_p99_ns(hist.Quantile(0.99));
      ss->set_latency_p999_ns(hist.Quantile(0.999));
      const uint64_t p99 = hist.Quantile(0.99);
      ss->set_pdv_p99_ns(p99 > lat_min ? p99 - lat_min : 0);
      ss->set_jitter_ns(static_cast<uint64_t>(std::llround(jitter_sum / std::max<uint32_t>(1, ss->flows_seen()))));
    }
    v1::LatencyHistogram* lh = ss->mutable_latency();
    lh->set_sub_bucket_bits(stats::LatencyHistogram::kSubBucketBits);
    for (const auto& [idx, count] : hist.NonEmpty()) {
      lh->add_bucket_index(idx);
      lh->add_bucket_count(count);
    }
  }
  streams.clear();  // engines before ports
  close_ports();
  return result;
}

std::string FormatJson(const v1::StandaloneResult& result) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(result, &out, opts);
  return out;
}

namespace {
std::string Us(uint64_t ns) { return absl::StrFormat("%.2f", static_cast<double>(ns) / 1000.0); }
}  // namespace

std::string FormatTable(const v1::StandaloneResult& r, int max_flow_rows) {
  std::string out;
  absl::StrAppendFormat(&out, "ports:\n");
  for (const auto& p : r.ports()) {
    absl::StrAppendFormat(&out, "  %-10s %-14s %-12s %s  %.0f Mb/s\n", p.name(), p.pmd(),
                          p.device().empty() ? "-" : p.device(), p.mac(),
                          static_cast<double>(p.speed_bps()) / 1e6);
  }
  absl::StrAppendFormat(&out,
                        "\nstreams (duration %.3f s, %s polling%s):\n"
                        "  %-10s %6s %12s %12s %12s %10s %9s %6s %6s %9s %9s %9s %9s\n",
                        r.duration_s(), r.poll_mode(), r.interrupted() ? ", INTERRUPTED" : "",
                        "stream", "flows", "tx", "rx-unique", "lost", "loss%", "rx-Mb/s", "dup",
                        "reord", "lat-min", "lat-avg", "lat-p99", "lat-max");
  for (const auto& s : r.stats().streams()) {
    const double loss = s.tx_packets() ? 100.0 * static_cast<double>(s.lost()) /
                                             static_cast<double>(s.tx_packets())
                                       : 0;
    absl::StrAppendFormat(&out, "  %-10s %6u %12u %12u %12d %10.4f %9.2f %6u %6u %9s %9s %9s %9s\n",
                          s.stream(), s.flows(), s.tx_packets(), s.unique_packets(), s.lost(), loss,
                          s.rx_bits_per_second() / 1e6, s.duplicates(), s.reordered(),
                          Us(s.latency_min_ns()), Us(s.latency_avg_ns()), Us(s.latency_p99_ns()),
                          Us(s.latency_max_ns()));
  }
  absl::StrAppendFormat(&out, "  (latency in microseconds; rates over the arrival span)\n");
  const int nflows = r.stats().flows_size();
  absl::StrAppendFormat(&out,
                        "\nflows%s:\n  %-8s %-10s %10s %10s %8s %6s %6s %6s %9s %9s %9s %9s %10s\n",
                        nflows > max_flow_rows ? absl::StrFormat(" (first %d of %d)", max_flow_rows, nflows) : "",
                        "flow", "stream", "tx", "rx", "lost", "dup", "reord", "late", "lat-min",
                        "lat-avg", "lat-max", "jitter", "max-gap-us");
  for (int i = 0; i < nflows && i < max_flow_rows; ++i) {
    const auto& f = r.stats().flows(i);
    absl::StrAppendFormat(&out, "  %-8u %-10s %10u %10u %8d %6u %6u %6u %9s %9s %9s %9s %10s\n",
                          f.flow_id(), f.stream(), f.tx_packets(), f.unique_packets(), f.lost(),
                          f.duplicates(), f.reordered(), f.late(), Us(f.latency_min_ns()),
                          Us(f.latency_avg_ns()), Us(f.latency_max_ns()), Us(f.jitter_ns()),
                          Us(f.max_gap_ns()));
  }
  const auto& c = r.counters();
  absl::StrAppendFormat(&out,
                        "\ncounters: rx %u, not-test %u, unknown-flow %u, tx-alloc-fail %u, "
                        "tx-ring-full %u, idle-sleeps %u\n",
                        c.rx_packets(), c.rx_not_probe(), c.rx_unknown_flow(), c.tx_alloc_fail(),
                        c.tx_ring_full(), c.idle_sleeps());
  return out;
}

}  // namespace netrig::agent::control
