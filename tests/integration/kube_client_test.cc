// lib/kube against a real kube-apiserver + etcd (tests/support/kube_apiserver.h), one control
// plane for the whole suite, one namespace per test. Skips when kube-apiserver is not built.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "lib/kube/client.h"
#include "lib/kube/leader_election.h"
#include "tests/support/kube_apiserver.h"

namespace netrig::kube {
namespace {

using netrig::testing::KubeApiServer;

bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class KubeClientIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = KubeApiServer::Start();
    if (!started.ok()) {
      start_error_ = new absl::Status(started.status());
      return;
    }
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }

  void SetUp() override {
    if (start_error_ != nullptr) {
      if (absl::IsFailedPrecondition(*start_error_)) {
        GTEST_SKIP() << *start_error_;
      }
      FAIL() << "KubeApiServer::Start: " << *start_error_;
    }
    absl::StatusOr<Config> config = LoadKubeconfig(server_->kubeconfig());
    ASSERT_TRUE(config.ok()) << config.status();
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*config);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    // A fresh namespace per test ("kube-client-<test name>").
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '-';
    }
    ns_ = "kc-" + name.substr(0, 50);
    absl::StatusOr<Json> created =
        client_->Create(kNamespaces, "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void TearDown() override {
    if (HasFailure() && server_ != nullptr) {
      std::cerr << server_->LogTail();
    }
  }

  Json ConfigMap(const std::string& name, const Json& data) const {
    return {{"metadata", {{"name", name}, {"namespace", ns_}, {"labels", {{"app", "kc"}}}}},
            {"data", data}};
  }

  static KubeApiServer* server_;
  static absl::Status* start_error_;
  std::unique_ptr<Client> client_;
  std::string ns_;
};

KubeApiServer* KubeClientIntegrationTest::server_ = nullptr;
absl::Status* KubeClientIntegrationTest::start_error_ = nullptr;

TEST_F(KubeClientIntegrationTest, ConfigMapCrudAndErrors) {
  absl::StatusOr<Json> created = client_->Create(kConfigMaps, ns_, ConfigMap("a", {{"k", "1"}}));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(UidOf(*created).empty());
  EXPECT_EQ(NamespaceOf(*created), ns_);

  absl::StatusOr<Json> got = client_->Get(kConfigMaps, ns_, "a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)["data"]["k"], "1");

  ASSERT_TRUE(client_->Create(kConfigMaps, ns_, ConfigMap("b", {{"k", "2"}})).ok());
  absl::StatusOr<Json> list =
      client_->List(kConfigMaps, ns_, {.label_selector = "app=kc", .limit = 1});  // two pages
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ((*list)["items"].size(), 2u);
  EXPECT_FALSE(ResourceVersionOf(*list).empty());

  absl::StatusOr<Json> patched =
      client_->Patch(kConfigMaps, ns_, "a", {{"data", {{"k2", "x"}}}}, PatchType::kMerge);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["data"]["k2"], "x");
  patched = client_->Patch(kConfigMaps, ns_, "a",
                           Json::array({{{"op", "replace"}, {"path", "/data/k"}, {"value", "3"}}}),
                           PatchType::kJson);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["data"]["k"], "3");
  patched =
      client_->Patch(kConfigMaps, ns_, "a", {{"data", {{"k4", "y"}}}}, PatchType::kStrategicMerge);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["data"].size(), 3u);

  Json replacement = *patched;
  replacement["data"] = {{"only", "this"}};
  absl::StatusOr<Json> replaced = client_->Replace(kConfigMaps, ns_, "a", replacement);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ((*replaced)["data"], Json({{"only", "this"}}));

  absl::Status s = client_->Create(kConfigMaps, ns_, ConfigMap("a", {})).status();
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_NE(s.message().find(absl::StrCat("create v1 configmaps ", ns_, "/a: ")), std::string::npos)
      << s;

  s = client_->Create(kConfigMaps, ns_, ConfigMap("Not_Valid", {})).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("metadata.name"), std::string::npos) << s;

  ASSERT_TRUE(client_->Delete(kConfigMaps, ns_, "a").ok());
  s = client_->Get(kConfigMaps, ns_, "a").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  s = client_->Delete(kConfigMaps, ns_, "a");
  EXPECT_TRUE(absl::IsNotFound(s)) << s;

  absl::StatusOr<std::string> version = client_->GetRaw("/version");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_NE(version->find("gitVersion"), std::string::npos);
}

