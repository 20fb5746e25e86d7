#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/client.h"
#include "tests/unit/lib/kube/fake_apiserver.h"

namespace netrig::kube {
namespace {

using testing::FakeApiServer;
using testing::WaitFor;

Json Item(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"name", name}, {"resourceVersion", rv}}}};
}

std::string Line(const std::string& type, const Json& object) {
  return Json{{"type", type}, {"object", object}}.dump() + "\n";
}

// Writes `lines`; then ends the stream (close) or stays silent until the fake shuts down.
void Stream(FakeApiServer& fake, httplib::Response& res, std::vector<std::string> lines,
            bool close) {
  res.set_chunked_content_provider("application/json",
                                   [&fake, lines, close](size_t, httplib::DataSink& sink) {
                                     for (const std::string& l : lines) {
                                       sink.write(l.data(), l.size());
                                     }
                                     while (!close && !fake.closing() && sink.is_writable()) {
                                       std::this_thread::sleep_for(std::chrono::milliseconds(10));
                                     }
                                     sink.done();
                                     return true;
                                   });
}

// What the Reflector reported, for assertions from the test thread.
struct Recorder {
  std::mutex mu;
  std::vector<std::vector<Json>> syncs;
  std::vector<WatchEvent> events;
  std::vector<absl::Status> errors;

  Reflector::Handler Handler() {
    return {[this](const std::vector<Json>& items) {
              std::lock_guard<std::mutex> l(mu);
              syncs.push_back(items);
            },
            [this](const WatchEvent& e) {
              std::lock_guard<std::mutex> l(mu);
              events.push_back(e);
            },
            [this](const absl::Status& s) {
              std::lock_guard<std::mutex> l(mu);
              errors.push_back(s);
            }};
  }
  size_t event_count() {
    std::lock_guard<std::mutex> l(mu);
    return events.size();
  }
};

std::unique_ptr<Client> NewClient(const FakeApiServer& fake) {
  ClientOptions o;
  o.max_attempts = 1;
  auto c = Client::Create(fake.config(), o);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

std::vector<std::string> WatchVersions(const FakeApiServer& fake) {
  std::vector<std::string> out;
  for (const auto& r : fake.requests()) {
    if (r.target.find("watch=true") != std::string::npos) {
      const size_t at = r.target.find("resourceVersion=");
      out.push_back(at == std::string::npos
                        ? ""
                        : r.target.substr(at + 16, r.target.find('&', at) - at - 16));
    }
  }
  return out;
}

TEST(ReflectorTest, RelistsAfterGoneAndResumesFromTheNewList) {
  FakeApiServer fake;
  std::atomic<int> lists{0}, watches{0};
  fake.SetHandler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") != "true") {
      if (++lists == 1) {
        res.set_content(
            Json{{"metadata", {{"resourceVersion", "10"}}}, {"items", {Item("a", "9")}}}.dump(),
            "application/json");
      } else {
        res.set_content(Json{{"metadata", {{"resourceVersion", "20"}}},
                             {"items", {Item("a", "9"), Item("b", "11"), Item("c", "19")}}}
                            .dump(),
                        "application/json");
      }
      return;
    }
    if (++watches == 1) {
      const Json gone = {{"kind", "Status"}, {"code", 410}, {"message", "too old"}};
      Stream(fake, res, {Line("ADDED", Item("b", "11")), Line("ERROR", gone)}, true);
    } else {
      Stream(fake, res, {Line("ADDED", Item("d", "21"))}, false);
    }
  });
  auto client = NewClient(fake);
  Recorder rec;
  Reflector reflector(client.get(), kConfigMaps, "ns", {}, rec.Handler());
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return rec.event_count() == 2; }));
  reflector.Stop();

  EXPECT_EQ(reflector.lists(), 2);
  ASSERT_EQ(rec.syncs.size(), 2u);
  EXPECT_EQ(rec.syncs[0].size(), 1u);
  EXPECT_EQ(rec.syncs[1].size(), 3u);
  EXPECT_EQ(NameOf(rec.events[0].object), "b");
  EXPECT_EQ(NameOf(rec.events[1].object), "d");
  EXPECT_TRUE(rec.errors.empty()) << rec.errors[0];  // a 410 is routine, not an error
  EXPECT_EQ(WatchVersions(fake), (std::vector<std::string>{"10", "20"}));
}

TEST(ReflectorTest, ResumesFromTheLastVersionWhenTheServerClosesTheStream) {
  FakeApiServer fake;
  std::atomic<int> watches{0};
  fake.SetHandler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") != "true") {
      res.set_content(
          Json{{"metadata", {{"resourceVersion", "10"}}}, {"items", Json::array()}}.dump(),
          "application/json");
      return;
    }
    switch (++watches) {
      case 1:  // a bookmark moves the version on, then the server ends the watch
        Stream(fake, res, {Line("BOOKMARK", {{"metadata", {{"resourceVersion", "15"}}}})}, true);
        break;
      case 2:
        Stream(fake, res, {Line("MODIFIED", Item("a", "16"))}, true);
        break;
      default:
        Stream(fake, res, {}, false);
    }
  });
  auto client = NewClient(fake);
  Recorder rec;
  Reflector reflector(client.get(), kConfigMaps, "ns", {.label_selector = "app=x"}, rec.Handler());
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return watches.load() >= 3; }));
  reflector.Stop();

  EXPECT_EQ(reflector.lists(), 1);
  ASSERT_EQ(rec.events.size(), 1u);  // bookmarks are not passed on
  EXPECT_EQ(rec.events[0].type, WatchEvent::Type::kModified);
  EXPECT_EQ(WatchVersions(fake), (std::vector<std::string>{"10", "15", "16"}));
  for (const auto& r : fake.requests()) {
    EXPECT_NE(r.target.find("labelSelector=app%3Dx"), std::string::npos) << r.target;
  }
}

TEST(ReflectorTest, ReportsListErrorsAndRetries) {
  FakeApiServer fake;
  std::atomic<int> lists{0};
  fake.SetHandler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") == "true") {
      Stream(fake, res, {}, false);
    } else if (++lists == 1) {
      testing::SendStatus(res, 403, "Forbidden", "cannot list configmaps");
    } else {
      res.set_content(R"({"metadata":{"resourceVersion":"3"},"items":[]})", "application/json");
    }
  });
  auto client = NewClient(fake);
  Recorder rec;
  Reflector reflector(client.get(), kConfigMaps, "", {}, rec.Handler());
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return reflector.lists() == 1; }));
  reflector.Stop();
  ASSERT_EQ(rec.errors.size(), 1u);
  EXPECT_TRUE(absl::IsPermissionDenied(rec.errors[0])) << rec.errors[0];
  EXPECT_EQ(rec.syncs.size(), 1u);
}

TEST(ReflectorTest, StopEndsASilentWatchQuickly) {
  FakeApiServer fake;
  fake.SetHandler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") == "true") {
      Stream(fake, res, {}, false);
    } else {
      res.set_content(R"({"metadata":{"resourceVersion":"3"},"items":[]})", "application/json");
    }
  });
  auto client = NewClient(fake);
  Recorder rec;
  Reflector reflector(client.get(), kConfigMaps, "ns", {}, rec.Handler());
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return fake.requests().size() == 2; }));
  const auto start = std::chrono::steady_clock::now();
  reflector.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  reflector.Stop();  // idempotent
}

}  // namespace
}  // namespace netrig::kube
