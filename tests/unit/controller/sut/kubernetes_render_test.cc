// The pure part of the kubernetes SUT provider: names, parameters, the rendered Pod and
// VirtualMachine, readiness and the Multus network-status annotation.
#include "controller/sut/kubernetes_render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"

namespace netrig::controller::sut {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = kube::Json;

v1::SutTemplate PodTemplate() {
  v1::SutTemplate t;
  t.mutable_metadata()->set_name("k8s-router");
  v1::SutTemplateSpec* s = t.mutable_spec();
  s->set_kind("pod");
  (*s->mutable_parameters())["ipv6Forwarding"] = "1";
  (*s->mutable_parameters())["mtu"] = "1500";
  v1::SutPodTemplate* p = s->mutable_pod();
  p->set_image("debian:bookworm-slim");
  p->add_command("sh");
  p->add_args("-c");
  p->add_args("exec sleep infinity");
  p->add_networks("sut-west");
  p->add_networks("lab/sut-east");
  (*p->mutable_resources())["cpu"] = "1";
  (*p->mutable_resources())["memory"] = "256Mi";
  (*p->mutable_node_selector())["netrig.io/sut"] = "true";
  (*p->mutable_env())["MODE"] = "router";
  return t;
}

v1::SutTemplate VmTemplate() {
  v1::SutTemplate t;
  t.mutable_metadata()->set_name("vm-router");
  v1::SutTemplateSpec* s = t.mutable_spec();
  s->set_kind("kubevirt");
  (*s->mutable_parameters())["asn"] = "65001";
  v1::SutVmTemplate* vm = s->mutable_vm();
  vm->set_container_disk("quay.io/containerdisks/debian:12");
  vm->add_networks("sriov-west");
  vm->add_networks("sriov-east");
  vm->set_cloud_init("#cloud-config\nruncmd: [echo $(NETRIG_PARAM_ASN) $(NETRIG_RUN_ID)]\n");
  return t;
}

SutRequest TwoLinks(const std::string& run_id = "run-1") {
  SutRequest r;
  r.run_id = run_id;
  r.links = {{.name = "west"}, {.name = "east"}};
  return r;
}

// ---------------------------------------------------------------- names and parameters

TEST(SutObjectNameTest, ShortDnsRunIdIsKeptAsIs) {
  EXPECT_EQ(SutObjectName("nightly-1"), "nrsut-nightly-1");
  EXPECT_EQ(RunLabelValue("nightly-1"), "nightly-1");
}

TEST(SutObjectNameTest, UnsafeOrLongRunIdsAreSanitizedAndHashed) {
  for (const std::string& id : std::vector<std::string>{
           "Nightly_1", "run.1", "-x", std::string(100, 'a'), "UPPER", "a.b_c-D"}) {
    const std::string name = SutObjectName(id);
    EXPECT_TRUE(spec::IsDnsLabel(name)) << id << " -> " << name;
    EXPECT_LE(name.size(), kMaxSutObjectNameLength) << id;
    EXPECT_EQ(name.rfind("nrsut-", 0), 0u) << name;
    EXPECT_EQ(name, SutObjectName(id)) << "stable";
    EXPECT_TRUE(spec::CheckLabelValue(RunLabelValue(id)).empty()) << RunLabelValue(id);
  }
  // Case and punctuation do not collide: the hash is of the run id as given.
  EXPECT_NE(SutObjectName("Run-1"), SutObjectName("run-1"));
  EXPECT_NE(SutObjectName("run.1"), SutObjectName("run_1"));
  EXPECT_NE(SutObjectName(std::string(60, 'a') + "1"), SutObjectName(std::string(60, 'a') + "2"));
  EXPECT_EQ(SutObjectName(std::string(100, 'a')).size(), kMaxSutObjectNameLength);
  // A run id with label-valid characters keeps its own label value.
  EXPECT_EQ(RunLabelValue("Run_1.x"), "Run_1.x");
  EXPECT_EQ(RunLabelValue(std::string(64, 'a')), SutObjectName(std::string(64, 'a')).substr(6));
}

TEST(ParamEnvNameTest, CamelCaseBecomesUpperSnake) {
  EXPECT_EQ(ParamEnvName("ipv6Forwarding"), "NETRIG_PARAM_IPV6_FORWARDING");
  EXPECT_EQ(ParamEnvName("mtu"), "NETRIG_PARAM_MTU");
  EXPECT_EQ(ParamEnvName("holdTimeMs"), "NETRIG_PARAM_HOLD_TIME_MS");
  EXPECT_EQ(ParamEnvName("bgp.asn-local"), "NETRIG_PARAM_BGP_ASN_LOCAL");
  EXPECT_EQ(ParamEnvName("ABC"), "NETRIG_PARAM_ABC");
}

TEST(ResolveParametersTest, DefaultsOverriddenByTheRequest) {
  auto p = ResolveParameters(PodTemplate(), {{"mtu", "9000"}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, (std::map<std::string, std::string>{{"ipv6Forwarding", "1"}, {"mtu", "9000"}}));
}

TEST(ResolveParametersTest, UnknownParameterNamesTheFieldAndTheKnownOnes) {
  auto p = ResolveParameters(PodTemplate(), {{"rate", "1g"}});
  EXPECT_TRUE(absl::IsInvalidArgument(p.status()));
  EXPECT_EQ(p.status().message(),
            "sut.parameters.rate: unknown parameter (k8s-router takes ipv6Forwarding, mtu)");
  v1::SutTemplate none = PodTemplate();
  none.mutable_spec()->clear_parameters();
  EXPECT_EQ(ResolveParameters(none, {{"x", "1"}}).status().message(),
            "sut.parameters.x: unknown parameter (k8s-router takes no parameters)");
}

// ---------------------------------------------------------------- planning

TEST(PlanKubeSutTest, NetnsTemplateIsForTheNetnsProvider) {
  v1::SutTemplate t = PodTemplate();
  t.mutable_spec()->set_kind("netns");
  auto plan = PlanKubeSut(t, TwoLinks(), "lab");
  EXPECT_TRUE(absl::IsFailedPrecondition(plan.status()));
  EXPECT_THAT(plan.status().message(), HasSubstr("--sut-provider netns"));
}

TEST(PlanKubeSutTest, MoreLinksThanNetworksNamesTheNetworksField) {
  SutRequest r = TwoLinks();
  r.links.push_back({.name = "north"});
  auto plan = PlanKubeSut(PodTemplate(), r, "lab");
  EXPECT_TRUE(absl::IsInvalidArgument(plan.status()));
  EXPECT_THAT(plan.status().message(),
              HasSubstr("spec.pod.networks: SutTemplate \"k8s-router\" lists 2 network(s) but "
                        "the run has 3 links (west, east, north)"));
  EXPECT_THAT(PlanKubeSut(VmTemplate(), r, "lab").status().message(),
              HasSubstr("spec.vm.networks:"));
}

TEST(PlanKubeSutTest, BadRequestsAreInvalidArguments) {
  SutRequest dup = TwoLinks();
  dup.links[1].name = "west";
  EXPECT_EQ(PlanKubeSut(PodTemplate(), dup, "lab").status().message(),
            "sut.links[1].name: duplicate link \"west\"");
  SutRequest bad_if = TwoLinks();
  bad_if.links[0].sut_ifname = "Bad_If";
  EXPECT_THAT(PlanKubeSut(PodTemplate(), bad_if, "lab").status().message(),
              HasSubstr("sut.links[0].sutIfname: \"Bad_If\" is not an interface name"));
  SutRequest bad_id = TwoLinks("bad id");
  EXPECT_THAT(PlanKubeSut(PodTemplate(), bad_id, "lab").status().message(), HasSubstr("sut.runId"));
  SutRequest unknown = TwoLinks();
  unknown.parameters["rate"] = "1g";
  EXPECT_TRUE(absl::IsInvalidArgument(PlanKubeSut(PodTemplate(), unknown, "lab").status()));
  SutRequest eth0 = TwoLinks();
  eth0.links[0].name = "eth0";
  EXPECT_THAT(PlanKubeSut(PodTemplate(), eth0, "lab").status().message(),
              HasSubstr("interface eth0 is the pod's own"));
}

TEST(PlanKubeSutTest, InterfacesAreLinkNamesElseMultusDefaults) {
  SutRequest r = TwoLinks();
  r.links[1].name = "East_Side";  // not a DNS label: Multus' default name
  auto plan = PlanKubeSut(PodTemplate(), r, "lab");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->attachments.size(), 2u);
  EXPECT_EQ(plan->attachments[0].interface, "west");
  EXPECT_EQ(plan->attachments[0].ns, "lab");
  EXPECT_EQ(plan->attachments[0].name, "sut-west");
  EXPECT_EQ(plan->attachments[1].interface, "net2");
  EXPECT_EQ(plan->attachments[1].ns, "lab");
  EXPECT_EQ(plan->attachments[1].name, "sut-east");
  EXPECT_EQ(plan->name, "nrsut-run-1");
  // Fewer links than networks: the extra network is attached but carries no link.
  SutRequest one = TwoLinks();
  one.links.pop_back();
  auto p1 = PlanKubeSut(PodTemplate(), one, "lab");
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->attachments[1].link, "");
  EXPECT_EQ(InstanceOf(*p1).links.size(), 1u);
}

