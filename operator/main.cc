// netrig-operator: reconciles TestRun, TestSuite and AgentPool objects into controller calls,
// agent workloads and status.
//
//   netrig-operator --kubeconfig ~/.kube/config --namespace ci
//       --controller netrig-controller:7400 --controller-rest http://netrig-controller:7401
//       --leader-elect
//
// Flags are parsed here only, into ManagerConfig and the reconcilers' options (docs/operator.md).
// SIGTERM / SIGINT stop it cleanly: the workers finish their current reconcile and the leader
// lease is released.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"
#include "lib/kube/leader_election.h"
#include "operator/agentpool/agent_pool_reconciler.h"
#include "operator/controller_client.h"
#include "operator/log.h"
#include "operator/manager.h"
#include "operator/testrun_reconciler.h"
#include "operator/testsuite_reconciler.h"

namespace {

using netrig::op::Log;
using netrig::op::Severity;

std::string DefaultIdentity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') return host;
  return absl::StrCat("netrig-operator-", getpid());
}

bool ParsePositiveDuration(const std::string& flag, const std::string& text, absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out <= absl::ZeroDuration()) {
    std::cerr << "netrig-operator: " << flag << ": \"" << text
              << "\" is not a positive duration (e.g. 10s)\n";
    return false;
  }
  return true;
}

