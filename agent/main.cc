// netrig-agent: the DPDK traffic generator and analyzer.
//
//   netrig-agent run -c run.yaml [-o table|json]          one standalone trial, then exit
//   netrig-agent run --port name=p0,pmd=net_ring
//                    --stream tx=p0,flows=16,size=64,rate=10% --duration 2s
//   netrig-agent serve --controller 127.0.0.1:7400 --id a1 --port name=west,pmd=...
//                      [--metrics-address 0.0.0.0:9465]   trials from the controller
//
// Exit codes: 0 success; 2 invalid configuration (the message names the field); 1 runtime
// failure (DPDK, ports); 130 interrupted.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "agent/control/agent_metrics.h"
#include "agent/control/config_loader.h"
#include "agent/control/controller_client.h"
#include "agent/control/pod_env.h"
#include "agent/control/standalone.h"
#include "lib/common/metrics_endpoint.h"

namespace {

std::atomic<bool> g_interrupt{false};

void OnSignal(int) { g_interrupt.store(true); }

int ExitCodeFor(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kNotFound
             ? 2
             : 1;
}

struct CommonFlags {
  std::string config_file, lcores = "0,1", poll = "adaptive", no_huge = "auto",
                           log_level = "notice";
  std::vector<std::string> port_flags;
  std::string sriov_resource, port_names;
  unsigned workers = 1, mem_mb = 1024;

  void Add(CLI::App* app) {
    app->add_option("-c,--config", config_file, "YAML or JSON file (ports, and streams for run)");
    app->add_option("--port", port_flags, "port: name=..,pmd=..[,iface=..,speed=..,queues=..]");
    app->add_option("--lcores", lcores,
                    "main lcore then worker lcores, e.g. 0,1; auto: the CPUs of this process's "
                    "cpuset (a guaranteed pod's exclusive cores), the first one as main lcore");
    app->add_option("--sriov-resource", sriov_resource,
                    "device plugin resource (intel.com/sriov_netdevice): one pci port per "
                    "--port-names entry on the VFs in PCIDEVICE_<RESOURCE>");
    app->add_option("--port-names", port_names, "port names for --sriov-resource, e.g. west,east");
    app->add_option("--workers", workers, "worker lcores to use");
    app->add_option("--poll", poll, "adaptive (sleep when idle) or busy")
        ->check(CLI::IsMember({"adaptive", "busy"}));
    app->add_option("--no-huge", no_huge, "auto, yes or no")->check(CLI::IsMember({"auto", "yes", "no"}));
    app->add_option("--mem", mem_mb, "DPDK memory in MB");
    app->add_option("--eal-log-level", log_level, "DPDK log level");
  }

  // Loads the file and --port flags into `spec`; returns an exit code or 0.
  int Load(netrig::v1::StandaloneRun& spec) const {
    if (!config_file.empty()) {
      if (absl::Status s = netrig::agent::control::LoadMessageFile(config_file, &spec); !s.ok()) {
        std::cerr << "netrig-agent: " << s.message() << "\n";
        return ExitCodeFor(s);
      }
    }
    for (const std::string& p : port_flags) {
      auto port = netrig::agent::control::ParsePortFlag(p);
      if (!port.ok()) {
        std::cerr << "netrig-agent: " << port.status().message() << "\n";
        return 2;
      }
      *spec.add_ports() = *port;
    }
    if (!sriov_resource.empty()) {
      const std::vector<std::string> names = absl::StrSplit(port_names, ',', absl::SkipEmpty());
      if (names.empty()) {
        std::cerr << "netrig-agent: --sriov-resource needs --port-names (e.g. west,east)\n";
        return 2;
      }
      auto ports = netrig::agent::control::PortsFromDevicePlugin(
          sriov_resource, names, [](const char* name) { return std::getenv(name); });
      if (!ports.ok()) {
        std::cerr << "netrig-agent: --sriov-resource: " << ports.status().message() << "\n";
        return 2;
      }
      for (auto& p : *ports) *spec.add_ports() = std::move(p);
    }
    return 0;
  }

