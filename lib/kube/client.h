// lib/kube: a small Kubernetes REST client (libcurl for HTTP, nlohmann::json for bodies).
//
// What netrig's operator and the controller's kubernetes SutProvider need, and no more:
//  - configuration from inside a pod (service account token, CA, KUBERNETES_SERVICE_HOST/PORT)
//    or from a kubeconfig (bearer token or client certificate; the current or a named context);
//  - get / list / create / replace / patch / delete of any resource, core or custom, namespaced
//    or cluster-scoped, and the status subresource;
//  - watch from a resourceVersion with bookmarks; Reflector keeps a list+watch going, relisting
//    on 410 Gone;
//  - retries: 429 and 5xx (and transport errors) are retried with exponential backoff (honouring
//    Retry-After) for every verb; 409 Conflict is retried by UpdateWithRetry, which re-reads the
//    object and re-applies the caller's change.
//
//   ASSIGN_OR_RETURN(kube::Config cfg, kube::DefaultConfig(flags.kubeconfig));
//   ASSIGN_OR_RETURN(std::unique_ptr<kube::Client> kc, kube::Client::Create(cfg));
//   ASSIGN_OR_RETURN(kube::Json run, kc->Get(kube::kTestRuns, "ci", "nightly-1"));
//
// Errors are absl::Status with the code mapped from the HTTP status and the message from the
// server's Status object (its `message`, which names the field for 422 Invalid):
//   400 -> InvalidArgument, 401 -> Unauthenticated, 403 -> PermissionDenied, 404 -> NotFound,
//   409 (reason AlreadyExists) -> AlreadyExists, 409 (Conflict) -> Aborted, 410 -> OutOfRange,
//   422 -> InvalidArgument, 429 / 5xx / transport -> Unavailable (after the retries),
//   timeout -> DeadlineExceeded.
// Every message starts with the verb and the object ("create netrig.io/v1alpha1 testruns ci/x: ").
//
// Thread safety: Client and Api methods are thread-safe (one curl easy handle per call).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netrig::kube {

using Json = nlohmann::json;

// ------------------------------------------------------------------ configuration

struct Config {
  std::string server;                 // "https://10.96.0.1:443"
  std::string token;                  // bearer token (empty: none)
  std::string token_file;             // re-read when it changes (projected SA tokens rotate)
  std::string ca_pem;                 // CA bundle, PEM text (empty: system CAs)
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;        // client certificate auth (PEM text)
  std::string client_key_pem;
  std::string default_namespace = "default";
  std::string source;                 // where it came from, for messages ("in-cluster", path)
};

// Inside a pod: KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount/
// {token,ca.crt,namespace}. `root` replaces that directory (tests). FailedPrecondition when not
// in a pod.
absl::StatusOr<Config> InClusterConfig(
    const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// A kubeconfig file: the named context, or current-context when `context` is empty. Supports
// token, tokenFile, client-certificate(-data), client-key(-data), certificate-authority(-data),
// insecure-skip-tls-verify and the context's namespace. Relative file paths are relative to the
// kubeconfig's directory. Errors name the file and the missing/invalid entry.
absl::StatusOr<Config> LoadKubeconfig(const std::string& path, const std::string& context = "");

// `kubeconfig` when not empty, else $KUBECONFIG (first file), else in-cluster, else
// ~/.kube/config.
absl::StatusOr<Config> DefaultConfig(const std::string& kubeconfig = "",
                                     const std::string& context = "");

// ------------------------------------------------------------------ resources

// Which REST collection: /api/v1/... for the core group (group ""), /apis/<group>/<version>/...
struct Resource {
  std::string group;                  // "" (core), "apps", "netrig.io", "coordination.k8s.io"
  std::string version;                // "v1", "v1alpha1"
  std::string plural;                 // "pods", "testruns"
  std::string kind;                   // "Pod", "TestRun" (for messages and created objects)
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

inline const Resource kTestRuns{"netrig.io", "v1alpha1", "testruns", "TestRun", true};
inline const Resource kTestSuites{"netrig.io", "v1alpha1", "testsuites", "TestSuite", true};
inline const Resource kAgentPools{"netrig.io", "v1alpha1", "agentpools", "AgentPool", true};
inline const Resource kSutTemplates{"netrig.io", "v1alpha1", "suttemplates", "SutTemplate", true};
inline const Resource kPods{"", "v1", "pods", "Pod", true};
inline const Resource kEvents{"", "v1", "events", "Event", true};
inline const Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const Resource kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const Resource kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet", true};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const Resource kVirtualMachines{"kubevirt.io", "v1", "virtualmachines", "VirtualMachine",
                                       true};
inline const Resource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                            "CustomResourceDefinition", false};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 500;                // page size; List follows `continue` to the end
  std::string resource_version;       // "" = most recent
};

enum class PatchType {
  kMerge,                             // application/merge-patch+json (RFC 7386)
  kJson,                              // application/json-patch+json (RFC 6902)
  kStrategicMerge,                    // application/strategic-merge-patch+json (built-ins only)
};

struct DeleteOptions {
  std::string propagation_policy;     // "", Foreground, Background, Orphan
  int64_t grace_period_seconds = -1;  // -1: the server's default
  std::string precondition_uid;       // delete only this incarnation
};

struct WatchOptions {
  std::string resource_version;       // start after this version ("" = now, after a list)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  absl::Duration timeout = absl::Minutes(5);  // the server ends the watch after this
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  Json object;                        // for a bookmark: only metadata.resourceVersion
};

// ------------------------------------------------------------------ the API

// The verbs, as an interface so reconcilers can be unit-tested against a fake.
// `ns` is ignored for cluster-scoped resources; an empty `ns` on a namespaced List/Watch means
// all namespaces.
class Api {
 public:
  virtual ~Api() = default;

