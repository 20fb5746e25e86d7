#include "operator/controller_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace netrig::op {
namespace {

absl::Status FromGrpc(const grpc::Status& s, const std::string& address, const char* rpc) {
  const auto code = static_cast<absl::StatusCode>(s.error_code());
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::Status(code,
                          absl::StrCat("controller ", address, ": ", rpc, ": ", s.error_message()));
    default:
      // The server's message names the run or the field; keep it as is.
      return absl::Status(code, s.error_message());
  }
}

}  // namespace

bool IsFinishedPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Cancelled" ||
         phase == "Interrupted";
}

std::unique_ptr<GrpcControllerClient> GrpcControllerClient::Connect(const std::string& address,
                                                                    absl::Duration timeout) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return std::make_unique<GrpcControllerClient>(v1::ControllerService::NewStub(channel), address,
                                                timeout);
}

GrpcControllerClient::GrpcControllerClient(
    std::unique_ptr<v1::ControllerService::StubInterface> stub, std::string address,
    absl::Duration timeout)
    : stub_(std::move(stub)), address_(std::move(address)), timeout_(timeout) {}

namespace {
void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
}
}  // namespace

absl::StatusOr<v1::Run> GrpcControllerClient::SubmitRun(
    const std::string& document, const std::map<std::string, std::string>& labels,
    const std::string& request_id) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::SubmitRunRequest req;
  req.set_document(document);
  req.set_request_id(request_id);
  for (const auto& [k, v] : labels) (*req.mutable_labels())[k] = v;
  v1::Run run;
  grpc::Status s = stub_->SubmitRun(&ctx, req, &run);
  if (!s.ok()) return FromGrpc(s, address_, "SubmitRun");
  return run;
}

absl::StatusOr<v1::Run> GrpcControllerClient::GetRun(const std::string& id) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::GetRunRequest req;
  req.set_id(id);
  v1::Run run;
  grpc::Status s = stub_->GetRun(&ctx, req, &run);
  if (!s.ok()) return FromGrpc(s, address_, "GetRun");
  return run;
}

absl::StatusOr<v1::Run> GrpcControllerClient::CancelRun(const std::string& id,
                                                        const std::string& reason) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::CancelRunRequest req;
  req.set_id(id);
  req.set_reason(reason);
  v1::Run run;
  grpc::Status s = stub_->CancelRun(&ctx, req, &run);
  if (!s.ok()) return FromGrpc(s, address_, "CancelRun");
  return run;
}

absl::StatusOr<v1::ListRunsResponse> GrpcControllerClient::ListRuns(const std::string& phase) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::ListRunsRequest req;
  req.set_phase(phase);
  v1::ListRunsResponse out;
  grpc::Status s = stub_->ListRuns(&ctx, req, &out);
  if (!s.ok()) return FromGrpc(s, address_, "ListRuns");
  return out;
}

absl::StatusOr<v1::ListAgentsResponse> GrpcControllerClient::ListAgents() {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::ListAgentsResponse out;
  grpc::Status s = stub_->ListAgents(&ctx, v1::ListAgentsRequest(), &out);
  if (!s.ok()) return FromGrpc(s, address_, "ListAgents");
  return out;
}

}  // namespace netrig::op
