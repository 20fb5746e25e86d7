// netrig-controller: agent sessions, the run queue, the methodology engine, the user API.
//
//   netrig-controller --listen 127.0.0.1:7400 --rest 127.0.0.1:7401 --store sqlite:/var/lib/netrig/state.db
//
// --store: sqlite:PATH (default, embedded), etcd:HOST:PORT, or memory (tests; nothing survives).
// --sut-provider netns (default): runs whose spec names a SUT template get a namespace SUT built
// for them and a local agent on its links (local mode; --local-agents finds netrig-agent next
// to this binary unless given). none: SUT templates are external, agents are placed from the
// registry. kubernetes: the SUT is a Pod or KubeVirt VM made from the SutTemplate resource in
// --kube-namespace (docs/sut.md); the run is placed on pool agents, whose ports send to the SUT's
// next hop on the link of the same name.
// --leader-elect (with --store etcd): replicas elect one leader over etcd; only it schedules,
// the others serve reads and answer /readyz 503 (docs/controller.md, High availability).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controller/agents/session_service.h"
#include "controller/api/controller_service.h"
#include "controller/leader/leader_election.h"
#include "controller/metrics/controller_metrics.h"
#include "controller/metrics/grpc_metrics.h"
#include "controller/metrics/instrumented_store.h"
#include "controller/store/etcd_store.h"
#include "controller/store/memory_store.h"
#include "controller/store/sqlite_store.h"
#include "controller/sut/kubernetes_provider.h"
#include "controller/sut/netns_provider.h"
#include "lib/kube/client.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') return host;
  return "localhost";
}

// --identity default: the pod name in Kubernetes (downward API), else the host name.
std::string DefaultIdentity() {
  const char* pod = std::getenv("POD_NAME");
  return pod != nullptr && *pod != '\0' ? pod : HostName();
}

