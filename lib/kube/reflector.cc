// Reflector: list, then watch from the list's resourceVersion; relist only when the server says
// that version is gone (410 / OutOfRange).
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "lib/kube/client.h"

namespace netrig::kube {
namespace {
constexpr absl::Duration kInitialBackoff = absl::Milliseconds(200);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
}  // namespace

struct Reflector::Thread {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  absl::BitGen gen;

  // Sleeps for `d` with jitter in [d/2, d], or until Stop(); false when stopping.
  bool Sleep(absl::Duration d, const std::atomic<bool>& stop) {
    const absl::Duration jittered = d / 2 + absl::Uniform(gen, 0.0, 1.0) * (d / 2);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, absl::ToChronoMilliseconds(jittered), [&] { return stop.load(); });
    return !stop.load();
  }
};

Reflector::Reflector(Api* api, Resource resource, std::string ns, ListOptions options,
                     Handler handler)
    : api_(api),
      resource_(std::move(resource)),
      ns_(std::move(ns)),
      options_(std::move(options)),
      handler_(std::move(handler)) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  if (thread_ != nullptr) {
    return;
  }
  thread_ = std::make_unique<Thread>();
  thread_->thread = std::thread([this] { Loop(); });
}

void Reflector::Stop() {
  stop_.store(true);
  if (thread_ == nullptr) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(thread_->mu);
    thread_->cv.notify_all();
  }
  if (thread_->thread.joinable()) {
    thread_->thread.join();
  }
}

void Reflector::Loop() {
  absl::Duration backoff = kInitialBackoff;
  auto report = [&](const absl::Status& status) {
    if (handler_.on_error) {
      handler_.on_error(status);
    }
  };
  auto next_backoff = [&] { backoff = std::min(backoff * 2, kMaxBackoff); };

  while (!stop_.load()) {
    absl::StatusOr<Json> list = api_->List(resource_, ns_, options_);
    if (!list.ok()) {
      report(list.status());
      if (!thread_->Sleep(backoff, stop_)) {
        return;
      }
      next_backoff();
      continue;
    }
    lists_.fetch_add(1);
    std::vector<Json> items;
    if (list->contains("items") && (*list)["items"].is_array()) {
      items.assign((*list)["items"].begin(), (*list)["items"].end());
    }
    std::string resource_version = ResourceVersionOf(*list);
    if (handler_.on_sync) {
      handler_.on_sync(items);
    }
    backoff = kInitialBackoff;

    // Watch until the server says our version is too old (then relist) or we stop. A stream the
    // server closes (timeoutSeconds, apiserver restart) resumes from the last version seen.
    while (!stop_.load()) {
      WatchOptions watch;
      watch.resource_version = resource_version;
      watch.label_selector = options_.label_selector;
      watch.field_selector = options_.field_selector;
      watch.allow_bookmarks = true;
      const absl::Time started = absl::Now();
      const absl::Status status = api_->Watch(
          resource_, ns_, watch,
          [&](const WatchEvent& event) {
            if (const std::string rv = ResourceVersionOf(event.object); !rv.empty()) {
              resource_version = rv;
            }
            if (event.type != WatchEvent::Type::kBookmark && handler_.on_event) {
              handler_.on_event(event);
            }
            backoff = kInitialBackoff;
            return !stop_.load();
          },
          &stop_);
      if (status.ok()) {
        // A server that keeps closing streams at once must not make this loop spin.
        if (absl::Now() - started < absl::Seconds(1) && !thread_->Sleep(kInitialBackoff, stop_)) {
          return;
        }
        continue;
      }
      if (absl::IsOutOfRange(status)) {
        break;  // relist
      }
      report(status);
      if (!thread_->Sleep(backoff, stop_)) {
        return;
      }
      next_backoff();
    }
  }
}

}  // namespace netrig::kube
