// An in-process ControllerService for the netrigctl tests: canned runs, results and agents,
// scripted WatchRun streams, configurable errors. Served on 127.0.0.1:0.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "cli/client.h"
#include "proto/netrig/v1/controller.grpc.pb.h"

namespace netrig::cli::testing {

inline v1::Run MakeRun(const std::string& id, const std::string& phase,
                       const std::string& verdict = "") {
  v1::Run run;
  run.set_id(id);
  run.set_created_time("2024-05-01T10:00:00Z");
  run.set_spec_hash("abc123");
  v1::TestRun* tr = run.mutable_test_run();
  tr->set_api_version("netrig.io/v1alpha1");
  tr->set_kind("TestRun");
  tr->mutable_metadata()->set_name("quickstart");
  tr->mutable_metadata()->set_namespace_("default");
  tr->mutable_spec()->set_level("L1");
  tr->mutable_status()->set_phase(phase);
  tr->mutable_status()->set_verdict(verdict);
  return run;
}

inline v1::Run WithProgress(v1::Run run, const std::string& test, uint32_t size, uint32_t trial,
                            double pct, double fps, double loss) {
  v1::TestRunProgress* p = run.mutable_test_run()->mutable_status()->mutable_progress();
  p->set_test(test);
  p->set_frame_size(size);
  p->set_direction("west->east");
  p->set_trial(trial);
  p->set_offered_rate_percent(pct);
  p->set_offered_rate_fps(fps);
  p->set_loss_percent(loss);
  p->set_frame_sizes_done(0);
  p->set_frame_sizes_total(3);
  return run;
}

class FakeController final : public v1::ControllerService::Service {
 public:
  // Canned state (set before the calls; guarded by mu for the calls).
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, v1::Run> runs;
  std::map<std::string, v1::RunResults> results;
  std::vector<v1::AgentInfo> agents;
  std::string submit_id = "run-1";
  grpc::Status submit_error = grpc::Status::OK;
  // WatchRun call n streams watch_sessions[min(n, size-1)].
  std::vector<std::vector<v1::Run>> watch_sessions;
  // After its script, the stream waits for a CancelRun (then sends the run Cancelled) or for
  // the client to go away.
  bool hold_watch = false;
  // WatchRun calls from this index on fail with UNAVAILABLE (-1: never).
  int watch_unavailable_after = -1;
  std::chrono::milliseconds list_agents_delay{0};

  // Recorded calls.
  std::string last_document;
  std::string last_phase_filter;
  std::string last_cancel_id;
  std::string last_cancel_reason;
  int cancel_calls = 0;
  int watch_calls = 0;

  grpc::Status ValidateRun(grpc::ServerContext*, const v1::ValidateRunRequest*,
                           v1::ValidateRunResponse* resp) override {
    resp->set_valid(true);
    return grpc::Status::OK;
  }

  grpc::Status SubmitRun(grpc::ServerContext*, const v1::SubmitRunRequest* req,
                         v1::Run* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    last_document = req->document();
    if (!submit_error.ok()) return submit_error;
    auto it = runs.find(submit_id);
    *resp = it != runs.end() ? it->second : MakeRun(submit_id, "Pending");
    return grpc::Status::OK;
  }

  grpc::Status GetRun(grpc::ServerContext*, const v1::GetRunRequest* req, v1::Run* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = runs.find(req->id());
    if (it == runs.end()) return NotFound(req->id());
    *resp = it->second;
    return grpc::Status::OK;
  }

  grpc::Status ListRuns(grpc::ServerContext*, const v1::ListRunsRequest* req,
                        v1::ListRunsResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    last_phase_filter = req->phase();
    for (const auto& [id, run] : runs) {
      if (req->phase().empty() || run.test_run().status().phase() == req->phase()) {
        *resp->add_runs() = run;
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status CancelRun(grpc::ServerContext*, const v1::CancelRunRequest* req,
                         v1::Run* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    ++cancel_calls;
    last_cancel_id = req->id();
    last_cancel_reason = req->reason();
    auto it = runs.find(req->id());
    if (it == runs.end()) return NotFound(req->id());
    const std::string phase = it->second.test_run().status().phase();
    if (phase == "Succeeded" || phase == "Failed" || phase == "Cancelled" ||
        phase == "Interrupted") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("run ", req->id(), " already finished (", phase, ")"));
    }
    it->second.mutable_test_run()->mutable_status()->set_phase("Cancelled");
    *resp = it->second;
    cv.notify_all();
    return grpc::Status::OK;
  }

  grpc::Status GetResults(grpc::ServerContext*, const v1::GetRunRequest* req,
                          v1::RunResults* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = results.find(req->id());
    if (it == results.end()) return NotFound(req->id());
    *resp = it->second;
    return grpc::Status::OK;
  }

  grpc::Status ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest*,
                          v1::ListAgentsResponse* resp) override {
    std::this_thread::sleep_for(list_agents_delay);
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& a : agents) *resp->add_agents() = a;
    return grpc::Status::OK;
  }

  grpc::Status WatchRun(grpc::ServerContext* ctx, const v1::GetRunRequest* req,
                        grpc::ServerWriter<v1::Run>* writer) override {
    std::vector<v1::Run> script;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (runs.find(req->id()) == runs.end()) return NotFound(req->id());
      if (watch_unavailable_after >= 0 && watch_calls >= watch_unavailable_after) {
        ++watch_calls;
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller restarting");
      }
      if (!watch_sessions.empty()) {
        script = watch_sessions[std::min<size_t>(watch_calls, watch_sessions.size() - 1)];
      }
      ++watch_calls;
    }
    for (const v1::Run& r : script) {
      if (!writer->Write(r)) return grpc::Status::CANCELLED;
    }
    if (!hold_watch) return grpc::Status::OK;
    std::unique_lock<std::mutex> lock(mu);
    while (!ctx->IsCancelled()) {
      const v1::Run& run = runs[req->id()];
      if (run.test_run().status().phase() == "Cancelled") {
        v1::Run copy = run;
        lock.unlock();
        writer->Write(copy);
        return grpc::Status::OK;
      }
      cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    return grpc::Status::CANCELLED;
  }

 private:
  static grpc::Status NotFound(const std::string& id) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("run ", id, " not found"));
  }
};

// The fake served on 127.0.0.1:<ephemeral>, and clients for it.
class FakeServer {
 public:
  FakeServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service);
    server_ = builder.BuildAndStart();
  }
  ~FakeServer() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2)); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  std::unique_ptr<Client> NewClient(absl::Duration timeout = absl::Seconds(5)) const {
    return Client::Connect(address(), timeout);
  }

  FakeController service;

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace netrig::cli::testing