// ---------------------------------------------------------------- the Pod

TEST(RenderPodTest, MetadataLabelsAndMultusSelectionInLinkOrder) {
  SutRequest r = TwoLinks();
  r.links[1].ipv4 = "198.19.1.1/24";
  auto plan = PlanKubeSut(PodTemplate(), r, "lab");
  ASSERT_TRUE(plan.ok()) << plan.status();
  const Json pod = RenderPod(*plan, PodTemplate().spec().pod());
  EXPECT_EQ(pod["apiVersion"], "v1");
  EXPECT_EQ(pod["kind"], "Pod");
  EXPECT_EQ(pod["metadata"]["name"], "nrsut-run-1");
  EXPECT_EQ(pod["metadata"]["namespace"], "lab");
  EXPECT_EQ(pod["metadata"]["labels"],
            Json::parse(R"({"netrig.io/run": "run-1", "netrig.io/sut-template": "k8s-router",
                            "app.kubernetes.io/managed-by": "netrig-controller"})"));
  EXPECT_EQ(pod["metadata"]["annotations"]["netrig.io/run-id"], "run-1");
  const Json networks =
      Json::parse(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"].get<std::string>());
  EXPECT_EQ(networks, Json::parse(R"([
      {"name": "sut-west", "interface": "west"},
      {"name": "sut-east", "namespace": "lab", "interface": "east", "ips": ["198.19.1.1/24"]}])"));
}

TEST(RenderPodTest, ContainerImageEnvResourcesAndSecurityContext) {
  auto plan = PlanKubeSut(PodTemplate(), TwoLinks(), "lab");
  ASSERT_TRUE(plan.ok());
  plan->parameters["mtu"] = "9000";
  const Json pod = RenderPod(*plan, PodTemplate().spec().pod());
  const Json& spec = pod["spec"];
  EXPECT_EQ(spec["restartPolicy"], "Never");
  EXPECT_EQ(spec["automountServiceAccountToken"], false);
  EXPECT_EQ(spec["nodeSelector"], Json::parse(R"({"netrig.io/sut": "true"})"));
  ASSERT_EQ(spec["containers"].size(), 1u);
  const Json& c = spec["containers"][0];
  EXPECT_EQ(c["name"], "sut");
  EXPECT_EQ(c["image"], "debian:bookworm-slim");
  EXPECT_EQ(c["command"], Json::parse(R"(["sh"])"));
  EXPECT_EQ(c["args"], Json::parse(R"(["-c", "exec sleep infinity"])"));
  EXPECT_EQ(c["env"], Json::parse(R"([
      {"name": "MODE", "value": "router"},
      {"name": "NETRIG_RUN_ID", "value": "run-1"},
      {"name": "NETRIG_SUT_INTERFACES", "value": "west,east"},
      {"name": "NETRIG_PARAM_IPV6_FORWARDING", "value": "1"},
      {"name": "NETRIG_PARAM_MTU", "value": "9000"}])"));
  const Json resources = Json::parse(R"({"cpu": "1", "memory": "256Mi"})");
  EXPECT_EQ(c["resources"]["requests"], resources);
  EXPECT_EQ(c["resources"]["limits"], resources);
  EXPECT_EQ(c["securityContext"],
            Json::parse(R"({"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}})"));

  v1::SutPodTemplate privileged = PodTemplate().spec().pod();
  privileged.set_privileged(true);
  privileged.clear_resources();
  privileged.clear_node_selector();
  const Json p2 = RenderPod(*plan, privileged);
  EXPECT_EQ(p2["spec"]["containers"][0]["securityContext"]["privileged"], true);
  EXPECT_FALSE(p2["spec"]["containers"][0].contains("resources"));
  EXPECT_FALSE(p2["spec"].contains("nodeSelector"));
}

