#include "cli/client.h"

#include <chrono>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace netrig::cli {
namespace {

absl::StatusCode ToAbsl(grpc::StatusCode code) { return static_cast<absl::StatusCode>(code); }

}  // namespace

absl::Status FromGrpc(const grpc::Status& status, absl::string_view server, absl::string_view rpc,
                      absl::Duration timeout) {
  if (status.ok()) return absl::OkStatus();
  const std::string& msg = status.error_message();
  const absl::StatusCode code = ToAbsl(status.error_code());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::Status(code, absl::StrCat("cannot reach the controller at ", server, ": ",
                                             msg.empty() ? "unavailable" : msg));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::Status(
          code, absl::StrCat("the controller at ", server, " did not answer ", rpc, " within ",
                             absl::FormatDuration(timeout), " (raise --timeout if it is busy)"));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::Status(code, absl::StrCat("the controller at ", server, " does not implement ",
                                             rpc, " (a different netrig version?)",
                                             msg.empty() ? "" : ": ", msg));
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::Status(code, absl::StrCat("the controller at ", server,
                                             " rejected the credentials: ", msg));
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::Status(code, absl::StrCat("the controller at ", server, " denied ", rpc, ": ",
                                             msg));
    case grpc::StatusCode::CANCELLED:
      return absl::Status(code, absl::StrCat(rpc, " cancelled", msg.empty() ? "" : ": ", msg));
    default:
      if (msg.empty()) {
        return absl::Status(code, absl::StrCat(rpc, " failed with ",
                                               absl::StatusCodeToString(code)));
      }
      return absl::Status(code, msg);
  }
}

std::unique_ptr<Client> Client::Connect(const std::string& server, absl::Duration timeout) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  return std::make_unique<Client>(v1::ControllerService::NewStub(channel), server, timeout);
}

Client::Client(std::unique_ptr<v1::ControllerService::StubInterface> stub, std::string server,
               absl::Duration timeout)
    : stub_(std::move(stub)), server_(std::move(server)), timeout_(timeout) {}

std::unique_ptr<grpc::ClientContext> Client::NewContext(bool deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (deadline) ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return ctx;
}

void Client::Track(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.insert(ctx);
  // TryCancel before the call starts cancels it as soon as it starts.
  if (cancelled_) ctx->TryCancel();
}

void Client::Untrack(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(ctx);
}

void Client::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  for (grpc::ClientContext* ctx : active_) ctx->TryCancel();
}

bool Client::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

template <typename Response, typename Call>
absl::StatusOr<Response> Client::Unary(absl::string_view rpc, Call call) {
  std::unique_ptr<grpc::ClientContext> ctx = NewContext(/*deadline=*/true);
  Track(ctx.get());
  Response response;
  grpc::Status status = call(ctx.get(), &response);
  Untrack(ctx.get());
  if (!status.ok()) return FromGrpc(status, server_, rpc, timeout_);
  return response;
}

absl::StatusOr<v1::ValidateRunResponse> Client::ValidateRun(const std::string& document) {
  v1::ValidateRunRequest req;
  req.set_document(document);
  return Unary<v1::ValidateRunResponse>(
      "ValidateRun", [&](grpc::ClientContext* ctx, v1::ValidateRunResponse* resp) {
        return stub_->ValidateRun(ctx, req, resp);
      });
}

absl::StatusOr<v1::Run> Client::SubmitRun(const std::string& document,
                                           const std::map<std::string, std::string>& labels) {
  v1::SubmitRunRequest req;
  req.set_document(document);
  req.mutable_labels()->insert(labels.begin(), labels.end());
  return Unary<v1::Run>("SubmitRun", [&](grpc::ClientContext* ctx, v1::Run* resp) {
    return stub_->SubmitRun(ctx, req, resp);
  });
}

absl::StatusOr<v1::Run> Client::GetRun(const std::string& id) {
  v1::GetRunRequest req;
  req.set_id(id);
  return Unary<v1::Run>("GetRun", [&](grpc::ClientContext* ctx, v1::Run* resp) {
    return stub_->GetRun(ctx, req, resp);
  });
}

absl::StatusOr<v1::ListRunsResponse> Client::ListRuns(const std::string& phase, uint32_t limit) {
  v1::ListRunsRequest req;
  req.set_phase(phase);
  req.set_limit(limit);
  return Unary<v1::ListRunsResponse>(
      "ListRuns", [&](grpc::ClientContext* ctx, v1::ListRunsResponse* resp) {
        return stub_->ListRuns(ctx, req, resp);
      });
}

absl::StatusOr<v1::Run> Client::CancelRun(const std::string& id, const std::string& reason) {
  v1::CancelRunRequest req;
  req.set_id(id);
  req.set_reason(reason);
  return Unary<v1::Run>("CancelRun", [&](grpc::ClientContext* ctx, v1::Run* resp) {
    return stub_->CancelRun(ctx, req, resp);
  });
}

absl::StatusOr<v1::RunResults> Client::GetResults(const std::string& id) {
  v1::GetRunRequest req;
  req.set_id(id);
  return Unary<v1::RunResults>("GetResults", [&](grpc::ClientContext* ctx, v1::RunResults* resp) {
    return stub_->GetResults(ctx, req, resp);
  });
}

absl::StatusOr<v1::ListAgentsResponse> Client::ListAgents() {
  v1::ListAgentsRequest req;
  return Unary<v1::ListAgentsResponse>(
      "ListAgents", [&](grpc::ClientContext* ctx, v1::ListAgentsResponse* resp) {
        return stub_->ListAgents(ctx, req, resp);
      });
}

Client::Watch::Watch(Client* client, std::unique_ptr<grpc::ClientContext> ctx)
    : client_(client), ctx_(std::move(ctx)) {}

Client::Watch::~Watch() {
  if (!finished_) {
    // Ending a stream early: cancel it, then drain so the reader can be destroyed.
    ctx_->TryCancel();
    v1::Run ignored;
    while (reader_->Read(&ignored)) {
    }
    reader_->Finish().ok();
  }
  client_->Untrack(ctx_.get());
}

bool Client::Watch::Read(v1::Run* run) { return !finished_ && reader_->Read(run); }

absl::Status Client::Watch::Finish() {
  if (finished_) return absl::FailedPreconditionError("WatchRun already finished");
  finished_ = true;
  grpc::Status status = reader_->Finish();
  return FromGrpc(status, client_->server_, "WatchRun", client_->timeout_);
}

std::unique_ptr<Client::Watch> Client::WatchRun(const std::string& id) {
  v1::GetRunRequest req;
  req.set_id(id);
  std::unique_ptr<Watch> watch(new Watch(this, NewContext(/*deadline=*/false)));
  Track(watch->ctx_.get());
  watch->reader_ = stub_->WatchRun(watch->ctx_.get(), req);
  return watch;
}

}  // namespace netrig::cli
