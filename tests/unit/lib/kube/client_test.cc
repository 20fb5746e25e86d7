#include "lib/kube/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/unit/lib/kube/fake_apiserver.h"

namespace netrig::kube {
namespace {

using testing::FakeApiServer;
using testing::SeenRequest;
using testing::SendStatus;

ClientOptions FastRetries(int max_attempts = 3) {
  ClientOptions o;
  o.max_attempts = max_attempts;
  o.initial_backoff = absl::Milliseconds(1);
  o.max_backoff = absl::Milliseconds(5);
  o.request_timeout = absl::Seconds(5);
  return o;
}

std::unique_ptr<Client> NewClient(const FakeApiServer& fake, ClientOptions options = FastRetries(),
                                  Config config = Config()) {
  config.server = fake.url();
  auto client = Client::Create(config, options);
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(*client);
}

void Ok(httplib::Response& res, const Json& body = Json::object()) {
  res.set_content(body.dump(), "application/json");
}

// ------------------------------------------------------------------ URLs and headers

TEST(KubeClientTest, BuildsPathsForCoreGroupNamespacedAndClusterScopedResources) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request&, httplib::Response& res) {
    Ok(res, {{"items", Json::array()}, {"metadata", {{"resourceVersion", "1"}}}});
  });
  auto c = NewClient(fake);
  ASSERT_TRUE(c->Get(kConfigMaps, "ns1", "cm-a").ok());
  ASSERT_TRUE(c->Get(kTestRuns, "ci", "nightly-1").ok());
  ASSERT_TRUE(c->Get(kNamespaces, "ignored", "team-a").ok());
  ASSERT_TRUE(c->Get(kCrds, "", "testruns.netrig.io").ok());
  ASSERT_TRUE(c->List(kPods, "").ok());
  ASSERT_TRUE(c->List(kDeployments, "prod", {.label_selector = "app=web,tier!=db"}).ok());
  ASSERT_TRUE(c->ReplaceStatus(kTestRuns, "ci", "nightly-1", Json::object()).ok());
  ASSERT_TRUE(c->PatchStatus(kTestRuns, "ci", "nightly-1", Json::object()).ok());

  const std::vector<SeenRequest> seen = fake.requests();
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/api/v1/namespaces/ns1/configmaps/cm-a");
  EXPECT_EQ(seen[1].target, "/apis/netrig.io/v1alpha1/namespaces/ci/testruns/nightly-1");
  EXPECT_EQ(seen[2].target, "/api/v1/namespaces/team-a");
  EXPECT_EQ(seen[3].target,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/testruns.netrig.io");
  EXPECT_EQ(seen[4].target, "/api/v1/pods?limit=500");
  EXPECT_EQ(seen[5].target,
            "/apis/apps/v1/namespaces/prod/deployments?labelSelector=app%3Dweb%2Ctier%21%3Ddb"
            "&limit=500");
  EXPECT_EQ(seen[6].method, "PUT");
  EXPECT_EQ(seen[6].target,
            "/apis/netrig.io/v1alpha1/namespaces/ci/testruns/nightly-1/status?fieldManager=netrig");
  EXPECT_EQ(seen[7].method, "PATCH");
  EXPECT_EQ(seen[7].path, "/apis/netrig.io/v1alpha1/namespaces/ci/testruns/nightly-1/status");
}

