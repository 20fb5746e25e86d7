// Internal: fan-out of committed events to in-process watches (MemoryStore, SqliteStore).
// Each watch has a queue and a delivery thread, so a slow callback only delays its own watch and
// the writer never runs user code. One thread per active watch: the controller holds a handful.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/state_store.h"

namespace netrig::controller::store::internal {

// A delivery thread plus its queue. Shared by the handle and the hub.
class WatchWorker : public std::enable_shared_from_this<WatchWorker> {
 public:
  WatchWorker(std::string begin, std::string end, int64_t start_revision, EventCallback cb);
  ~WatchWorker();

  void Start();
  // Queues the events of one revision that fall inside [begin, end) and revision >= start.
  void Offer(int64_t revision, const std::vector<Event>& events);
  void Enqueue(std::vector<Event> events);
  void Cancel();
  bool canceled();

 private:
  void Run();
  bool OnDeliveryThread();

  const std::string begin_, end_;
  const int64_t start_revision_;
  EventCallback cb_;
  absl::Mutex mu_;
  std::deque<Event> pending_ ABSL_GUARDED_BY(mu_);
  bool canceled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id delivery_thread_ ABSL_GUARDED_BY(mu_);
  std::mutex join_mu_;
  std::thread thread_;
};

class WatchHub {
 public:
  ~WatchHub();
  // Registers a watch seeded with `backlog` (already committed events it must see first). The
  // caller holds the store's lock, so no event is published between the backlog read and this.
  std::unique_ptr<WatchHandle> Add(std::string begin, std::string end, int64_t start_revision,
                                   std::vector<Event> backlog, EventCallback cb);
  // Called with the store's lock held, once per revision, in revision order.
  void Publish(int64_t revision, const std::vector<Event>& events);
  // Cancels every watch and joins the delivery threads.
  void Stop();

 private:
  absl::Mutex mu_;
  std::vector<std::shared_ptr<WatchWorker>> workers_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace netrig::controller::store::internal
