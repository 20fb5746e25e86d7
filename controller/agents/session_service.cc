#include "controller/agents/session_service.h"

#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace netrig::controller::agents {

std::string ReachableMetricsAddress(const std::string& reported, const std::string& peer) {
  const auto colon = reported.rfind(':');
  if (colon == std::string::npos) return reported;
  const std::string host = reported.substr(0, colon);
  if (host != "0.0.0.0" && host != "[::]" && host != "::" && !host.empty()) return reported;
  // gRPC peers: "ipv4:10.0.0.7:51234", "ipv6:[fd00::7]:51234".
  std::string addr;
  if (peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0) addr = peer.substr(5);
  const auto port_colon = addr.rfind(':');
  if (port_colon == std::string::npos) return reported;
  return addr.substr(0, port_colon) + reported.substr(colon);
}
namespace {

class StreamConnection final : public AgentConnection {
 public:
  explicit StreamConnection(grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* s)
      : stream_(s) {}
  bool Send(const v1::ControllerMessage& message) override {
    absl::MutexLock lock(&mu_);
    return open_ && stream_->Write(message);
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;  // the stream dies with the RPC: never write to it afterwards
  }

 private:
  absl::Mutex mu_;
  grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream_ ABSL_GUARDED_BY(mu_);
  bool open_ ABSL_GUARDED_BY(mu_) = true;
};

}  // namespace

grpc::Status SessionService::Session(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream) {
  v1::AgentMessage first;
  if (!stream->Read(&first)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "session closed before registering");
  }
  if (!first.has_register_() || first.register_().agent_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "register: the first message must register the agent with an agent_id");
  }
  const std::string id = first.register_().agent_id();
  auto conn = std::make_shared<StreamConnection>(stream);
  v1::AgentCapabilities caps = first.register_();
  caps.set_metrics_address(ReachableMetricsAddress(caps.metrics_address(), context->peer()));
  registry_.Register(caps, conn, absl::Now());
  v1::AgentMessage msg;
  std::string reason = "session closed by the agent";
  while (stream->Read(&msg)) {
    registry_.Heartbeat(id, absl::Now(), msg.has_heartbeat() ? msg.heartbeat().state() : "");
    if (msg.has_ack()) {
      coordinator_.OnAck(id, msg.ack());
    }
  }
  if (context->IsCancelled()) {
    reason = "session broken (connection lost)";
  }
  conn->Close();
  registry_.SessionEnded(id, conn.get(), reason);
  return grpc::Status::OK;
}

grpc::Status SessionService::ReportStats(grpc::ServerContext*,
                                         grpc::ServerReader<v1::FlowStatsBatch>* reader,
                                         v1::StatsAck* ack) {
  v1::FlowStatsBatch batch;
  uint64_t n = 0;
  while (reader->Read(&batch)) {
    registry_.Heartbeat(batch.agent_id(), absl::Now());
    coordinator_.OnBatch(batch);
    ++n;
  }
  ack->set_batches(n);
  return grpc::Status::OK;
}

}  // namespace netrig::controller::agents