// --advertise default: the bound gRPC address; a wildcard host becomes $POD_IP (downward API),
// else the host name.
std::string DefaultAdvertise(const std::string& listen, int port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    const char* pod_ip = std::getenv("POD_IP");
    host = pod_ip != nullptr && *pod_ip != '\0' ? pod_ip : HostName();
  }
  return host + ":" + std::to_string(port);
}
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
  app.add_option("--sut-provider", sut_provider,
                 "netns (build SUTs from templates), kubernetes (a Pod or KubeVirt VM per run "
                 "from a SutTemplate resource) or none (external SUTs)")
      ->check(CLI::IsMember({"netns", "kubernetes", "none"}));
  std::string kube_namespace, kubeconfig;
  app.add_option("--kube-namespace", kube_namespace,
                 "kubernetes provider: namespace of the SutTemplates and SUT pods (default: the "
                 "in-cluster namespace, the kubeconfig context's, else default)");
  app.add_option("--kubeconfig", kubeconfig,
                 "kubernetes provider: kubeconfig file (empty: $KUBECONFIG, in-cluster, "
                 "~/.kube/config)");
  app.add_option("--local-agents", local_agents_bin,
                 "netrig-agent binary to start for a SUT's ports (auto: next to this binary; none: off)");
  app.add_option("--local-agent-lcores", local_lcores, "lcores of local agents (main,worker)");
  app.add_option("--calibration", calibration, "self-calibration trial duration before each run (0s: off)");
  app.add_option("--sut-ready-timeout", sut_ready_timeout, "default SUT readiness timeout");
  std::string local_metrics = "127.0.0.1:0";
  app.add_option("--local-agent-metrics", local_metrics,
                 "metrics address of local agents (port 0: any free port; empty: none)");
  // High availability (docs/controller.md): replicas sharing an etcd store elect one leader.
  bool leader_elect = false;
  std::string leader_lease = "10s", identity = DefaultIdentity(), advertise;
  app.add_flag("--leader-elect", leader_elect,
               "elect one leader among controllers sharing --store etcd; only it schedules runs");
  app.add_option("--leader-lease", leader_lease,
                 "leadership lease TTL: a dead leader is replaced within about this long");
  app.add_option("--identity", identity,
                 "name in the leader record (default: $POD_NAME, else the host name)");
  app.add_option("--advertise", advertise,
                 "host:port stored with the leadership, where clients reach this controller "
                 "(default: the bound --listen address; $POD_IP for a wildcard host)");
  CLI11_PARSE(app, argc, argv);
  absl::Duration leader_lease_d;
  if (!absl::ParseDuration(leader_lease, &leader_lease_d) || leader_lease_d < absl::Seconds(1)) {
    std::cerr << "netrig-controller: --leader-lease: \"" << leader_lease
              << "\" is not a duration of at least 1s\n";
    return 2;
  }
  if (leader_elect && !absl::StartsWith(store_url, "etcd:")) {
    std::cerr << "netrig-controller: --leader-elect: leader election needs --store etcd (got \""
              << store_url << "\")\n";
    return 2;
  }
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
  std::unique_ptr<netrig::kube::Client> kube_client;
  std::unique_ptr<sut::KubernetesSutProvider> kube_sut;
  if (sut_provider == "kubernetes") {
    absl::StatusOr<netrig::kube::Config> kube_config = netrig::kube::DefaultConfig(kubeconfig);
    if (!kube_config.ok()) {
      std::cerr << "netrig-controller: --kubeconfig: " << kube_config.status().message() << "\n";
      return 2;
    }
    sut::KubernetesSutOptions kube_options;
    kube_options.ns = kube_namespace.empty() ? kube_config->default_namespace : kube_namespace;
    auto client = netrig::kube::Client::Create(*std::move(kube_config));
    if (!client.ok()) {
      std::cerr << "netrig-controller: --kubeconfig: " << client.status().message() << "\n";
      return 2;
    }
    kube_client = *std::move(client);
    kube_sut = std::make_unique<sut::KubernetesSutProvider>(*kube_client, kube_options);
    run_options.sut_provider = kube_sut.get();
    run_options.sut_provider_name = "kubernetes";
    // The SUT pod is on Multus networks that the pool agents' VFs are attached to.
    run_options.sut_on_pool_agents = true;
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
  // With --leader-elect the scheduler (with run recovery, orphan SUT cleanup and the metrics
  // rebuild) starts only once this controller leads, in the loop below; until then the APIs
  // serve from the store and /readyz names the leader.
  std::unique_ptr<leader::LeaderElector> elector;
  std::atomic<bool> scheduling{false};  // false only with an elector (not leading yet)
  if (leader_elect) {
    leader::LeaderElectionOptions election;
    election.identity = identity;
    election.advertise = advertise.empty() ? DefaultAdvertise(listen, port) : advertise;
    election.lease_ttl = leader_lease_d;
    auto e = leader::LeaderElector::Create(*st, election);
    if (!e.ok()) {
      std::cerr << "netrig-controller: --leader-elect: " << e.status().message() << "\n";
      return 2;
    }
    elector = *std::move(e);
    elector->Start(nullptr, [](const std::string& reason) {
      // No scheduling a moment longer without the lease: exit, and let Kubernetes restart this
      // controller as a follower. The next leader marks the runs in flight Interrupted.
      std::fprintf(stderr, "netrig-controller: lost leadership (%s); exiting\n", reason.c_str());
      std::_Exit(1);
    });
  } else if (absl::Status s = runs.Start(); !s.ok()) {
    std::cerr << "netrig-controller: recovering runs: " << s.message() << "\n";
    return 1;
  } else {
    scheduling.store(true);
  }
  api::RestServer rest_server(runs, &controller_metrics);
  rest_server.set_readiness([&]() -> absl::Status {
    if (scheduling.load()) return absl::OkStatus();
    if (elector->is_leader()) return absl::UnavailableError("leader, recovering runs");
    const leader::LeaderRecord l = elector->leader();
    return absl::UnavailableError(absl::StrCat(
        "not the leader (leader: ", l.identity.empty() ? "none yet" : l.identity,
        l.advertise.empty() ? "" : " at " + l.advertise, ")"));
  });
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
    if (!scheduling.load() && elector->is_leader()) {
      if (absl::Status s = runs.Start(); !s.ok()) {
        std::cerr << "netrig-controller: recovering runs: " << s.message() << "\n";
        return 1;
      }
      scheduling.store(true);
      std::cerr << "netrig-controller: leader " << identity << ": scheduler started\n";
    }
    registry.Sweep(absl::Now());
    if (absl::Now() - last_probe >= absl::Seconds(5)) {
      instrumented.Probe();
      last_probe = absl::Now();
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  std::cerr << "netrig-controller: shutting down\n";
  runs.Stop();
  if (elector != nullptr) elector->Stop();  // after the scheduler stopped: hand over at once
  rest_server.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