  int Runtime(netrig::agent::control::RuntimeOptions& out) const {
    out.lcores.clear();
    if (lcores == "auto") {
      auto cpus = netrig::agent::control::AllowedCpus();
      if (!cpus.ok() || cpus->size() < 2) {
        std::cerr << "netrig-agent: --lcores auto: "
                  << (cpus.ok() ? "needs at least 2 CPUs (main + 1 worker), the cpuset has 1"
                                : std::string(cpus.status().message()))
                  << "\n";
        return 2;
      }
      out.lcores = *cpus;
    }
    for (absl::string_view part :
         absl::StrSplit(lcores == "auto" ? "" : lcores, ',', absl::SkipEmpty())) {
      unsigned v;
      if (!absl::SimpleAtoi(part, &v)) {
        std::cerr << "netrig-agent: --lcores: \"" << lcores << "\" is not a list of core numbers\n";
        return 2;
      }
      out.lcores.push_back(v);
    }
    out.workers = workers;
    out.mode = poll == "busy" ? netrig::agent::dataplane::PollMode::kBusy
                              : netrig::agent::dataplane::PollMode::kAdaptive;
    out.no_huge = no_huge == "auto" ? -1 : (no_huge == "yes" ? 1 : 0);
    out.memory_mb = mem_mb;
    out.eal_log_level = log_level;
    return 0;
  }
};

int RunCommand(const CommonFlags& common, const std::vector<std::string>& stream_flags,
               const std::string& duration, const std::string& drain, const std::string& late,
               const std::string& output, int max_rows, bool validate_only) {
  netrig::v1::StandaloneRun spec;
  if (int rc = common.Load(spec); rc != 0) return rc;
  for (const std::string& st : stream_flags) {
    auto stream = netrig::agent::control::ParseStreamFlag(st);
    if (!stream.ok()) {
      std::cerr << "netrig-agent: " << stream.status().message() << "\n";
      return 2;
    }
    *spec.add_streams() = *stream;
  }
  if (!duration.empty()) spec.set_duration(duration);
  if (!drain.empty()) spec.set_drain(drain);
  if (!late.empty()) spec.set_late_threshold(late);
  if (absl::Status s = netrig::agent::control::ValidateRun(spec); !s.ok()) {
    std::cerr << "netrig-agent: invalid configuration: " << s.message() << "\n";
    return 2;
  }
  if (validate_only) {
    std::cout << "configuration is valid\n";
    return 0;
  }
  netrig::agent::control::RunOptions options;
  if (int rc = common.Runtime(options.runtime); rc != 0) return rc;
  options.interrupt = &g_interrupt;
  auto result = netrig::agent::control::RunStandalone(spec, options);
  if (!result.ok()) {
    std::cerr << "netrig-agent: " << result.status().message() << "\n";
    return ExitCodeFor(result.status());
  }
  if (output == "json") {
    std::cout << netrig::agent::control::FormatJson(*result) << "\n";
  } else {
    std::cout << netrig::agent::control::FormatTable(*result, max_rows);
  }
  return result->interrupted() ? 130 : 0;
}

int ServeCommand(const CommonFlags& common, netrig::agent::control::ClientOptions client,
                 const std::vector<std::string>& labels, const std::string& metrics_address) {
  netrig::v1::StandaloneRun spec;
  if (int rc = common.Load(spec); rc != 0) return rc;
  if (absl::Status s = netrig::agent::control::ValidatePorts(spec.ports()); !s.ok()) {
    std::cerr << "netrig-agent: invalid configuration: " << s.message() << "\n";
    return 2;
  }
  if (client.target.empty()) {
    std::cerr << "netrig-agent: --controller: required (host:port)\n";
    return 2;
  }
  if (client.agent_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    client.agent_id = host;
  }
  for (const std::string& l : labels) {
    std::vector<std::string> kv = absl::StrSplit(l, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      std::cerr << "netrig-agent: --label: \"" << l << "\" is not key=value\n";
      return 2;
    }
    client.labels[kv[0]] = kv[1];
  }
  netrig::agent::control::RuntimeOptions runtime_options;
  if (int rc = common.Runtime(runtime_options); rc != 0) return rc;
  auto runtime = netrig::agent::control::AgentRuntime::Create(spec.ports(), runtime_options);
  if (!runtime.ok()) {
    std::cerr << "netrig-agent: " << runtime.status().message() << "\n";
    return ExitCodeFor(runtime.status());
  }
  // Declared after the runtime: the endpoint stops serving (and scraping it) first.
  std::shared_ptr<netrig::agent::control::AgentMetrics> metrics;
  std::unique_ptr<netrig::common::MetricsEndpoint> endpoint;
  if (!metrics_address.empty()) {
    metrics = std::make_shared<netrig::agent::control::AgentMetrics>(**runtime, NETRIG_VERSION);
    // /healthz: the agent opened its ports and serves HTTP; /readyz: it is registered with the
    // controller (AgentPool pods are ready only then).
    netrig::common::HealthChecks health;
    health.ready = [m = metrics.get()] { return m->Ready(); };
    auto started = netrig::common::MetricsEndpoint::Start(metrics_address, metrics, health);
    if (!started.ok()) {
      std::cerr << "netrig-agent: --metrics-address: " << started.status().message() << "\n";
      return ExitCodeFor(started.status());
    }
    endpoint = std::move(*started);
    client.metrics_address = endpoint->address();
    std::cerr << "netrig-agent: metrics at http://" << endpoint->address()
              << "/metrics (probes: /healthz, /readyz)\n";
  }
  std::cerr << "netrig-agent: agent " << client.agent_id << " serving controller " << client.target
            << "\n";
  netrig::agent::control::ControllerClient(**runtime, client, metrics.get()).Run(g_interrupt);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"netrig-agent: DPDK traffic generator and per-flow analyzer"};
  app.set_version_flag("--version", std::string(NETRIG_VERSION));
  app.require_subcommand(1);

