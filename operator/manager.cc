#include "operator/manager.h"


#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/common/metrics_endpoint.h"
#include "operator/conditions.h"
#include "operator/log.h"

namespace netrig::op {

struct Manager::Controller {
  Reconciler* reconciler = nullptr;
  std::vector<kube::Resource> owns;
  std::unique_ptr<WorkQueue> queue;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors;
  std::vector<std::thread> workers;
  std::atomic<bool> synced{false};
  prometheus::Counter* ok = nullptr;
  prometheus::Counter* requeued = nullptr;
  prometheus::Counter* failed = nullptr;
  prometheus::Histogram* duration = nullptr;
  prometheus::Gauge* depth = nullptr;
  std::atomic<int64_t> reflector_errors{0};
};

namespace {

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// "netrig.io/v1alpha1" -> "netrig.io"; "v1" -> "".
std::string GroupOf(const std::string& api_version) {
  const size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

}  // namespace

Manager::Manager(kube::Api* api, ManagerConfig config,
                 std::shared_ptr<prometheus::Registry> registry)
    : api_(api), config_(std::move(config)), registry_(std::move(registry)) {
  if (registry_ == nullptr) registry_ = std::make_shared<prometheus::Registry>();
  reconciles_ = &prometheus::BuildCounter()
                     .Name("netrig_operator_reconciles_total")
                     .Help("Reconciles by resource and result (success, requeue, error).")
                     .Register(*registry_);
  durations_ = &prometheus::BuildHistogram()
                    .Name("netrig_operator_reconcile_duration_seconds")
                    .Help("Time one Reconcile call took, by resource.")
                    .Register(*registry_);
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("netrig_operator_queue_depth")
                      .Help("Objects waiting in a reconciler's work queue (ready, not delayed).")
                      .Register(*registry_);
  leader_ = &prometheus::BuildGauge()
                 .Name("netrig_operator_leader")
                 .Help(
                     "1 while this replica holds the leader lease (always 1 without "
                     "--leader-elect), else 0.")
                 .Register(*registry_)
                 .Add({});
}

Manager::~Manager() {
  Stop();
  StopControllers();
  StopHttp();
}

void Manager::Add(Reconciler* reconciler, std::vector<kube::Resource> owns) {
  auto c = std::make_unique<Controller>();
  c->reconciler = reconciler;
  c->owns = std::move(owns);
  c->queue = std::make_unique<WorkQueue>(config_.queue);
  const std::string plural = reconciler->resource().plural;
  c->ok = &reconciles_->Add({{"resource", plural}, {"result", "success"}});
  c->requeued = &reconciles_->Add({{"resource", plural}, {"result", "requeue"}});
  c->failed = &reconciles_->Add({{"resource", plural}, {"result", "error"}});
  c->duration = &durations_->Add(
      {{"resource", plural}},
      prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5, 1, 2.5, 5, 10, 30});
  c->depth = &queue_depth_->Add({{"resource", plural}});
  controllers_.push_back(std::move(c));
}

void Manager::Enqueue(Controller* c, const std::string& ns, const std::string& name) {
  if (name.empty()) return;
  c->queue->Add(absl::StrCat(ns, "/", name));
  c->depth->Set(static_cast<double>(c->queue->Len()));
}

void Manager::StartControllers() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_ || stop_requested_) return;
  running_ = true;
  leader_->Set(1);
  for (auto& owned : controllers_) {
    Controller* c = owned.get();
    const kube::Resource& primary = c->reconciler->resource();
    const std::string what = primary.plural;
    auto on_error = [c, what](const absl::Status& s) {
      // Reflectors back off on their own; log the first few and then every 20th.
      const int64_t n = c->reflector_errors.fetch_add(1);
      if (n < 5 || n % 20 == 0) {
        Log(Severity::kWarning, absl::StrCat("watch ", what, ": ", s.ToString()));
      }
    };
    kube::Reflector::Handler handler;
    // The reconciler is ready once its first list came back in every namespace.
    auto pending_lists = std::make_shared<std::atomic<int>>(0);
    handler.on_sync = [this, c, pending_lists](const std::vector<kube::Json>& items) {
      for (const kube::Json& item : items) Enqueue(c, kube::NamespaceOf(item), kube::NameOf(item));
      if (pending_lists->fetch_sub(1) <= 1) c->synced.store(true);
    };
    handler.on_event = [this, c](const kube::WatchEvent& e) {
      Enqueue(c, kube::NamespaceOf(e.object), kube::NameOf(e.object));
    };
    handler.on_error = on_error;

    // Owned objects queue their controller owner of our kind.
    const std::string owner_kind = primary.kind;
    const std::string owner_group = primary.group;
    auto enqueue_owner = [this, c, owner_kind, owner_group](const kube::Json& obj) {
      const kube::Json* owner = ControllerOwner(obj);
      if (owner == nullptr || owner->value("kind", "") != owner_kind ||
          GroupOf(owner->value("apiVersion", "")) != owner_group) {
        return;
      }
      Enqueue(c, kube::NamespaceOf(obj), owner->value("name", ""));
    };
    kube::Reflector::Handler owned_handler;
    owned_handler.on_sync = [enqueue_owner](const std::vector<kube::Json>& items) {
      for (const kube::Json& item : items) enqueue_owner(item);
    };
    owned_handler.on_event = [enqueue_owner](const kube::WatchEvent& e) {
      enqueue_owner(e.object);
    };
    owned_handler.on_error = on_error;

    const std::vector<std::string> namespaces =
        config_.namespaces.empty() ? std::vector<std::string>{""} : config_.namespaces;
    pending_lists->store(static_cast<int>(namespaces.size()));
    for (const std::string& ns : namespaces) {
      c->reflectors.push_back(
          std::make_unique<kube::Reflector>(api_, primary, ns, kube::ListOptions{}, handler));
      for (const kube::Resource& r : c->owns) {
        c->reflectors.push_back(
            std::make_unique<kube::Reflector>(api_, r, ns, kube::ListOptions{}, owned_handler));
      }
    }
    for (auto& reflector : c->reflectors) reflector->Start();
    for (int i = 0; i < std::max(1, config_.workers); ++i) {
      c->workers.emplace_back([this, c] { Worker(c); });
    }
  }
  Log(Severity::kInfo,
      absl::StrCat(
          "started ", controllers_.size(), " reconciler(s) with ", std::max(1, config_.workers),
          " worker(s) each, watching ",
          config_.namespaces.empty() ? "all namespaces" : absl::StrJoin(config_.namespaces, ",")));
}

