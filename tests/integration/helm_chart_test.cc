// helm/netrig with the real helm (tests/tools): lint, template with the default and the
// production-like values (the rendered objects parsed and checked), values.schema.json
// rejecting bad values by name, package (the dashboards symlink is followed), and install /
// uninstall into a throwaway kube-apiserver (tests/support/kube_apiserver.h).
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/kube_apiserver.h"
#include "tests/support/process.h"

namespace netrig {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::KubeApiServer;
using testing::ReadFile;

const std::string kSource = NETRIG_SOURCE_DIR;
const std::string kChart = kSource + "/helm/netrig";
const std::string kProduction = kChart + "/values-production.yaml";

struct Object {
  std::string kind, name, ns;
  YAML::Node node;
};

// Runs helm without a cluster; HELM_*_HOME point into a temp dir so nothing outside it is read
// or written.
class HelmChartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    helm_ = testing::FindHelmBinary();
    if (helm_.empty()) {
      GTEST_SKIP() << "helm is not built: run tests/tools/build.sh helm (tests/tools/README.md)";
    }
    char tmpl[] = "/tmp/netrig-helm-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) testing::RunCommand("rm -rf '" + dir_ + "'");
  }

  testing::CommandResult Helm(const std::string& args) const {
    return testing::RunCommand(absl::StrCat("HELM_CONFIG_HOME=", dir_, " HELM_CACHE_HOME=", dir_,
                                            " HELM_DATA_HOME=", dir_, " ", helm_, " ", args,
                                            " 2>&1"));
  }

  std::string WriteValues(const std::string& name, const std::string& yaml) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << yaml;
    return path;
  }

  // `helm template` of release "netrig" in namespace "netrig", parsed. Fails the test when helm
  // fails or an object lacks apiVersion, kind or metadata.name.
  std::vector<Object> Template(const std::string& extra_args = "") const {
    std::vector<Object> objects;
    // Stdout only: helm warns about the dashboards symlink on stderr.
    const auto r = testing::RunCommand(absl::StrCat(
        "HELM_CONFIG_HOME=", dir_, " HELM_CACHE_HOME=", dir_, " HELM_DATA_HOME=", dir_, " ",
        helm_, " template netrig ", kChart, " --namespace netrig ", extra_args,
        " 2>", dir_, "/template.err"));
    EXPECT_EQ(r.exit_code, 0) << ReadFile(dir_ + "/template.err");
    if (r.exit_code != 0) return objects;
    for (const YAML::Node& doc : YAML::LoadAll(r.out)) {
      if (!doc.IsDefined() || doc.IsNull()) continue;
      Object o;
      o.node = doc;
      EXPECT_TRUE(doc["apiVersion"].IsScalar()) << YAML::Dump(doc).substr(0, 300);
      EXPECT_TRUE(doc["kind"].IsScalar()) << YAML::Dump(doc).substr(0, 300);
      EXPECT_TRUE(doc["metadata"]["name"].IsScalar()) << YAML::Dump(doc).substr(0, 300);
      if (!doc["kind"] || !doc["metadata"]["name"]) continue;
      o.kind = doc["kind"].as<std::string>();
      o.name = doc["metadata"]["name"].as<std::string>();
      if (doc["metadata"]["namespace"]) o.ns = doc["metadata"]["namespace"].as<std::string>();
      objects.push_back(o);
    }
    return objects;
  }

  std::string helm_, dir_;
};

std::multiset<std::string> Kinds(const std::vector<Object>& objects) {
  std::multiset<std::string> kinds;
  for (const Object& o : objects) kinds.insert(o.kind);
  return kinds;
}

const Object* Find(const std::vector<Object>& objects, const std::string& kind,
                   const std::string& name) {
  for (const Object& o : objects) {
    if (o.kind == kind && o.name == name) return &o;
  }
  return nullptr;
}

std::vector<std::string> Args(const Object& deployment) {
  return deployment.node["spec"]["template"]["spec"]["containers"][0]["args"]
      .as<std::vector<std::string>>();
}

