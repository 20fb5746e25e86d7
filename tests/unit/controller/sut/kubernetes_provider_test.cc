// KubernetesSutProvider against an in-memory kube::Api: template lookup and validation, the
// Pod / VM it creates, adoption on a retry, readiness (fail fast, timeout, network-status),
// destroy, orphans and the unimplemented events.
#include "controller/sut/kubernetes_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace netrig::controller::sut {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = kube::Json;

// Objects keyed by (plural, namespace, name); label selectors "k=v" and "k" (exists); merge
// patches; a uid per incarnation; deletes honour the uid precondition. Resources listed in
// `missing` answer NotFound like a CRD that is not installed. `on_get` runs before every Get
// (tests play kubelet and Multus there).
class FakeKubeApi : public kube::Api {
 public:
  using Key = std::tuple<std::string, std::string, std::string>;

  absl::StatusOr<Json> Get(const kube::Resource& r, const std::string& ns,
                           const std::string& name) override {
    if (on_get) on_get(r, name);
    absl::MutexLock lock(&mu_);
    ++gets[r.plural];
    if (missing.count(r.plural)) return NotFound(r, name);
    auto it = objects_.find({r.plural, ns, name});
    if (it == objects_.end()) return NotFound(r, name);
    return it->second;
  }

  absl::StatusOr<Json> List(const kube::Resource& r, const std::string& ns,
                            const kube::ListOptions& options) override {
    absl::MutexLock lock(&mu_);
    if (missing.count(r.plural)) return NotFound(r, "");
    Json list;
    list["items"] = Json::array();
    for (const auto& [key, obj] : objects_) {
      if (std::get<0>(key) != r.plural || (!ns.empty() && std::get<1>(key) != ns)) continue;
      if (Matches(obj, options.label_selector)) list["items"].push_back(obj);
    }
    return list;
  }

  absl::StatusOr<Json> Create(const kube::Resource& r, const std::string& ns,
                              const Json& object) override {
    absl::MutexLock lock(&mu_);
    if (create_error.has_value()) return *create_error;
    const std::string name = kube::NameOf(object);
    if (objects_.count({r.plural, ns, name})) {
      return absl::AlreadyExistsError(absl::StrCat(r.plural, " \"", name, "\" already exists"));
    }
    Json stored = object;
    stored["metadata"]["namespace"] = ns;
    stored["metadata"]["uid"] = absl::StrCat("uid-", ++uids_);
    objects_[{r.plural, ns, name}] = stored;
    ++creates[r.plural];
    return stored;
  }

  absl::StatusOr<Json> Replace(const kube::Resource& r, const std::string& ns,
                               const std::string& name, const Json& object) override {
    absl::MutexLock lock(&mu_);
    objects_[{r.plural, ns, name}] = object;
    return object;
  }

  absl::StatusOr<Json> Patch(const kube::Resource& r, const std::string& ns,
                             const std::string& name, const Json& patch, kube::PatchType) override {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find({r.plural, ns, name});
    if (it == objects_.end()) return NotFound(r, name);
    it->second.merge_patch(patch);
    return it->second;
  }

  absl::StatusOr<Json> ReplaceStatus(const kube::Resource& r, const std::string& ns,
                                     const std::string& name, const Json& object) override {
    return Replace(r, ns, name, object);
  }

  absl::StatusOr<Json> PatchStatus(const kube::Resource& r, const std::string& ns,
                                   const std::string& name, const Json& patch,
                                   kube::PatchType type) override {
    return Patch(r, ns, name, patch, type);
  }

