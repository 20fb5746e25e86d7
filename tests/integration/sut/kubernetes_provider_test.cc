// KubernetesSutProvider against a real kube-apiserver (tests/support/kube_apiserver.h). There
// is no kubelet, scheduler or Multus: the test plays them, patching the pod's status through
// the status subresource (phase, Ready condition) and adding the network-status annotation.
// KubeVirt is faked the same way: a minimal VirtualMachine CRD, the VM's status set by the
// test, and a virt-launcher pod made by the test. Skipped when kube-apiserver is not built.
#include "controller/sut/kubernetes_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/kube/client.h"
#include "tests/support/kube_apiserver.h"

namespace netrig::controller::sut {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = kube::Json;

const kube::Resource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};

// Enough of the SutTemplate and KubeVirt VirtualMachine CRDs for the provider: the schema
// keeps every field (x-kubernetes-preserve-unknown-fields); status is a subresource.
Json Crd(const std::string& group, const std::string& plural, const std::string& kind,
         const std::string& version) {
  Json crd;
  crd["apiVersion"] = "apiextensions.k8s.io/v1";
  crd["kind"] = "CustomResourceDefinition";
  crd["metadata"]["name"] = absl::StrCat(plural, ".", group);
  crd["spec"]["group"] = group;
  crd["spec"]["scope"] = "Namespaced";
  crd["spec"]["names"]["plural"] = plural;
  crd["spec"]["names"]["kind"] = kind;
  Json v;
  v["name"] = version;
  v["served"] = true;
  v["storage"] = true;
  v["subresources"]["status"] = Json::object();
  v["schema"]["openAPIV3Schema"]["type"] = "object";
  v["schema"]["openAPIV3Schema"]["x-kubernetes-preserve-unknown-fields"] = true;
  crd["spec"]["versions"] = Json::array({v});
  return crd;
}

constexpr char kPodTemplate[] = R"({
  "apiVersion": "netrig.io/v1alpha1", "kind": "SutTemplate",
  "metadata": {"name": "k8s-router"},
  "spec": {"kind": "pod", "parameters": {"mtu": "1500"},
           "pod": {"image": "debian:bookworm-slim", "command": ["sleep", "infinity"],
                   "networks": ["sut-west", "sut-east"],
                   "resources": {"cpu": "100m", "memory": "64Mi"}}}})";

constexpr char kVmTemplate[] = R"({
  "apiVersion": "netrig.io/v1alpha1", "kind": "SutTemplate",
  "metadata": {"name": "vm-router"},
  "spec": {"kind": "kubevirt",
           "vm": {"containerDisk": "quay.io/containerdisks/debian:12", "cpus": 1,
                  "memory": "1Gi", "networks": ["sut-west", "sut-east"],
                  "cloudInit": "#cloud-config\n"}}})";

class KubernetesProviderIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = netrig::testing::KubeApiServer::Start();
    if (!server.ok()) {
      skip_reason_ = new std::string(server.status().ToString());
      return;
    }
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (server_ == nullptr) {
      if (skip_reason_ != nullptr && absl::StrContains(*skip_reason_, "FAILED_PRECONDITION")) {
        GTEST_SKIP() << "kube-apiserver test cluster unavailable (build it with "
                        "tests/tools/build.sh): "
                     << *skip_reason_;
      }
      FAIL() << "kube-apiserver did not start: "
             << (skip_reason_ != nullptr ? *skip_reason_ : "unknown");
    }
    auto config = kube::LoadKubeconfig(server_->kubeconfig());
    ASSERT_TRUE(config.ok()) << config.status();
    auto client = kube::Client::Create(*config);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    // One namespace per test, with the ServiceAccount the admission plugin wants for pods
    // (no controller-manager here to make it).
    ns_ = absl::StrCat("ksut-", ++counter_);
    Json ns;
    ns["metadata"]["name"] = ns_;
    ASSERT_TRUE(client_->Create(kube::kNamespaces, "", ns).ok());
    Json sa;
    sa["metadata"]["name"] = "default";
    auto created_sa = client_->Create(kServiceAccounts, ns_, sa);
    ASSERT_TRUE(created_sa.ok() || absl::IsAlreadyExists(created_sa.status()))
        << created_sa.status();
    InstallCrd(kube::kSutTemplates);
    ASSERT_TRUE(client_->Create(kube::kSutTemplates, ns_, Json::parse(kPodTemplate)).ok());
    provider_ = std::make_unique<KubernetesSutProvider>(
        *client_, KubernetesSutOptions{.ns = ns_,
                                       .poll_interval = absl::Milliseconds(50),
                                       .delete_timeout = absl::Seconds(20)});
  }

  // Creates the CRD once per server and waits until its resource is served.
  void InstallCrd(const kube::Resource& r) {
    auto created = client_->Create(kube::kCrds, "", Crd(r.group, r.plural, r.kind, r.version));
    ASSERT_TRUE(created.ok() || absl::IsAlreadyExists(created.status())) << created.status();
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    absl::Status listed;
    while (absl::Now() < deadline) {
      listed = client_->List(r, ns_).status();
      if (listed.ok()) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << r.plural << " not served: " << listed;
  }

  // The kubelet's and Multus' part for a pod that came up.
  void PlayKubeletAndMultus(const std::string& name, const std::string& network_status) {
    auto st = client_->PatchStatus(kube::kPods, ns_, name, Json::parse(R"({"status": {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})"));
    ASSERT_TRUE(st.ok()) << st.status();
    if (network_status.empty()) return;
    Json patch;
    patch["metadata"]["annotations"][kNetworkStatusAnnotation] = network_status;
    auto annotated = client_->Patch(kube::kPods, ns_, name, patch);
    ASSERT_TRUE(annotated.ok()) << annotated.status();
  }

  std::string PodNetworkStatus() const {
    return absl::StrCat(R"([{"name": "k8s-pod-network", "interface": "eth0", "ips": ["10.0.0.5"],
        "default": true},
      {"name": ")",
                        ns_, R"(/sut-west", "interface": "west", "ips": ["198.18.1.1"],
       "mac": "02:00:00:00:00:01"},
      {"name": ")",
                        ns_, R"(/sut-east", "interface": "east", "ips": ["198.19.1.1"],
       "mac": "02:00:00:00:00:02"}])");
  }

  static SutRequest Request(const std::string& tmpl, const std::string& run) {
    SutRequest r;
    r.run_id = run;
    r.template_name = tmpl;
    r.links = {{.name = "west"}, {.name = "east"}};
    return r;
  }

  static netrig::testing::KubeApiServer* server_;
  static std::string* skip_reason_;
  static int counter_;
  std::unique_ptr<kube::Client> client_;
  std::string ns_;
  std::unique_ptr<KubernetesSutProvider> provider_;
};