// The controller's view of a pool's load: runs waiting for its agents and its agents.
netrig::op::PoolLoadFn PoolLoadFrom(netrig::op::ControllerClient* controller) {
  return [controller](const std::string&,
                      const std::string& pool) -> absl::StatusOr<netrig::op::PoolLoad> {
    netrig::op::PoolLoad load;
    for (const char* phase : {"Pending", "Scheduled"}) {
      absl::StatusOr<netrig::v1::ListRunsResponse> runs = controller->ListRuns(phase);
      if (!runs.ok()) return runs.status();
      for (const netrig::v1::Run& run : runs->runs()) {
        for (const netrig::v1::PortBinding& port : run.test_run().spec().ports()) {
          const std::string& wanted = port.agent().pool().empty() ? "default" : port.agent().pool();
          if (wanted == pool) {
            ++load.queued_runs;
            break;
          }
        }
      }
    }
    absl::StatusOr<netrig::v1::ListAgentsResponse> agents = controller->ListAgents();
    if (!agents.ok()) return agents.status();
    for (const netrig::v1::AgentInfo& agent : agents->agents()) {
      const auto& labels = agent.capabilities().labels();
      auto it = labels.find("pool");
      if (it == labels.end()) it = labels.find(netrig::op::kPoolLabel);
      if (it == labels.end() || it->second != pool) continue;
      ++load.registered_agents;
      if (agent.state() == "available" || agent.state() == "busy") ++load.ready_agents;
    }
    return load;
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"netrig-operator: reconciles netrig TestRuns, TestSuites and AgentPools"};
  app.option_defaults()->always_capture_default();
  std::string kubeconfig, context, ns, controller = "127.0.0.1:7400", controller_rest;
  std::string metrics_address = "0.0.0.0:8080", controller_timeout = "10s";
  std::string agent_image = "netrig-agent:latest", agent_controller, agent_service_account;
  std::string agent_pull_policy = "IfNotPresent";
  bool leader_elect = false;
  std::string le_namespace, le_id = "netrig-operator";
  std::string lease_duration = "15s", renew_deadline = "10s", retry_period = "2s";
  int workers = 2;
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config)");
  app.add_option("--context", context, "kubeconfig context (default: current-context)");
  app.add_option("--namespace", ns, "namespace to watch (empty: all namespaces)");
  std::string watch_namespaces;
  app.add_option("--watch-namespaces", watch_namespaces,
                 "comma-separated namespaces to watch (instead of --namespace)");
  app.add_option("--controller", controller, "netrig-controller gRPC address (host:port)");
  app.add_option("--controller-rest", controller_rest,
                 "netrig-controller REST base URL for status.reportURL (http://host:port)");
  app.add_option("--controller-timeout", controller_timeout, "deadline of each controller call");
  app.add_option("--agent-image", agent_image, "netrig-agent image of AgentPool workloads");
  app.add_option("--agent-controller-address", agent_controller,
                 "controller address agents dial (default: --controller)");
  app.add_option("--agent-service-account", agent_service_account,
                 "ServiceAccount of agent pods (empty: the namespace's default)");
  app.add_option("--agent-image-pull-policy", agent_pull_policy, "imagePullPolicy of agent pods");
  app.add_option("--metrics-address", metrics_address,
                 "host:port of /healthz /readyz /metrics (port 0: any free port; empty: off)");
  app.add_flag("--leader-elect", leader_elect, "run only while holding the leader Lease");
  app.add_option("--leader-election-namespace", le_namespace,
                 "namespace of the Lease (default: $POD_NAMESPACE, else --namespace, else the "
                 "kubeconfig's)");
  app.add_option("--leader-election-id,--leader-election-lease", le_id, "name of the Lease");
  app.add_option("--leader-election-lease-duration", lease_duration, "lease duration");
  app.add_option("--leader-election-renew-deadline", renew_deadline, "renew deadline");
  app.add_option("--leader-election-retry-period", retry_period, "retry period");
  app.add_option("--workers", workers, "concurrent reconciles per resource kind")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  netrig::op::ManagerConfig config;
  if (!watch_namespaces.empty()) {
    config.namespaces = absl::StrSplit(watch_namespaces, ',', absl::SkipWhitespace());
  } else if (!ns.empty()) {
    config.namespaces = {ns};
  }
  config.workers = workers;
  config.metrics_address = metrics_address;
  config.leader_elect = leader_elect;
  absl::Duration call_timeout;
  if (!ParsePositiveDuration("--controller-timeout", controller_timeout, &call_timeout) ||
      !ParsePositiveDuration("--leader-election-lease-duration", lease_duration,
                             &config.leader_election.lease_duration) ||
      !ParsePositiveDuration("--leader-election-renew-deadline", renew_deadline,
                             &config.leader_election.renew_deadline) ||
      !ParsePositiveDuration("--leader-election-retry-period", retry_period,
                             &config.leader_election.retry_period)) {
    return 2;
  }

  // SIGTERM/SIGINT are taken by a thread of their own (sigwait), never by a handler that
  // interrupts a reconcile: block them before any thread starts so every thread inherits that.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<netrig::kube::Config> kube_config =
      netrig::kube::DefaultConfig(kubeconfig, context);
  if (!kube_config.ok()) {
    std::cerr << "netrig-operator: " << kube_config.status().message() << "\n";
    return 1;
  }
  const char* pod_namespace = std::getenv("POD_NAMESPACE");
  config.leader_election.ns = !le_namespace.empty() ? le_namespace
                              : pod_namespace != nullptr && *pod_namespace != '\0'
                                  ? std::string(pod_namespace)
                              : !ns.empty() ? ns
                                            : kube_config->default_namespace;
  config.leader_election.name = le_id;
  config.leader_election.identity = DefaultIdentity();
  netrig::kube::ClientOptions client_options;
  client_options.user_agent = "netrig-operator";
  client_options.field_manager = "netrig-operator";
  absl::StatusOr<std::unique_ptr<netrig::kube::Client>> kube =
      netrig::kube::Client::Create(*kube_config, client_options);
  if (!kube.ok()) {
    std::cerr << "netrig-operator: " << kube.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<netrig::op::GrpcControllerClient> controller_client =
      netrig::op::GrpcControllerClient::Connect(controller, call_timeout);

  netrig::op::TestRunReconcilerOptions run_options;
  run_options.controller_rest = controller_rest;
  netrig::op::TestRunReconciler testruns(kube->get(), controller_client.get(), run_options);
  netrig::op::TestSuiteReconciler suites(kube->get(), {});
  netrig::op::AgentPoolDefaults pool_defaults;
  pool_defaults.image = agent_image;
  pool_defaults.controller_address = agent_controller.empty() ? controller : agent_controller;
  pool_defaults.service_account = agent_service_account;
  pool_defaults.image_pull_policy = agent_pull_policy;
  netrig::op::AgentPoolReconciler pools(kube->get(), pool_defaults,
                                        PoolLoadFrom(controller_client.get()));

  auto registry = std::make_shared<prometheus::Registry>();
  netrig::op::Manager manager(kube->get(), config, registry);
  manager.Add(&testruns);
  manager.Add(&suites, {netrig::kube::kTestRuns});
  manager.Add(&pools, {netrig::kube::kDeployments, netrig::kube::kDaemonSets});

  std::thread signal_thread([&manager, signals] {
    int received = 0;
    sigwait(&signals, &received);
    Log(Severity::kInfo, absl::StrCat("signal ", received, ": stopping"));
    manager.Stop();
  });
  Log(Severity::kInfo, absl::StrCat("netrig-operator: API server ", (*kube)->config().server, " (",
                                    (*kube)->config().source, "), controller ", controller,
                                    leader_elect ? absl::StrCat(", leader election on lease ",
                                                                config.leader_election.ns, "/",
                                                                config.leader_election.name, " as ",
                                                                config.leader_election.identity)
                                                 : ""));
  absl::Status status = manager.Run();
  // Wake the signal thread if Run() ended on its own (lost leadership, bad address).
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  if (!status.ok()) {
    Log(Severity::kError, absl::StrCat("netrig-operator: ", status.ToString()));
    return 1;
  }
  Log(Severity::kInfo, "netrig-operator: stopped");
  return 0;
}
