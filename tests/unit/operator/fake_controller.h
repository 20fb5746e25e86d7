// FakeController: the controller's user API in memory, for the operator's unit tests. SubmitRun
// deduplicates on request_id the way the controller does; tests move runs through their phases
// with SetStatus() and see what the operator asked for (submits, cancels, documents).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "operator/controller_client.h"

namespace netrig::op::testing {

class FakeController : public ControllerClient {
 public:
  absl::StatusOr<v1::Run> SubmitRun(const std::string& document,
                                    const std::map<std::string, std::string>& labels,
                                    const std::string& request_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++submit_calls_;
    if (!submit_error_.ok()) return submit_error_;
    if (!request_id.empty()) {
      auto it = by_request_.find(request_id);
      if (it != by_request_.end()) return runs_.at(it->second);
    }
    v1::Run run;
    run.set_id(absl::StrCat("run-", ++counter_));
    for (const auto& [k, v] : labels) {
      (*run.mutable_test_run()->mutable_metadata()->mutable_labels())[k] = v;
    }
    run.mutable_test_run()->mutable_status()->set_phase("Pending");
    runs_[run.id()] = run;
    documents_[run.id()] = document;
    if (!request_id.empty()) by_request_[request_id] = run.id();
    return run;
  }

  absl::StatusOr<v1::Run> GetRun(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++get_calls_;
    if (!get_error_.ok()) return get_error_;
    auto it = runs_.find(id);
    if (it == runs_.end()) return absl::NotFoundError(absl::StrCat("run ", id, " not found"));
    return it->second;
  }

  absl::StatusOr<v1::Run> CancelRun(const std::string& id, const std::string& reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.push_back(id);
    cancel_reasons_.push_back(reason);
    auto it = runs_.find(id);
    if (it == runs_.end()) return absl::NotFoundError(absl::StrCat("run ", id, " not found"));
    const std::string phase = it->second.test_run().status().phase();
    if (IsFinishedPhase(phase)) {
      return absl::FailedPreconditionError(absl::StrCat("run ", id, " already ", phase));
    }
    // Like the controller: the run finishes once its SUT is torn down, which the tests decide
    // (cancel_finishes_at_once = false leaves it Running until SetStatus).
    if (cancel_finishes_at_once_) {
      it->second.mutable_test_run()->mutable_status()->set_phase("Cancelled");
    }
    return it->second;
  }

  absl::StatusOr<v1::ListRunsResponse> ListRuns(const std::string& phase) override {
    std::lock_guard<std::mutex> lock(mu_);
    v1::ListRunsResponse out;
    for (const auto& [id, run] : runs_) {
      if (phase.empty() || run.test_run().status().phase() == phase) *out.add_runs() = run;
    }
    return out;
  }

  absl::StatusOr<v1::ListAgentsResponse> ListAgents() override { return v1::ListAgentsResponse(); }

  // ---- test helpers
  void SetStatus(const std::string& id, const v1::TestRunStatus& status) {
    std::lock_guard<std::mutex> lock(mu_);
    *runs_[id].mutable_test_run()->mutable_status() = status;
  }
  void SetSubmitError(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    submit_error_ = std::move(s);
  }
  void SetGetError(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    get_error_ = std::move(s);
  }
  void SetCancelFinishesAtOnce(bool b) {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_finishes_at_once_ = b;
  }
  int submit_calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return submit_calls_;
  }
  size_t run_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_.size();
  }
  std::vector<std::string> cancels() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }
  std::vector<std::string> cancel_reasons() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancel_reasons_;
  }
  std::string document(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = documents_.find(id);
    return it == documents_.end() ? "" : it->second;
  }
  std::string phase(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(id);
    return it == runs_.end() ? "" : it->second.test_run().status().phase();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, v1::Run> runs_;
  std::map<std::string, std::string> documents_;
  std::map<std::string, std::string> by_request_;
  std::vector<std::string> cancels_;
  std::vector<std::string> cancel_reasons_;
  absl::Status submit_error_;
  absl::Status get_error_;
  bool cancel_finishes_at_once_ = true;
  int submit_calls_ = 0;
  int get_calls_ = 0;
  int counter_ = 0;
};

}  // namespace netrig::op::testing
