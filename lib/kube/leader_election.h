// Leader election with a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does
// it: the holder renews spec.renewTime every `retry_period`; a candidate takes the lease over
// (spec.holderIdentity, acquireTime, leaseTransitions + 1) when the lease record has not changed
// for leaseDurationSeconds, measured on the candidate's own clock from when it first saw that
// record (as client-go does, so clock skew between nodes does not matter). Every write is a PUT
// with the read resourceVersion, so two candidates can never both win (the loser gets 409 and
// re-reads).
//
//   kube::LeaderElector elector(api, {.ns = "netrig", .name = "netrig-operator",
//                                     .identity = pod_name});
//   elector.Run(on_started_leading, on_stopped_leading);   // blocks until Stop()
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace netrig::kube {

struct LeaderElectionConfig {
  std::string ns;
  std::string name;                    // the Lease object
  std::string identity;                // this candidate (pod name); unique
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);  // give up leadership if not renewed
  absl::Duration retry_period = absl::Seconds(2);
  bool release_on_stop = true;         // clear holderIdentity on Stop() so others take over now
};

class LeaderElector {
 public:
  LeaderElector(Api* api, LeaderElectionConfig config);
  ~LeaderElector();

  // Campaigns until Stop(). on_started is called (on this thread's helper) when leadership is
  // won, on_stopped when it is lost or given up; both may be empty. A leader that cannot renew
  // within renew_deadline calls on_stopped and campaigns again.
  void Run(const std::function<void()>& on_started, const std::function<void()>& on_stopped);
  void Stop();

  bool is_leader() const { return leader_.load(); }
  // The current holder as last read ("" when unknown).
  std::string holder() const;

 private:
  Api* api_;
  LeaderElectionConfig config_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string holder_;
};

}  // namespace netrig::kube
