// The operator's work queue, with client-go's workqueue semantics:
//  - a key is queued at most once: adding a queued key does nothing;
//  - a key is handed to one worker at a time: a key added while it is being processed is queued
//    again when the worker calls Done() (so a change during a reconcile is never lost);
//  - AddAfter() delays a key (requeue_after); the earliest pending time of a key wins;
//  - AddRateLimited() delays a failing key by base * 2^failures, capped at max (5 ms .. 5 min
//    by default, like client-go's controllers); Forget() resets that after a success.
//
// Thread-safe. Time comes from `clock` so tests drive the delays without sleeping (TryGet()).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"

namespace netrig::op {

class WorkQueue {
 public:
  struct Options {
    absl::Duration base_delay = absl::Milliseconds(5);
    absl::Duration max_delay = absl::Minutes(5);
    std::function<absl::Time()> clock;  // default absl::Now
  };

  WorkQueue();
  explicit WorkQueue(Options options);

  void Add(const std::string& key);
  // Queues `key` after `delay` (now when <= 0).
  void AddAfter(const std::string& key, absl::Duration delay);
  // Queues `key` after its next backoff delay, and counts the failure.
  void AddRateLimited(const std::string& key);
  // The delay AddRateLimited would use now (tests, logs).
  absl::Duration NextBackoff(const std::string& key) const;
  // Clears the failure count of `key`.
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready (then it is "processing" until Done) or ShutDown(); false when
  // shut down.
  bool Get(std::string* key);
  // Get() that never blocks: false when no key is ready now.
  bool TryGet(std::string* key);
  void Done(const std::string& key);
  // Wakes every Get(); later Adds are ignored.
  void ShutDown();

  // Keys ready to be handed out (not the delayed ones, not those being processed).
  size_t Len() const;
  size_t DelayedLen() const;

 private:
  absl::Time Now() const;
  void AddLocked(const std::string& key);
  // Moves delayed keys whose time has come to the queue; returns the next pending time.
  absl::Time PromoteLocked(absl::Time now);
  bool PopLocked(std::string* key);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued (or to be requeued after Done)
  std::set<std::string> processing_;  // handed to a worker
  std::map<std::string, absl::Time> delayed_;
  std::map<std::string, int> failures_;
  bool shutdown_ = false;
};

}  // namespace netrig::op
