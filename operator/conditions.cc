#include "operator/conditions.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "operator/log.h"

namespace netrig::op {

bool SetCondition(Json& status, const Condition& c, absl::Time now) {
  if (!status.is_object()) status = Json::object();
  Json& list = status["conditions"];
  if (!list.is_array()) list = Json::array();
  for (Json& existing : list) {
    if (!existing.is_object() || existing.value("type", "") != c.type) continue;
    bool changed = false;
    auto set = [&](const char* key, const Json& value) {
      if (!existing.contains(key) || existing[key] != value) {
        existing[key] = value;
        changed = true;
      }
    };
    if (existing.value("status", "") != c.status) set("lastTransitionTime", kube::FormatTime(now));
    if (!existing.contains("lastTransitionTime")) set("lastTransitionTime", kube::FormatTime(now));
    set("status", c.status);
    set("reason", c.reason);
    set("message", c.message);
    set("observedGeneration", c.observed_generation);
    return changed;
  }
  list.push_back(Json{{"type", c.type},
                      {"status", c.status},
                      {"reason", c.reason},
                      {"message", c.message},
                      {"observedGeneration", c.observed_generation},
                      {"lastTransitionTime", kube::FormatTime(now)}});
  return true;
}

const Json* FindCondition(const Json& status, absl::string_view type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) {
    return nullptr;
  }
  for (const Json& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool IsConditionTrue(const Json& status, absl::string_view type) {
  const Json* c = FindCondition(status, type);
  return c != nullptr && c->value("status", "") == "True";
}

bool RemoveCondition(Json& status, absl::string_view type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) {
    return false;
  }
  Json& list = status["conditions"];
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->is_object() && it->value("type", "") == type) {
      list.erase(it);
      return true;
    }
  }
  return false;
}

absl::Time ParseKubeTime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InfinitePast();
  }
  return t;
}

std::string StringAt(const Json& obj, const Json::json_pointer& p) {
  if (!obj.is_object() || !obj.contains(p)) return "";
  const Json& v = obj[p];
  return v.is_string() ? v.get<std::string>() : "";
}

bool IsBeingDeleted(const Json& obj) {
  return !StringAt(obj, Json::json_pointer("/metadata/deletionTimestamp")).empty();
}

bool HasFinalizer(const Json& obj, absl::string_view finalizer) {
  const Json::json_pointer p("/metadata/finalizers");
  if (!obj.is_object() || !obj.contains(p) || !obj[p].is_array()) return false;
  for (const Json& f : obj[p]) {
    if (f.is_string() && f.get<std::string>() == finalizer) return true;
  }
  return false;
}

bool AddFinalizer(Json& obj, absl::string_view finalizer) {
  if (HasFinalizer(obj, finalizer)) return false;
  Json& list = obj["metadata"]["finalizers"];
  if (!list.is_array()) list = Json::array();
  list.push_back(std::string(finalizer));
  return true;
}

bool RemoveFinalizer(Json& obj, absl::string_view finalizer) {
  if (!HasFinalizer(obj, finalizer)) return false;
  Json& list = obj["metadata"]["finalizers"];
  Json kept = Json::array();
  for (const Json& f : list) {
    if (!(f.is_string() && f.get<std::string>() == finalizer)) kept.push_back(f);
  }
  list = std::move(kept);
  return true;
}

const Json* ControllerOwner(const Json& obj) {
  const Json::json_pointer p("/metadata/ownerReferences");
  if (!obj.is_object() || !obj.contains(p) || !obj[p].is_array()) return nullptr;
  for (const Json& ref : obj[p]) {
    if (ref.is_object() && ref.value("controller", false)) return &ref;
  }
  return nullptr;
}

void RecordEvent(kube::Api& api, const Json& obj, const std::string& type,
                 const std::string& reason, const std::string& message, absl::Time now) {
  const std::string ns = kube::NamespaceOf(obj);
  const std::string name = kube::NameOf(obj);
  const std::string stamp = kube::FormatTime(now);
  Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      // The API server appends a random suffix: unique even for two events in one instant.
      {"metadata", {{"generateName", absl::StrCat(name, ".")}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", obj.value("apiVersion", "")},
        {"kind", obj.value("kind", "")},
        {"name", name},
        {"namespace", ns},
        {"uid", kube::UidOf(obj)},
        {"resourceVersion", StringAt(obj, Json::json_pointer("/metadata/resourceVersion"))}}},
      {"type", type},
      {"reason", reason},
      {"message", message},
      {"source", {{"component", "netrig-operator"}}},
      {"reportingComponent", "netrig-operator"},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1},
  };
  absl::StatusOr<Json> created = api.Create(kube::kEvents, ns, event);
  if (!created.ok()) {
    Log(Severity::kWarning,
        absl::StrCat("event ", reason, " for ", ns, "/", name, ": ", created.status().ToString()));
  }
}

}  // namespace netrig::op