  CommonFlags run_common;
  CLI::App* run = app.add_subcommand("run", "run a stream set locally and print per-flow results");
  run_common.Add(run);
  std::string output = "table", duration, drain, late;
  std::vector<std::string> stream_flags;
  int max_rows = 64;
  bool validate_only = false;
  run->add_option("--stream", stream_flags,
                  "stream: tx=..,rx=..,flows=..,size=64|imix|64-1518/4,rate=10%|1Mpps|200Mbps|max");
  run->add_option("--duration", duration, "TX duration (overrides the file), e.g. 5s");
  run->add_option("--drain", drain, "RX time after TX stops, e.g. 500ms");
  run->add_option("--late-threshold", late, "loss-wait threshold, e.g. 2s");
  run->add_option("-o,--output", output, "table or json")->check(CLI::IsMember({"table", "json"}));
  run->add_option("--max-rows", max_rows, "flow rows in the table");
  run->add_flag("--validate", validate_only, "check the configuration and exit");

  CommonFlags serve_common;
  CLI::App* serve = app.add_subcommand("serve", "serve trials for a controller");
  serve_common.Add(serve);
  netrig::agent::control::ClientOptions client;
  std::vector<std::string> labels;
  serve->add_option("--controller", client.target, "controller address host:port");
  serve->add_option("--id", client.agent_id, "agent id (default: host name)");
  serve->add_option("--label", labels, "label key=value (repeatable)");
  std::string metrics_address;
  serve->add_option("--metrics-address", metrics_address,
                    "serve Prometheus /metrics and the /healthz and /readyz probes on host:port "
                    "(port 0: any free port); default off");

  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  if (run->parsed()) {
    return RunCommand(run_common, stream_flags, duration, drain, late, output, max_rows,
                      validate_only);
  }
  return ServeCommand(serve_common, client, labels, metrics_address);
}
