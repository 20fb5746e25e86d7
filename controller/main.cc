// netrig-controller: agent sessions, the run queue, the methodology engine, the user API.
//
//   netrig-controller --listen 127.0.0.1:7400 --rest 127.0.0.1:7401 --store sqlite:/var/lib/netrig/state.db
//
// --store: sqlite:PATH (default, embedded), etcd:HOST:PORT, or memory (tests; nothing survives).
// --sut-provider netns (default): runs whose spec names a SUT template get a namespace SUT built
// for them and a local agent on its links (local mode; --local-agents finds netrig-agent next
// to this binary unless given). none: SUT templates are external, agents are placed from the
// registry.
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "controller/agents/session_service.h"
#include "controller/api/controller_service.h"
#include "controller/metrics/controller_metrics.h"
#include "controller/metrics/grpc_metrics.h"
#include "controller/metrics/instrumented_store.h"
#include "controller/store/etcd_store.h"
#include "controller/store/memory_store.h"
#include "controller/store/sqlite_store.h"
#include "controller/sut/netns_provider.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  using namespace netrig::controller;
  CLI::App app{"netrig-controller: schedules benchmarks across netrig agents"};
  std::string listen = "127.0.0.1:7400", rest = "127.0.0.1:7401", store_url = "sqlite:netrig-state.db";
  double heartbeat_timeout_s = 3;
  std::string results_dir = "netrig-results";
  app.add_option("--listen", listen, "gRPC address for agents and users (host:port)");
  app.add_option("--rest", rest, "REST/JSON address (host:port); empty to disable");
  app.add_option("--store", store_url, "sqlite:PATH | etcd:HOST:PORT | memory");
  app.add_option("--results-dir", results_dir, "where per-flow trial results are written (empty: not written)");
  app.add_option("--heartbeat-timeout", heartbeat_timeout_s, "seconds of agent silence before it is unavailable");
  std::string sut_provider = "netns", local_agents_bin = "auto", local_lcores = "0,1";
  std::string calibration = "1s", sut_ready_timeout = "60s";
  app.add_option("--sut-provider", sut_provider, "netns (build SUTs from templates) or none (external SUTs)")
      ->check(CLI::IsMember({"netns", "none"}));
  app.add_option("--local-agents", local_agents_bin,
                 "netrig-agent binary to start for a SUT's ports (auto: next to this binary; none: off)");
  app.add_option("--local-agent-lcores", local_lcores, "lcores of local agents (main,worker)");
  app.add_option("--calibration", calibration, "self-calibration trial duration before each run (0s: off)");
  app.add_option("--sut-ready-timeout", sut_ready_timeout, "default SUT readiness timeout");
  std::string local_metrics = "127.0.0.1:0";
  app.add_option("--local-agent-metrics", local_metrics,
                 "metrics address of local agents (port 0: any free port; empty: none)");
  CLI11_PARSE(app, argc, argv);
  absl::Duration calibration_d, ready_d;
  if (!absl::ParseDuration(calibration, &calibration_d) || calibration_d < absl::ZeroDuration()) {
    std::cerr << "netrig-controller: --calibration: \"" << calibration << "\" is not a duration\n";
    return 2;
  }
  if (!absl::ParseDuration(sut_ready_timeout, &ready_d) || ready_d <= absl::ZeroDuration()) {
    std::cerr << "netrig-controller: --sut-ready-timeout: \"" << sut_ready_timeout
              << "\" is not a positive duration\n";
    return 2;
  }
  if (local_agents_bin == "auto") local_agents_bin = local::FindAgentBinary("/proc/self/exe");
  if (local_agents_bin == "none") local_agents_bin.clear();

  std::unique_ptr<store::StateStore> st;
  if (absl::StartsWith(store_url, "sqlite:")) {
    store::SqliteStoreOptions o;
    o.path = store_url.substr(7);
    auto s = store::SqliteStore::Create(o);
    if (!s.ok()) {
      std::cerr << "netrig-controller: --store: " << s.status().message() << "\n";
      return 2;
    }
    st = std::move(*s);
  } else if (absl::StartsWith(store_url, "etcd:")) {
    store::EtcdStoreOptions o;
    o.endpoint = store_url.substr(5);
    auto s = store::EtcdStore::Create(o);
    if (!s.ok()) {
      std::cerr << "netrig-controller: --store: " << s.status().message() << "\n";
      return 2;
    }
    st = std::move(*s);
  } else if (store_url == "memory") {
    st = std::move(*store::MemoryStore::Create());
  } else {
    std::cerr << "netrig-controller: --store: \"" << store_url
              << "\" is not sqlite:PATH, etcd:HOST:PORT or memory\n";
    return 2;
  }

  // Every store call is counted and timed; the health probe feeds netrig_store_up.
  metrics::ControllerMetrics controller_metrics(NETRIG_VERSION,
                                                store_url.substr(0, store_url.find(':')));
  metrics::InstrumentedStore instrumented(*st, controller_metrics);
  instrumented.Probe();

  agents::AgentRegistry registry(absl::Seconds(heartbeat_timeout_s));
  agents::TrialCoordinator coordinator(registry, {});
  agents::SessionService sessions(registry, coordinator);
  api::RunServiceOptions run_options;
  run_options.results_dir = results_dir;
  run_options.controller_version = NETRIG_VERSION;
  run_options.calibration_duration = calibration_d;
  run_options.sut_ready_timeout = ready_d;
  run_options.metrics = &controller_metrics;
  std::unique_ptr<sut::NetnsSutProvider> netns;
  if (sut_provider == "netns") {
    netns = std::make_unique<sut::NetnsSutProvider>();
    run_options.sut_provider = netns.get();
    run_options.sut_provider_name = "netns";
  }
  local::LocalAgentsOptions local_options;
  local_options.binary = local_agents_bin;
  local_options.lcores = local_lcores;
  local_options.log_dir = results_dir.empty() ? "" : results_dir + "/agents";
  local_options.metrics_address = local_metrics;
  local::LocalAgents local_agents(local_options);
  run_options.local_agents = &local_agents;
  controller_metrics.SetLocalAgentsEnabled(local_agents.enabled() && netns != nullptr);
  api::RunService runs(instrumented, registry, coordinator, run_options);
  api::ControllerServiceImpl user_api(runs);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(metrics::GrpcMetricsInterceptor(controller_metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(&sessions);
  builder.RegisterService(&user_api);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "netrig-controller: --listen: cannot listen on " << listen << "\n";
    return 1;
  }
  // Local agents dial the port the server bound (known once it listens).
  local_agents.set_controller("127.0.0.1:" + std::to_string(port));
  if (absl::Status s = runs.Start(); !s.ok()) {
    std::cerr << "netrig-controller: recovering runs: " << s.message() << "\n";
    return 1;
  }
  api::RestServer rest_server(runs, &controller_metrics);
  if (!rest.empty()) {
    const auto colon = rest.rfind(':');
    int rest_port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(rest.substr(colon + 1), &rest_port)) {
      std::cerr << "netrig-controller: --rest: \"" << rest << "\" is not host:port\n";
      return 2;
    }
    auto bound = rest_server.Start(rest.substr(0, colon), rest_port);
    if (!bound.ok()) {
      std::cerr << "netrig-controller: --rest: " << bound.status().message() << "\n";
      return 1;
    }
    std::cerr << "netrig-controller: REST on " << rest.substr(0, colon) << ":" << *bound << "\n";
  }
  std::cerr << "netrig-controller: gRPC on " << listen.substr(0, listen.rfind(':')) << ":" << port
            << ", store " << store_url << "\n";
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  absl::Time last_probe = absl::Now();
  while (!g_stop.load()) {
    registry.Sweep(absl::Now());
    if (absl::Now() - last_probe >= absl::Seconds(5)) {
      instrumented.Probe();
      last_probe = absl::Now();
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  std::cerr << "netrig-controller: shutting down\n";
  runs.Stop();
  rest_server.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