// ---------------------------------------------------------------- the VirtualMachine

TEST(RenderVirtualMachineTest, DomainDisksCloudInitAndMultusInterfaces) {
  auto plan = PlanKubeSut(VmTemplate(), TwoLinks(), "lab");
  ASSERT_TRUE(plan.ok()) << plan.status();
  plan->attachments[1].binding = "sriov";
  const Json vm = RenderVirtualMachine(*plan, VmTemplate().spec().vm());
  EXPECT_EQ(vm["apiVersion"], "kubevirt.io/v1");
  EXPECT_EQ(vm["kind"], "VirtualMachine");
  EXPECT_EQ(vm["metadata"]["labels"]["netrig.io/run"], "run-1");
  EXPECT_EQ(vm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "netrig-controller");
  EXPECT_EQ(vm["spec"]["runStrategy"], "Always");
  const Json& vmi = vm["spec"]["template"]["spec"];
  EXPECT_FALSE(vm["spec"]["template"].contains("metadata"))
      << "no netrig labels on the VMI: its virt-launcher pod would look like a SUT pod";
  EXPECT_EQ(vmi["domain"]["cpu"]["cores"], 2);
  EXPECT_EQ(vmi["domain"]["resources"]["requests"]["memory"], "2Gi");
  EXPECT_EQ(vmi["volumes"][0], Json::parse(R"({"name": "rootdisk",
      "containerDisk": {"image": "quay.io/containerdisks/debian:12"}})"));
  EXPECT_EQ(vmi["volumes"][1]["cloudInitNoCloud"]["userData"],
            "#cloud-config\nruncmd: [echo 65001 run-1]\n");
  EXPECT_EQ(vmi["domain"]["devices"]["disks"].size(), 2u);
  const std::string west_mac = plan->attachments[0].mac, east_mac = plan->attachments[1].mac;
  EXPECT_THAT(west_mac, ::testing::MatchesRegex("02(:[0-9a-f]{2}){5}"));
  EXPECT_NE(west_mac, east_mac);
  EXPECT_EQ(vmi["domain"]["devices"]["interfaces"], Json::parse(absl::StrCat(R"([
      {"name": "west", "bridge": {}, "macAddress": ")",
                                                                             west_mac, R"("},
      {"name": "east", "sriov": {}, "macAddress": ")",
                                                                             east_mac, R"("}])")));
  EXPECT_EQ(vmi["networks"], Json::parse(R"([
      {"name": "west", "multus": {"networkName": "lab/sriov-west"}},
      {"name": "east", "multus": {"networkName": "lab/sriov-east"}}])"));

  v1::SutVmTemplate sized = VmTemplate().spec().vm();
  sized.set_cpus(4);
  sized.set_memory("4Gi");
  sized.clear_cloud_init();
  const Json v2 = RenderVirtualMachine(*plan, sized);
  EXPECT_EQ(v2["spec"]["template"]["spec"]["domain"]["cpu"]["cores"], 4);
  EXPECT_EQ(v2["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["memory"], "4Gi");
  EXPECT_EQ(v2["spec"]["template"]["spec"]["volumes"].size(), 1u);
  EXPECT_EQ(InstanceOf(*plan).namespace_name, "virtualmachine/nrsut-run-1");
  EXPECT_EQ(InstanceOf(*plan).links[0].sut_mac, west_mac);
}

TEST(BindingTest, SriovNetworkAttachmentsGetTheSriovBinding) {
  const auto nad = [](const std::string& config) {
    Json j;
    j["spec"]["config"] = config;
    return j;
  };
  EXPECT_EQ(BindingForNetworkAttachment(nad(R"({"cniVersion": "0.3.1", "type": "sriov"})")),
            "sriov");
  EXPECT_EQ(
      BindingForNetworkAttachment(nad(R"({"plugins": [{"type": "sriov"}, {"type": "tuning"}]})")),
      "sriov");
  EXPECT_EQ(BindingForNetworkAttachment(nad(R"({"type": "bridge"})")), "bridge");
  EXPECT_EQ(BindingForNetworkAttachment(nad("not json")), "bridge");
  EXPECT_EQ(BindingForNetworkAttachment(Json::object()), "bridge");
}

TEST(SutObjectRefTest, RoundTripsAndRejectsOthers) {
  auto pod = ParseSutObjectRef("pod/nrsut-x");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ(pod->resource, &kube::kPods);
  EXPECT_EQ(pod->Display(), "pod/nrsut-x");
  auto vm = ParseSutObjectRef("virtualmachine/nrsut-x");
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->resource, &kube::kVirtualMachines);
  for (const char* bad :
       {"", "nrsut-x", "pod/kube-apiserver", "deployment/nrsut-x", "pod/nrsut-X"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseSutObjectRef(bad).status())) << bad;
  }
}

// ---------------------------------------------------------------- readiness

Json PodWithStatus(const std::string& status_json) {
  Json pod;
  pod["metadata"]["name"] = "nrsut-run-1";
  pod["status"] = Json::parse(status_json);
  return pod;
}

TEST(PodReadinessTest, ReadyConditionTrueIsReady) {
  EXPECT_EQ(PodReadiness(PodWithStatus(R"({"phase": "Running",
      "conditions": [{"type": "Ready", "status": "True"}]})"))
                .state,
            Readiness::State::kReady);
}

TEST(PodReadinessTest, PendingSaysWhatIsMissing) {
  Readiness r = PodReadiness(PodWithStatus(R"({"phase": "Pending", "conditions": [
      {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
       "message": "containers with unready status: [sut]"}]})"));
  EXPECT_EQ(r.state, Readiness::State::kPending);
  EXPECT_EQ(r.detail,
            "pod nrsut-run-1 phase Pending, Ready condition is False "
            "(ContainersNotReady: containers with unready status: [sut])");
  EXPECT_EQ(PodReadiness(PodWithStatus("{}")).detail,
            "pod nrsut-run-1 phase (none), no Ready condition");
}

