// netrig-agent: the DPDK traffic generator and analyzer.
//
//   netrig-agent run -c run.yaml [-o table|json]
//   netrig-agent run --port name=p0,pmd=net_ring
//                    --stream tx=p0,flows=16,size=64,rate=10% --duration 2s
//
// Exit codes: 0 the run completed; 2 the configuration is invalid (the message names the field);
// 1 a runtime failure (DPDK, ports); 130 interrupted.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "agent/control/config_loader.h"
#include "agent/control/standalone.h"

namespace {

std::atomic<bool> g_interrupt{false};

void OnSignal(int) { g_interrupt.store(true); }

int ExitCodeFor(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kNotFound
             ? 2
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using netrig::agent::control::RunOptions;
  CLI::App app{"netrig-agent: DPDK traffic generator and per-flow analyzer"};
  app.set_version_flag("--version", std::string(NETRIG_VERSION));
  app.require_subcommand(1);

  CLI::App* run = app.add_subcommand("run", "run a stream set locally and print per-flow results");
  std::string config_file, output = "table", duration, drain, late, lcores = "0,1", poll = "adaptive",
                           no_huge = "auto", log_level = "notice";
  std::vector<std::string> port_flags, stream_flags;
  int max_rows = 64;
  unsigned workers = 1, mem_mb = 1024;
  bool validate_only = false;
  run->add_option("-c,--config", config_file, "StandaloneRun YAML or JSON file");
  run->add_option("--port", port_flags, "port: name=..,pmd=..[,iface=..,speed=..,queues=..]");
  run->add_option("--stream", stream_flags,
                  "stream: tx=..,rx=..,flows=..,size=64|imix|64-1518/4,rate=10%|1Mpps|200Mbps|max");
  run->add_option("--duration", duration, "TX duration (overrides the file), e.g. 5s");
  run->add_option("--drain", drain, "RX time after TX stops, e.g. 500ms");
  run->add_option("--late-threshold", late, "loss-wait threshold, e.g. 2s");
  run->add_option("-o,--output", output, "table or json")->check(CLI::IsMember({"table", "json"}));
  run->add_option("--max-rows", max_rows, "flow rows in the table");
  run->add_option("--lcores", lcores, "main lcore then worker lcores, e.g. 0,1");
  run->add_option("--workers", workers, "worker lcores to use");
  run->add_option("--poll", poll, "adaptive (sleep when idle) or busy")
      ->check(CLI::IsMember({"adaptive", "busy"}));
  run->add_option("--no-huge", no_huge, "auto, yes or no")->check(CLI::IsMember({"auto", "yes", "no"}));
  run->add_option("--mem", mem_mb, "DPDK memory in MB");
  run->add_option("--eal-log-level", log_level, "DPDK log level");
  run->add_flag("--validate", validate_only, "check the configuration and exit");

  CLI11_PARSE(app, argc, argv);

  netrig::v1::StandaloneRun spec;
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

  RunOptions options;
  options.runtime.lcores.clear();
  for (absl::string_view part : absl::StrSplit(lcores, ',', absl::SkipEmpty())) {
    unsigned v;
    if (!absl::SimpleAtoi(part, &v)) {
      std::cerr << "netrig-agent: --lcores: \"" << lcores << "\" is not a list of core numbers\n";
      return 2;
    }
    options.runtime.lcores.push_back(v);
  }
  options.runtime.workers = workers;
  options.runtime.mode = poll == "busy" ? netrig::agent::dataplane::PollMode::kBusy
                                : netrig::agent::dataplane::PollMode::kAdaptive;
  options.runtime.no_huge = no_huge == "auto" ? -1 : (no_huge == "yes" ? 1 : 0);
  options.runtime.memory_mb = mem_mb;
  options.runtime.eal_log_level = log_level;
  options.interrupt = &g_interrupt;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

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
