// FakeApi: an in-memory Kubernetes API server behind kube::Api, for the operator's unit tests.
//
// It keeps the semantics reconcilers depend on:
//  - metadata.uid, creationTimestamp (from the injected clock), resourceVersion (one counter
//    for the whole store, bumped on every write), generation (1 on create, +1 when anything
//    outside metadata and status changes);
//  - optimistic concurrency: Replace/ReplaceStatus with a stale metadata.resourceVersion fail
//    with Aborted (HTTP 409); an empty one is unconditional;
//  - the status subresource for the netrig kinds: Create/Replace/Patch ignore `status`,
//    ReplaceStatus/PatchStatus change only `status`;
//  - finalizers: Delete of an object with finalizers only sets deletionTimestamp; the object
//    goes away when a write leaves it with no finalizers;
//  - List with label selectors (k=v, k!=v, k, !k; comma = and) and all namespaces for ns "";
//  - Watch: delivers the recorded events after options.resource_version, then blocks for new
//    ones until *stop, on_event returns false or the options' timeout; InjectEvent() adds one;
//  - faults: FailNext(verb, status) makes the next call of that verb fail.
// Every call is counted by verb ("get", "list", "create", "replace", "patch", "replaceStatus",
// "patchStatus", "delete", "watch"), and every write that succeeded is logged as
// "<verb> <plural> <ns>/<name>" with verb create, replace, patch, replace-status, patch-status or
// delete, so tests can assert exactly what a reconcile wrote (or that it wrote nothing).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace netrig::op::testing {

class FakeApi : public kube::Api {
 public:
  explicit FakeApi(std::function<absl::Time()> clock = nullptr);

  absl::StatusOr<kube::Json> Get(const kube::Resource& r, const std::string& ns,
                                 const std::string& name) override;
  absl::StatusOr<kube::Json> List(const kube::Resource& r, const std::string& ns,
                                  const kube::ListOptions& options = {}) override;
  absl::StatusOr<kube::Json> Create(const kube::Resource& r, const std::string& ns,
                                    const kube::Json& object) override;
  absl::StatusOr<kube::Json> Replace(const kube::Resource& r, const std::string& ns,
                                     const std::string& name, const kube::Json& object) override;
  absl::StatusOr<kube::Json> Patch(const kube::Resource& r, const std::string& ns,
                                   const std::string& name, const kube::Json& patch,
                                   kube::PatchType type = kube::PatchType::kMerge) override;
  absl::StatusOr<kube::Json> ReplaceStatus(const kube::Resource& r, const std::string& ns,
                                           const std::string& name,
                                           const kube::Json& object) override;
  absl::StatusOr<kube::Json> PatchStatus(const kube::Resource& r, const std::string& ns,
                                         const std::string& name, const kube::Json& patch,
                                         kube::PatchType type = kube::PatchType::kMerge) override;
  absl::Status Delete(const kube::Resource& r, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions& options = {}) override;
  absl::Status Watch(const kube::Resource& r, const std::string& ns,
                     const kube::WatchOptions& options,
                     const std::function<bool(const kube::WatchEvent&)>& on_event,
                     const std::atomic<bool>* stop) override;

  // ---- test helpers
  // The next call of `verb` fails with `status` (queued: several calls fail in order).
  void FailNext(const std::string& verb, absl::Status status);
  int Calls(const std::string& verb) const;
  // The writes that succeeded since the start or the last ClearWrites(), in order.
  std::vector<std::string> writes() const;
  void ClearWrites();
  // The stored object, or null.
  kube::Json Object(const kube::Resource& r, const std::string& ns, const std::string& name) const;
  // What another controller does: replaces the status of a stored object (not logged).
  void SetStatus(const kube::Resource& r, const std::string& ns, const std::string& name,
                 const kube::Json& status);
  // Puts an object as is (no status stripping), e.g. a Pod or an object with status.
  kube::Json Put(const kube::Resource& r, kube::Json object);
  // Records a watch event for the object (as stored) without changing it.
  void InjectEvent(const kube::Resource& r, kube::WatchEvent::Type type, const kube::Json& object);
  // Objects of a resource (in every namespace), sorted by namespace/name.
  std::vector<kube::Json> Objects(const kube::Resource& r) const;
  int64_t resource_version() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, ns, name
  struct Event {
    std::string resource;
    int64_t rv;
    kube::WatchEvent event;
  };

  static std::string ResourceKey(const kube::Resource& r) { return r.group + "/" + r.plural; }
  static bool HasStatusSubresource(const kube::Resource& r);
  absl::Status TakeFault(const std::string& verb);
  void LogWriteLocked(const char* verb, const kube::Resource& r, const std::string& ns,
                      const std::string& name);
  // Stores `obj` (metadata already set) with a new resourceVersion and records the event;
  // deletes it instead when it is being deleted and has no finalizers left.
  kube::Json StoreLocked(const kube::Resource& r, const Key& key, kube::Json obj,
                         kube::WatchEvent::Type type);
  absl::StatusOr<kube::Json> UpdateLocked(const kube::Resource& r, const std::string& ns,
                                          const std::string& name, const kube::Json& object,
                                          bool status_only, const char* verb,
                                          const char* log_verb);

  std::function<absl::Time()> clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, kube::Json> objects_;
  std::vector<Event> events_;
  int64_t rv_ = 100;
  int64_t uid_counter_ = 0;
  std::map<std::string, std::vector<absl::Status>> faults_;
  std::map<std::string, int> calls_;
  std::vector<std::string> writes_;
};

// Label selector evaluation as the API server does it (the subset above).
bool MatchesSelector(const kube::Json& object, const std::string& selector);

}  // namespace netrig::op::testing