  absl::Status Delete(const kube::Resource& r, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions& options) override {
    absl::MutexLock lock(&mu_);
    deletes.push_back(absl::StrCat(r.plural, "/", name, " ", options.propagation_policy));
    auto it = objects_.find({r.plural, ns, name});
    if (missing.count(r.plural) || it == objects_.end()) return NotFound(r, name);
    if (!options.precondition_uid.empty() && kube::UidOf(it->second) != options.precondition_uid) {
      return absl::AbortedError("uid precondition failed");
    }
    if (finalizer_gets > 0) {
      it->second["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
      return absl::OkStatus();
    }
    objects_.erase(it);
    return absl::OkStatus();
  }

  absl::Status Watch(const kube::Resource&, const std::string&, const kube::WatchOptions&,
                     const std::function<bool(const kube::WatchEvent&)>&,
                     const std::atomic<bool>*) override {
    return absl::UnimplementedError("watch");
  }

  // Direct access for the tests.
  void Put(const kube::Resource& r, const std::string& ns, Json object) {
    absl::MutexLock lock(&mu_);
    object["metadata"]["namespace"] = ns;
    if (!object["metadata"].contains("uid"))
      object["metadata"]["uid"] = absl::StrCat("uid-", ++uids_);
    const std::string name = kube::NameOf(object);
    objects_[{r.plural, ns, name}] = std::move(object);
  }
  std::optional<Json> Find(const kube::Resource& r, const std::string& ns,
                           const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find({r.plural, ns, name});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  void Merge(const kube::Resource& r, const std::string& ns, const std::string& name,
             const Json& patch) {
    ASSERT_TRUE(Patch(r, ns, name, patch, kube::PatchType::kMerge).ok()) << name;
  }
  // A deleted object lingers (deletionTimestamp set) for this many Gets, then goes.
  int finalizer_gets = 0;
  void ExpireFinalizers() {
    absl::MutexLock lock(&mu_);
    for (auto it = objects_.begin(); it != objects_.end();) {
      if (it->second["metadata"].contains("deletionTimestamp") && --finalizer_gets <= 0) {
        it = objects_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::set<std::string> missing;
  std::optional<absl::Status> create_error;
  std::function<void(const kube::Resource&, const std::string&)> on_get;
  std::map<std::string, int> gets, creates;
  std::vector<std::string> deletes;

 private:
  static absl::Status NotFound(const kube::Resource& r, const std::string& name) {
    return absl::NotFoundError(absl::StrCat(r.plural, " \"", name, "\" not found"));
  }
  static bool Matches(const Json& obj, const std::string& selector) {
    for (absl::string_view term : absl::StrSplit(selector, ',', absl::SkipEmpty())) {
      const size_t eq = term.find('=');
      const std::string key(term.substr(0, eq));
      const std::string value = LabelOf(obj, key);
      if (eq == absl::string_view::npos) {
        const Json* labels = obj.contains("metadata") && obj["metadata"].contains("labels")
                                 ? &obj["metadata"]["labels"]
                                 : nullptr;
        if (labels == nullptr || !labels->contains(key)) return false;
      } else if (value != term.substr(eq + 1)) {
        return false;
      }
    }
    return true;
  }

  absl::Mutex mu_;
  std::map<Key, Json> objects_;
  int uids_ = 0;
};

constexpr char kNs[] = "lab";

Json PodTemplateObject() {
  return Json::parse(R"({
    "apiVersion": "netrig.io/v1alpha1", "kind": "SutTemplate",
    "metadata": {"name": "k8s-router", "namespace": "lab", "uid": "t-1",
                 "resourceVersion": "7", "creationTimestamp": "2026-01-01T00:00:00Z",
                 "managedFields": [{"manager": "kubectl"}], "generation": 1},
    "spec": {"kind": "pod", "parameters": {"mtu": "1500"},
             "pod": {"image": "debian:bookworm-slim", "networks": ["sut-west", "sut-east"],
                     "resources": {"cpu": "1"}}}})");
}

Json VmTemplateObject() {
  return Json::parse(R"({
    "apiVersion": "netrig.io/v1alpha1", "kind": "SutTemplate",
    "metadata": {"name": "vm-router", "namespace": "lab"},
    "spec": {"kind": "kubevirt",
             "vm": {"containerDisk": "quay.io/containerdisks/debian:12",
                    "networks": ["sriov-west", "sut-east"]}}})");
}

SutRequest Request(const std::string& tmpl = "k8s-router", const std::string& run = "run-1") {
  SutRequest r;
  r.run_id = run;
  r.template_name = tmpl;
  r.links = {{.name = "west"}, {.name = "east"}};
  return r;
}

constexpr char kPodNetworkStatus[] = R"([
  {"name": "cbr0", "interface": "eth0", "ips": ["10.244.0.7"], "default": true},
  {"name": "lab/sut-west", "interface": "west", "ips": ["198.18.1.1"], "mac": "02:00:00:00:00:01"},
  {"name": "lab/sut-east", "interface": "east", "ips": ["198.19.1.1"], "mac": "02:00:00:00:00:02"}])";

class KubernetesProviderTest : public ::testing::Test {
 protected:
  KubernetesProviderTest()
      : provider_(api_, {.ns = kNs,
                         .poll_interval = absl::Milliseconds(5),
                         .delete_timeout = absl::Seconds(2)}) {
    api_.Put(kube::kSutTemplates, kNs, PodTemplateObject());
    api_.Put(kube::kSutTemplates, kNs, VmTemplateObject());
  }

