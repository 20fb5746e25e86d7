#include "tests/unit/operator/fake_api.h"

#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "operator/conditions.h"

namespace netrig::op::testing {
namespace {

using kube::Json;

std::string What(const kube::Resource& r, const std::string& ns, const std::string& name) {
  return absl::StrCat(r.ApiVersion(), " ", r.plural, " ", ns, "/", name);
}

// Everything but metadata and status: a change there is a new generation.
Json SpecPart(const Json& obj) {
  Json copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  copy.erase("apiVersion");
  copy.erase("kind");
  return copy;
}

}  // namespace

bool MatchesSelector(const Json& object, const std::string& selector) {
  const Json::json_pointer p("/metadata/labels");
  const Json labels = object.contains(p) && object[p].is_object() ? object[p] : Json::object();
  auto label = [&](const std::string& key) -> const Json* {
    return labels.contains(key) ? &labels[key] : nullptr;
  };
  for (absl::string_view term : absl::StrSplit(selector, ',', absl::SkipWhitespace())) {
    term = absl::StripAsciiWhitespace(term);
    if (const size_t ne = term.find("!="); ne != absl::string_view::npos) {
      const Json* v = label(std::string(term.substr(0, ne)));
      if (v != nullptr && *v == std::string(term.substr(ne + 2))) return false;
    } else if (const size_t eq = term.find('='); eq != absl::string_view::npos) {
      absl::string_view value = term.substr(eq + 1);
      absl::ConsumePrefix(&value, "=");  // k==v
      const Json* v = label(std::string(term.substr(0, eq)));
      if (v == nullptr || *v != std::string(value)) return false;
    } else if (absl::ConsumePrefix(&term, "!")) {
      if (label(std::string(term)) != nullptr) return false;
    } else if (label(std::string(term)) == nullptr) {
      return false;
    }
  }
  return true;
}

FakeApi::FakeApi(std::function<absl::Time()> clock) : clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return absl::Now(); };
}

// The netrig kinds, and Deployments and DaemonSets (apps/v1) as in a real API server.
bool FakeApi::HasStatusSubresource(const kube::Resource& r) {
  return r.group == "netrig.io" || r.group == "apps";
}

void FakeApi::LogWriteLocked(const char* verb, const kube::Resource& r, const std::string& ns,
                             const std::string& name) {
  writes_.push_back(absl::StrCat(verb, " ", r.plural, " ", r.namespaced ? ns : "", "/", name));
}

std::vector<std::string> FakeApi::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

void FakeApi::ClearWrites() {
  std::lock_guard<std::mutex> lock(mu_);
  writes_.clear();
}

Json FakeApi::Object(const kube::Resource& r, const std::string& ns,
                     const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find({ResourceKey(r), r.namespaced ? ns : "", name});
  return it == objects_.end() ? Json() : it->second;
}

void FakeApi::SetStatus(const kube::Resource& r, const std::string& ns, const std::string& name,
                        const Json& status) {
  std::lock_guard<std::mutex> lock(mu_);
  const Key key{ResourceKey(r), r.namespaced ? ns : "", name};
  Json obj = objects_.at(key);
  obj["status"] = status;
  StoreLocked(r, key, std::move(obj), kube::WatchEvent::Type::kModified);
}

absl::Status FakeApi::TakeFault(const std::string& verb) {
  ++calls_[verb];
  auto it = faults_.find(verb);
  if (it == faults_.end() || it->second.empty()) return absl::OkStatus();
  absl::Status s = it->second.front();
  it->second.erase(it->second.begin());
  return s;
}

void FakeApi::FailNext(const std::string& verb, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_[verb].push_back(std::move(status));
}

int FakeApi::Calls(const std::string& verb) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

int64_t FakeApi::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

Json FakeApi::StoreLocked(const kube::Resource& r, const Key& key, Json obj,
                          kube::WatchEvent::Type type) {
  obj["metadata"]["resourceVersion"] = absl::StrCat(++rv_);
  const bool gone = IsBeingDeleted(obj) && (!obj["metadata"].contains("finalizers") ||
                                            !obj["metadata"]["finalizers"].is_array() ||
                                            obj["metadata"]["finalizers"].empty());
  if (gone) {
    objects_.erase(key);
    type = kube::WatchEvent::Type::kDeleted;
  } else {
    objects_[key] = obj;
  }
  events_.push_back(Event{ResourceKey(r), rv_, kube::WatchEvent{type, obj}});
  cv_.notify_all();
  return obj;
}

absl::StatusOr<Json> FakeApi::Get(const kube::Resource& r, const std::string& ns,
                                  const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("get"); !s.ok()) return s;
  auto it = objects_.find({ResourceKey(r), r.namespaced ? ns : "", name});
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat("get ", What(r, ns, name), ": not found"));
  }
  return it->second;
}

