// netrig-controller: agent sessions, the run queue, the methodology engine, the user API.
//
//   netrig-controller --listen 127.0.0.1:7400 --rest 127.0.0.1:7401 --store sqlite:/var/lib/netrig/state.db
//
// --store: sqlite:PATH (default, embedded), etcd:HOST:PORT, or memory (tests; nothing survives).
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
#include "controller/store/etcd_store.h"
#include "controller/store/memory_store.h"
#include "controller/store/sqlite_store.h"

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
  CLI11_PARSE(app, argc, argv);

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

  agents::AgentRegistry registry(absl::Seconds(heartbeat_timeout_s));
  agents::TrialCoordinator coordinator(registry, {});
  agents::SessionService sessions(registry, coordinator);
  api::RunServiceOptions run_options;
  run_options.results_dir = results_dir;
  api::RunService runs(*st, registry, coordinator, run_options);
  api::ControllerServiceImpl user_api(runs);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(&sessions);
  builder.RegisterService(&user_api);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "netrig-controller: --listen: cannot listen on " << listen << "\n";
    return 1;
  }
  if (absl::Status s = runs.Start(); !s.ok()) {
    std::cerr << "netrig-controller: recovering runs: " << s.message() << "\n";
    return 1;
  }
  api::RestServer rest_server(runs);
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
  while (!g_stop.load()) {
    registry.Sweep(absl::Now());
    absl::SleepFor(absl::Milliseconds(200));
  }
  std::cerr << "netrig-controller: shutting down\n";
  runs.Stop();
  rest_server.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