TEST(PodReadinessTest, FailuresAreReportedWithTheirReason) {
  Readiness failed = PodReadiness(PodWithStatus(R"({"phase": "Failed", "reason": "Evicted",
      "message": "low on memory", "containerStatuses": [{"name": "sut",
      "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}]})"));
  EXPECT_EQ(failed.state, Readiness::State::kFailed);
  EXPECT_EQ(failed.detail,
            "pod nrsut-run-1 ended (phase Failed): Evicted: low on memory; "
            "container sut exited with code 3 (Error)");
  Readiness pull = PodReadiness(PodWithStatus(R"({"phase": "Pending", "containerStatuses": [
      {"name": "sut", "state": {"waiting": {"reason": "ImagePullBackOff",
       "message": "Back-off pulling image \"nope\""}}}]})"));
  EXPECT_EQ(pull.state, Readiness::State::kFailed);
  EXPECT_EQ(pull.detail,
            "pod nrsut-run-1: container sut ImagePullBackOff: Back-off pulling image \"nope\"");
  Readiness crash = PodReadiness(PodWithStatus(R"({"phase": "Running", "containerStatuses": [
      {"name": "sut", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})"));
  EXPECT_EQ(crash.state, Readiness::State::kFailed);
  Readiness unsched = PodReadiness(PodWithStatus(R"({"phase": "Pending", "conditions": [
      {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
       "message": "0/3 nodes are available: 3 Insufficient intel.com/sriov."}]})"));
  EXPECT_EQ(unsched.state, Readiness::State::kFailed);
  EXPECT_THAT(unsched.detail, HasSubstr("unschedulable: 0/3 nodes are available"));
  // Being pulled is not a failure yet.
  EXPECT_EQ(PodReadiness(PodWithStatus(R"({"phase": "Pending", "containerStatuses": [
      {"name": "sut", "state": {"waiting": {"reason": "ContainerCreating"}}}]})"))
                .state,
            Readiness::State::kPending);
  Json deleting = PodWithStatus(R"({"phase": "Running"})");
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_EQ(PodReadiness(deleting).state, Readiness::State::kFailed);
}