// Every rule of every Role/ClusterRole: no wildcard verb, resource or API group.
std::vector<std::string> Wildcards(const std::vector<Object>& objects) {
  std::vector<std::string> found;
  for (const Object& o : objects) {
    if (o.kind != "Role" && o.kind != "ClusterRole") continue;
    EXPECT_TRUE(o.node["rules"].IsSequence()) << o.kind << "/" << o.name;
    for (const auto& rule : o.node["rules"]) {
      for (const char* key : {"verbs", "resources", "apiGroups", "resourceNames"}) {
        if (!rule[key]) continue;
        for (const auto& v : rule[key]) {
          if (absl::StrContains(v.as<std::string>(), "*")) {
            found.push_back(absl::StrCat(o.kind, "/", o.name, " ", key, ": ", v.as<std::string>()));
          }
        }
      }
    }
  }
  return found;
}

TEST_F(HelmChartTest, LintPassesWithDefaultAndProductionValues) {
  const auto defaults = Helm("lint --strict " + kChart);
  EXPECT_EQ(defaults.exit_code, 0) << defaults.out;
  EXPECT_THAT(defaults.out, HasSubstr("1 chart(s) linted, 0 chart(s) failed"));
  const auto production = Helm("lint --strict " + kChart + " -f " + kProduction);
  EXPECT_EQ(production.exit_code, 0) << production.out;
}

