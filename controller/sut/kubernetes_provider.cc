#include "controller/sut/kubernetes_provider.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "controller/sut/netns_plan.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"

namespace netrig::controller::sut {
namespace {

absl::Status WithContext(const absl::Status& s, const std::string& context) {
  return absl::Status(s.code(), absl::StrCat(context, s.message()));
}

// The run an object of ours was made for: the annotation, else the label.
std::string RunIdOf(const kube::Json& object) {
  std::string id = AnnotationOf(object, kRunIdAnnotation);
  return id.empty() ? LabelOf(object, kRunLabel) : id;
}

// The SutTemplate as lib/spec reads it: the server adds metadata (managedFields, uid...) the
// schema does not know, and SutTemplates have no status.
std::string TemplateText(const kube::Json& object) {
  kube::Json clean = kube::Json::object();
  for (const char* key : {"apiVersion", "kind"}) {
    if (auto it = object.find(key); it != object.end()) clean[key] = *it;
  }
  clean["metadata"]["name"] = kube::NameOf(object);
  clean["metadata"]["namespace"] = kube::NamespaceOf(object);
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
    for (const char* key : {"labels", "annotations"}) {
      if (auto it = meta->find(key); it != meta->end()) clean["metadata"][key] = *it;
    }
  }
  if (auto it = object.find("spec"); it != object.end()) clean["spec"] = *it;
  return clean.dump();
}

// .items of a List response (empty when absent).
const kube::Json& ItemsOf(const kube::Json& list) {
  static const kube::Json kEmpty = kube::Json::array();
  auto it = list.find("items");
  return it != list.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace

KubernetesSutProvider::KubernetesSutProvider(kube::Api& api, KubernetesSutOptions options)
    : api_(api), options_(std::move(options)) {}

absl::StatusOr<v1::SutTemplate> KubernetesSutProvider::ReadTemplate(const std::string& name) {
  if (!spec::IsDnsSubdomain(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sut.template: \"", name, "\" is not a SutTemplate name"));
  }
  absl::StatusOr<kube::Json> object = api_.Get(kube::kSutTemplates, options_.ns, name);
  if (absl::IsNotFound(object.status())) {
    return absl::NotFoundError(
        absl::StrCat("sut.template: no SutTemplate \"", name, "\" in namespace ", options_.ns));
  }
  if (!object.ok()) return WithContext(object.status(), "sut.template: ");
  spec::Parsed<v1::SutTemplate> parsed = spec::ParseSutTemplate(TemplateText(*object));
  if (!parsed.ok()) {
    std::vector<std::string> errors;
    for (const spec::FieldError& e : parsed.errors) errors.push_back(e.ToString());
    return absl::InvalidArgumentError(absl::StrCat("sut.template: SutTemplate ", options_.ns, "/",
                                                   name,
                                                   " is invalid: ", absl::StrJoin(errors, "; ")));
  }
  return parsed.object;
}

absl::Status KubernetesSutProvider::ResolveBindings(KubeSutPlan& plan) {
  std::map<std::string, std::string> cache;  // "<ns>/<name>" -> binding
  for (SutAttachment& a : plan.attachments) {
    const std::string key = absl::StrCat(a.ns, "/", a.name);
    if (auto it = cache.find(key); it != cache.end()) {
      a.binding = it->second;
      continue;
    }
    absl::StatusOr<kube::Json> nad = api_.Get(kNetworkAttachmentDefinitions, a.ns, a.name);
    if (absl::IsNotFound(nad.status())) {
      // No such NAD (or no Multus CRD): Multus will not attach it and the VM never becomes
      // ready, which WaitReady reports; the binding does not matter then.
      a.binding = "bridge";
    } else if (!nad.ok()) {
      return WithContext(nad.status(),
                         absl::StrCat("sut.create: reading NetworkAttachmentDefinition ", key,
                                      " (for the KubeVirt interface binding): "));
    } else {
      a.binding = BindingForNetworkAttachment(*nad);
    }
    cache[key] = a.binding;
  }
  return absl::OkStatus();
}

absl::StatusOr<SutInstance> KubernetesSutProvider::Create(const SutRequest& request) {
  if (absl::Status s = ValidateRunId(request.run_id); !s.ok()) return s;
  absl::StatusOr<v1::SutTemplate> tmpl = ReadTemplate(request.template_name);
  if (!tmpl.ok()) return tmpl.status();
  absl::StatusOr<KubeSutPlan> plan = PlanKubeSut(*tmpl, request, options_.ns);
  if (!plan.ok()) return plan.status();
  const bool pod = plan->kind == kKindPod;
  if (!pod) {
    if (absl::Status s = ResolveBindings(*plan); !s.ok()) return s;
  }
  const kube::Resource& resource = pod ? kube::kPods : kube::kVirtualMachines;
  const kube::Json object =
      pod ? RenderPod(*plan, tmpl->spec().pod()) : RenderVirtualMachine(*plan, tmpl->spec().vm());
  SutInstance inst = InstanceOf(*plan);
  const std::string what = absl::StrCat(inst.namespace_name, " in namespace ", options_.ns);

  absl::StatusOr<kube::Json> created = api_.Create(resource, options_.ns, object);
  if (created.ok()) return inst;
  if (!absl::IsAlreadyExists(created.status())) {
    return WithContext(created.status(), absl::StrCat("sut.create ", what, ": "));
  }
  // A retry for the same run (the controller restarted between Create and the run's end)
  // adopts the object; anything else of that name is not ours to take.
  absl::StatusOr<kube::Json> existing = api_.Get(resource, options_.ns, plan->name);
  if (!existing.ok()) {
    return WithContext(existing.status(), absl::StrCat("sut.create ", what, " (exists): "));
  }
  const std::string owner = RunIdOf(*existing);
  if (LabelOf(*existing, kManagedByLabel) != kManagedByValue || owner != request.run_id) {
    return absl::AlreadyExistsError(
        absl::StrCat("sut.create: ", what, " already exists and belongs to ",
                     owner.empty() ? "no netrig run" : absl::StrCat("run ", owner), ", not run ",
                     request.run_id));
  }
  if (BeingDeleted(*existing)) {
    return absl::UnavailableError(
        absl::StrCat("sut.create: ", what, " of this run is still being deleted; retry"));
  }
  std::fprintf(stderr, "netrig-controller: sut: adopting %s of run %s\n", what.c_str(),
               request.run_id.c_str());
  return inst;
}

absl::StatusOr<KubernetesSutProvider::Observation> KubernetesSutProvider::Observe(
    const SutInstance& instance) {
  absl::StatusOr<SutObjectRef> ref = ParseSutObjectRef(instance.namespace_name);
  if (!ref.ok()) return ref.status();
  absl::StatusOr<kube::Json> object = api_.Get(*ref->resource, options_.ns, ref->name);
  if (!object.ok()) return object.status();
  Observation obs;
  obs.filled = instance;
  const bool pod = ref->resource == &kube::kPods;
  obs.readiness = pod ? PodReadiness(*object) : VirtualMachineReadiness(*object);
  if (obs.readiness.state != Readiness::State::kReady || instance.links.empty()) return obs;

  // Ready: the addresses come from Multus' network-status, on the pod itself or, for a VM, on
  // its virt-launcher pod.
  std::string annotation_owner = absl::StrCat("pod ", ref->name);
  kube::Json status_pod = *object;
  if (!pod) {
    kube::ListOptions list;
    list.label_selector = absl::StrCat(kVmNameLabel, "=", ref->name);
    absl::StatusOr<kube::Json> pods = api_.List(kube::kPods, options_.ns, list);
    if (!pods.ok()) return pods.status();
    const kube::Json* launcher = nullptr;
    for (const kube::Json& p : ItemsOf(*pods)) {
      if (!BeingDeleted(p)) launcher = &p;  // (several only during a migration)
    }
    if (launcher == nullptr) {
      obs.readiness = {Readiness::State::kPending, absl::StrCat("virtualmachine ", ref->name,
                                                                " is ready but has no "
                                                                "virt-launcher pod (label ",
                                                                list.label_selector, ")")};
      return obs;
    }
    status_pod = *launcher;
    annotation_owner = absl::StrCat("virt-launcher pod ", kube::NameOf(status_pod));
  }
  const std::string network_status = AnnotationOf(status_pod, kNetworkStatusAnnotation);
  if (network_status.empty()) {
    obs.readiness = {Readiness::State::kPending,
                     absl::StrCat(annotation_owner, " is ready but has no ",
                                  kNetworkStatusAnnotation, " annotation (is Multus running?)")};
    return obs;
  }
  if (absl::Status s = FillLinksFromNetworkStatus(*object, network_status, obs.filled); !s.ok()) {
    obs.readiness = {Readiness::State::kPending,
                     absl::StrCat(annotation_owner, " is ready but ", s.message())};
  }
  return obs;
}

absl::Status KubernetesSutProvider::WaitReady(const SutInstance& instance, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string what = absl::StrCat(instance.namespace_name, " in namespace ", options_.ns);
  while (true) {
    absl::StatusOr<Observation> obs = Observe(instance);
    std::string detail;
    const bool transient =
        absl::IsUnavailable(obs.status()) || absl::IsDeadlineExceeded(obs.status());
    if (!obs.ok() && !transient) {  // gone (NotFound), forbidden, not ours...
      return WithContext(obs.status(), absl::StrCat("sut.ready ", what, ": "));
    }
    if (!obs.ok()) {
      detail = std::string(obs.status().message());  // the API is unavailable: keep trying
    } else if (obs->readiness.state == Readiness::State::kReady) {
      return absl::OkStatus();
    } else if (obs->readiness.state == Readiness::State::kFailed) {
      return absl::FailedPreconditionError(
          absl::StrCat("sut.ready: ", what, ": ", obs->readiness.detail));
    } else {
      detail = obs->readiness.detail;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("sut.ready: ", what, " not ready after ",
                                                      absl::FormatDuration(timeout), ": ", detail));
    }
    absl::SleepFor(
        std::min(options_.poll_interval, std::max(deadline - absl::Now(), absl::ZeroDuration())));
  }
}