TEST(VirtualMachineReadinessTest, ReadyFlagOrConditionAndFailures) {
  Json vm;
  vm["metadata"]["name"] = "nrsut-run-1";
  vm["status"] = Json::parse(R"({"printableStatus": "Starting"})");
  EXPECT_EQ(VirtualMachineReadiness(vm).state, Readiness::State::kPending);
  EXPECT_EQ(VirtualMachineReadiness(vm).detail,
            "virtualmachine nrsut-run-1 status Starting, no Ready condition");
  vm["status"]["ready"] = true;
  EXPECT_EQ(VirtualMachineReadiness(vm).state, Readiness::State::kReady);
  vm["status"] = Json::parse(R"({"conditions": [{"type": "Ready", "status": "True"}]})");
  EXPECT_EQ(VirtualMachineReadiness(vm).state, Readiness::State::kReady);
  vm["status"] = Json::parse(R"({"printableStatus": "ErrorUnschedulable"})");
  EXPECT_EQ(VirtualMachineReadiness(vm).state, Readiness::State::kFailed);
  EXPECT_EQ(VirtualMachineReadiness(vm).detail, "virtualmachine nrsut-run-1 is ErrorUnschedulable");
  vm["status"] = Json::parse(R"({"conditions": [{"type": "Failure", "status": "True",
      "reason": "FailedCreate", "message": "quota"}]})");
  EXPECT_EQ(VirtualMachineReadiness(vm).detail,
            "virtualmachine nrsut-run-1: Failure condition is True (FailedCreate: quota)");
}

