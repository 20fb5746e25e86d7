#include "agent/control/agent_runtime.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "agent/control/plan_compiler.h"
#include "agent/dataplane/clock.h"
#include "agent/dataplane/rx_engine.h"
#include "agent/dataplane/tx_engine.h"
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
  bool receive_only = false;
};

std::string StreamName(const v1::TrialStart& trial, size_t i) {
  const std::string& name = trial.streams(static_cast<int>(i)).name();
  return name.empty() ? absl::StrCat("s", i) : name;
}

// Stream aggregates read from the live counters while the lcores run: no per-flow entries
// (per-flow state is the lcores' own until they stopped).
v1::FlowStatsBatch InterimBatch(const v1::TrialStart& trial,
                                const std::vector<StreamRuntime>& streams,
                                const std::vector<std::unique_ptr<FlowTable>>& tables,
                                const std::vector<io::PortInfo>& ports, uint64_t elapsed_ns) {
  v1::FlowStatsBatch batch;
  batch.set_trial_id(trial.trial_id());
  batch.set_final(false);
  batch.set_elapsed_ns(elapsed_ns);
  for (size_t i = 0; i < streams.size(); ++i) {
    const StreamRuntime& s = streams[i];
    v1::StreamStats* ss = batch.add_streams();
    ss->set_stream(StreamName(trial, i));
    ss->set_tx_port(s.receive_only ? "" : ports[s.tx_port].name);
    ss->set_flows(s.compiled.plan.flows);
    ss->set_target_frames_per_second(s.compiled.frames_per_second);
    if (s.engine) {
      ss->set_tx_packets(s.engine->live_tx_packets());
      ss->set_tx_bytes(s.engine->live_tx_bytes());
    }
    dataplane::LiveHistogramSnapshot latency;
    uint64_t rx_packets = 0, rx_bytes = 0;
    for (const auto& t : tables) {
      const dataplane::LiveStreamRx& live = t->live(static_cast<uint32_t>(i));
      rx_packets += live.packets.Read();
      rx_bytes += live.bytes.Read();
      latency.Add(live.latency);
    }
    ss->set_rx_packets(rx_packets);
    ss->set_rx_bytes(rx_bytes);
    if (latency.count() > 0) {
      ss->set_latency_p50_ns(latency.Quantile(0.5));
      ss->set_latency_p99_ns(latency.Quantile(0.99));
      ss->set_latency_p999_ns(latency.Quantile(0.999));
    }
  }
  return batch;
}

}  // namespace

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
  if (p.max_frame_bytes() != 0 && (p.max_frame_bytes() < rate::kMinEthernetFrameBytes ||
                                   p.max_frame_bytes() > rate::kMaxEthernetFrameBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".max_frame_bytes: ", p.max_frame_bytes(),
                                                   " is outside 64..",
                                                   rate::kMaxEthernetFrameBytes));
  }
  if (!p.gateway_mac().empty()) {
    if (auto mac = packet::ParseMac(p.gateway_mac()); !mac.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".gateway_mac: ", mac.status().message()));
    }
  }
  RETURN_IF_ERROR(io::ValidatePortSpec(spec, path));
  return spec;
}