TEST_F(HelmChartTest, DefaultValuesRenderTheCoreObjects) {
  const std::vector<Object> objects = Template();
  ASSERT_FALSE(objects.empty());
  const std::multiset<std::string> kinds = Kinds(objects);
  EXPECT_EQ(kinds.count("Deployment"), 2u);      // controller, operator
  EXPECT_EQ(kinds.count("StatefulSet"), 1u);     // etcd
  EXPECT_EQ(kinds.count("Service"), 4u);         // controller, operator, etcd, etcd-headless
  EXPECT_EQ(kinds.count("ServiceAccount"), 3u);  // controller, operator, agent
  EXPECT_EQ(kinds.count("ClusterRole"), 1u);     // operator, all namespaces
  EXPECT_GE(kinds.count("Role"), 3u);            // controller SUTs, agent workloads, lease
  EXPECT_EQ(kinds.count("ConfigMap"), 3u);       // the three dashboards
  EXPECT_EQ(kinds.count("ServiceMonitor"), 0u);  // off by default
  EXPECT_EQ(kinds.count("PrometheusRule"), 0u);
  EXPECT_EQ(kinds.count("AgentPool"), 0u);
  EXPECT_EQ(kinds.count("CustomResourceDefinition"), 0u);  // crds/ is not templated

  const Object* controller = Find(objects, "Deployment", "netrig-controller");
  ASSERT_NE(controller, nullptr);
  EXPECT_EQ(controller->ns, "netrig");
  EXPECT_EQ(controller->node["spec"]["replicas"].as<int>(), 2);
  const std::vector<std::string> args = Args(*controller);
  EXPECT_THAT(args, Contains("--store=etcd:netrig-etcd.netrig.svc:2379"));
  EXPECT_THAT(args, Contains("--leader-elect"));
  EXPECT_THAT(args, Contains("--sut-provider=kubernetes"));
  EXPECT_THAT(args, Contains("--kube-namespace=netrig"));
  EXPECT_THAT(absl::StrJoin(args, " "), ::testing::Not(HasSubstr("--tls")));
  EXPECT_EQ(controller->node["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
                           ["httpGet"]["path"].as<std::string>(),
            "/readyz");
  EXPECT_EQ(controller->node["spec"]["template"]["spec"]["containers"][0]["image"]
                .as<std::string>(),
            "netrig/controller:0.1.0");

  const Object* op = Find(objects, "Deployment", "netrig-operator");
  ASSERT_NE(op, nullptr);
  EXPECT_THAT(Args(*op), Contains("--controller=netrig-controller.netrig.svc:7400"));
  EXPECT_THAT(Args(*op), Contains("--agent-image=netrig/agent:0.1.0"));
  EXPECT_THAT(Args(*op), Contains("--leader-elect"));

  const Object* etcd = Find(objects, "StatefulSet", "netrig-etcd");
  ASSERT_NE(etcd, nullptr);
  EXPECT_EQ(etcd->node["spec"]["replicas"].as<int>(), 1);

  EXPECT_THAT(Wildcards(objects), IsEmpty());
  // The controller's Role: pods and SutTemplates in the SUT namespace, no KubeVirt by default.
  const Object* sut_role = Find(objects, "Role", "netrig-controller-sut");
  ASSERT_NE(sut_role, nullptr);
  EXPECT_THAT(YAML::Dump(sut_role->node["rules"]), ::testing::Not(HasSubstr("kubevirt")));
}

TEST_F(HelmChartTest, DashboardConfigMapsCarryTheRepositoryFiles) {
  const std::vector<Object> objects = Template();
  int dashboards = 0;
  for (const Object& o : objects) {
    if (o.kind != "ConfigMap" || !absl::StrContains(o.name, "-dashboard-")) continue;
    ++dashboards;
    EXPECT_EQ(o.node["metadata"]["labels"]["grafana_dashboard"].as<std::string>(), "1") << o.name;
    ASSERT_EQ(o.node["data"].size(), 1u) << o.name;
    for (const auto& entry : o.node["data"]) {
      const std::string file = entry.first.as<std::string>();
      std::string want = ReadFile(kSource + "/dashboards/" + file);
      while (!want.empty() && want.back() == '\n') want.pop_back();  // |- block scalar
      EXPECT_FALSE(want.empty()) << file;
      EXPECT_EQ(entry.second.as<std::string>(), want) << file;
    }
  }
  EXPECT_EQ(dashboards, 3);
}

TEST_F(HelmChartTest, ProductionValuesRenderHaTlsAndMonitoring) {
  const std::vector<Object> objects =
      Template("-f " + kProduction +
               " --set controller.tls.secretName=netrig-controller-tls"
               " --set controller.tls.clientCASecretName=netrig-client-ca");
  ASSERT_FALSE(objects.empty());
  const Object* etcd = Find(objects, "StatefulSet", "netrig-etcd");
  ASSERT_NE(etcd, nullptr);
  EXPECT_EQ(etcd->node["spec"]["replicas"].as<int>(), 3);
  EXPECT_TRUE(etcd->node["spec"]["volumeClaimTemplates"].IsSequence());
  const std::string etcd_args = absl::StrJoin(
      etcd->node["spec"]["template"]["spec"]["containers"][0]["args"].as<std::vector<std::string>>(),
      " ");
  EXPECT_THAT(etcd_args, HasSubstr("netrig-etcd-2=http://netrig-etcd-2.netrig-etcd-headless.netrig.svc:2380"));

  const Object* controller = Find(objects, "Deployment", "netrig-controller");
  ASSERT_NE(controller, nullptr);
  EXPECT_EQ(controller->node["spec"]["replicas"].as<int>(), 2);
  const std::vector<std::string> args = Args(*controller);
  EXPECT_THAT(args, Contains("--tls-cert=/etc/netrig/tls/tls.crt"));
  EXPECT_THAT(args, Contains("--tls-client-ca=/etc/netrig/client-ca/ca.crt"));
  EXPECT_THAT(args, Contains("--kube-namespace=netrig-sut"));
  EXPECT_EQ(controller->node["spec"]["template"]["spec"]["containers"][0]["image"]
                .as<std::string>(),
            "registry.example.com/netrig/controller:0.1.0");
  EXPECT_THAT(YAML::Dump(controller->node["spec"]["template"]["spec"]["volumes"]),
              HasSubstr("secretName: netrig-controller-tls"));

  // Watched namespaces: Roles there, no ClusterRole.
  const std::multiset<std::string> kinds = Kinds(objects);
  EXPECT_EQ(kinds.count("ClusterRole"), 0u);
  std::set<std::string> operator_role_namespaces;
  for (const Object& o : objects) {
    if (o.kind == "Role" && o.name == "netrig-operator") operator_role_namespaces.insert(o.ns);
  }
  EXPECT_EQ(operator_role_namespaces, (std::set<std::string>{"netrig", "netrig-ci"}));
  const Object* sut_role = Find(objects, "Role", "netrig-controller-sut");
  ASSERT_NE(sut_role, nullptr);
  EXPECT_EQ(sut_role->ns, "netrig-sut");
  EXPECT_THAT(YAML::Dump(sut_role->node["rules"]), HasSubstr("virtualmachines"));
  EXPECT_THAT(Wildcards(objects), IsEmpty());

  EXPECT_EQ(kinds.count("ServiceMonitor"), 1u);
  const Object* rules = Find(objects, "PrometheusRule", "netrig");
  ASSERT_NE(rules, nullptr);
  EXPECT_THAT(YAML::Dump(rules->node["spec"]), HasSubstr("netrig:run_pass:ratio"));
  const Object* pool = Find(objects, "AgentPool", "default");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->node["spec"]["sriovResource"].as<std::string>(), "intel.com/sriov_netdevice");
}