  // What the kubelet and Multus would do for a pod that comes up.
  void MakePodReady(const std::string& name, bool with_network_status = true) {
    api_.Merge(kube::kPods, kNs, name, Json::parse(R"({"status": {"phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}]}})"));
    if (with_network_status) {
      Json patch;
      patch["metadata"]["annotations"][kNetworkStatusAnnotation] = kPodNetworkStatus;
      api_.Merge(kube::kPods, kNs, name, patch);
    }
  }

  FakeKubeApi api_;
  KubernetesSutProvider provider_;
};

TEST_F(KubernetesProviderTest, CreatesALabelledPodFromTheTemplate) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->namespace_name, "pod/nrsut-run-1");
  EXPECT_EQ(inst->template_name, "k8s-router");
  EXPECT_EQ(inst->parameters, (std::map<std::string, std::string>{{"mtu", "1500"}}));
  ASSERT_EQ(inst->links.size(), 2u);
  EXPECT_EQ(inst->links[0].sut_ifname, "west");
  EXPECT_TRUE(inst->next_hops.empty()) << "known after readiness";
  std::optional<Json> pod = api_.Find(kube::kPods, kNs, "nrsut-run-1");
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(LabelOf(*pod, "netrig.io/run"), "run-1");
  EXPECT_EQ(LabelOf(*pod, "netrig.io/sut-template"), "k8s-router");
  EXPECT_EQ(LabelOf(*pod, "app.kubernetes.io/managed-by"), "netrig-controller");
  EXPECT_THAT(AnnotationOf(*pod, kNetworksAnnotation), HasSubstr("sut-west"));
  EXPECT_EQ((*pod)["spec"]["containers"][0]["resources"]["limits"]["cpu"], "1");
}

TEST_F(KubernetesProviderTest, TemplateErrorsNameTheTemplateAndTheField) {
  auto missing = provider_.Create(Request("nope"));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(missing.status().message(), "sut.template: no SutTemplate \"nope\" in namespace lab");

  Json bad = PodTemplateObject();
  bad["metadata"]["name"] = "no-image";
  bad["spec"]["pod"].erase("image");
  api_.Put(kube::kSutTemplates, kNs, bad);
  auto invalid = provider_.Create(Request("no-image"));
  EXPECT_TRUE(absl::IsInvalidArgument(invalid.status()));
  EXPECT_THAT(invalid.status().message(),
              HasSubstr("SutTemplate lab/no-image is invalid: spec.pod.image: required"));

  Json netns = PodTemplateObject();
  netns["metadata"]["name"] = "linux-router";
  netns["spec"] = Json::parse(R"({"kind": "netns", "recipe": "ip netns add"})");
  api_.Put(kube::kSutTemplates, kNs, netns);
  EXPECT_TRUE(absl::IsFailedPrecondition(provider_.Create(Request("linux-router")).status()));

  SutRequest three = Request();
  three.links.push_back({.name = "north"});
  auto too_many = provider_.Create(three);
  EXPECT_TRUE(absl::IsInvalidArgument(too_many.status()));
  EXPECT_THAT(too_many.status().message(), HasSubstr("spec.pod.networks"));

  SutRequest unknown = Request();
  unknown.parameters["rate"] = "1g";
  EXPECT_EQ(provider_.Create(unknown).status().message(),
            "sut.parameters.rate: unknown parameter (k8s-router takes mtu)");
  EXPECT_EQ(api_.creates["pods"], 0) << "nothing created for a bad request";
}