absl::Status ValidatePorts(const google::protobuf::RepeatedPtrField<v1::PortConfig>& ports) {
  if (ports.empty()) {
    return absl::InvalidArgumentError("ports: at least one port is needed");
  }
  std::vector<std::string> names;
  std::set<std::string> ifaces;
  for (int i = 0; i < ports.size(); ++i) {
    const std::string path = absl::StrCat("ports[", i, "]");
    ASSIGN_OR_RETURN(io::PortSpec spec, ToPortSpec(ports[i], path));
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
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AgentRuntime>> AgentRuntime::Create(
    const google::protobuf::RepeatedPtrField<v1::PortConfig>& ports, const RuntimeOptions& options) {
  RETURN_IF_ERROR(ValidatePorts(ports));
  if (options.lcores.size() < 2) {
    return absl::InvalidArgumentError("lcores: need the main lcore and at least one worker");
  }
  auto rt = std::unique_ptr<AgentRuntime>(new AgentRuntime());
  rt->options_ = options;
  std::vector<io::PortSpec> specs;
  io::EalOptions eal;
  eal.lcores = options.lcores;
  eal.no_huge = options.no_huge < 0 ? !io::HugepagesAvailable() : options.no_huge != 0;
  eal.memory_mb = options.memory_mb;
  eal.log_level = options.eal_log_level;
  for (int i = 0; i < ports.size(); ++i) {
    ASSIGN_OR_RETURN(io::PortSpec spec, ToPortSpec(ports[i], absl::StrCat("ports[", i, "]")));
    if (spec.pmd == io::Pmd::kPci) {
      eal.pci_allow.push_back(spec.pci);
    } else {
      eal.vdevs.push_back(io::VdevArg(spec, i));
    }
    rt->names_.push_back(spec.name);
    rt->max_frame_.push_back(ports[i].max_frame_bytes() == 0 ? 1518 : ports[i].max_frame_bytes());
    rt->gateway_mac_.push_back(ports[i].gateway_mac());
    specs.push_back(spec);
  }
  ASSIGN_OR_RETURN(rt->session_, io::EalSession::Create(eal));
  {
    absl::MutexLock lock(&rt->stats_mu_);
    rt->busy_tsc_totals_.assign(rt->session_->worker_lcores().size(), 0);
  }
  absl::MutexLock ports_lock(&rt->ports_mu_);
  for (size_t i = 0; i < specs.size(); ++i) {
    auto port = io::OpenPort(specs[i], static_cast<int>(i), rt->max_frame_[i]);
    if (!port.ok()) {
      return port.status();  // the destructor closes the ports opened so far
    }
    rt->ports_.push_back(*port);
  }
  rt->tsc_hz_ = rte_get_tsc_hz();
  return rt;
}

AgentRuntime::~AgentRuntime() {
  absl::MutexLock lock(&ports_mu_);
  for (io::PortInfo& p : ports_) {
    io::ClosePort(p);
  }
  ports_closed_ = true;
}

void AgentRuntime::SetLiveTrial(const std::vector<std::unique_ptr<Worker>>* workers,
                                uint32_t streams) {
  absl::MutexLock lock(&stats_mu_);
  if (workers == nullptr && live_workers_ != nullptr) {
    // The lcores stopped: their final counters become part of the totals in the same critical
    // section that hides them, so a reader never sees a total go down.
    for (size_t w = 0; w < live_workers_->size() && w < busy_tsc_totals_.size(); ++w) {
      const dataplane::LcoreCounters& k = (*live_workers_)[w]->counters();
      busy_tsc_totals_[w] += k.busy_tsc.Read();
      anomaly_totals_.tx_alloc_fail += k.tx_alloc_fail.Read();
      anomaly_totals_.tx_ring_full += k.tx_ring_full.Read();
      anomaly_totals_.rx_not_probe += k.rx_not_probe.Read();
      anomaly_totals_.rx_unknown_flow += k.rx_unknown_flow.Read();
    }
  }
  live_workers_ = workers;
  active_streams_ = streams;
}

RuntimeSample AgentRuntime::Sample() const {
  RuntimeSample out;
  out.tsc_hz = tsc_hz_ == 0 ? 1 : tsc_hz_;
  {
    absl::MutexLock lock(&ports_mu_);
    if (!ports_closed_) {
      for (const io::PortInfo& p : ports_) {
        RuntimeSample::Port& port = out.ports.emplace_back();
        port.name = p.name;
        port.pmd = io::PmdName(p.pmd);
        port.device = p.device.empty() ? p.ethdev : p.device;
        port.speed_bps = p.speed_bps;
        if (absl::StatusOr<io::PortStats> st = io::ReadPortStats(p); st.ok()) {
          port.stats = *st;
        }
      }
    }
  }
  absl::MutexLock lock(&stats_mu_);
  const std::vector<unsigned>& lcores = session_->worker_lcores();
  out.anomalies = anomaly_totals_;
  out.active_streams = active_streams_;
  for (size_t w = 0; w < lcores.size() && w < busy_tsc_totals_.size(); ++w) {
    RuntimeSample::Lcore l{lcores[w], busy_tsc_totals_[w]};
    if (live_workers_ != nullptr && w < live_workers_->size()) {
      l.busy_tsc += (*live_workers_)[w]->counters().busy_tsc.Read();
    }
    out.lcores.push_back(l);
  }
  if (live_workers_ != nullptr) {
    for (const auto& worker : *live_workers_) {
      const dataplane::LcoreCounters& k = worker->counters();
      out.anomalies.tx_alloc_fail += k.tx_alloc_fail.Read();
      out.anomalies.tx_ring_full += k.tx_ring_full.Read();
      out.anomalies.rx_not_probe += k.rx_not_probe.Read();
      out.anomalies.rx_unknown_flow += k.rx_unknown_flow.Read();
    }
  }
  return out;
}

const char* AgentRuntime::poll_mode() const {
  return options_.mode == dataplane::PollMode::kBusy ? "busy" : "adaptive";
}

std::vector<v1::PortCapability> AgentRuntime::PortCapabilities() const {
  std::vector<v1::PortCapability> out;
  for (size_t p = 0; p < ports_.size(); ++p) {
    v1::PortCapability pc;
    pc.set_name(ports_[p].name);
    pc.set_pmd(io::PmdName(ports_[p].pmd));
    pc.set_device(ports_[p].device);
    pc.set_speed_bps(ports_[p].speed_bps);
    pc.set_numa_node(ports_[p].numa_node);
    pc.set_rx_queues(ports_[p].queues);
    pc.set_tx_queues(ports_[p].queues);
    pc.set_mac(packet::FormatMac(ports_[p].mac));
    pc.set_max_frame_bytes(max_frame_[p]);
    pc.set_gateway_mac(gateway_mac_[p]);
    out.push_back(pc);
  }
  return out;
}

absl::Status AgentRuntime::ValidateStreams(
    const google::protobuf::RepeatedPtrField<v1::StreamConfig>& streams) const {
  if (streams.empty()) {
    return absl::InvalidArgumentError("streams: at least one stream is needed");
  }
  for (int i = 0; i < streams.size(); ++i) {
    const std::string path = absl::StrCat("streams[", i, "]");
    RETURN_IF_ERROR(ValidateStream(streams[i], path, names_));
    if (streams[i].tx_port().empty()) continue;  // receive-only: nothing to build
    const size_t tx = std::find(names_.begin(), names_.end(), streams[i].tx_port()) - names_.begin();
    ASSIGN_OR_RETURN(std::vector<uint32_t> sizes, StreamSizes(streams[i], path));
    for (uint32_t v : sizes) {
      if (v > max_frame_[tx]) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".size: ", v, " exceeds port ",
                                                       names_[tx], "'s max_frame_bytes ",
                                                       max_frame_[tx]));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TrialOutcome> AgentRuntime::RunTrial(const v1::TrialStart& trial,
                                                    const std::atomic<bool>* interrupt,
                                                    const ProgressCallback& on_progress) {
  RETURN_IF_ERROR(ValidateStreams(trial.streams()));
  if (trial.duration_ns() == 0) {
    return absl::InvalidArgumentError("duration: must be above 0");
  }
  const std::vector<unsigned>& worker_lcores = session_->worker_lcores();
  const unsigned nworkers = std::max(
      1u, std::min<unsigned>(options_.workers, static_cast<unsigned>(worker_lcores.size())));
  const uint64_t tsc_hz = tsc_hz_;
  const TscClock clock(tsc_hz, rte_rdtsc(), RealtimeNs());

  // Compile streams; flow ids are dense and ascending by stream.
  std::vector<StreamRuntime> streams(trial.streams_size());
  dataplane::RxPlan rx_plan;
  rx_plan.late_threshold_ns = trial.late_threshold_ns() == 0 ? UINT64_MAX : trial.late_threshold_ns();
  uint32_t next_flow = 0;
  for (int i = 0; i < trial.streams_size(); ++i) {
    const v1::StreamConfig& s = trial.streams(i);
    const std::string path = absl::StrCat("streams[", i, "]");
    if (s.first_flow_id() != 0 && s.first_flow_id() < next_flow) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".first_flow_id: ", s.first_flow_id(),
          " overlaps the previous stream's flows (next free id ", next_flow, ")"));
    }
    const uint32_t first = std::max(next_flow, s.first_flow_id());
    if (s.tx_port().empty()) {
      // Receive-only: another agent sends these flows; only the analyzer needs to know them.
      streams[i].receive_only = true;
      streams[i].compiled.plan.first_flow_id = first;
      streams[i].compiled.plan.flows = s.flows() == 0 ? 1 : s.flows();
      rx_plan.stream_first_flow.push_back(first);
      next_flow = first + streams[i].compiled.plan.flows;
      continue;
    }
    const size_t tx = std::find(names_.begin(), names_.end(), s.tx_port()) - names_.begin();
    const io::PortInfo* rx = nullptr;
    if (!s.rx_port().empty()) {
      rx = &ports_[std::find(names_.begin(), names_.end(), s.rx_port()) - names_.begin()];
    }
    v1::StreamConfig with_gateway;
    const v1::StreamConfig* cfg = &s;
    if (s.dst_mac().empty() && !gateway_mac_[tx].empty()) {
      with_gateway = s;
      with_gateway.set_dst_mac(gateway_mac_[tx]);
      cfg = &with_gateway;
    }
    ASSIGN_OR_RETURN(streams[i].compiled, CompileStream(*cfg, path, ports_[tx], rx, first, tsc_hz));
    streams[i].compiled.plan.stream_index = static_cast<uint32_t>(i);
    streams[i].compiled.plan.queue_id = static_cast<uint16_t>(i % ports_[tx].queues);
    streams[i].tx_port = tx;
    streams[i].worker =
        static_cast<unsigned>((tx * 64 + streams[i].compiled.plan.queue_id) % nworkers);
    rx_plan.stream_first_flow.push_back(first);
    next_flow = first + streams[i].compiled.plan.flows;
  }
  rx_plan.total_flows = next_flow;

  // Workers, each with its own flow table; RX and TX queues are each owned by one worker.
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<FlowTable>> tables;
  dataplane::WorkerOptions wopts;
  wopts.mode = options_.mode;
  for (unsigned w = 0; w < nworkers; ++w) {
    workers.push_back(std::make_unique<Worker>(clock, wopts));
    tables.push_back(std::make_unique<FlowTable>(rx_plan));
  }
  // A port is polled when a stream names it as rx_port, or when it transmits nothing (a pure
  // analyzer port). A TX-only port is never polled: polling costs the generator (AF_XDP's RX
  // path may make a wakeup syscall per poll) and there is nothing to analyse.
  std::vector<bool> is_rx(ports_.size(), false), is_tx(ports_.size(), false);
  for (const StreamRuntime& s : streams) {
    if (!s.receive_only) is_tx[s.tx_port] = true;
  }
  for (int i = 0; i < trial.streams_size(); ++i) {
    const auto it = std::find(names_.begin(), names_.end(), trial.streams(i).rx_port());
    if (it != names_.end()) is_rx[it - names_.begin()] = true;
  }
  std::vector<std::unique_ptr<RxEngine>> rx_engines;
  for (size_t p = 0; p < ports_.size(); ++p) {
    if (!io::PmdReceives(ports_[p].pmd) || (!is_rx[p] && is_tx[p])) continue;
    for (uint16_t q = 0; q < ports_[p].queues; ++q) {
      const unsigned w = static_cast<unsigned>((p * 64 + q) % nworkers);
      rx_engines.push_back(std::make_unique<RxEngine>(ports_[p].port_id, q, *tables[w], clock,
                                                      workers[w]->counters()));
      workers[w]->AddRx(rx_engines.back().get());
    }
  }
  // Start at the common start time if it is still ahead (lock-step trials across agents),
  // else 50 ms from now (time to launch the lcores).
  const uint64_t now_tsc = rte_rdtsc();
  uint64_t start_tsc = now_tsc + tsc_hz / 20;
  if (trial.start_unix_ns() != 0) {
    const uint64_t wanted = clock.FromNs(trial.start_unix_ns());
    if (wanted > start_tsc) start_tsc = wanted;
  }
  const uint64_t end_tsc = start_tsc + clock.NsToTicks(trial.duration_ns());
  for (StreamRuntime& s : streams) {
    if (s.receive_only) continue;
    s.engine = std::make_unique<TxEngine>(s.compiled.plan, clock, ports_[s.tx_port].tx_pool,
                                          workers[s.worker]->counters());
    s.engine->Arm(start_tsc, end_tsc);
    workers[s.worker]->AddTx(s.engine.get());
  }
  SetLiveTrial(&workers, static_cast<uint32_t>(trial.streams_size()));
  for (unsigned w = 0; w < nworkers; ++w) {
    rte_eal_remote_launch(&Worker::LaunchTrampoline, workers[w].get(), worker_lcores[w]);
  }

  // Control thread: wait for TX to finish (or an interrupt), then the drain time. Final
  // counters are read only after the workers stopped; mid-trial, only the single-writer live
  // counters are (interim batches).
  bool interrupted = false;
  const auto interrupted_now = [&] {
    return interrupt != nullptr && interrupt->load(std::memory_order_relaxed);
  };
  const uint64_t progress_ticks =
      trial.progress_interval_ns() == 0 || !on_progress
          ? 0
          : std::max<uint64_t>(1, clock.NsToTicks(trial.progress_interval_ns()));
  uint64_t next_progress_tsc = start_tsc + progress_ticks;
  const auto report_progress = [&] {
    if (progress_ticks == 0) return;
    const uint64_t now = rte_rdtsc();
    if (now < next_progress_tsc) return;
    // One batch per poll at most; intervals missed meanwhile are skipped, not replayed.
    next_progress_tsc += ((now - next_progress_tsc) / progress_ticks + 1) * progress_ticks;
    on_progress(
        InterimBatch(trial, streams, tables, ports_, clock.ToNs(now) - clock.ToNs(start_tsc)));
  };
  const uint64_t tx_deadline = end_tsc + tsc_hz;  // a stuck worker must not hang the trial
  for (;;) {
    bool all = true;
    for (auto& w : workers) all = all && w->tx_done();
    if (all && rte_rdtsc() >= end_tsc) break;
    if (rte_rdtsc() > tx_deadline) break;
    if (interrupted_now()) {
      interrupted = true;
      break;
    }
    report_progress();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!interrupted) {
    const uint64_t drain_end = rte_rdtsc() + clock.NsToTicks(trial.drain_ns());
    while (rte_rdtsc() < drain_end && !interrupted_now()) {
      report_progress();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (auto& w : workers) w->RequestStop();
  rte_eal_mp_wait_lcore();
  SetLiveTrial(nullptr, 0);
  for (StreamRuntime& s : streams) {
    if (s.engine) s.engine->Finish();
  }

  TrialOutcome outcome;
  outcome.interrupted = interrupted;
  v1::AgentCounters* c = &outcome.counters;
  for (auto& w : workers) {
    const auto& k = w->counters();
    c->set_rx_packets(c->rx_packets() + k.rx_packets.Read());
    c->set_rx_not_probe(c->rx_not_probe() + k.rx_not_probe.Read());
    c->set_rx_unknown_flow(c->rx_unknown_flow() + k.rx_unknown_flow.Read());
    c->set_tx_alloc_fail(c->tx_alloc_fail() + k.tx_alloc_fail.Read());
    c->set_tx_ring_full(c->tx_ring_full() + k.tx_ring_full.Read());
    c->set_idle_sleeps(c->idle_sleeps() + k.idle_sleeps.Read());
  }
  const double dur_s = static_cast<double>(trial.duration_ns()) / 1e9;
  v1::FlowStatsBatch* batch = &outcome.stats;
  batch->set_final(!interrupted);
  batch->set_trial_id(trial.trial_id());
  for (size_t i = 0; i < streams.size(); ++i) {
    const StreamRuntime& s = streams[i];
    const dataplane::StreamPlan& plan = s.compiled.plan;
    const std::string name = StreamName(trial, i);
    v1::StreamStats* ss = batch->add_streams();
    ss->set_stream(name);
    ss->set_tx_port(s.receive_only ? "" : ports_[s.tx_port].name);
    ss->set_flows(plan.flows);
    ss->set_avg_frame_bytes(s.compiled.avg_frame_bytes);
    ss->set_target_frames_per_second(s.compiled.frames_per_second);
    stats::LatencyHistogram hist;
    for (auto& t : tables) hist.Merge(t->histogram(static_cast<uint32_t>(i)));
    uint64_t first_rx = UINT64_MAX, last_rx = 0, lat_min = UINT64_MAX, lat_max = 0;
    double lat_sum = 0, jitter_sum = 0;
    uint64_t lat_n = 0;
    const std::vector<uint64_t> flow_tx_bytes =
        s.engine ? s.engine->flow_tx_bytes() : std::vector<uint64_t>(plan.flows, 0);
    const std::vector<uint64_t> no_tx(s.engine ? 0 : plan.flows, 0);
    const std::vector<uint64_t>& flow_tx_packets = s.engine ? s.engine->flow_tx_packets() : no_tx;
    for (uint32_t k = 0; k < plan.flows; ++k) {
      const uint32_t id = plan.first_flow_id + k;
      stats::FlowSummary sum = stats::Summarize(tables[0]->state(id), flow_tx_packets[k]);
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
    ss->set_tx_duration_s(s.engine && s.engine->last_tx_tsc() > s.engine->first_tx_tsc()
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
  return outcome;
}

}  // namespace netrig::agent::control