absl::Status KubernetesSutProvider::Refresh(SutInstance& instance) {
  absl::StatusOr<Observation> obs = Observe(instance);
  if (!obs.ok()) {
    return WithContext(obs.status(), absl::StrCat("sut.refresh ", instance.namespace_name, ": "));
  }
  if (obs->readiness.state != Readiness::State::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("sut.refresh ", instance.namespace_name,
                                                      ": not ready: ", obs->readiness.detail));
  }
  instance.links = std::move(obs->filled.links);
  instance.next_hops = std::move(obs->filled.next_hops);
  return absl::OkStatus();
}

absl::Status KubernetesSutProvider::InjectEvent(const SutInstance& instance,
                                                const SutEvent& event) {
  // A link-down needs a command inside the SUT (pods/exec through the kubelet) or a CNI that
  // can take an attachment down; neither is implemented, so say so instead of pretending.
  return absl::UnimplementedError(
      absl::StrCat("sut.event: the kubernetes SUT provider cannot inject \"", event.type,
                   "\" on link \"", event.link, "\" of ", instance.namespace_name,
                   " (events are implemented by the netns provider only)"));
}

absl::Status KubernetesSutProvider::DeleteAndWait(const kube::Resource& resource,
                                                  const std::string& name) {
  const std::string what =
      absl::StrCat(absl::AsciiStrToLower(resource.kind), "/", name, " in namespace ", options_.ns);
  absl::StatusOr<kube::Json> object = api_.Get(resource, options_.ns, name);
  if (absl::IsNotFound(object.status())) return absl::OkStatus();
  if (!object.ok()) return WithContext(object.status(), absl::StrCat("sut.destroy ", what, ": "));
  if (LabelOf(*object, kManagedByLabel) != kManagedByValue) {
    return absl::FailedPreconditionError(
        absl::StrCat("sut.destroy: ", what, " was not created by netrig (label ", kManagedByLabel,
                     "=", kManagedByValue, " missing); not deleting it"));
  }
  kube::DeleteOptions del;
  del.propagation_policy = "Background";  // the garbage collector removes a VM's VMI and pod
  del.precondition_uid = kube::UidOf(*object);
  absl::Status s = api_.Delete(resource, options_.ns, name, del);
  if (!s.ok() && !absl::IsNotFound(s) && !absl::IsAborted(s)) {  // Aborted: another incarnation
    return WithContext(s, absl::StrCat("sut.destroy ", what, ": "));
  }
  const absl::Time deadline = absl::Now() + options_.delete_timeout;
  while (true) {
    object = api_.Get(resource, options_.ns, name);
    if (absl::IsNotFound(object.status())) return absl::OkStatus();
    if (object.ok() && kube::UidOf(*object) != del.precondition_uid) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      std::string detail = object.ok() ? "still exists" : std::string(object.status().message());
      if (object.ok()) {
        auto meta = object->find("metadata");
        if (meta != object->end() && meta->is_object() && meta->contains("finalizers")) {
          absl::StrAppend(&detail, " (finalizers ", (*meta)["finalizers"].dump(), ")");
        }
      }
      return absl::DeadlineExceededError(absl::StrCat("sut.destroy: ", what, " not gone after ",
                                                      absl::FormatDuration(options_.delete_timeout),
                                                      ": ", detail));
    }
    absl::SleepFor(options_.poll_interval);
  }
}