absl::StatusOr<Json> FakeApi::List(const kube::Resource& r, const std::string& ns,
                                   const kube::ListOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("list"); !s.ok()) return s;
  Json items = Json::array();
  for (const auto& [key, obj] : objects_) {
    if (std::get<0>(key) != ResourceKey(r)) continue;
    if (r.namespaced && !ns.empty() && std::get<1>(key) != ns) continue;
    if (!MatchesSelector(obj, options.label_selector)) continue;
    items.push_back(obj);
  }
  return Json{{"apiVersion", r.ApiVersion()},
              {"kind", r.kind + "List"},
              {"metadata", {{"resourceVersion", absl::StrCat(rv_)}}},
              {"items", std::move(items)}};
}

absl::StatusOr<Json> FakeApi::Create(const kube::Resource& r, const std::string& ns,
                                     const Json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("create"); !s.ok()) return s;
  Json obj = object;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  Json& meta = obj["metadata"];
  std::string name = meta.value("name", "");
  if (name.empty() && !meta.value("generateName", "").empty()) {
    name = absl::StrCat(meta.value("generateName", ""), "x", ++uid_counter_);
    meta["name"] = name;
  }
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("create ", What(r, ns, ""), ": metadata.name: Required value"));
  }
  const std::string object_ns = r.namespaced ? ns : "";
  const Key key{ResourceKey(r), object_ns, name};
  if (objects_.count(key) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("create ", What(r, ns, name), ": already exists"));
  }
  if (r.namespaced) meta["namespace"] = ns;
  meta["uid"] = absl::StrCat("uid-", ++uid_counter_);
  meta["generation"] = 1;
  meta["creationTimestamp"] = kube::FormatTime(clock_());
  meta.erase("deletionTimestamp");
  obj["apiVersion"] = r.ApiVersion();
  obj["kind"] = r.kind;
  if (HasStatusSubresource(r)) obj.erase("status");
  LogWriteLocked("create", r, ns, name);
  return StoreLocked(r, key, std::move(obj), kube::WatchEvent::Type::kAdded);
}

absl::StatusOr<Json> FakeApi::UpdateLocked(const kube::Resource& r, const std::string& ns,
                                           const std::string& name, const Json& object,
                                           bool status_only, const char* verb,
                                           const char* log_verb) {
  const Key key{ResourceKey(r), r.namespaced ? ns : "", name};
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat(verb, " ", What(r, ns, name), ": not found"));
  }
  const Json& current = it->second;
  const std::string want_rv = StringAt(object, Json::json_pointer("/metadata/resourceVersion"));
  if (!want_rv.empty() &&
      want_rv != StringAt(current, Json::json_pointer("/metadata/resourceVersion"))) {
    return absl::AbortedError(absl::StrCat(
        verb, " ", What(r, ns, name),
        ": Operation cannot be fulfilled: the object has been modified; please apply your "
        "changes to the latest version and try again"));
  }
  LogWriteLocked(log_verb, r, ns, name);
  Json next;
  if (status_only) {
    next = current;
    if (object.contains("status")) {
      next["status"] = object["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = object;
    // Server-owned metadata stays; deletionTimestamp cannot be set or cleared by an update.
    Json& meta = next["metadata"];
    for (const char* k :
         {"uid", "creationTimestamp", "generation", "namespace", "name", "deletionTimestamp"}) {
      if (current["metadata"].contains(k)) {
        meta[k] = current["metadata"][k];
      } else {
        meta.erase(k);
      }
    }
    next["apiVersion"] = r.ApiVersion();
    next["kind"] = r.kind;
    if (HasStatusSubresource(r)) {
      if (current.contains("status")) {
        next["status"] = current["status"];
      } else {
        next.erase("status");
      }
    }
    if (SpecPart(next) != SpecPart(current)) {
      meta["generation"] = kube::GenerationOf(current) + 1;
    }
  }
  if (next == current) return current;  // a no-op write keeps the resourceVersion
  return StoreLocked(r, key, std::move(next), kube::WatchEvent::Type::kModified);
}

absl::StatusOr<Json> FakeApi::Replace(const kube::Resource& r, const std::string& ns,
                                      const std::string& name, const Json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("replace"); !s.ok()) return s;
  return UpdateLocked(r, ns, name, object, /*status_only=*/false, "replace", "replace");
}

absl::StatusOr<Json> FakeApi::ReplaceStatus(const kube::Resource& r, const std::string& ns,
                                            const std::string& name, const Json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("replaceStatus"); !s.ok()) return s;
  return UpdateLocked(r, ns, name, object, /*status_only=*/true, "replace status",
                      "replace-status");
}