TEST(KubeClientTest, SendsBearerTokenUserAgentAndPatchContentTypes) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request&, httplib::Response& res) { Ok(res); });
  Config config;
  config.token = "s3cret";
  ClientOptions options = FastRetries();
  options.user_agent = "netrig-test/1";
  auto c = NewClient(fake, options, config);
  const Json patch = {{"metadata", {{"labels", {{"a", "b"}}}}}};
  ASSERT_TRUE(c->Patch(kPods, "ns", "p", patch, PatchType::kMerge).ok());
  ASSERT_TRUE(c->Patch(kPods, "ns", "p", Json::array(), PatchType::kJson).ok());
  ASSERT_TRUE(c->Patch(kPods, "ns", "p", patch, PatchType::kStrategicMerge).ok());
  ASSERT_TRUE(c->Create(kConfigMaps, "ns", {{"metadata", {{"name", "x"}}}}).ok());

  const std::vector<SeenRequest> seen = fake.requests();
  ASSERT_EQ(seen.size(), 4u);
  for (const SeenRequest& r : seen) {
    EXPECT_EQ(r.Header("Authorization"), "Bearer s3cret");
    EXPECT_EQ(r.Header("User-Agent"), "netrig-test/1");
  }
  EXPECT_EQ(seen[0].Header("Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(Json::parse(seen[0].body), patch);
  EXPECT_EQ(seen[1].Header("Content-Type"), "application/json-patch+json");
  EXPECT_EQ(seen[2].Header("Content-Type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(seen[3].method, "POST");
  EXPECT_EQ(seen[3].target, "/api/v1/namespaces/ns/configmaps?fieldManager=netrig");
  EXPECT_EQ(seen[3].Header("Content-Type"), "application/json");
  // Create fills in apiVersion and kind from the Resource.
  const Json created = Json::parse(seen[3].body);
  EXPECT_EQ(created["apiVersion"], "v1");
  EXPECT_EQ(created["kind"], "ConfigMap");
}

TEST(KubeClientTest, RereadsTokenFileWhenItChanges) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request&, httplib::Response& res) { Ok(res); });
  const std::string path = ::testing::TempDir() + "/kube_token_" + std::to_string(getpid());
  { std::ofstream(path) << "first\n"; }
  Config config;
  config.token = "first";
  config.token_file = path;
  auto c = NewClient(fake, FastRetries(), config);
  ASSERT_TRUE(c->Get(kPods, "ns", "p").ok());
  { std::ofstream(path) << "second\n"; }
  // A different mtime even on coarse-timestamp filesystems.
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(2));
  ASSERT_TRUE(c->Get(kPods, "ns", "p").ok());
  const std::vector<SeenRequest> seen = fake.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].Header("Authorization"), "Bearer first");
  EXPECT_EQ(seen[1].Header("Authorization"), "Bearer second");
  std::remove(path.c_str());
}

TEST(KubeClientTest, DeleteSendsOptionsBody) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request&, httplib::Response& res) { Ok(res); });
  auto c = NewClient(fake);
  ASSERT_TRUE(c->Delete(kPods, "ns", "p",
                        {.propagation_policy = "Foreground",
                         .grace_period_seconds = 0,
                         .precondition_uid = "u-1"})
                  .ok());
  const std::vector<SeenRequest> seen = fake.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "DELETE");
  EXPECT_EQ(seen[0].path, "/api/v1/namespaces/ns/pods/p");
  const Json body = Json::parse(seen[0].body);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
}

TEST(KubeClientTest, CreateRejectsBadConfig) {
  EXPECT_TRUE(absl::IsInvalidArgument(Client::Create(Config()).status()));
  Config no_scheme;
  no_scheme.server = "127.0.0.1:6443";
  EXPECT_TRUE(absl::IsInvalidArgument(Client::Create(no_scheme).status()));
  Config half_cert;
  half_cert.server = "https://127.0.0.1:6443";
  half_cert.client_cert_pem = "-----BEGIN CERTIFICATE-----";
  const absl::Status s = Client::Create(half_cert).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("client_key_pem"), std::string::npos) << s;
}

// ------------------------------------------------------------------ errors