TEST_F(KubernetesProviderTest, RetryAdoptsThePodOfTheSameRunOnly) {
  ASSERT_TRUE(provider_.Create(Request()).ok());
  auto again = provider_.Create(Request());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->namespace_name, "pod/nrsut-run-1");
  EXPECT_EQ(api_.creates["pods"], 1);

  // Same name, another owner: not ours to take.
  Json foreign = Json::parse(R"({"metadata": {"name": "nrsut-run-2", "labels": {"app": "x"}}})");
  api_.Put(kube::kPods, kNs, foreign);
  auto taken = provider_.Create(Request("k8s-router", "run-2"));
  EXPECT_TRUE(absl::IsAlreadyExists(taken.status()));
  EXPECT_THAT(taken.status().message(), HasSubstr("belongs to no netrig run, not run run-2"));
}

TEST_F(KubernetesProviderTest, CreateErrorsCarryTheObject) {
  api_.create_error = absl::PermissionDeniedError("pods is forbidden");
  auto inst = provider_.Create(Request());
  EXPECT_TRUE(absl::IsPermissionDenied(inst.status()));
  EXPECT_EQ(inst.status().message(),
            "sut.create pod/nrsut-run-1 in namespace lab: pods is forbidden");
}

TEST_F(KubernetesProviderTest, WaitReadyThenRefreshFillsLinksFromNetworkStatus) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  int gets = 0;
  api_.on_get = [&](const kube::Resource& r, const std::string& name) {
    if (r.plural == "pods" && ++gets == 3) MakePodReady(name);
  };
  ASSERT_TRUE(provider_.WaitReady(*inst, absl::Seconds(5)).ok());
  EXPECT_GE(gets, 3) << "polled until ready";
  ASSERT_TRUE(provider_.Refresh(*inst).ok());
  ASSERT_EQ(inst->next_hops.size(), 2u);
  EXPECT_EQ(inst->next_hops[0].link, "west");
  EXPECT_EQ(inst->next_hops[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst->next_hops[0].mac, "02:00:00:00:00:01");
  EXPECT_EQ(inst->next_hops[1].mac, "02:00:00:00:00:02");
  EXPECT_EQ(inst->links[1].ipv4, "198.19.1.1");
}

TEST_F(KubernetesProviderTest, TimeoutNamesWhatIsMissing) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  absl::Status s = provider_.WaitReady(*inst, absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s));
  EXPECT_THAT(s.message(), HasSubstr("sut.ready: pod/nrsut-run-1 in namespace lab not ready "
                                     "after 50ms: pod nrsut-run-1 phase (none), no Ready"));
  // Ready, but Multus has not annotated it (yet).
  MakePodReady("nrsut-run-1", /*with_network_status=*/false);
  s = provider_.WaitReady(*inst, absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s));
  EXPECT_THAT(s.message(), HasSubstr("has no k8s.v1.cni.cncf.io/network-status annotation"));
  EXPECT_TRUE(absl::IsFailedPrecondition(provider_.Refresh(*inst)));
  // An annotation without one of the links.
  Json partial;
  partial["metadata"]["annotations"][kNetworkStatusAnnotation] =
      R"([{"name": "lab/sut-west", "interface": "west", "mac": "02:00:00:00:00:01"}])";
  api_.Merge(kube::kPods, kNs, "nrsut-run-1", partial);
  s = provider_.WaitReady(*inst, absl::Milliseconds(50));
  EXPECT_THAT(s.message(), HasSubstr("lists no interface east (link east, network lab/sut-east)"));
}