absl::StatusOr<Json> FakeApi::Patch(const kube::Resource& r, const std::string& ns,
                                    const std::string& name, const Json& patch,
                                    kube::PatchType type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("patch"); !s.ok()) return s;
  if (type == kube::PatchType::kJson) return absl::UnimplementedError("fake: JSON patch");
  auto it = objects_.find({ResourceKey(r), r.namespaced ? ns : "", name});
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat("patch ", What(r, ns, name), ": not found"));
  }
  Json next = it->second;
  next.merge_patch(patch);
  return UpdateLocked(r, ns, name, next, /*status_only=*/false, "patch", "patch");
}

absl::StatusOr<Json> FakeApi::PatchStatus(const kube::Resource& r, const std::string& ns,
                                          const std::string& name, const Json& patch,
                                          kube::PatchType type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("patchStatus"); !s.ok()) return s;
  if (type == kube::PatchType::kJson) return absl::UnimplementedError("fake: JSON patch");
  auto it = objects_.find({ResourceKey(r), r.namespaced ? ns : "", name});
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat("patch status ", What(r, ns, name), ": not found"));
  }
  Json next = it->second;
  next.merge_patch(patch);
  next["metadata"].erase("resourceVersion");  // a patch is not a conditional write
  return UpdateLocked(r, ns, name, next, /*status_only=*/true, "patch status", "patch-status");
}

absl::Status FakeApi::Delete(const kube::Resource& r, const std::string& ns,
                             const std::string& name, const kube::DeleteOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("delete"); !s.ok()) return s;
  const Key key{ResourceKey(r), r.namespaced ? ns : "", name};
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat("delete ", What(r, ns, name), ": not found"));
  }
  if (!options.precondition_uid.empty() && options.precondition_uid != kube::UidOf(it->second)) {
    return absl::AbortedError(absl::StrCat("delete ", What(r, ns, name), ": uid precondition"));
  }
  LogWriteLocked("delete", r, ns, name);
  Json obj = it->second;
  if (IsBeingDeleted(obj)) return absl::OkStatus();  // already on its way out
  obj["metadata"]["deletionTimestamp"] = kube::FormatTime(clock_());
  // With no finalizers StoreLocked removes it at once (a DELETED event).
  StoreLocked(r, key, std::move(obj), kube::WatchEvent::Type::kModified);
  return absl::OkStatus();
}

absl::Status FakeApi::Watch(const kube::Resource& r, const std::string& ns,
                            const kube::WatchOptions& options,
                            const std::function<bool(const kube::WatchEvent&)>& on_event,
                            const std::atomic<bool>* stop) {
  std::unique_lock<std::mutex> lock(mu_);
  if (absl::Status s = TakeFault("watch"); !s.ok()) return s;
  int64_t after = 0;
  if (!options.resource_version.empty())
    (void)absl::SimpleAtoi(options.resource_version, &after);
  else
    after = rv_;
  const absl::Time until = absl::Now() + options.timeout;
  size_t next = 0;
  while (true) {
    for (; next < events_.size(); ++next) {
      const Event& e = events_[next];
      if (e.rv <= after || e.resource != ResourceKey(r)) continue;
      if (r.namespaced && !ns.empty() && kube::NamespaceOf(e.event.object) != ns) continue;
      if (!MatchesSelector(e.event.object, options.label_selector)) continue;
      const kube::WatchEvent event = e.event;
      lock.unlock();
      const bool more = on_event(event);
      lock.lock();
      if (!more) return absl::OkStatus();
    }
    if ((stop != nullptr && stop->load()) || absl::Now() >= until) return absl::OkStatus();
    cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
}

kube::Json FakeApi::Put(const kube::Resource& r, kube::Json object) {
  std::lock_guard<std::mutex> lock(mu_);
  Json& meta = object["metadata"];
  if (!meta.contains("uid")) meta["uid"] = absl::StrCat("uid-", ++uid_counter_);
  if (!meta.contains("generation")) meta["generation"] = 1;
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = kube::FormatTime(clock_());
  object["apiVersion"] = r.ApiVersion();
  object["kind"] = r.kind;
  const Key key{ResourceKey(r), r.namespaced ? meta.value("namespace", "") : "",
                meta.value("name", "")};
  const bool existed = objects_.count(key) > 0;
  return StoreLocked(r, key, std::move(object),
                     existed ? kube::WatchEvent::Type::kModified : kube::WatchEvent::Type::kAdded);
}

void FakeApi::InjectEvent(const kube::Resource& r, kube::WatchEvent::Type type,
                          const kube::Json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  Json obj = object;
  obj["metadata"]["resourceVersion"] = absl::StrCat(++rv_);
  events_.push_back(Event{ResourceKey(r), rv_, kube::WatchEvent{type, std::move(obj)}});
  cv_.notify_all();
}

std::vector<kube::Json> FakeApi::Objects(const kube::Resource& r) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  for (const auto& [key, obj] : objects_) {
    if (std::get<0>(key) == ResourceKey(r)) out.push_back(obj);
  }
  return out;
}

}  // namespace netrig::op::testing
