// netrigctl's view of the controller's user API (proto/netrig/v1/controller.proto).
//
// A thin wrapper over the generated stub that
//  - gives every unary RPC a deadline (--timeout; WatchRun has none but can be cancelled),
//  - turns transport failures into messages a user can act on ("cannot reach the controller at
//    HOST:PORT: ..."), keeping the server's own message for the codes commands interpret
//    (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION),
//  - can cancel every call in flight from another thread (a second Ctrl-C).
// The stub is injected, so tests point it at an in-process fake ControllerService.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <map>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/netrig/v1/controller.grpc.pb.h"

namespace netrig::cli {

// A failed RPC: the gRPC code and the message to show. For UNAVAILABLE, DEADLINE_EXCEEDED,
// UNIMPLEMENTED, UNAUTHENTICATED and PERMISSION_DENIED the message is already complete
// ("cannot reach the controller at 127.0.0.1:7400: ..."); for the other codes it is the
// server's message as sent (commands add the context: "run X not found").
absl::Status FromGrpc(const grpc::Status& status, absl::string_view server,
                      absl::string_view rpc, absl::Duration timeout);

class Client {
 public:
  // Connects (lazily, as gRPC does) to `server` ("host:port") without TLS.
  static std::unique_ptr<Client> Connect(const std::string& server, absl::Duration timeout);

  Client(std::unique_ptr<v1::ControllerService::StubInterface> stub, std::string server,
         absl::Duration timeout);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& server() const { return server_; }
  absl::Duration timeout() const { return timeout_; }

  absl::StatusOr<v1::ValidateRunResponse> ValidateRun(const std::string& document);
  // `labels` are added where the document does not set them.
  absl::StatusOr<v1::Run> SubmitRun(const std::string& document,
                                    const std::map<std::string, std::string>& labels = {});
  absl::StatusOr<v1::Run> GetRun(const std::string& id);
  absl::StatusOr<v1::ListRunsResponse> ListRuns(const std::string& phase, uint32_t limit = 0);
  absl::StatusOr<v1::Run> CancelRun(const std::string& id, const std::string& reason);
  absl::StatusOr<v1::RunResults> GetResults(const std::string& id);
  absl::StatusOr<v1::ListAgentsResponse> ListAgents();

  // One WatchRun stream. Read() blocks until the next update; false at the end of the stream
  // (then Finish() tells why). No deadline; CancelAll() ends it.
  class Watch {
   public:
    ~Watch();
    bool Read(v1::Run* run);
    absl::Status Finish();

   private:
    friend class Client;
    Watch(Client* client, std::unique_ptr<grpc::ClientContext> ctx);
    Client* client_;
    std::unique_ptr<grpc::ClientContext> ctx_;
    std::unique_ptr<grpc::ClientReaderInterface<v1::Run>> reader_;
    bool finished_ = false;
  };
  std::unique_ptr<Watch> WatchRun(const std::string& id);

  // Cancels every call in flight and every call started afterwards (they fail with CANCELLED).
  // Safe from any thread.
  void CancelAll();
  bool cancelled() const;

 private:
  template <typename Response, typename Call>
  absl::StatusOr<Response> Unary(absl::string_view rpc, Call call);
  std::unique_ptr<grpc::ClientContext> NewContext(bool deadline);
  void Track(grpc::ClientContext* ctx);
  void Untrack(grpc::ClientContext* ctx);

  std::unique_ptr<v1::ControllerService::StubInterface> stub_;
  std::string server_;
  absl::Duration timeout_;
  mutable std::mutex mu_;
  std::set<grpc::ClientContext*> active_;
  bool cancelled_ = false;
};

}  // namespace netrig::cli
