// The operator's view of the netrig controller's user API (proto/netrig/v1/controller.proto):
// only the calls the reconcilers and the AgentPool load function make. An interface so that
// unit tests use an in-memory fake; GrpcControllerClient is the real one.
//
// Thread safety: implementations are called from several reconcile workers at once.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/netrig/v1/controller.grpc.pb.h"

namespace netrig::op {

class ControllerClient {
 public:
  virtual ~ControllerClient() = default;

  // `document` is the TestRun as JSON. `request_id` makes it idempotent: a second call with
  // the same id returns the run the first created. INVALID_ARGUMENT with the field errors (one
  // "path: message" per line) when the controller rejects the spec.
  virtual absl::StatusOr<v1::Run> SubmitRun(const std::string& document,
                                            const std::map<std::string, std::string>& labels,
                                            const std::string& request_id) = 0;
  // NotFound when the controller does not know the id.
  virtual absl::StatusOr<v1::Run> GetRun(const std::string& id) = 0;
  // FailedPrecondition when the run already finished.
  virtual absl::StatusOr<v1::Run> CancelRun(const std::string& id, const std::string& reason) = 0;
  // `phase` filters (empty: all).
  virtual absl::StatusOr<v1::ListRunsResponse> ListRuns(const std::string& phase) = 0;
  virtual absl::StatusOr<v1::ListAgentsResponse> ListAgents() = 0;
};

// A plaintext gRPC channel to "host:port". Every call has `timeout` as its deadline; transport
// failures come back as Unavailable / DeadlineExceeded naming the address.
class GrpcControllerClient : public ControllerClient {
 public:
  static std::unique_ptr<GrpcControllerClient> Connect(const std::string& address,
                                                       absl::Duration timeout);
  GrpcControllerClient(std::unique_ptr<v1::ControllerService::StubInterface> stub,
                       std::string address, absl::Duration timeout);

  absl::StatusOr<v1::Run> SubmitRun(const std::string& document,
                                    const std::map<std::string, std::string>& labels,
                                    const std::string& request_id) override;
  absl::StatusOr<v1::Run> GetRun(const std::string& id) override;
  absl::StatusOr<v1::Run> CancelRun(const std::string& id, const std::string& reason) override;
  absl::StatusOr<v1::ListRunsResponse> ListRuns(const std::string& phase) override;
  absl::StatusOr<v1::ListAgentsResponse> ListAgents() override;

 private:
  std::unique_ptr<v1::ControllerService::StubInterface> stub_;
  std::string address_;
  absl::Duration timeout_;
};

// Run phases the controller never leaves (Succeeded, Failed, Cancelled, Interrupted).
bool IsFinishedPhase(const std::string& phase);

}  // namespace netrig::op