TEST(KubeClientTest, MapsHttpErrorsToCodesWithTheServerMessage) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.method == "POST" ? NameOf(Json::parse(req.body))
                                                  : req.path.substr(req.path.rfind('/') + 1);
    if (name == "missing") {
      SendStatus(res, 404, "NotFound", "configmaps \"missing\" not found");
    } else if (name == "exists") {
      SendStatus(res, 409, "AlreadyExists", "configmaps \"exists\" already exists");
    } else if (name == "stale") {
      SendStatus(res, 409, "Conflict", "the object has been modified");
    } else if (name == "gone") {
      SendStatus(res, 410, "Expired", "too old resource version: 1 (200)");
    } else if (name == "invalid") {
      SendStatus(res, 422, "Invalid", "ConfigMap \"invalid\" is invalid",
                 Json::array({{{"field", "data.bad key"},
                               {"message", "a valid config key must consist of alphanumeric"}}}));
    } else if (name == "forbidden") {
      SendStatus(res, 403, "Forbidden",
                 "configmaps \"forbidden\" is forbidden: User \"bob\" cannot get resource");
    } else if (name == "unauthorized") {
      SendStatus(res, 401, "Unauthorized", "Unauthorized");
    } else {
      res.status = 404;
      res.set_content("404 page not found\n", "text/plain");
    }
  });
  auto c = NewClient(fake);

  absl::Status s = c->Get(kConfigMaps, "ns", "missing").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(s.message(), "get v1 configmaps ns/missing: configmaps \"missing\" not found");

  s = c->Get(kConfigMaps, "ns", "exists").status();
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  s = c->Replace(kConfigMaps, "ns", "stale", Json::object()).status();
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_EQ(s.message(), "replace v1 configmaps ns/stale: the object has been modified");
  s = c->Get(kConfigMaps, "ns", "gone").status();
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;

  s = c->Create(kConfigMaps, "ns", {{"metadata", {{"name", "invalid"}}}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  // The POST goes to the collection, the name is in the body; the cause names the field.
  EXPECT_NE(s.message().find("create v1 configmaps ns/invalid: ConfigMap \"invalid\" is invalid"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("data.bad key: a valid config key"), std::string::npos) << s;

  s = c->Get(kConfigMaps, "ns", "forbidden").status();
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_NE(s.message().find("User \"bob\" cannot get"), std::string::npos) << s;
  s = c->Get(kConfigMaps, "ns", "unauthorized").status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;

  s = c->Get(kTestRuns, "ns", "no-such-group").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(s.message(),
            "get netrig.io/v1alpha1 testruns ns/no-such-group: HTTP 404: 404 page not found");
  // None of these is retried.
  EXPECT_EQ(fake.requests().size(), 8u);
}

// ------------------------------------------------------------------ retries

TEST(KubeClientTest, RetriesServiceUnavailableThenSucceeds) {
  FakeApiServer fake;
  std::atomic<int> calls{0};
  fake.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 2) {
      SendStatus(res, 503, "ServiceUnavailable", "etcd is down");
    } else {
      Ok(res, {{"metadata", {{"name", "p"}}}});
    }
  });
  auto c = NewClient(fake, FastRetries(3));
  absl::StatusOr<Json> got = c->Get(kPods, "ns", "p");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(NameOf(*got), "p");
  EXPECT_EQ(calls.load(), 3);
}

TEST(KubeClientTest, GivesUpAfterMaxAttempts) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request&, httplib::Response& res) {
    SendStatus(res, 500, "InternalError", "boom");
  });
  auto c = NewClient(fake, FastRetries(4));
  const absl::Status s = c->Get(kPods, "ns", "p").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(s.message(), "get v1 pods ns/p: boom (gave up after 4 attempts)");
  EXPECT_EQ(fake.requests().size(), 4u);
}

TEST(KubeClientTest, HonoursRetryAfterOn429) {
  FakeApiServer fake;
  std::atomic<int> calls{0};
  fake.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.set_header("Retry-After", "1");
      SendStatus(res, 429, "TooManyRequests", "slow down");
    } else {
      Ok(res);
    }
  });
  auto c = NewClient(fake, FastRetries(3));  // its own backoff is 1-5 ms
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->Get(kPods, "ns", "p").ok());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(calls.load(), 2);
  EXPECT_GE(elapsed, std::chrono::milliseconds(950));
}

TEST(KubeClientTest, TransportErrorsAreRetriedThenUnavailable) {
  std::string url;
  {
    FakeApiServer gone;  // a port that was just in use and is now closed
    url = gone.url();
  }
  Config config;
  config.server = url;
  auto c = Client::Create(config, FastRetries(2));
  ASSERT_TRUE(c.ok());
  const absl::Status s = (*c)->Get(kPods, "ns", "p").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("get v1 pods ns/p: "), std::string::npos) << s;
  EXPECT_NE(s.message().find("gave up after 2 attempts"), std::string::npos) << s;
}

TEST(KubeClientTest, RequestTimeoutIsDeadlineExceeded) {
  FakeApiServer fake;
  fake.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    Ok(res);
  });
  ClientOptions options = FastRetries(3);
  options.request_timeout = absl::Milliseconds(200);
  auto c = NewClient(fake, options);
  const absl::Status s = c->Get(kPods, "ns", "p").status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_EQ(fake.requests().size(), 1u);  // a timeout is not retried
}

// ------------------------------------------------------------------ UpdateWithRetry

