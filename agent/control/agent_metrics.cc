#include "agent/control/agent_metrics.h"

#include <iterator>
#include <string>
#include <utility>

#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace netrig::agent::control {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using Labels = std::vector<ClientMetric::Label>;

MetricFamily Family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void Add(MetricFamily& f, double value, Labels labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

double D(uint64_t v) { return static_cast<double>(v); }

// One per io::PortStats field; the order matches AgentMetrics' monotonic totals.
struct PortCounter {
  const char* name;
  const char* help;
  uint64_t io::PortStats::*field;
};
constexpr PortCounter kPortCounterFields[] = {
    {"netrig_agent_port_tx_packets_total", "Packets the port sent (ethdev basic stats).",
     &io::PortStats::tx_packets},
    {"netrig_agent_port_tx_bytes_total", "Bytes the port sent, without FCS (ethdev basic stats).",
     &io::PortStats::tx_bytes},
    {"netrig_agent_port_rx_packets_total", "Packets the port received (ethdev basic stats).",
     &io::PortStats::rx_packets},
    {"netrig_agent_port_rx_bytes_total",
     "Bytes the port received, without FCS (ethdev basic stats).", &io::PortStats::rx_bytes},
    {"netrig_agent_port_rx_missed_packets_total",
     "Packets the NIC dropped for lack of an RX descriptor (xstat rx_missed_errors).",
     &io::PortStats::rx_missed},
    {"netrig_agent_port_rx_errors_total", "Erroneous received packets (xstat rx_errors).",
     &io::PortStats::rx_errors},
    {"netrig_agent_port_tx_errors_total", "Failed transmitted packets (xstat tx_errors).",
     &io::PortStats::tx_errors},
    {"netrig_agent_port_rx_mbuf_allocation_errors_total",
     "RX mbuf allocation failures (xstat rx_mbuf_allocation_errors).",
     &io::PortStats::rx_mbuf_allocation_errors},
};

const char* SessionStateName(SessionState s) {
  switch (s) {
    case SessionState::kDisconnected:
      return "disconnected";
    case SessionState::kIdle:
      return "idle";
    case SessionState::kRunning:
      return "running";
  }
  return "disconnected";
}

}  // namespace

absl::Status SessionReadiness(SessionState state) {
  if (state == SessionState::kDisconnected) {
    return absl::UnavailableError("not registered with the controller (no session)");
  }
  return absl::OkStatus();
}

