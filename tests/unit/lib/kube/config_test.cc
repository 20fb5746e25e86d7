#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "lib/kube/client.h"

namespace netrig::kube {
namespace {

namespace fs = std::filesystem;

// A temp directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kube-config-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Sets (or unsets, with nullopt) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
    }
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

constexpr char kTwoContexts[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: Q0EtUEVN
- name: lab-cluster
  cluster:
    server: https://10.0.0.5:443
    insecure-skip-tls-verify: true
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: lab
  context: {cluster: lab-cluster, user: lab-user}
users:
- name: dev-user
  user:
    token: dev-token
- name: lab-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
)";

TEST(KubeconfigTest, CurrentContextWithTokenCaDataAndNamespace) {
  TempDir dir;
  const std::string path = dir.Write("config", kTwoContexts);
  absl::StatusOr<Config> c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://dev.example:6443");  // trailing slash dropped
  EXPECT_EQ(c->token, "dev-token");
  EXPECT_EQ(c->ca_pem, "CA-PEM");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->default_namespace, "team-a");
  EXPECT_EQ(c->source, path);
  EXPECT_TRUE(c->client_cert_pem.empty());
}

TEST(KubeconfigTest, NamedContextWithClientCertificateData) {
  TempDir dir;
  absl::StatusOr<Config> c = LoadKubeconfig(dir.Write("config", kTwoContexts), "lab");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.0.0.5:443");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->token.empty());
  EXPECT_EQ(c->default_namespace, "default");
}

TEST(KubeconfigTest, FilesAreRelativeToTheKubeconfigDirectory) {
  TempDir dir;
  dir.Write("certs/ca.crt", "CA FROM FILE");
  dir.Write("certs/client.crt", "CERT FROM FILE");
  dir.Write("certs/client.key", "KEY FROM FILE");
  dir.Write("token", "token-from-file\n");
  const std::string path = dir.Write("kube/config", R"(
current-context: c
clusters:
- name: k
  cluster:
    server: https://k:6443
    certificate-authority: ../certs/ca.crt
contexts:
- name: c
  context: {cluster: k, user: u}
users:
- name: u
  user:
    tokenFile: ../token
    client-certificate: ../certs/client.crt
    client-key: )" + dir.path() + "/certs/client.key\n");
  absl::StatusOr<Config> c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ca_pem, "CA FROM FILE");
  EXPECT_EQ(c->client_cert_pem, "CERT FROM FILE");
  EXPECT_EQ(c->client_key_pem, "KEY FROM FILE");
  EXPECT_EQ(c->token, "token-from-file");
  EXPECT_EQ(c->token_file, dir.path() + "/kube/../token");
}

// Each bad kubeconfig fails with the file and the entry in the message.
struct BadCase {
  const char* name;
  std::string yaml;
  std::string context;
  absl::StatusCode code;
  std::string expected;  // a substring of the message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadKubeconfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadKubeconfigTest, FailsNamingTheEntry) {
  TempDir dir;
  const std::string path = dir.Write("config", GetParam().yaml);
  absl::StatusOr<Config> c = LoadKubeconfig(path, GetParam().context);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), GetParam().code) << c.status();
  EXPECT_NE(c.status().message().find("kubeconfig " + path + ": "), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find(GetParam().expected), std::string::npos) << c.status();
}

const std::string kHead = R"(
clusters:
- name: k
  cluster: {server: "https://k:6443"}