TEST(KubeClientTest, UpdateWithRetryRereadsAndReappliesOnConflict) {
  FakeApiServer fake;
  const std::string path = "/api/v1/namespaces/ns/configmaps/cm";
  fake.Put(path, {{"metadata", {{"name", "cm"}}}, {"data", {{"writer", "none"}}}});
  auto c = NewClient(fake);
  int mutations = 0;
  absl::StatusOr<Json> updated = UpdateWithRetry(*c, kConfigMaps, "ns", "cm", [&](Json& object) {
    if (++mutations == 1) {
      // Someone else writes between our GET and our PUT: the PUT gets 409.
      fake.Put(path, {{"metadata", {{"name", "cm"}}}, {"data", {{"other", "yes"}}}});
    }
    object["data"]["writer"] = "us";
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(mutations, 2);
  const Json stored = fake.Stored(path);
  EXPECT_EQ(stored["data"]["writer"], "us");
  EXPECT_EQ(stored["data"]["other"], "yes");  // the second attempt started from the new object
  EXPECT_EQ(fake.requests("PUT", path).size(), 2u);
}

TEST(KubeClientTest, UpdateWithRetryStopsOnMutateErrorAndAfterAttempts) {
  FakeApiServer fake;
  const std::string path = "/api/v1/namespaces/ns/configmaps/cm";
  fake.Put(path, {{"metadata", {{"name", "cm"}}}});
  auto c = NewClient(fake);
  absl::Status s = UpdateWithRetry(*c, kConfigMaps, "ns", "cm", [](Json&) {
                     return absl::FailedPreconditionError("not now");
                   }).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(fake.requests("PUT", path).empty());

  s = UpdateWithRetry(
          *c, kConfigMaps, "ns", "cm",
          [&](Json&) {
            fake.Put(path, {{"metadata", {{"name", "cm"}}}});  // always a conflict
            return absl::OkStatus();
          },
          /*status=*/false, /*attempts=*/3)
          .status();
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_NE(s.message().find("after 3 attempts"), std::string::npos) << s;
  EXPECT_EQ(fake.requests("PUT", path).size(), 3u);

  s = UpdateWithRetry(*c, kConfigMaps, "ns", "absent", [](Json&) {
        return absl::OkStatus();
      }).status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
}

TEST(KubeClientTest, UpdateWithRetryStatusWritesTheStatusSubresource) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    Ok(res, {{"metadata", {{"name", "r"}, {"resourceVersion", "7"}}},
             {"status", {{"phase", req.method == "GET" ? "Pending" : "Running"}}}});
  });
  auto c = NewClient(fake);
  absl::StatusOr<Json> updated = UpdateWithRetry(
      *c, kTestRuns, "ci", "r",
      [](Json& object) {
        object["status"]["phase"] = "Running";
        return absl::OkStatus();
      },
      /*status=*/true);
  ASSERT_TRUE(updated.ok()) << updated.status();
  const auto puts =
      fake.requests("PUT", "/apis/netrig.io/v1alpha1/namespaces/ci/testruns/r/status");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(Json::parse(puts[0].body)["status"]["phase"], "Running");
  EXPECT_EQ(Json::parse(puts[0].body)["metadata"]["resourceVersion"], "7");
}

// ------------------------------------------------------------------ list

TEST(KubeClientTest, ListFollowsContinueAndJoinsPages) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    const std::string token = req.get_param_value("continue");
    auto item = [](const char* name) { return Json{{"metadata", {{"name", name}}}}; };
    if (token.empty()) {
      Ok(res, {{"kind", "PodList"},
               {"metadata", {{"resourceVersion", "42"}, {"continue", "page-2"}}},
               {"items", {item("a"), item("b")}}});
    } else if (token == "page-2") {
      Ok(res, {{"kind", "PodList"},
               {"metadata", {{"resourceVersion", "42"}, {"continue", "page-3"}}},
               {"items", {item("c")}}});
    } else {
      Ok(res,
         {{"kind", "PodList"}, {"metadata", {{"resourceVersion", "42"}}}, {"items", {item("d")}}});
    }
  });
  auto c = NewClient(fake);
  absl::StatusOr<Json> list = c->List(kPods, "ns", {.limit = 2, .resource_version = "0"});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ((*list)["items"].size(), 4u);
  EXPECT_EQ(NameOf((*list)["items"][0]), "a");
  EXPECT_EQ(NameOf((*list)["items"][3]), "d");
  EXPECT_EQ(ResourceVersionOf(*list), "42");
  EXPECT_FALSE((*list)["metadata"].contains("continue"));
  const std::vector<SeenRequest> seen = fake.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/api/v1/namespaces/ns/pods?limit=2&resourceVersion=0");
  // resourceVersion is not allowed together with continue.
  EXPECT_EQ(seen[1].target, "/api/v1/namespaces/ns/pods?limit=2&continue=page-2");
  EXPECT_EQ(seen[2].target, "/api/v1/namespaces/ns/pods?limit=2&continue=page-3");
}