TEST_F(KubeClientIntegrationTest, CustomResourceStatusSubresource) {
  const Resource widgets{"kc.netrig.io", "v1", "widgets", "Widget", true};
  const Json crd = Json::parse(R"({
    "metadata": {"name": "widgets.kc.netrig.io"},
    "spec": {
      "group": "kc.netrig.io",
      "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
      "versions": [{
        "name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}},
          "status": {"type": "object", "properties": {"phase": {"type": "string"},
                                                      "ready": {"type": "integer"}}}}}}
      }]
    }})");
  absl::StatusOr<Json> created = client_->Create(kCrds, "", crd);
  ASSERT_TRUE(created.ok() || absl::IsAlreadyExists(created.status())) << created.status();
  // The new REST path is served once the CRD is Established.
  ASSERT_TRUE(WaitFor([&] {
    absl::StatusOr<Json> list = client_->List(widgets, ns_);
    return list.ok();
  }));

  absl::StatusOr<Json> w =
      client_->Create(widgets, ns_, {{"metadata", {{"name", "w1"}}}, {"spec", {{"size", 2}}}});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)["kind"], "Widget");
  EXPECT_EQ(GenerationOf(*w), 1);

  // The main resource ignores status; the status subresource ignores spec.
  Json with_status = *w;
  with_status["status"] = {{"phase", "Ready"}};
  with_status["spec"]["size"] = 5;
  absl::StatusOr<Json> after = client_->ReplaceStatus(widgets, ns_, "w1", with_status);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)["status"]["phase"], "Ready");
  EXPECT_EQ((*after)["spec"]["size"], 2);
  EXPECT_EQ(GenerationOf(*after), 1);

  after = client_->PatchStatus(widgets, ns_, "w1", {{"status", {{"ready", 3}}}});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)["status"]["phase"], "Ready");
  EXPECT_EQ((*after)["status"]["ready"], 3);

  after = client_->Patch(widgets, ns_, "w1", {{"spec", {{"size", 4}}}, {"status", nullptr}});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(GenerationOf(*after), 2);
  EXPECT_EQ((*after)["status"]["ready"], 3);  // untouched by a patch of the main resource

  // Schema validation names the field.
  const absl::Status s = client_->Patch(widgets, ns_, "w1", {{"spec", {{"size", 0}}}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("spec.size"), std::string::npos) << s;

  // Stale status write.
  const absl::Status stale = client_->ReplaceStatus(widgets, ns_, "w1", with_status).status();
  EXPECT_TRUE(absl::IsAborted(stale)) << stale;
}

TEST_F(KubeClientIntegrationTest, WatchDeliversEventsAndBookmarks) {
  absl::StatusOr<Json> list = client_->List(kConfigMaps, ns_);
  ASSERT_TRUE(list.ok()) << list.status();
  std::thread writer([&] {
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(client_->Create(kConfigMaps, ns_, ConfigMap(absl::StrCat("w", i), {})).ok());
    }
    EXPECT_TRUE(client_->Delete(kConfigMaps, ns_, "w0").ok());
  });
  std::vector<WatchEvent> events;
  // The apiserver sends a bookmark about 2 s before a watch's timeout; then it ends the watch.
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s = client_->Watch(
      kConfigMaps, ns_, {.resource_version = ResourceVersionOf(*list), .timeout = absl::Seconds(4)},
      [&](const WatchEvent& e) {
        events.push_back(e);
        return true;
      },
      nullptr);
  writer.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  int added = 0, deleted = 0, bookmarks = 0;
  std::string last_rv;
  for (const WatchEvent& e : events) {
    added += e.type == WatchEvent::Type::kAdded;
    deleted += e.type == WatchEvent::Type::kDeleted;
    if (e.type == WatchEvent::Type::kBookmark) {
      ++bookmarks;
      EXPECT_FALSE(ResourceVersionOf(e.object).empty());
      EXPECT_GE(std::stoll(ResourceVersionOf(e.object)), std::stoll(last_rv));
    } else {
      last_rv = ResourceVersionOf(e.object);
    }
  }
  EXPECT_EQ(added, 3);
  EXPECT_EQ(deleted, 1);
  EXPECT_GE(bookmarks, 1);
}