  virtual absl::StatusOr<Json> Get(const Resource& r, const std::string& ns,
                                   const std::string& name) = 0;
  // A List object ({"items": [...], "metadata": {"resourceVersion": ...}}), all pages joined.
  virtual absl::StatusOr<Json> List(const Resource& r, const std::string& ns,
                                    const ListOptions& options = {}) = 0;
  virtual absl::StatusOr<Json> Create(const Resource& r, const std::string& ns,
                                      const Json& object) = 0;
  // PUT; Aborted on a resourceVersion conflict.
  virtual absl::StatusOr<Json> Replace(const Resource& r, const std::string& ns,
                                       const std::string& name, const Json& object) = 0;
  virtual absl::StatusOr<Json> Patch(const Resource& r, const std::string& ns,
                                     const std::string& name, const Json& patch,
                                     PatchType type = PatchType::kMerge) = 0;
  // The status subresource: PUT .../status (Aborted on conflict) and PATCH .../status.
  virtual absl::StatusOr<Json> ReplaceStatus(const Resource& r, const std::string& ns,
                                             const std::string& name, const Json& object) = 0;
  virtual absl::StatusOr<Json> PatchStatus(const Resource& r, const std::string& ns,
                                           const std::string& name, const Json& patch,
                                           PatchType type = PatchType::kMerge) = 0;
  // NotFound when it does not exist.
  virtual absl::Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                              const DeleteOptions& options = {}) = 0;

  // One watch request: calls `on_event` for every event until the server ends the stream
  // (returns OK), `on_event` returns false or `*stop` becomes true (OK), or an error: an ERROR
  // event or HTTP 410 gives OutOfRange (relist), others their mapped code. Not retried.
  virtual absl::Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                             const std::function<bool(const WatchEvent&)>& on_event,
                             const std::atomic<bool>* stop) = 0;
};

// GET, apply `mutate` to the object, PUT (or PUT .../status when `status`); on Aborted
// (409 Conflict) start again, up to `attempts` times. `mutate` returning an error aborts with it.
absl::StatusOr<Json> UpdateWithRetry(Api& api, const Resource& r, const std::string& ns,
                                     const std::string& name,
                                     const std::function<absl::Status(Json&)>& mutate,
                                     bool status = false, int attempts = 8);

struct ClientOptions {
  absl::Duration request_timeout = absl::Seconds(30);
  int max_attempts = 6;               // for 429 / 5xx / transport errors
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  std::string user_agent = "netrig";
  std::string field_manager = "netrig";
};

class Client : public Api {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Create(Config config,
                                                        ClientOptions options = {});
  ~Client() override;

  const Config& config() const;

  absl::StatusOr<Json> Get(const Resource& r, const std::string& ns,
                           const std::string& name) override;
  absl::StatusOr<Json> List(const Resource& r, const std::string& ns,
                            const ListOptions& options = {}) override;
  absl::StatusOr<Json> Create(const Resource& r, const std::string& ns,
                              const Json& object) override;
  absl::StatusOr<Json> Replace(const Resource& r, const std::string& ns, const std::string& name,
                               const Json& object) override;
  absl::StatusOr<Json> Patch(const Resource& r, const std::string& ns, const std::string& name,
                             const Json& patch, PatchType type = PatchType::kMerge) override;
  absl::StatusOr<Json> ReplaceStatus(const Resource& r, const std::string& ns,
                                     const std::string& name, const Json& object) override;
  absl::StatusOr<Json> PatchStatus(const Resource& r, const std::string& ns,
                                   const std::string& name, const Json& patch,
                                   PatchType type = PatchType::kMerge) override;
  absl::Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& options = {}) override;
  absl::Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                     const std::function<bool(const WatchEvent&)>& on_event,
                     const std::atomic<bool>* stop) override;

  // GET of an arbitrary path ("/readyz", "/version"); the body as text.
  absl::StatusOr<std::string> GetRaw(const std::string& path);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ------------------------------------------------------------------ list + watch

// Keeps a list+watch of one collection running on its own thread and calls the handler on that
// thread: OnSync with the full list after every (re)list, then OnEvent per watch event. Relists
// on 410 Gone / OutOfRange; resumes the watch from the last resourceVersion (bookmarks keep it
// fresh) when the server closes it; backs off (with jitter) on errors, reporting them to OnError.
class Reflector {
 public:
  struct Handler {
    std::function<void(const std::vector<Json>& items)> on_sync;
    std::function<void(const WatchEvent& event)> on_event;  // never a bookmark
    std::function<void(const absl::Status& status)> on_error;
  };

  Reflector(Api* api, Resource resource, std::string ns, ListOptions options, Handler handler);
  ~Reflector();  // Stop()
  void Start();
  // Ends the watch and joins the thread. Idempotent.
  void Stop();

  // Number of full lists so far (tests: a 410 causes one more).
  int64_t lists() const { return lists_.load(); }

 private:
  void Loop();

  Api* api_;
  Resource resource_;
  std::string ns_;
  ListOptions options_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> lists_{0};
  struct Thread;
  std::unique_ptr<Thread> thread_;
};

// ------------------------------------------------------------------ helpers

// metadata.name / namespace / uid / resourceVersion / generation (empty or 0 when absent).
std::string NameOf(const Json& object);
std::string NamespaceOf(const Json& object);
std::string UidOf(const Json& object);
std::string ResourceVersionOf(const Json& object);
int64_t GenerationOf(const Json& object);

// RFC 3339 UTC with seconds, as Kubernetes writes metav1.Time ("2026-11-22T22:30:00Z").
std::string FormatTime(absl::Time t);

}  // namespace netrig::kube