TEST(KubeClientTest, ListWithExpiredContinueIsOutOfRange) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("continue").empty()) {
      Ok(res, {{"metadata", {{"continue", "old"}}}, {"items", Json::array()}});
    } else {
      SendStatus(res, 410, "Expired", "The provided continue parameter is too old");
    }
  });
  auto c = NewClient(fake);
  const absl::Status s = c->List(kPods, "ns").status();
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_NE(s.message().find("list v1 pods ns: The provided continue"), std::string::npos) << s;
}

// ------------------------------------------------------------------ watch

// Serves `chunks` as one chunked response, then ends it.
FakeApiServer::Handler StreamChunks(std::vector<std::string> chunks) {
  return [chunks](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [chunks](size_t, httplib::DataSink& sink) {
      for (const std::string& c : chunks) {
        sink.write(c.data(), c.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      sink.done();
      return true;
    });
  };
}

std::string EventLine(const std::string& type, const std::string& name, const std::string& rv) {
  Json object = {{"metadata", {{"resourceVersion", rv}}}};
  if (!name.empty()) {
    object["metadata"]["name"] = name;
  }
  return Json{{"type", type}, {"object", object}}.dump() + "\n";
}

TEST(KubeClientTest, WatchParsesAChunkedStreamOfEventLines) {
  FakeApiServer fake;
  const std::string all = EventLine("ADDED", "a", "11") + EventLine("MODIFIED", "a", "12") +
                          EventLine("BOOKMARK", "", "15") + "\n" + EventLine("DELETED", "a", "16");
  // Chunk boundaries in the middle of lines and of a JSON token.
  std::vector<std::string> chunks;
  for (size_t i = 0; i < all.size(); i += 37) {
    chunks.push_back(all.substr(i, 37));
  }
  fake.SetHandler(StreamChunks(chunks));
  auto c = NewClient(fake);
  std::vector<WatchEvent> events;
  const absl::Status s = c->Watch(
      kConfigMaps, "ns",
      {.resource_version = "10", .label_selector = "app=x", .timeout = absl::Seconds(90)},
      [&](const WatchEvent& e) {
        events.push_back(e);
        return true;
      },
      nullptr);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(NameOf(events[0].object), "a");
  EXPECT_EQ(events[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(ResourceVersionOf(events[1].object), "12");
  EXPECT_EQ(events[2].type, WatchEvent::Type::kBookmark);
  EXPECT_EQ(ResourceVersionOf(events[2].object), "15");
  EXPECT_EQ(events[3].type, WatchEvent::Type::kDeleted);
  const std::vector<SeenRequest> seen = fake.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target,
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=10&labelSelector=app%3Dx"
            "&allowWatchBookmarks=true&timeoutSeconds=90");
}

TEST(KubeClientTest, WatchErrorEventGoneIsOutOfRange) {
  FakeApiServer fake;
  const Json gone = {{"type", "ERROR"},
                     {"object",
                      {{"kind", "Status"},
                       {"code", 410},
                       {"reason", "Expired"},
                       {"message", "too old resource version: 5 (900)"}}}};
  fake.SetHandler(StreamChunks(
      {EventLine("ADDED", "a", "6"), gone.dump() + "\n", EventLine("ADDED", "never", "7")}));
  auto c = NewClient(fake);
  int events = 0;
  const absl::Status s = c->Watch(
      kPods, "ns", {.resource_version = "5"},
      [&](const WatchEvent&) {
        ++events;
        return true;
      },
      nullptr);
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_EQ(s.message(), "watch v1 pods ns: too old resource version: 5 (900)");
  EXPECT_EQ(events, 1);
}

TEST(KubeClientTest, WatchHttpErrorsAreMapped) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    if (req.path.find("/pods") != std::string::npos) {
      SendStatus(res, 410, "Gone", "too old");
    } else {
      SendStatus(res, 403, "Forbidden", "cannot watch configmaps");
    }
  });
  auto c = NewClient(fake);
  auto never = [](const WatchEvent&) { return true; };
  absl::Status s = c->Watch(kPods, "", {}, never, nullptr);
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  s = c->Watch(kConfigMaps, "ns", {}, never, nullptr);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(s.message(), "watch v1 configmaps ns: cannot watch configmaps");
}