// ---------------------------------------------------------------- network-status

constexpr char kNetworkStatus[] = R"([
  {"name": "cbr0", "interface": "eth0", "ips": ["10.244.0.7"], "mac": "aa:aa:aa:aa:aa:aa",
   "default": true},
  {"name": "lab/sut-east", "interface": "east", "ips": ["fd00::1", "198.19.1.1"],
   "mac": "02:00:00:00:00:02"},
  {"name": "lab/sut-west", "interface": "west", "ips": ["198.18.1.1"],
   "mac": "02:00:00:00:00:01"}])";

TEST(NetworkStatusTest, ParsesTheAnnotation) {
  auto st = ParseNetworkStatus(kNetworkStatus);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->size(), 3u);
  EXPECT_TRUE((*st)[0].is_default);
  EXPECT_EQ((*st)[1].name, "lab/sut-east");
  EXPECT_EQ((*st)[1].interface, "east");
  EXPECT_THAT((*st)[1].ips, ElementsAre("fd00::1", "198.19.1.1"));
  EXPECT_EQ((*st)[2].mac, "02:00:00:00:00:01");
}

TEST(NetworkStatusTest, MalformedAnnotationsAreClearErrors) {
  EXPECT_EQ(ParseNetworkStatus("[{").status().message(),
            "annotation k8s.v1.cni.cncf.io/network-status: not valid JSON: \"[{\"");
  EXPECT_EQ(ParseNetworkStatus(R"({"name": "x"})").status().message(),
            "annotation k8s.v1.cni.cncf.io/network-status: expected a JSON list of "
            "attachments, got a object");
  EXPECT_EQ(ParseNetworkStatus(R"([{"interface": "net1"}])").status().message(),
            "annotation k8s.v1.cni.cncf.io/network-status[0].name: required");
  EXPECT_EQ(ParseNetworkStatus(R"([{"name": "a", "ips": "10.0.0.1"}])").status().message(),
            "annotation k8s.v1.cni.cncf.io/network-status[0].ips: expected a list");
}