TEST_F(HelmChartTest, ValuesViolatingTheSchemaFailNamingTheField) {
  struct Case {
    std::string values;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"controller:\n  replicas: two\n", {"controller.replicas", "integer"}},
      {"controler:\n  replicas: 2\n", {"controler", "not allowed"}},
      {"etcd:\n  replicas: 2\n", {"etcd.replicas"}},
      {"controller:\n  sut:\n    provider: docker\n", {"controller.sut.provider"}},
      {"operator:\n  watchNamespaces: [Bad_NS]\n", {"operator.watchNamespaces.0"}},
      {"etcd:\n  enabled: false\n", {"etcd.external"}},
      {"controller:\n  leaderElect: false\n", {"controller.leaderElect"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].values);
    const std::string file = WriteValues("bad-" + std::to_string(i) + ".yaml", cases[i].values);
    const auto r = Helm("template netrig " + kChart + " -n netrig -f " + file);
    EXPECT_NE(r.exit_code, 0) << r.out.substr(0, 400);
    for (const std::string& e : cases[i].expected) EXPECT_THAT(r.out, HasSubstr(e));
  }
}

TEST_F(HelmChartTest, PackageFollowsTheDashboardsSymlink) {
  const auto r = Helm("package " + kChart + " -d " + dir_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto listing = testing::RunCommand("tar tzf " + dir_ + "/netrig-0.1.0.tgz");
  ASSERT_EQ(listing.exit_code, 0);
  EXPECT_THAT(listing.out, HasSubstr("netrig/dashboards/ccm-kpis.json"));
  EXPECT_THAT(listing.out, HasSubstr("netrig/dashboards/rules/netrig.rules.yaml"));
  EXPECT_THAT(listing.out, HasSubstr("netrig/crds/testruns.yaml"));
  // .helmignore keeps the rest of dashboards/ out.
  EXPECT_THAT(listing.out, ::testing::Not(HasSubstr("netrig.rules.test.yaml")));
  EXPECT_THAT(listing.out, ::testing::Not(HasSubstr("provisioning")));
  // The packaged chart renders like the directory.
  const auto rendered = Helm("template netrig " + dir_ + "/netrig-0.1.0.tgz -n netrig");
  EXPECT_EQ(rendered.exit_code, 0) << rendered.out.substr(0, 400);
  EXPECT_THAT(rendered.out, HasSubstr("netrig-dashboard-run-detail"));
}

class HelmInstallTest : public HelmChartTest {
 protected:
  void SetUp() override {
    HelmChartTest::SetUp();
    if (IsSkipped()) return;
    auto api = KubeApiServer::Start();
    if (absl::IsFailedPrecondition(api.status())) GTEST_SKIP() << api.status();
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
  }

  // kubectl get for every rendered object; returns the ones kubectl could not get.
  std::vector<std::string> Missing(const std::vector<Object>& objects) const {
    std::vector<std::string> missing;
    for (const Object& o : objects) {
      const std::string group = Group(o);
      const std::string resource = group.empty() ? o.kind : o.kind + "." + group;
      std::vector<std::string> args = {"get", resource, o.name, "-o", "name"};
      if (!o.ns.empty()) args.insert(args.end(), {"-n", o.ns});
      const auto r = api_->Kubectl(args);
      if (r.exit_code != 0) missing.push_back(o.kind + "/" + o.name + ": " + r.err);
    }
    return missing;
  }

  // The API group of an object (for an unambiguous kubectl resource name).
  static std::string Group(const Object& o) {
    const std::string api_version = o.node["apiVersion"].as<std::string>();
    const size_t slash = api_version.find('/');
    return slash == std::string::npos ? "" : api_version.substr(0, slash);
  }

  std::unique_ptr<KubeApiServer> api_;
};

TEST_F(HelmInstallTest, InstallCreatesEveryRenderedObjectAndUninstallRemovesThem) {
  const std::string set = "--set agent.defaultPool.enabled=true";
  const std::vector<Object> objects = Template(set);
  ASSERT_FALSE(objects.empty());
  auto installed = api_->Helm({"install", "netrig", kChart, "--namespace", "netrig",
                               "--create-namespace", "--wait=false", "--set",
                               "agent.defaultPool.enabled=true"});
  ASSERT_TRUE(installed.ok()) << installed.status();
  ASSERT_EQ(installed->exit_code, 0) << installed->err << installed->out;

  // The CRDs came from crds/ and are served; the default AgentPool passed their validation.
  for (const char* crd : {"testruns", "testsuites", "agentpools", "suttemplates"}) {
    const auto r = api_->Kubectl({"get", std::string("crd/") + crd + ".netrig.io"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_THAT(Missing(objects), IsEmpty());
  const auto replicas = api_->Kubectl(
      {"get", "deployment", "netrig-controller", "-n", "netrig", "-o", "jsonpath={.spec.replicas}"});
  EXPECT_EQ(replicas.out, "2");

  // The operator's ServiceAccount may do what the operator does, and not more.
  const auto can = [&](const std::string& verb, const std::string& resource,
                       const std::string& ns, const std::string& subresource = "") {
    std::vector<std::string> args = {"auth", "can-i", verb, resource, "-n", ns,
                                     "--as=system:serviceaccount:netrig:netrig-operator"};
    if (!subresource.empty()) args.push_back("--subresource=" + subresource);
    return absl::StartsWith(api_->Kubectl(args).out, "yes");
  };
  EXPECT_TRUE(can("patch", "testruns.netrig.io", "team-a", "status"));
  EXPECT_TRUE(can("update", "agentpools.netrig.io", "team-a", "finalizers"));
  EXPECT_FALSE(can("delete", "agentpools.netrig.io", "team-a"));
  EXPECT_TRUE(can("create", "deployments.apps", "netrig"));
  EXPECT_FALSE(can("create", "deployments.apps", "team-a"));
  EXPECT_FALSE(can("get", "secrets", "netrig"));
  EXPECT_FALSE(can("create", "pods", "netrig"));

  auto uninstalled = api_->Helm({"uninstall", "netrig", "--namespace", "netrig"});
  ASSERT_TRUE(uninstalled.ok()) << uninstalled.status();
  ASSERT_EQ(uninstalled->exit_code, 0) << uninstalled->err;
  EXPECT_EQ(Missing(objects).size(), objects.size()) << "objects left after helm uninstall";
  // Helm never deletes CRDs (they hold the users' objects).
  const auto crd = api_->Kubectl({"get", "crd/testruns.netrig.io"});
  EXPECT_EQ(crd.exit_code, 0) << crd.err;
}

TEST_F(HelmInstallTest, ProductionValuesInstall) {
  // The Prometheus Operator CRDs are not in the test apiserver: leave those two objects out.
  const std::string overrides =
      "--set monitoring.serviceMonitor.enabled=false --set monitoring.prometheusRules.enabled=false";
  const std::vector<Object> objects = Template("-f " + kProduction + " " + overrides);
  ASSERT_FALSE(objects.empty());
  for (const char* ns : {"netrig-ci", "netrig-sut"}) {
    ASSERT_EQ(api_->Kubectl({"create", "namespace", ns}).exit_code, 0);
  }
  auto installed = api_->Helm(
      {"install", "netrig", kChart, "--namespace", "netrig", "--create-namespace",
       "--wait=false", "-f", kProduction, "--set", "monitoring.serviceMonitor.enabled=false",
       "--set", "monitoring.prometheusRules.enabled=false"});
  ASSERT_TRUE(installed.ok()) << installed.status();
  ASSERT_EQ(installed->exit_code, 0) << installed->err << installed->out;
  EXPECT_THAT(Missing(objects), IsEmpty());
  const auto pool = api_->Kubectl(
      {"get", "agentpool", "default", "-n", "netrig", "-o", "jsonpath={.spec.scaling.maxReplicas}"});
  EXPECT_EQ(pool.out, "4") << pool.err;
}

}  // namespace
}  // namespace netrig