absl::Status KubernetesSutProvider::Destroy(const SutInstance& instance) {
  std::vector<SutObjectRef> targets;
  if (!instance.namespace_name.empty()) {
    absl::StatusOr<SutObjectRef> ref = ParseSutObjectRef(instance.namespace_name);
    if (!ref.ok()) return WithContext(ref.status(), "sut.destroy: ");
    targets.push_back(*ref);
  } else {
    // Known only by its run id (an orphan after a restart): either kind may exist.
    if (absl::Status s = ValidateRunId(instance.run_id); !s.ok()) return s;
    const std::string name = SutObjectName(instance.run_id);
    targets.push_back({&kube::kPods, name});
    targets.push_back({&kube::kVirtualMachines, name});
  }
  // Without KubeVirt there is no VirtualMachine resource at all: NotFound, which is OK.
  std::vector<absl::Status> failures;
  for (const SutObjectRef& t : targets) {
    if (absl::Status s = DeleteAndWait(*t.resource, t.name); !s.ok()) failures.push_back(s);
  }
  if (failures.empty()) return absl::OkStatus();
  if (failures.size() == 1) return failures[0];
  return absl::InternalError(absl::StrCat(failures[0].message(), "; ", failures[1].message()));
}

absl::StatusOr<std::vector<std::string>> KubernetesSutProvider::ListOrphans(
    const std::set<std::string>& live_run_ids) {
  kube::ListOptions list;
  list.label_selector = absl::StrCat(kManagedByLabel, "=", kManagedByValue, ",", kRunLabel);
  std::set<std::string> orphans;
  for (const kube::Resource* r : {&kube::kPods, &kube::kVirtualMachines}) {
    absl::StatusOr<kube::Json> items = api_.List(*r, options_.ns, list);
    if (r == &kube::kVirtualMachines && absl::IsNotFound(items.status())) continue;  // no KubeVirt
    if (!items.ok()) {
      return WithContext(items.status(), absl::StrCat("sut.orphans: listing ", r->plural, " in ",
                                                      options_.ns, ": "));
    }
    for (const kube::Json& item : ItemsOf(*items)) {
      if (!LabelOf(item, "kubevirt.io").empty()) continue;  // a virt-launcher pod, not ours
      const std::string run_id = RunIdOf(item);
      if (!run_id.empty() && !live_run_ids.count(run_id)) orphans.insert(run_id);
    }
  }
  return std::vector<std::string>(orphans.begin(), orphans.end());
}

}  // namespace netrig::controller::sut