TEST_F(KubernetesProviderTest, FailedPodFailsFastWithItsReason) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  api_.Merge(kube::kPods, kNs, "nrsut-run-1", Json::parse(R"({"status": {"phase": "Pending",
      "containerStatuses": [{"name": "sut", "state": {"waiting": {"reason": "ImagePullBackOff",
      "message": "Back-off pulling image"}}}]}})"));
  const absl::Time start = absl::Now();
  absl::Status s = provider_.WaitReady(*inst, absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(s.message(),
            "sut.ready: pod/nrsut-run-1 in namespace lab: pod nrsut-run-1: "
            "container sut ImagePullBackOff: Back-off pulling image");
}

TEST_F(KubernetesProviderTest, VanishedPodFailsFast) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  ASSERT_TRUE(provider_.Destroy(*inst).ok());
  absl::Status s = provider_.WaitReady(*inst, absl::Seconds(30));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
}

TEST_F(KubernetesProviderTest, DestroyDeletesWaitsAndIsIdempotent) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  api_.finalizer_gets = 3;  // the object lingers for a few polls
  api_.on_get = [&](const kube::Resource&, const std::string&) { api_.ExpireFinalizers(); };
  ASSERT_TRUE(provider_.Destroy(*inst).ok());
  EXPECT_FALSE(api_.Find(kube::kPods, kNs, "nrsut-run-1").has_value());
  EXPECT_THAT(api_.deletes, ElementsAre("pods/nrsut-run-1 Background"));
  EXPECT_TRUE(provider_.Destroy(*inst).ok()) << "already gone";
  EXPECT_EQ(api_.deletes.size(), 1u) << "nothing to delete the second time";
}

TEST_F(KubernetesProviderTest, DestroyTimesOutOnAnObjectThatStays) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  api_.finalizer_gets = 1000000;
  KubernetesSutProvider quick(api_, {.ns = kNs,
                                     .poll_interval = absl::Milliseconds(5),
                                     .delete_timeout = absl::Milliseconds(30)});
  absl::Status s = quick.Destroy(*inst);
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("pod/nrsut-run-1 in namespace lab not gone after 30ms"));
}

TEST_F(KubernetesProviderTest, DestroyLeavesObjectsThatAreNotOurs) {
  api_.Put(kube::kPods, kNs, Json::parse(R"({"metadata": {"name": "nrsut-x"}})"));
  SutInstance inst;
  inst.namespace_name = "pod/nrsut-x";
  absl::Status s = provider_.Destroy(inst);
  EXPECT_THAT(s.message(), HasSubstr("was not created by netrig"));
  EXPECT_TRUE(api_.Find(kube::kPods, kNs, "nrsut-x").has_value());
  inst.namespace_name = "pod/etcd-0";
  EXPECT_TRUE(absl::IsInvalidArgument(provider_.Destroy(inst)));
}

TEST_F(KubernetesProviderTest, OrphansAreRunsNotLiveAndDestroyByRunIdRemovesThem) {
  api_.missing.insert("virtualmachines");  // no KubeVirt in this cluster
  ASSERT_TRUE(provider_.Create(Request("k8s-router", "run-1")).ok());
  ASSERT_TRUE(provider_.Create(Request("k8s-router", "Run_2.long")).ok());
  api_.Put(kube::kPods, kNs, Json::parse(R"({"metadata": {"name": "other",
      "labels": {"app.kubernetes.io/managed-by": "helm"}}})"));
  auto orphans = provider_.ListOrphans({"run-1"});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_THAT(*orphans, ElementsAre("Run_2.long")) << "the exact id, from the annotation";
  SutInstance orphan;
  orphan.run_id = "Run_2.long";
  ASSERT_TRUE(provider_.Destroy(orphan).ok());
  orphans = provider_.ListOrphans({"run-1"});
  ASSERT_TRUE(orphans.ok());
  EXPECT_TRUE(orphans->empty());
  orphans = provider_.ListOrphans({});
  EXPECT_THAT(*orphans, ElementsAre("run-1"));
}