std::vector<MetricFamily> RenderAgentMetrics(const AgentMetricsSample& sample) {
  const RuntimeSample& rt = sample.runtime;
  std::vector<MetricFamily> out;

  MetricFamily build = Family("netrig_agent_build_info", "netrig-agent build.", MetricType::Gauge);
  Add(build, 1, {{"version", sample.version}});
  out.push_back(std::move(build));

  MetricFamily session =
      Family("netrig_agent_session_state", "Controller session state: 1 for the current state.",
             MetricType::Gauge);
  for (SessionState s :
       {SessionState::kDisconnected, SessionState::kIdle, SessionState::kRunning}) {
    Add(session, s == sample.session_state ? 1 : 0, {{"state", SessionStateName(s)}});
  }
  out.push_back(std::move(session));

  MetricFamily streams =
      Family("netrig_agent_active_streams", "Streams of the trial in progress (0 between trials).",
             MetricType::Gauge);
  Add(streams, rt.active_streams);
  out.push_back(std::move(streams));

  MetricFamily trials =
      Family("netrig_agent_trials_total", "Trials the controller sent, by how they ended.",
             MetricType::Counter);
  Add(trials, D(sample.trials_completed), {{"result", "completed"}});
  Add(trials, D(sample.trials_interrupted), {{"result", "interrupted"}});
  Add(trials, D(sample.trials_refused), {{"result", "refused"}});
  out.push_back(std::move(trials));

  MetricFamily info =
      Family("netrig_agent_port_info", "Agent port: role name, PMD and device.", MetricType::Gauge);
  MetricFamily speed =
      Family("netrig_agent_port_link_speed_bytes_per_second",
             "Port speed used for line-rate math, in bytes per second.", MetricType::Gauge);
  for (const RuntimeSample::Port& p : rt.ports) {
    Add(info, 1, {{"port", p.name}, {"pmd", p.pmd}, {"device", p.device}});
    Add(speed, D(p.speed_bps) / 8, {{"port", p.name}});
  }
  out.push_back(std::move(info));
  out.push_back(std::move(speed));
  for (const PortCounter& c : kPortCounterFields) {
    MetricFamily f = Family(c.name, c.help, MetricType::Counter);
    for (const RuntimeSample::Port& p : rt.ports) {
      if (p.stats.has_value()) {
        Add(f, D((*p.stats).*c.field), {{"port", p.name}});
      }
    }
    out.push_back(std::move(f));
  }

  MetricFamily busy =
      Family("netrig_agent_lcore_busy_seconds_total",
             "Time a worker lcore ran its loop, minus adaptive idle sleeps.", MetricType::Counter);
  for (const RuntimeSample::Lcore& l : rt.lcores) {
    Add(busy, D(l.busy_tsc) / D(rt.tsc_hz), {{"lcore", std::to_string(l.lcore)}});
  }
  out.push_back(std::move(busy));

  const AnomalyCounters& a = rt.anomalies;
  const std::pair<const char*, const char*> anomaly_help[] = {
      {"netrig_agent_tx_mbuf_allocation_failures_total",
       "TX mbuf allocations that failed (the pacer retries; offered load may fall short)."},
      {"netrig_agent_tx_ring_full_total", "TX bursts the driver did not take in full."},
      {"netrig_agent_rx_foreign_packets_total", "Received frames without a netrig signature."},
      {"netrig_agent_rx_unknown_flow_packets_total",
       "Received netrig frames with a flow id outside the trial's plan."},
  };
  const uint64_t anomaly_values[] = {a.tx_alloc_fail, a.tx_ring_full, a.rx_not_probe,
                                     a.rx_unknown_flow};
  for (size_t i = 0; i < 4; ++i) {
    MetricFamily f = Family(anomaly_help[i].first, anomaly_help[i].second, MetricType::Counter);
    Add(f, D(anomaly_values[i]));
    out.push_back(std::move(f));
  }
  return out;
}

static_assert(std::size(kPortCounterFields) == AgentMetrics::kPortCounters);

AgentMetrics::AgentMetrics(const AgentRuntime& runtime, std::string version)
    : runtime_(runtime), version_(std::move(version)) {}

void AgentMetrics::CountTrial(TrialResult result) {
  switch (result) {
    case TrialResult::kCompleted:
      trials_completed_.fetch_add(1);
      break;
    case TrialResult::kInterrupted:
      trials_interrupted_.fetch_add(1);
      break;
    case TrialResult::kRefused:
      trials_refused_.fetch_add(1);
      break;
  }
}

std::vector<MetricFamily> AgentMetrics::Collect() const {
  AgentMetricsSample sample;
  sample.version = version_;
  sample.session_state = session_state_.load();
  sample.trials_completed = trials_completed_.load();
  sample.trials_interrupted = trials_interrupted_.load();
  sample.trials_refused = trials_refused_.load();
  sample.runtime = runtime_.Sample();
  {
    absl::MutexLock lock(&mu_);
    if (port_totals_.size() < sample.runtime.ports.size()) {
      port_totals_.resize(sample.runtime.ports.size());
    }
    for (size_t p = 0; p < sample.runtime.ports.size(); ++p) {
      std::optional<io::PortStats>& stats = sample.runtime.ports[p].stats;
      if (!stats.has_value()) continue;
      for (size_t c = 0; c < kPortCounters; ++c) {
        uint64_t& v = (*stats).*(kPortCounterFields[c].field);
        v = port_totals_[p][c].Update(v);
      }
    }
  }
  return RenderAgentMetrics(sample);
}

}  // namespace netrig::agent::control
