// gRPC AgentSession service: agents dial in, register, heartbeat and acknowledge commands on
// a bidirectional Session stream, and send per-flow statistics on ReportStats.
// (Sync gRPC API: one server thread per connected agent, fine for an agent fleet of tens.)
#pragma once

#include "controller/agents/agent_registry.h"
#include "controller/agents/trial_coordinator.h"
#include "proto/netrig/v1/agent.grpc.pb.h"

namespace netrig::controller::agents {

// An agent bound to a wildcard address ("0.0.0.0:9465") reports it as is; Prometheus needs an
// address it can reach: the host the agent's session comes from (gRPC `peer`, "ipv4:h:p").
std::string ReachableMetricsAddress(const std::string& reported, const std::string& peer);

class SessionService final : public v1::AgentSession::Service {
 public:
  SessionService(AgentRegistry& registry, TrialCoordinator& coordinator)
      : registry_(registry), coordinator_(coordinator) {}

  grpc::Status Session(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream) override;
  grpc::Status ReportStats(grpc::ServerContext* context,
                           grpc::ServerReader<v1::FlowStatsBatch>* reader,
                           v1::StatsAck* ack) override;

 private:
  AgentRegistry& registry_;
  TrialCoordinator& coordinator_;
};

}  // namespace netrig::controller::agents
