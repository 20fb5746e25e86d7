#include "controller/store/watch_hub.h"

#include <utility>

namespace netrig::controller::store::internal {
namespace {

class LocalWatchHandle : public WatchHandle {
 public:
  explicit LocalWatchHandle(std::shared_ptr<WatchWorker> worker) : worker_(std::move(worker)) {}
  ~LocalWatchHandle() override { Cancel(); }
  void Cancel() override { worker_->Cancel(); }

 private:
  std::shared_ptr<WatchWorker> worker_;
};

bool InRange(const std::string& key, const std::string& begin, const std::string& end) {
  return key >= begin && (end.empty() || key < end);
}

}  // namespace

WatchWorker::WatchWorker(std::string begin, std::string end, int64_t start_revision,
                         EventCallback cb)
    : begin_(std::move(begin)),
      end_(std::move(end)),
      start_revision_(start_revision),
      cb_(std::move(cb)) {}

WatchWorker::~WatchWorker() {
  if (thread_.joinable()) {
    // The last reference can be dropped by the delivery thread itself (it holds one while it
    // runs); it is about to return then, so detaching is safe.
    if (OnDeliveryThread()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

void WatchWorker::Start() {
  std::lock_guard<std::mutex> lock(join_mu_);
  thread_ = std::thread([self = shared_from_this()] { self->Run(); });
}

void WatchWorker::Offer(int64_t revision, const std::vector<Event>& events) {
  if (revision < start_revision_) {
    return;
  }
  absl::MutexLock lock(&mu_);
  if (canceled_) {
    return;
  }
  for (const Event& e : events) {
    if (InRange(e.kv.key, begin_, end_)) {
      pending_.push_back(e);
    }
  }
}

void WatchWorker::Enqueue(std::vector<Event> events) {
  absl::MutexLock lock(&mu_);
  for (Event& e : events) {
    pending_.push_back(std::move(e));
  }
}

bool WatchWorker::canceled() {
  absl::MutexLock lock(&mu_);
  return canceled_;
}

bool WatchWorker::OnDeliveryThread() {
  absl::MutexLock lock(&mu_);
  return delivery_thread_ == std::this_thread::get_id();
}

void WatchWorker::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    canceled_ = true;
    pending_.clear();
  }
  // From inside a callback: the thread ends when the callback returns; joined later.
  if (OnDeliveryThread()) {
    return;
  }
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) {
    thread_.join();
  }
}

void WatchWorker::Run() {
  {
    absl::MutexLock lock(&mu_);
    delivery_thread_ = std::this_thread::get_id();
  }
  for (;;) {
    std::vector<Event> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WatchWorker* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->canceled_ || !w->pending_.empty();
          },
          this));
      if (canceled_) {
        return;
      }
      batch.assign(std::make_move_iterator(pending_.begin()),
                   std::make_move_iterator(pending_.end()));
      pending_.clear();
    }
    cb_(batch);
  }
}

WatchHub::~WatchHub() { Stop(); }

std::unique_ptr<WatchHandle> WatchHub::Add(std::string begin, std::string end,
                                           int64_t start_revision, std::vector<Event> backlog,
                                           EventCallback cb) {
  auto worker =
      std::make_shared<WatchWorker>(std::move(begin), std::move(end), start_revision, std::move(cb));
  worker->Enqueue(std::move(backlog));
  absl::MutexLock lock(&mu_);
  if (stopped_) {
    worker->Cancel();
    return std::make_unique<LocalWatchHandle>(std::move(worker));
  }
  worker->Start();
  // Drop finished watches here so the list stays bounded by the live ones.
  std::erase_if(workers_, [](const std::shared_ptr<WatchWorker>& w) { return w->canceled(); });
  workers_.push_back(worker);
  return std::make_unique<LocalWatchHandle>(std::move(worker));
}

void WatchHub::Publish(int64_t revision, const std::vector<Event>& events) {
  absl::MutexLock lock(&mu_);
  for (const auto& w : workers_) {
    w->Offer(revision, events);
  }
}

void WatchHub::Stop() {
  std::vector<std::shared_ptr<WatchWorker>> workers;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    workers.swap(workers_);
  }
  for (const auto& w : workers) {
    w->Cancel();
  }
}

}  // namespace netrig::controller::store::internal