TEST_F(KubernetesProviderTest, InjectEventIsUnimplemented) {
  auto inst = provider_.Create(Request());
  ASSERT_TRUE(inst.ok());
  absl::Status s = provider_.InjectEvent(*inst, {"link-down", "west"});
  EXPECT_TRUE(absl::IsUnimplemented(s));
  EXPECT_THAT(s.message(), HasSubstr("kubernetes SUT provider cannot inject \"link-down\""));
}

TEST_F(KubernetesProviderTest, VirtualMachineLifecycle) {
  Json sriov = Json::parse(R"({"metadata": {"name": "sriov-west"},
      "spec": {"config": "{\"type\": \"sriov\", \"cniVersion\": \"0.3.1\"}"}})");
  api_.Put(kNetworkAttachmentDefinitions, kNs, sriov);
  auto inst = provider_.Create(Request("vm-router"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->namespace_name, "virtualmachine/nrsut-run-1");
  std::optional<Json> vm = api_.Find(kube::kVirtualMachines, kNs, "nrsut-run-1");
  ASSERT_TRUE(vm.has_value());
  const Json& ifs = (*vm)["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"];
  EXPECT_TRUE(ifs[0].contains("sriov")) << "sriov-west's NAD is an SR-IOV network";
  EXPECT_TRUE(ifs[1].contains("bridge")) << "sut-east has no NAD here: bridge";

  // Ready VM, but KubeVirt has not made its virt-launcher pod yet.
  api_.Merge(kube::kVirtualMachines, kNs, "nrsut-run-1",
             Json::parse(R"({"status": {"ready": true, "printableStatus": "Running"}})"));
  absl::Status s = provider_.WaitReady(*inst, absl::Milliseconds(30));
  EXPECT_THAT(s.message(),
              HasSubstr("no virt-launcher pod (label vm.kubevirt.io/name=nrsut-run-1)"));
  Json launcher = Json::parse(R"({"metadata": {"name": "virt-launcher-nrsut-run-1-abcde",
      "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "nrsut-run-1"}}})");
  launcher["metadata"]["annotations"][kNetworkStatusAnnotation] = R"([
      {"name": "lab/sriov-west", "interface": "pod1", "ips": ["198.18.1.1"], "mac": "aa:00:00:00:00:01"},
      {"name": "lab/sut-east", "interface": "pod2", "ips": ["198.19.1.1"], "mac": "aa:00:00:00:00:02"}])";
  api_.Put(kube::kPods, kNs, launcher);
  ASSERT_TRUE(provider_.WaitReady(*inst, absl::Seconds(1)).ok());
  ASSERT_TRUE(provider_.Refresh(*inst).ok());
  EXPECT_EQ(inst->next_hops[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst->next_hops[0].mac, inst->links[0].sut_mac);
  EXPECT_NE(inst->next_hops[0].mac, "aa:00:00:00:00:01") << "the guest MAC from the VM spec";

  auto orphans = provider_.ListOrphans({});
  ASSERT_TRUE(orphans.ok());
  EXPECT_THAT(*orphans, ElementsAre("run-1")) << "the launcher pod is not counted";
  ASSERT_TRUE(provider_.Destroy(*inst).ok());
  EXPECT_FALSE(api_.Find(kube::kVirtualMachines, kNs, "nrsut-run-1").has_value());
  EXPECT_THAT(api_.deletes, ElementsAre("virtualmachines/nrsut-run-1 Background"));
}

TEST_F(KubernetesProviderTest, FailedVirtualMachineFailsFast) {
  auto inst = provider_.Create(Request("vm-router"));
  ASSERT_TRUE(inst.ok());
  api_.Merge(kube::kVirtualMachines, kNs, "nrsut-run-1",
             Json::parse(R"({"status": {"printableStatus": "ErrImagePull"}})"));
  absl::Status s = provider_.WaitReady(*inst, absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_THAT(s.message(), HasSubstr("virtualmachine nrsut-run-1 is ErrImagePull"));
}

}  // namespace
}  // namespace netrig::controller::sut