void Manager::StopControllers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    running_ = false;
  }
  for (auto& c : controllers_) {
    for (auto& r : c->reflectors) r->Stop();
    c->queue->ShutDown();
  }
  for (auto& c : controllers_) {
    for (std::thread& t : c->workers) {
      if (t.joinable()) t.join();
    }
    c->workers.clear();
    c->reflectors.clear();
  }
  leader_->Set(0);
}

void Manager::Worker(Controller* c) {
  std::string key;
  while (c->queue->Get(&key)) {
    c->depth->Set(static_cast<double>(c->queue->Len()));
    const auto [ns, name] = SplitKey(key);
    const absl::Time start = absl::Now();
    absl::StatusOr<ReconcileResult> result = c->reconciler->Reconcile(ns, name);
    c->duration->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    if (!result.ok()) {
      c->failed->Increment();
      const int failures = c->queue->NumRequeues(key);
      if (failures < 3 || failures % 10 == 0) {
        Log(Severity::kWarning,
            absl::StrCat(c->reconciler->resource().plural, " ", key, ": ",
                         result.status().ToString(), " (retry in ",
                         absl::FormatDuration(c->queue->NextBackoff(key)), ")"));
      }
      c->queue->AddRateLimited(key);
    } else {
      c->queue->Forget(key);
      if (result->requeue_after > absl::ZeroDuration()) {
        c->requeued->Increment();
        c->queue->AddAfter(key, result->requeue_after);
      } else {
        c->ok->Increment();
      }
    }
    c->queue->Done(key);
  }
}

absl::Status Manager::StartHttp() {
  if (config_.metrics_address.empty()) return absl::OkStatus();
  common::HealthChecks health;
  health.ready = [this] {
    return ready() ? absl::OkStatus()
                   : absl::UnavailableError("waiting for the first list of every watched resource");
  };
  absl::StatusOr<std::unique_ptr<common::MetricsEndpoint>> endpoint =
      common::MetricsEndpoint::Start(config_.metrics_address, registry_, std::move(health));
  if (!endpoint.ok()) {
    return absl::Status(endpoint.status().code(),
                        absl::StrCat("--metrics-address: ", endpoint.status().message()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    http_ = *std::move(endpoint);
  }
  Log(Severity::kInfo, absl::StrCat("serving /healthz /readyz /metrics on ", metrics_address()));
  return absl::OkStatus();
}

void Manager::StopHttp() {
  std::unique_ptr<common::MetricsEndpoint> http;
  {
    std::lock_guard<std::mutex> lock(mu_);
    http = std::move(http_);
  }
  http.reset();  // stops the server and joins its thread, outside the lock
}

std::string Manager::metrics_address() const {
  std::lock_guard<std::mutex> lock(mu_);
  return http_ != nullptr ? http_->address() : "";
}

bool Manager::ready() const {
  if (standby_.load()) return true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return false;
  }
  for (const auto& c : controllers_) {
    if (!c->synced.load()) return false;
  }
  return true;
}

absl::Status Manager::Run() {
  if (absl::Status s = StartHttp(); !s.ok()) return s;

  std::unique_ptr<kube::LeaderElector> elector;
  std::thread election;
  if (config_.leader_elect) {
    standby_.store(true);
    elector = std::make_unique<kube::LeaderElector>(api_, config_.leader_election);
    Log(Severity::kInfo,
        absl::StrCat("campaigning for lease ", config_.leader_election.ns, "/",
                     config_.leader_election.name, " as ", config_.leader_election.identity));
    election = std::thread([this, &elector] {
      elector->Run(
          [this] {
            Log(Severity::kInfo, "became the leader");
            standby_.store(false);
            StartControllers();
          },
          [this] {
            std::lock_guard<std::mutex> lock(mu_);
            if (!stop_requested_) {
              lost_leadership_ = true;
              cv_.notify_all();
            }
          });
    });
  } else {
    StartControllers();
  }

  bool lost = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stop_requested_ || lost_leadership_; });
    lost = lost_leadership_;
  }
  if (lost) Log(Severity::kError, "lost the leader lease: stopping");
  StopControllers();
  if (elector != nullptr) {
    elector->Stop();  // releases the lease when we held it
    if (election.joinable()) election.join();
  }
  StopHttp();
  if (lost) {
    return absl::AbortedError(absl::StrCat("lost the leader lease ", config_.leader_election.ns,
                                           "/", config_.leader_election.name));
  }
  return absl::OkStatus();
}

void Manager::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_requested_ = true;
  cv_.notify_all();
}

}  // namespace netrig::op