TEST(KubeClientTest, WatchEndsWhenTheCallbackReturnsFalse) {
  FakeApiServer fake;
  fake.SetHandler(StreamChunks(
      {EventLine("ADDED", "a", "1"), EventLine("ADDED", "b", "2"), EventLine("ADDED", "c", "3")}));
  auto c = NewClient(fake);
  int events = 0;
  const absl::Status s = c->Watch(
      kPods, "ns", {}, [&](const WatchEvent&) { return ++events < 2; }, nullptr);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(events, 2);
}

TEST(KubeClientTest, WatchStopsPromptlyOnASilentStream) {
  FakeApiServer fake;
  fake.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
      const std::string first = EventLine("ADDED", "a", "1");
      sink.write(first.data(), first.size());
      // Then nothing, until the fake shuts down.
      while (!fake.closing()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      sink.done();
      return true;
    });
  });
  auto c = NewClient(fake);
  std::atomic<bool> stop{false};
  std::atomic<int> events{0};
  std::chrono::steady_clock::time_point returned;
  std::thread watcher([&] {
    const absl::Status s = c->Watch(
        kPods, "ns", {},
        [&](const WatchEvent&) {
          ++events;
          return true;
        },
        &stop);
    returned = std::chrono::steady_clock::now();
    EXPECT_TRUE(s.ok()) << s;
  });
  ASSERT_TRUE(testing::WaitFor([&] { return events.load() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // let the stream go silent
  const auto stopped = std::chrono::steady_clock::now();
  stop.store(true);
  watcher.join();
  EXPECT_LT(returned - stopped, std::chrono::milliseconds(400));
}

TEST(KubeClientTest, MalformedServerAnswersAreErrorsNotExceptions) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") == "true") {
      res.set_content(R"({"type":"ADDED","object":{"metadata":{"name":7}}})"
                      "\n{not json}\n",
                      "application/json");
    } else if (req.path.find("/pods/") != std::string::npos) {
      res.status = 404;
      res.set_content(R"({"kind":"Status","message":5,"reason":[],"code":"x"})",
                      "application/json");
    } else {
      res.set_content("<html>not json</html>", "text/html");
    }
  });
  auto c = NewClient(fake);
  absl::Status s = c->Get(kPods, "ns", "p").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(s.message(), "get v1 pods ns/p: HTTP 404");
  s = c->Get(kConfigMaps, "ns", "c").status();
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_NE(s.message().find("response is not JSON"), std::string::npos) << s;
  int events = 0;
  s = c->Watch(
      kPods, "ns", {},
      [&](const WatchEvent& e) {
        EXPECT_EQ(NameOf(e.object), "");  // a number where a string belongs
        ++events;
        return true;
      },
      nullptr);
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_NE(s.message().find("bad watch event: {not json}"), std::string::npos) << s;
  EXPECT_EQ(events, 1);
}

TEST(KubeClientTest, GetRawReturnsTheBody) {
  FakeApiServer fake;
  fake.SetHandler([](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/readyz") {
      res.set_content("ok", "text/plain");
    } else {
      res.status = 500;
      res.set_content("[-]etcd failed", "text/plain");
    }
  });
  auto c = NewClient(fake, FastRetries(1));
  absl::StatusOr<std::string> body = c->GetRaw("/readyz");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "ok");
  const absl::Status s = c->GetRaw("/livez").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("get /livez: HTTP 500: [-]etcd failed"), std::string::npos) << s;
}

TEST(KubeHelpersTest, MetadataAccessorsAndTimeFormat) {
  const Json object = {{"metadata",
                        {{"name", "n"},
                         {"namespace", "ns"},
                         {"uid", "u"},
                         {"resourceVersion", "9"},
                         {"generation", 3}}}};
  EXPECT_EQ(NameOf(object), "n");
  EXPECT_EQ(NamespaceOf(object), "ns");
  EXPECT_EQ(UidOf(object), "u");
  EXPECT_EQ(ResourceVersionOf(object), "9");
  EXPECT_EQ(GenerationOf(object), 3);
  EXPECT_EQ(NameOf(Json::array()), "");
  EXPECT_EQ(GenerationOf({{"metadata", {{"generation", "x"}}}}), 0);
  EXPECT_EQ(kube::FormatTime(absl::FromUnixSeconds(1795386600)), "2026-11-22T22:30:00Z");
}

}  // namespace
}  // namespace netrig::kube
