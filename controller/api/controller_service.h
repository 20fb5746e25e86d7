// gRPC ControllerService and its REST/JSON mapping, both thin layers over RunService.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controller/api/run_service.h"
#include "proto/netrig/v1/controller.grpc.pb.h"

namespace httplib {
class Server;
}

namespace netrig::controller::api {

grpc::Status ToGrpc(const absl::Status& s);

// Prometheus http_sd_configs answer for these agents (those that report a metrics address).
std::string PrometheusTargets(const std::vector<v1::AgentInfo>& agents);

class ControllerServiceImpl final : public v1::ControllerService::Service {
 public:
  explicit ControllerServiceImpl(RunService& runs) : runs_(runs) {}
  grpc::Status ValidateRun(grpc::ServerContext*, const v1::ValidateRunRequest*,
                           v1::ValidateRunResponse*) override;
  grpc::Status SubmitRun(grpc::ServerContext*, const v1::SubmitRunRequest*, v1::Run*) override;
  grpc::Status GetRun(grpc::ServerContext*, const v1::GetRunRequest*, v1::Run*) override;
  grpc::Status ListRuns(grpc::ServerContext*, const v1::ListRunsRequest*,
                        v1::ListRunsResponse*) override;
  grpc::Status CancelRun(grpc::ServerContext*, const v1::CancelRunRequest*, v1::Run*) override;
  grpc::Status GetResults(grpc::ServerContext*, const v1::GetRunRequest*,
                          v1::RunResults*) override;
  grpc::Status ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest*,
                          v1::ListAgentsResponse*) override;
  grpc::Status WatchRun(grpc::ServerContext*, const v1::GetRunRequest*,
                        grpc::ServerWriter<v1::Run>*) override;

 private:
  RunService& runs_;
};

// REST: POST /v1/runs:validate, POST /v1/runs, GET /v1/runs, GET /v1/runs/{id},
// POST /v1/runs/{id}:cancel, GET /v1/runs/{id}/results, GET /v1/agents. Bodies and answers are
// the proto messages as JSON; errors are {"code": ..., "message": ...} with the HTTP status of
// the gRPC code. With metrics: GET /metrics (Prometheus text) and GET /v1/prometheus/targets
// (Prometheus HTTP service discovery: every registered agent that serves metrics).
// Probes: GET /healthz is 200 "ok" while the process serves; GET /readyz is 200 "ok" when the
// readiness function (set_readiness) returns OK, else 503 with its message (a follower
// controller: "not the leader (leader: <identity>)").
class RestServer {
 public:
  explicit RestServer(RunService& runs, metrics::ControllerMetrics* metrics = nullptr);
  ~RestServer();
  // Call before Start(). Without one, /readyz is always 200. Called on every probe: must be
  // fast and thread-safe.
  void set_readiness(std::function<absl::Status()> ready) { ready_ = std::move(ready); }
  // Binds host:port (port 0: any) and serves on a background thread. Returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  RunService& runs_;
  metrics::ControllerMetrics* metrics_;
  std::function<absl::Status()> ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace netrig::controller::api
