#include "operator/work_queue.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace netrig::op {

WorkQueue::WorkQueue() : WorkQueue(Options()) {}

WorkQueue::WorkQueue(Options options) : options_(std::move(options)) {}

absl::Time WorkQueue::Now() const { return options_.clock ? options_.clock() : absl::Now(); }

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutdown_ || dirty_.count(key) > 0) return;
  dirty_.insert(key);
  delayed_.erase(key);                     // queued now: an older delay is moot
  if (processing_.count(key) > 0) return;  // Done() queues it again
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, absl::Duration delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  if (delay <= absl::ZeroDuration()) {
    AddLocked(key);
    return;
  }
  if (dirty_.count(key) > 0) return;  // already queued: sooner than any delay
  const absl::Time at = Now() + delay;
  auto [it, inserted] = delayed_.emplace(key, at);
  if (!inserted && at < it->second) it->second = at;
  cv_.notify_all();  // a sleeping Get() may need to wake earlier
}

absl::Duration WorkQueue::NextBackoff(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  const int failures = it == failures_.end() ? 0 : it->second;
  absl::Duration d = options_.base_delay;
  for (int i = 0; i < failures && d < options_.max_delay; ++i) d *= 2;
  return std::min(d, options_.max_delay);
}

void WorkQueue::AddRateLimited(const std::string& key) {
  const absl::Duration delay = NextBackoff(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++failures_[key];
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

absl::Time WorkQueue::PromoteLocked(absl::Time now) {
  absl::Time next = absl::InfiniteFuture();
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      const std::string key = it->first;
      it = delayed_.erase(it);
      AddLocked(key);
    } else {
      next = std::min(next, it->second);
      ++it;
    }
  }
  return next;
}

bool WorkQueue::PopLocked(std::string* key) {
  if (queue_.empty()) return false;
  *key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(*key);
  dirty_.erase(*key);
  return true;
}

bool WorkQueue::Get(std::string* key) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutdown_) {
    const absl::Time next = PromoteLocked(Now());
    if (PopLocked(key)) return true;
    if (next == absl::InfiniteFuture()) {
      cv_.wait(lock);
    } else {
      // Re-reads the clock at least every second (an injected clock may jump).
      const absl::Duration wait = std::min(next - Now(), absl::Seconds(1));
      cv_.wait_for(lock, absl::ToChronoMicroseconds(std::max(wait, absl::Microseconds(100))));
    }
  }
  return false;
}

bool WorkQueue::TryGet(std::string* key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return false;
  PromoteLocked(Now());
  return PopLocked(key);
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) > 0 && !shutdown_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t WorkQueue::DelayedLen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delayed_.size();
}

}  // namespace netrig::op