TEST(NetworkStatusTest, FillsPodLinksAndNextHopsInLinkOrder) {
  auto plan = PlanKubeSut(PodTemplate(), TwoLinks(), "lab");
  ASSERT_TRUE(plan.ok());
  Json pod = RenderPod(*plan, PodTemplate().spec().pod());
  SutInstance inst = InstanceOf(*plan);
  ASSERT_TRUE(FillLinksFromNetworkStatus(pod, kNetworkStatus, inst).ok());
  ASSERT_EQ(inst.links.size(), 2u);
  EXPECT_EQ(inst.links[0].name, "west");
  EXPECT_EQ(inst.links[0].sut_mac, "02:00:00:00:00:01");
  EXPECT_EQ(inst.links[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst.links[1].ipv4, "198.19.1.1");  // the IPv4 one of two
  ASSERT_EQ(inst.next_hops.size(), 2u);
  EXPECT_EQ(inst.next_hops[0].link, "west");
  EXPECT_EQ(inst.next_hops[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst.next_hops[0].mac, "02:00:00:00:00:01");
  EXPECT_EQ(inst.next_hops[1].link, "east");
  EXPECT_EQ(inst.next_hops[1].mac, "02:00:00:00:00:02");
}

TEST(NetworkStatusTest, MissingInterfaceNamesLinkAndNetwork) {
  auto plan = PlanKubeSut(PodTemplate(), TwoLinks(), "lab");
  ASSERT_TRUE(plan.ok());
  Json pod = RenderPod(*plan, PodTemplate().spec().pod());
  SutInstance inst = InstanceOf(*plan);
  absl::Status s = FillLinksFromNetworkStatus(
      pod, R"([{"name": "lab/sut-west", "interface": "west", "mac": "02:00:00:00:00:01"}])", inst);
  EXPECT_TRUE(absl::IsNotFound(s));
  EXPECT_EQ(s.message(),
            "k8s.v1.cni.cncf.io/network-status lists no interface east "
            "(link east, network lab/sut-east)");
  EXPECT_TRUE(inst.next_hops.empty()) << "nothing filled on error";
  EXPECT_TRUE(absl::IsInvalidArgument(FillLinksFromNetworkStatus(pod, "nope", inst)));
}

TEST(NetworkStatusTest, VirtualMachineLinksMatchByNetworkAndUseGuestMacs) {
  v1::SutTemplate t = VmTemplate();
  t.mutable_spec()->mutable_vm()->set_networks(1, "sriov-west");  // both links on one network
  auto plan = PlanKubeSut(t, TwoLinks(), "lab");
  ASSERT_TRUE(plan.ok());
  Json vm = RenderVirtualMachine(*plan, t.spec().vm());
  SutInstance inst = InstanceOf(*plan);
  // KubeVirt's own interface names on the virt-launcher pod; the k-th entry of a network is
  // the k-th interface on it.
  const std::string launcher_status = R"([
      {"name": "k8s-pod-network", "interface": "eth0", "ips": ["10.0.0.9"], "default": true},
      {"name": "lab/sriov-west", "interface": "pod16367aacb67", "ips": ["198.18.1.1"],
       "mac": "aa:00:00:00:00:01"},
      {"name": "sriov-west", "interface": "podb1f51a511f1", "ips": ["198.19.1.1"],
       "mac": "aa:00:00:00:00:02"}])";
  ASSERT_TRUE(FillLinksFromNetworkStatus(vm, launcher_status, inst).ok());
  EXPECT_EQ(inst.next_hops[0].ipv4, "198.18.1.1");
  EXPECT_EQ(inst.next_hops[1].ipv4, "198.19.1.1");
  EXPECT_EQ(inst.next_hops[0].mac, plan->attachments[0].mac) << "the guest's MAC, not the pod's";
  EXPECT_EQ(inst.next_hops[1].mac, plan->attachments[1].mac);
  absl::Status missing = FillLinksFromNetworkStatus(
      vm, R"([{"name": "lab/sriov-west", "interface": "pod1", "ips": ["198.18.1.1"]}])", inst);
  EXPECT_TRUE(absl::IsNotFound(missing));
  EXPECT_THAT(missing.message(), HasSubstr("no attachment to lab/sriov-west for link east"));
}

// ---------------------------------------------------------------- the example template

std::string ReadSource(const std::string& path) {
  std::ifstream in(std::string(NETRIG_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ExampleTemplateTest, K8sLinuxRouterParsesAndRendersAPodWithTwoNetworks) {
  const std::string text = ReadSource("sut/templates/k8s-linux-router.yaml");
  ASSERT_FALSE(text.empty()) << "missing sut/templates/k8s-linux-router.yaml";
  spec::Parsed<v1::SutTemplate> parsed = spec::ParseSutTemplate(text);
  for (const auto& e : parsed.errors) ADD_FAILURE() << e.ToString();
  for (const auto& w : parsed.warnings) ADD_FAILURE() << "warning: " << w.ToString();
  EXPECT_EQ(parsed.object.metadata().name(), "k8s-linux-router");
  EXPECT_EQ(parsed.object.spec().kind(), "pod");
  EXPECT_EQ(parsed.object.spec().pod().networks_size(), 2);
  auto plan = PlanKubeSut(parsed.object, TwoLinks(), "default");
  ASSERT_TRUE(plan.ok()) << plan.status();
  const Json pod = RenderPod(*plan, parsed.object.spec().pod());
  EXPECT_THAT(pod["spec"]["containers"][0]["image"].get<std::string>(), HasSubstr("debian"));
  // Every parameter reaches the container as NETRIG_PARAM_<NAME>.
  std::set<std::string> env;
  for (const Json& e : pod["spec"]["containers"][0]["env"]) env.insert(e["name"]);
  for (const auto& [name, value] : parsed.object.spec().parameters()) {
    EXPECT_TRUE(env.count(ParamEnvName(name))) << name;
  }
}

}  // namespace
}  // namespace netrig::controller::sut
