// An in-memory kube::Api for the AgentPool reconciler's unit tests: objects keyed by resource,
// namespace and name, with the API server behaviour the reconciler relies on (uid, generation
// bumped on spec changes, resourceVersion checked on PUT, the status subresource, NotFound /
// AlreadyExists / Aborted) and a log of every write so tests can assert "no write".
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/kube/client.h"

namespace netrig::op::testing {

class AgentPoolFakeApi : public kube::Api {
 public:
  using Json = kube::Json;

  // One write: "create apps/v1 deployments ns/name", "replace ...", "patch-status ...",
  // "delete ...".
  std::vector<std::string> writes() const {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  void ClearWrites() {
    absl::MutexLock lock(&mu_);
    writes_.clear();
  }
  // The next write whose log line starts with `prefix` ("replace deployments") fails with
  // `status` instead.
  void FailNext(std::string prefix, absl::Status status) {
    absl::MutexLock lock(&mu_);
    failures_.emplace_back(std::move(prefix), std::move(status));
  }
  // Stores an object as it is (test setup; not logged as a write).
  void Put(const kube::Resource& r, Json object) {
    absl::MutexLock lock(&mu_);
    Stamp(object, /*generation=*/1);
    const Key3 key =
        Key(r, object["metadata"].value("namespace", ""), object["metadata"].value("name", ""));
    objects_[key] = std::move(object);
  }
  // The stored object, or null.
  Json Object(const kube::Resource& r, const std::string& ns, const std::string& name) const {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key(r, ns, name));
    return it == objects_.end() ? Json() : it->second;
  }
  // What another controller does: sets status fields of a stored object.
  void SetStatus(const kube::Resource& r, const std::string& ns, const std::string& name,
                 const Json& status) {
    absl::MutexLock lock(&mu_);
    Json& o = objects_.at(Key(r, ns, name));
    o["status"] = status;
    Bump(o);
  }

