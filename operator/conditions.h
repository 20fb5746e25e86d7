// Status conditions and object-metadata helpers shared by the reconcilers, on the JSON form of
// Kubernetes objects (kube::Json).
//
// Conditions follow the Kubernetes API conventions (metav1.Condition): one entry per `type`,
// `status` True | False | Unknown, a CamelCase `reason`, a human `message`, the
// `observedGeneration` the condition was computed from, and `lastTransitionTime`, which changes
// only when `status` changes. Setting a condition to what it already says changes nothing, so
// a reconcile that finds nothing new writes nothing (no watch event, no hot loop).
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace netrig::op {

using kube::Json;

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
  int64_t observed_generation = 0;
};

// Sets `c` in status["conditions"] (created when missing). lastTransitionTime is `now` for a new
// condition or a new status, else kept. Returns whether anything changed.
bool SetCondition(Json& status, const Condition& c, absl::Time now);
// The condition of that type, or nullptr.
const Json* FindCondition(const Json& status, absl::string_view type);
// status["conditions"][type]["status"] == "True".
bool IsConditionTrue(const Json& status, absl::string_view type);
// Removes the condition of that type; returns whether there was one.
bool RemoveCondition(Json& status, absl::string_view type);

// ------------------------------------------------------------------ object helpers

// Names, uids, generations and times: kube::NameOf, NamespaceOf, UidOf, GenerationOf and
// FormatTime (lib/kube/client.h).
// Parses RFC 3339; absl::InfinitePast() when empty or malformed.
absl::Time ParseKubeTime(absl::string_view text);

// obj[key] as a string when it is one, else "".
std::string StringAt(const Json& obj, const Json::json_pointer& p);
bool IsBeingDeleted(const Json& obj);
bool HasFinalizer(const Json& obj, absl::string_view finalizer);
// Adds / removes a finalizer in metadata.finalizers; returns whether the object changed.
bool AddFinalizer(Json& obj, absl::string_view finalizer);
bool RemoveFinalizer(Json& obj, absl::string_view finalizer);
// The ownerReference with controller: true, or nullptr.
const Json* ControllerOwner(const Json& obj);

// Creates a core/v1 Event about `obj` ("Normal" or "Warning"), reported by netrig-operator.
// Best effort: a failure is logged, never returned (events are not worth a retry).
void RecordEvent(kube::Api& api, const Json& obj, const std::string& type,
                 const std::string& reason, const std::string& message, absl::Time now);

}  // namespace netrig::op