contexts:
- name: c
  context: {cluster: k, user: u}
)";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadKubeconfigTest,
    ::testing::Values(
        BadCase{"UnknownContext", kTwoContexts, "prod", absl::StatusCode::kNotFound,
                "contexts: no entry named \"prod\""},
        BadCase{"NoCurrentContext", kHead + "users: []\n", "",
                absl::StatusCode::kFailedPrecondition, "current-context: not set"},
        BadCase{"MissingUser", kHead + "users: []\n", "c", absl::StatusCode::kNotFound,
                "users: no entry named \"u\""},
        BadCase{"BadBase64", kHead + "users:\n- name: u\n  user: {client-key-data: '%%%'}\n", "c",
                absl::StatusCode::kInvalidArgument,
                "users[name=u].user.client-key-data: not valid base64"},
        BadCase{"MissingCertFile",
                kHead + "users:\n- name: u\n  user: {client-certificate: nope.crt, client-key: "
                        "nope.key}\n",
                "c", absl::StatusCode::kInvalidArgument,
                "users[name=u].user.client-certificate: cannot read"},
        BadCase{"CertWithoutKey",
                kHead + "users:\n- name: u\n  user: {client-certificate-data: "
                        "Q0VSVA==}\n",
                "c", absl::StatusCode::kInvalidArgument,
                "client-certificate and client-key must be given together"},
        BadCase{"ExecPlugin", kHead + "users:\n- name: u\n  user: {exec: {command: aws}}\n", "c",
                absl::StatusCode::kUnimplemented, "users[name=u].user: exec and auth-provider"},
        BadCase{"MissingServer",
                "contexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: "
                "{insecure-skip-tls-verify: true}\n",
                "c", absl::StatusCode::kInvalidArgument,
                "clusters[name=k].cluster.server: missing"},
        BadCase{"NotYaml", "clusters: [unclosed\n", "", absl::StatusCode::kInvalidArgument,
                "invalid YAML"},
        BadCase{"NotAMap", "- a\n- b\n", "", absl::StatusCode::kInvalidArgument,
                "not a kubeconfig"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(KubeconfigTest, MissingFileIsNotFoundNamingThePath) {
  const absl::Status s = LoadKubeconfig("/nonexistent/kubeconfig").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("/nonexistent/kubeconfig"), std::string::npos) << s;
}

TEST(InClusterConfigTest, ReadsTheServiceAccountDirectory) {
  TempDir dir;
  dir.Write("token", "sa-token\n");
  dir.Write("ca.crt", "CLUSTER CA");
  dir.Write("namespace", "netrig-system\n");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  absl::StatusOr<Config> c = InClusterConfig(dir.path());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token, "sa-token");
  EXPECT_EQ(c->token_file, dir.path() + "/token");
  EXPECT_EQ(c->ca_pem, "CLUSTER CA");
  EXPECT_EQ(c->default_namespace, "netrig-system");
  EXPECT_EQ(c->source, "in-cluster");
}

TEST(InClusterConfigTest, BracketsAnIpv6Host) {
  TempDir dir;
  dir.Write("token", "t");
  dir.Write("ca.crt", "ca");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00::1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "6443");
  absl::StatusOr<Config> c = InClusterConfig(dir.path());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://[fd00::1]:6443");
  EXPECT_EQ(c->default_namespace, "default");  // no namespace file
}

TEST(InClusterConfigTest, OutsideAPodIsFailedPrecondition) {
  TempDir dir;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", std::nullopt);
  absl::Status s = InClusterConfig(dir.path()).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("KUBERNETES_SERVICE_HOST"), std::string::npos) << s;

  ScopedEnv host2("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  s = InClusterConfig(dir.path()).status();  // no token file
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find(dir.path() + "/token"), std::string::npos) << s;
}

TEST(DefaultConfigTest, PrefersTheFlagThenKubeconfigEnvThenInCluster) {
  TempDir dir;
  const std::string a = dir.Write("a", kTwoContexts);
  const std::string b = dir.Write("b", kTwoContexts);
  ScopedEnv kubeconfig("KUBECONFIG", b + ":" + a);
  ScopedEnv host("KUBERNETES_SERVICE_HOST", std::nullopt);
  ScopedEnv home("HOME", dir.path());

  absl::StatusOr<Config> c = DefaultConfig(a, "lab");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->source, a);
  EXPECT_EQ(c->server, "https://10.0.0.5:443");

  c = DefaultConfig();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->source, b);  // the first file of $KUBECONFIG

  ScopedEnv no_kubeconfig("KUBECONFIG", std::nullopt);
  const absl::Status s = DefaultConfig().status();  // no ~/.kube/config in the temp HOME
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;

  dir.Write(".kube/config", kTwoContexts);
  c = DefaultConfig();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->source, dir.path() + "/.kube/config");
}

}  // namespace
}  // namespace netrig::kube