  absl::StatusOr<Json> Get(const kube::Resource& r, const std::string& ns,
                           const std::string& name) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key(r, ns, name));
    if (it == objects_.end()) return NotFound("get", r, ns, name);
    return it->second;
  }
  absl::StatusOr<Json> List(const kube::Resource& r, const std::string& ns,
                            const kube::ListOptions&) override {
    absl::MutexLock lock(&mu_);
    Json items = Json::array();
    for (const auto& [key, o] : objects_) {
      if (std::get<0>(key) == r.plural && (ns.empty() || std::get<1>(key) == ns)) {
        items.push_back(o);
      }
    }
    return Json{{"items", items}, {"metadata", {{"resourceVersion", std::to_string(version_)}}}};
  }
  absl::StatusOr<Json> Create(const kube::Resource& r, const std::string& ns,
                              const Json& object) override {
    absl::MutexLock lock(&mu_);
    const std::string name = object["metadata"].value("name", "");
    auto key = Key(r, ns, name);
    if (objects_.count(key)) {
      return absl::AlreadyExistsError(absl::StrCat("create ", r.plural, " ", ns, "/", name));
    }
    Json stored = object;
    stored["metadata"]["namespace"] = ns;
    Stamp(stored, 1);
    if (absl::Status s = Record("create", r, ns, name); !s.ok()) return s;
    objects_[key] = stored;
    return stored;
  }
  absl::StatusOr<Json> Replace(const kube::Resource& r, const std::string& ns,
                               const std::string& name, const Json& object) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key(r, ns, name));
    if (it == objects_.end()) return NotFound("replace", r, ns, name);
    if (absl::Status s = CheckFresh(it->second, object, "replace", r, ns, name); !s.ok()) return s;
    Json stored = object;
    stored["status"] = it->second.value("status", Json::object());  // status is a subresource
    stored["metadata"]["uid"] = it->second["metadata"]["uid"];
    stored["metadata"]["generation"] = it->second["metadata"]["generation"];
    if (stored.value("spec", Json()) != it->second.value("spec", Json())) {
      stored["metadata"]["generation"] = it->second["metadata"].value("generation", 1) + 1;
    }
    Bump(stored);
    if (absl::Status s = Record("replace", r, ns, name); !s.ok()) return s;
    it->second = stored;
    return stored;
  }
  absl::StatusOr<Json> Patch(const kube::Resource& r, const std::string& ns,
                             const std::string& name, const Json& patch, kube::PatchType) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key(r, ns, name));
    if (it == objects_.end()) return NotFound("patch", r, ns, name);
    Json patched = it->second;
    patched.merge_patch(patch);
    patched["status"] = it->second.value("status", Json::object());
    Bump(patched);
    if (absl::Status s = Record("patch", r, ns, name); !s.ok()) return s;
    it->second = patched;
    return patched;
  }
  absl::StatusOr<Json> ReplaceStatus(const kube::Resource& r, const std::string& ns,
                                     const std::string& name, const Json& object) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key(r, ns, name));
    if (it == objects_.end()) return NotFound("replace-status", r, ns, name);
    if (absl::Status s = CheckFresh(it->second, object, "replace-status", r, ns, name); !s.ok()) {
      return s;
    }
    if (absl::Status s = Record("replace-status", r, ns, name); !s.ok()) return s;
    it->second["status"] = object.value("status", Json::object());
    Bump(it->second);
    return it->second;
  }
  absl::StatusOr<Json> PatchStatus(const kube::Resource& r, const std::string& ns,
                                   const std::string& name, const Json& patch,
                                   kube::PatchType) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key(r, ns, name));
    if (it == objects_.end()) return NotFound("patch-status", r, ns, name);
    Json status = it->second.value("status", Json::object());
    status.merge_patch(patch.value("status", Json::object()));
    if (absl::Status s = Record("patch-status", r, ns, name); !s.ok()) return s;
    it->second["status"] = status;
    Bump(it->second);
    return it->second;
  }
  absl::Status Delete(const kube::Resource& r, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions&) override {
    absl::MutexLock lock(&mu_);
    if (objects_.count(Key(r, ns, name)) == 0) return NotFound("delete", r, ns, name).status();
    if (absl::Status s = Record("delete", r, ns, name); !s.ok()) return s;
    objects_.erase(Key(r, ns, name));
    return absl::OkStatus();
  }
  absl::Status Watch(const kube::Resource&, const std::string&, const kube::WatchOptions&,
                     const std::function<bool(const kube::WatchEvent&)>&,
                     const std::atomic<bool>*) override {
    return absl::UnimplementedError("watch: not in the fake");
  }

 private:
  // PUT semantics: a resourceVersion that is not the stored one is a conflict.
  static absl::Status CheckFresh(const Json& stored, const Json& sent, const char* verb,
                                 const kube::Resource& r, const std::string& ns,
                                 const std::string& name) {
    const std::string version = sent["metadata"].value("resourceVersion", "");
    if (!version.empty() && version != stored["metadata"].value("resourceVersion", "")) {
      return absl::AbortedError(
          absl::StrCat(verb, " ", r.plural, " ", ns, "/", name, ": the object has been modified"));
    }
    return absl::OkStatus();
  }

  using Key3 = std::tuple<std::string, std::string, std::string>;
  static Key3 Key(const kube::Resource& r, const std::string& ns, const std::string& name) {
    return {r.plural, r.namespaced ? ns : "", name};
  }
  static absl::StatusOr<Json> NotFound(const char* verb, const kube::Resource& r,
                                       const std::string& ns, const std::string& name) {
    return absl::NotFoundError(
        absl::StrCat(verb, " ", r.plural, " ", ns, "/", name, ": not found"));
  }
  // Logs a write, or fails it when FailNext queued a failure for it.
  absl::Status Record(const char* verb, const kube::Resource& r, const std::string& ns,
                      const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string write = absl::StrCat(verb, " ", r.plural, " ", ns, "/", name);
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (write.rfind(it->first, 0) == 0) {
        absl::Status s = it->second;
        failures_.erase(it);
        return s;
      }
    }
    writes_.push_back(write);
    return absl::OkStatus();
  }
  void Stamp(Json& o, int64_t generation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Json& meta = o["metadata"];
    if (!meta.contains("uid")) meta["uid"] = absl::StrCat("uid-", ++uids_);
    if (!meta.contains("generation")) meta["generation"] = generation;
    Bump(o);
  }
  void Bump(Json& o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    o["metadata"]["resourceVersion"] = std::to_string(++version_);
  }

  mutable absl::Mutex mu_;
  std::map<Key3, Json> objects_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> writes_ ABSL_GUARDED_BY(mu_);
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t uids_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<std::string, absl::Status>> failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netrig::op::testing
