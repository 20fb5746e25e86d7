#include "controller/agents/session_service.h"

#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace netrig::controller::agents {
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
  registry_.Register(first.register_(), conn, absl::Now());
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