netrig::testing::KubeApiServer* KubernetesProviderIntegrationTest::server_ = nullptr;
std::string* KubernetesProviderIntegrationTest::skip_reason_ = nullptr;
int KubernetesProviderIntegrationTest::counter_ = 0;

TEST_F(KubernetesProviderIntegrationTest, PodLifecycleWithLinksFromNetworkStatus) {
  auto inst = provider_->Create(Request("k8s-router", "run-1"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->namespace_name, "pod/nrsut-run-1");
  auto pod = client_->Get(kube::kPods, ns_, "nrsut-run-1");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(LabelOf(*pod, kRunLabel), "run-1");
  EXPECT_EQ(LabelOf(*pod, kManagedByLabel), "netrig-controller");
  EXPECT_EQ((*pod)["spec"]["restartPolicy"], "Never");
  EXPECT_EQ((*pod)["spec"]["containers"][0]["securityContext"]["capabilities"]["add"],
            Json::parse(R"(["NET_ADMIN", "NET_RAW"])"));

  PlayKubeletAndMultus("nrsut-run-1", PodNetworkStatus());
  ASSERT_TRUE(provider_->WaitReady(*inst, absl::Seconds(10)).ok());
  ASSERT_TRUE(provider_->Refresh(*inst).ok());
  ASSERT_EQ(inst->next_hops.size(), 2u);
  EXPECT_EQ(inst->next_hops[0].link, "west");
  EXPECT_EQ(inst->next_hops[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst->next_hops[0].mac, "02:00:00:00:00:01");
  EXPECT_EQ(inst->next_hops[1].link, "east");
  EXPECT_EQ(inst->next_hops[1].ipv4, "198.19.1.1");
  EXPECT_EQ(inst->next_hops[1].mac, "02:00:00:00:00:02");

  auto orphans = provider_->ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_THAT(*orphans, ElementsAre("run-1"));
  orphans = provider_->ListOrphans({"run-1"});
  ASSERT_TRUE(orphans.ok());
  EXPECT_TRUE(orphans->empty());

  ASSERT_TRUE(provider_->Destroy(*inst).ok());
  EXPECT_TRUE(absl::IsNotFound(client_->Get(kube::kPods, ns_, "nrsut-run-1").status()));
  EXPECT_TRUE(provider_->Destroy(*inst).ok()) << "idempotent";
}

TEST_F(KubernetesProviderIntegrationTest, PodThatNeverBecomesReadyTimesOut) {
  auto inst = provider_->Create(Request("k8s-router", "run-slow"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  absl::Status s = provider_->WaitReady(*inst, absl::Milliseconds(500));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not ready after 500ms: pod nrsut-run-slow phase Pending"));
  // Ready without Multus' annotation: still not ready, and the message says why.
  PlayKubeletAndMultus("nrsut-run-slow", "");
  s = provider_->WaitReady(*inst, absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("no k8s.v1.cni.cncf.io/network-status annotation"));
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
}

TEST_F(KubernetesProviderIntegrationTest, FailedPodFailsFastWithTheReason) {
  auto inst = provider_->Create(Request("k8s-router", "run-fail"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  auto st = client_->PatchStatus(kube::kPods, ns_, "nrsut-run-fail", Json::parse(R"({"status": {
      "phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}})"));
  ASSERT_TRUE(st.ok()) << st.status();
  const absl::Time start = absl::Now();
  absl::Status s = provider_->WaitReady(*inst, absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "fails fast, not at the timeout";
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("ended (phase Failed): Evicted: The node was low on "
                                     "resource: memory."));
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
}

TEST_F(KubernetesProviderIntegrationTest, CreatingTwiceAdoptsThePod) {
  auto first = provider_->Create(Request("k8s-router", "run-twice"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto uid = kube::UidOf(*client_->Get(kube::kPods, ns_, "nrsut-run-twice"));
  // A second controller (after a restart) creating the same run's SUT.
  KubernetesSutProvider restarted(*client_, {.ns = ns_});
  auto second = restarted.Create(Request("k8s-router", "run-twice"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->namespace_name, first->namespace_name);
  EXPECT_EQ(kube::UidOf(*client_->Get(kube::kPods, ns_, "nrsut-run-twice")), uid)
      << "the same pod, not a new one";
  ASSERT_TRUE(provider_->Destroy(*second).ok());
}

TEST_F(KubernetesProviderIntegrationTest, VirtualMachineLifecycle) {
  InstallCrd(kube::kVirtualMachines);
  ASSERT_TRUE(client_->Create(kube::kSutTemplates, ns_, Json::parse(kVmTemplate)).ok());
  auto inst = provider_->Create(Request("vm-router", "run-vm"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->namespace_name, "virtualmachine/nrsut-run-vm");
  auto vm = client_->Get(kube::kVirtualMachines, ns_, "nrsut-run-vm");
  ASSERT_TRUE(vm.ok()) << vm.status();
  EXPECT_EQ((*vm)["spec"]["runStrategy"], "Always");
  EXPECT_EQ((*vm)["spec"]["template"]["spec"]["networks"][0]["multus"]["networkName"],
            absl::StrCat(ns_, "/sut-west"));

  // KubeVirt's part: the VM is ready and its virt-launcher pod carries the network-status.
  auto st = client_->PatchStatus(kube::kVirtualMachines, ns_, "nrsut-run-vm",
                                 Json::parse(R"({"status": {"ready": true,
                                     "printableStatus": "Running"}})"));
  ASSERT_TRUE(st.ok()) << st.status();
  Json launcher = Json::parse(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "virt-launcher-nrsut-run-vm-x7k2p",
                   "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "nrsut-run-vm"}},
      "spec": {"containers": [{"name": "compute", "image": "virt-launcher"}]}})");
  launcher["metadata"]["annotations"][kNetworkStatusAnnotation] = absl::StrCat(
      R"([{"name": ")", ns_, R"(/sut-west", "interface": "pod1a2b", "ips": ["198.18.1.1"]},
          {"name": ")",
      ns_, R"(/sut-east", "interface": "pod3c4d", "ips": ["198.19.1.1"]}])");
  ASSERT_TRUE(client_->Create(kube::kPods, ns_, launcher).ok());

  ASSERT_TRUE(provider_->WaitReady(*inst, absl::Seconds(10)).ok());
  ASSERT_TRUE(provider_->Refresh(*inst).ok());
  ASSERT_EQ(inst->next_hops.size(), 2u);
  EXPECT_EQ(inst->next_hops[1].ipv4, "198.19.1.1");
  EXPECT_EQ(inst->next_hops[0].mac,
            (*vm)["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]["macAddress"]);

  auto orphans = provider_->ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  EXPECT_THAT(*orphans, ElementsAre("run-vm"));
  ASSERT_TRUE(provider_->Destroy(*inst).ok());
  EXPECT_TRUE(absl::IsNotFound(client_->Get(kube::kVirtualMachines, ns_, "nrsut-run-vm").status()));
}

TEST_F(KubernetesProviderIntegrationTest, OrphanIsDestroyedByRunIdAlone) {
  auto inst = provider_->Create(Request("k8s-router", "Run_Orphan.7"));
  ASSERT_TRUE(inst.ok()) << inst.status();
  // A new controller knows only the run id.
  KubernetesSutProvider restarted(*client_, {.ns = ns_, .poll_interval = absl::Milliseconds(50)});
  auto orphans = restarted.ListOrphans({});
  ASSERT_TRUE(orphans.ok()) << orphans.status();
  ASSERT_THAT(*orphans, ElementsAre("Run_Orphan.7"));
  SutInstance orphan;
  orphan.run_id = (*orphans)[0];
  ASSERT_TRUE(restarted.Destroy(orphan).ok());  // no VirtualMachine CRD may exist: fine
  orphans = restarted.ListOrphans({});
  ASSERT_TRUE(orphans.ok());
  EXPECT_TRUE(orphans->empty());
}

}  // namespace
}  // namespace netrig::controller::sut