TEST_F(KubeClientIntegrationTest, WatchFromATooOldVersionIsOutOfRange) {
  // The watch cache of a resource starts with a list at the then-current resourceVersion; a
  // watch from before that answers HTTP 200 with an ERROR event (410 Expired). A fresh CRD gets
  // a fresh cache, so "1" is too old for it. (For built-in kinds the cache of a fresh apiserver
  // starts near revision 1 and still holds every event, so a watch from "1" replays them.)
  const Resource gizmos{"kc.netrig.io", "v1", "gizmos", "Gizmo", true};
  const Json crd = Json::parse(R"({
    "metadata": {"name": "gizmos.kc.netrig.io"},
    "spec": {
      "group": "kc.netrig.io", "scope": "Namespaced",
      "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
      "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                                                   "x-kubernetes-preserve-unknown-fields": true}}}]
    }})");
  absl::StatusOr<Json> created = client_->Create(kCrds, "", crd);
  ASSERT_TRUE(created.ok() || absl::IsAlreadyExists(created.status())) << created.status();
  ASSERT_TRUE(WaitFor([&] { return client_->List(gizmos, ns_).ok(); }));

  int events = 0;
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s = client_->Watch(
      gizmos, ns_, {.resource_version = "1", .timeout = absl::Seconds(10)},
      [&](const WatchEvent&) {
        ++events;
        return true;
      },
      nullptr);
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_NE(s.message().find(absl::StrCat("watch kc.netrig.io/v1 gizmos ", ns_,
                                          ": too old resource version: 1 (")),
            std::string::npos)
      << s;
  EXPECT_EQ(events, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // at once
}

TEST_F(KubeClientIntegrationTest, ReflectorSyncsAndFollowsChanges) {
  ASSERT_TRUE(client_->Create(kConfigMaps, ns_, ConfigMap("before", {})).ok());
  std::mutex mu;
  std::vector<std::string> synced, seen;
  Reflector reflector(client_.get(), kConfigMaps, ns_, {.label_selector = "app=kc"},
                      {[&](const std::vector<Json>& items) {
                         std::lock_guard<std::mutex> l(mu);
                         for (const Json& i : items) synced.push_back(NameOf(i));
                       },
                       [&](const WatchEvent& e) {
                         std::lock_guard<std::mutex> l(mu);
                         seen.push_back(NameOf(e.object));
                       },
                       nullptr});
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(mu);
    return !synced.empty();
  }));
  ASSERT_TRUE(client_->Create(kConfigMaps, ns_, ConfigMap("after", {})).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(mu);
    return !seen.empty();
  }));
  reflector.Stop();
  EXPECT_EQ(synced, std::vector<std::string>{"before"});
  EXPECT_EQ(seen, std::vector<std::string>{"after"});
  EXPECT_EQ(reflector.lists(), 1);
}

TEST_F(KubeClientIntegrationTest, StaleReplaceConflictsAndUpdateWithRetrySucceeds) {
  absl::StatusOr<Json> v1 = client_->Create(kConfigMaps, ns_, ConfigMap("c", {{"n", "0"}}));
  ASSERT_TRUE(v1.ok()) << v1.status();
  Json fresh = *v1;
  fresh["data"]["n"] = "1";
  ASSERT_TRUE(client_->Replace(kConfigMaps, ns_, "c", fresh).ok());
  Json stale = *v1;  // still carries the first resourceVersion
  stale["data"]["n"] = "stale";
  const absl::Status s = client_->Replace(kConfigMaps, ns_, "c", stale).status();
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_NE(s.message().find("the object has been modified"), std::string::npos) << s;

  int calls = 0;
  absl::StatusOr<Json> updated =
      UpdateWithRetry(*client_, kConfigMaps, ns_, "c", [&](Json& object) {
        if (++calls == 1) {  // a concurrent writer between our GET and PUT
          EXPECT_TRUE(client_->Patch(kConfigMaps, ns_, "c", {{"data", {{"other", "x"}}}}).ok());
        }
        object["data"]["n"] = std::to_string(std::stoi(object["data"]["n"].get<std::string>()) + 1);
        return absl::OkStatus();
      });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ((*updated)["data"]["n"], "2");
  EXPECT_EQ((*updated)["data"]["other"], "x");
}

TEST_F(KubeClientIntegrationTest, ServiceAccountTokenWithRbac) {
  absl::StatusOr<std::string> sa_kubeconfig = server_->ServiceAccountKubeconfig(ns_, "reader");
  ASSERT_TRUE(sa_kubeconfig.ok()) << sa_kubeconfig.status();
  ASSERT_TRUE(client_->Create(kConfigMaps, ns_, ConfigMap("visible", {})).ok());
  const Resource roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  const Resource bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
  ASSERT_TRUE(client_
                  ->Create(roles, ns_,
                           {{"metadata", {{"name", "read-cm"}}},
                            {"rules", Json::array({{{"apiGroups", {""}},
                                                    {"resources", {"configmaps"}},
                                                    {"verbs", {"get", "list"}}}})}})
                  .ok());
  ASSERT_TRUE(
      client_
          ->Create(
              bindings, ns_,
              {{"metadata", {{"name", "reader"}}},
               {"roleRef",
                {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "read-cm"}}},
               {"subjects",
                Json::array(
                    {{{"kind", "ServiceAccount"}, {"name", "reader"}, {"namespace", ns_}}})}})
          .ok());

  absl::StatusOr<Config> config = LoadKubeconfig(*sa_kubeconfig);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->default_namespace, ns_);
  auto reader = Client::Create(*config);
  ASSERT_TRUE(reader.ok()) << reader.status();
  // RBAC reaches the authorizer's cache within moments.
  ASSERT_TRUE(WaitFor([&] { return (*reader)->Get(kConfigMaps, ns_, "visible").ok(); }))
      << (*reader)->Get(kConfigMaps, ns_, "visible").status();
  EXPECT_TRUE((*reader)->List(kConfigMaps, ns_).ok());

  absl::Status s = (*reader)->Create(kConfigMaps, ns_, ConfigMap("nope", {})).status();
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_NE(s.message().find("system:serviceaccount:" + ns_ + ":reader"), std::string::npos) << s;
  s = (*reader)->List(kConfigMaps, "default").status();
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;

  Config anonymous = *config;
  anonymous.token = "not-a-token";
  auto stranger = Client::Create(anonymous);
  ASSERT_TRUE(stranger.ok());
  s = (*stranger)->Get(kConfigMaps, ns_, "visible").status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
}

TEST_F(KubeClientIntegrationTest, VerifiesTheServingCertificateWithTheCa) {
  // The apiserver wrote its self-signed certificate and CA to --cert-dir.
  std::ifstream in(server_->dir() + "/certs/apiserver.crt");
  std::stringstream ca;
  ca << in.rdbuf();
  ASSERT_FALSE(ca.str().empty());
  Config config;
  config.server = server_->url();
  config.token = server_->token();
  config.ca_pem = ca.str();
  auto verified = Client::Create(config);
  ASSERT_TRUE(verified.ok());
  absl::StatusOr<Json> ns = (*verified)->Get(kNamespaces, "", ns_);
  EXPECT_TRUE(ns.ok()) << ns.status();

  config.ca_pem.clear();  // the system CAs do not know it
  ClientOptions once;
  once.max_attempts = 1;
  auto unverified = Client::Create(config, once);
  ASSERT_TRUE(unverified.ok());
  const absl::Status s = (*unverified)->Get(kNamespaces, "", ns_).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("certificate"), std::string::npos) << s;
}

TEST_F(KubeClientIntegrationTest, HarnessRunsKubectlAndHelm) {
  netrig::testing::CommandOutput r = server_->Kubectl({"get", "namespace", ns_, "-o", "name"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "namespace/" + ns_ + "\n");
  r = server_->Kubectl({"apply", "-n", ns_, "-f", "-"},
                       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(client_->Get(kConfigMaps, ns_, "from-stdin").ok());
  r = server_->Kubectl({"get", "configmap", "no-such", "-n", ns_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;

  absl::StatusOr<netrig::testing::CommandOutput> helm = server_->Helm({"list", "-A"});
  if (absl::IsFailedPrecondition(helm.status())) {
    GTEST_SKIP() << helm.status();
  }
  ASSERT_TRUE(helm.ok()) << helm.status();
  EXPECT_EQ(helm->exit_code, 0) << helm->err;
  EXPECT_NE(helm->out.find("NAME"), std::string::npos) << helm->out;
}

// ------------------------------------------------------------------ client certificates

// Needs no apiserver: a cpp-httplib TLS server on loopback that requires a client certificate
// from a CA made here with the openssl CLI. Checks that ca_pem, client_cert_pem and
// client_key_pem reach libcurl (as blobs) and that a missing one fails the handshake.
TEST(KubeClientTlsTest, ClientCertificateAuthentication) {
  std::string dir = (std::filesystem::temp_directory_path() / "kube-tls-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string script =
      absl::StrCat("cd ", dir, " && (set -e",
                   "; E='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'"
                   "; openssl req -x509 $E -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1"
                   "; openssl req $E -keyout server.key -out server.csr -subj /CN=127.0.0.1"
                   "; printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext"
                   "; openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
                   " -out server.crt -days 1 -extfile san.ext"
                   "; openssl req $E -keyout client.key -out client.csr -subj /CN=alice"
                   "; openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
                   " -out client.crt -days 1) >/dev/null 2>&1");
  if (std::system(script.c_str()) != 0) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "openssl could not make test certificates in " << dir;
  }
  auto read = [&](const std::string& name) {
    std::ifstream in(dir + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  httplib::SSLServer server((dir + "/server.crt").c_str(), (dir + "/server.key").c_str(),
                            (dir + "/ca.crt").c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"gitVersion":"tls-test"})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) {
    std::this_thread::yield();
  }

  Config config;
  config.server = absl::StrCat("https://127.0.0.1:", port);
  config.ca_pem = read("ca.crt");
  config.client_cert_pem = read("client.crt");
  config.client_key_pem = read("client.key");
  ClientOptions once;
  once.max_attempts = 1;
  auto with_cert = Client::Create(config, once);
  ASSERT_TRUE(with_cert.ok()) << with_cert.status();
  absl::StatusOr<std::string> version = (*with_cert)->GetRaw("/version");
  EXPECT_TRUE(version.ok()) << version.status();

  Config no_cert = config;
  no_cert.client_cert_pem.clear();
  no_cert.client_key_pem.clear();
  absl::Status s = (*Client::Create(no_cert, once))->GetRaw("/version").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;  // the server ends the handshake

  Config unknown_ca = config;
  unknown_ca.ca_pem.clear();  // the system CAs do not know test-ca
  s = (*Client::Create(unknown_ca, once))->GetRaw("/version").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("certificate"), std::string::npos) << s;

  server.stop();
  serving.join();
  std::filesystem::remove_all(dir);
}

// ------------------------------------------------------------------ leader election

class Candidate {
 public:
  Candidate(Api* api, LeaderElectionConfig config) : elector_(api, std::move(config)) {
    thread_ = std::thread([this] { elector_.Run(nullptr, nullptr); });
  }
  ~Candidate() { Stop(); }
  void Stop() {
    elector_.Stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  bool leader() const { return elector_.is_leader(); }

 private:
  LeaderElector elector_;
  std::thread thread_;
};

LeaderElectionConfig Election(const std::string& ns, const std::string& identity,
                              bool release_on_stop) {
  LeaderElectionConfig c;
  c.ns = ns;
  c.name = "netrig-operator";
  c.identity = identity;
  c.lease_duration = absl::Seconds(2);
  c.renew_deadline = absl::Milliseconds(1500);
  c.retry_period = absl::Milliseconds(200);
  c.release_on_stop = release_on_stop;
  return c;
}

TEST_F(KubeClientIntegrationTest, LeaderElectionOnARealLease) {
  auto a = std::make_unique<Candidate>(client_.get(), Election(ns_, "pod-a", false));
  ASSERT_TRUE(WaitFor([&] { return a->leader(); }));
  auto b = std::make_unique<Candidate>(client_.get(), Election(ns_, "pod-b", true));
  for (int i = 0; i < 50; ++i) {  // 1 s: a keeps it, b waits
    ASSERT_TRUE(a->leader());
    ASSERT_FALSE(b->leader());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // a is abandoned without releasing (as if killed): b takes over once the lease expires. b
  // measures expiry from when it last saw the lease change, so the bound is lease_duration
  // plus up to two retry periods (its last read of a's renewal and its next attempt).
  const auto abandoned = std::chrono::steady_clock::now();
  a->Stop();
  ASSERT_TRUE(WaitFor([&] { return b->leader(); }, std::chrono::seconds(5)));
  const auto takeover = std::chrono::steady_clock::now() - abandoned;
  EXPECT_GE(takeover, std::chrono::milliseconds(1500));
  EXPECT_LE(takeover, std::chrono::milliseconds(2000 + 2 * 200 + 600));  // + request latency
  absl::StatusOr<Json> lease = client_->Get(kLeases, ns_, "netrig-operator");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "pod-b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);

  // b releases on stop: a new candidate c takes over at once, not after 2 s.
  auto c = std::make_unique<Candidate>(client_.get(), Election(ns_, "pod-c", true));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_FALSE(c->leader());
  const auto released = std::chrono::steady_clock::now();
  b->Stop();
  ASSERT_TRUE(WaitFor([&] { return c->leader(); }, std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - released, std::chrono::milliseconds(1000));
  lease = client_->Get(kLeases, ns_, "netrig-operator");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "pod-c");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 2);
}

}  // namespace
}  // namespace netrig::kube
