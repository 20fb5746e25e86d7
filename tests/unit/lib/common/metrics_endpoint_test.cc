#include "lib/common/metrics_endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <httplib.h>

#include <atomic>

#include "prometheus/counter.h"

namespace netrig::common {
namespace {

TEST(MetricsEndpointTest, ServesTheRegistryOnTheBoundPortAndNothingElse) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("netrig_test_events_total").Help("events").Register(*registry)
      .Add({{"kind", "a"}}).Increment(3);
  auto e = MetricsEndpoint::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(e.ok()) << e.status();
  const std::string& address = (*e)->address();
  ASSERT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  ASSERT_GT(port, 0);
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("netrig_test_events_total{kind=\"a\"} 3"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("exposer_"), std::string::npos) << "only the registry's families";
  EXPECT_NE(r->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  auto missing = c.Get("/other");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(MetricsEndpointTest, ProbesFollowTheirChecks) {
  std::atomic<bool> registered{false};
  HealthChecks health;
  health.ready = [&registered] {
    return registered.load() ? absl::OkStatus()
                             : absl::UnavailableError("not registered with the controller");
  };
  auto e = MetricsEndpoint::Start("127.0.0.1:0", std::make_shared<prometheus::Registry>(), health);
  ASSERT_TRUE(e.ok()) << e.status();
  const std::string& address = (*e)->address();
  httplib::Client c("127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1)));

  auto live = c.Get("/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200) << "no liveness check: alive while it serves";
  EXPECT_EQ(live->body, "ok\n");
  auto not_ready = c.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "not registered with the controller\n");

  registered.store(true);
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ok\n");

  registered.store(false);
  auto lost = c.Get("/readyz");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->status, 503) << "readiness is read on every probe";
}

TEST(MetricsEndpointTest, ProbesPassWithoutChecks) {
  auto e = MetricsEndpoint::Start("127.0.0.1:0", std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(e.ok()) << e.status();
  const std::string& address = (*e)->address();
  httplib::Client c("127.0.0.1", std::stoi(address.substr(address.rfind(':') + 1)));
  for (const char* path : {"/healthz", "/readyz"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
  }
}

TEST(MetricsEndpointTest, BadAddressesAreRefusedWithTheReason) {
  auto registry = std::make_shared<prometheus::Registry>();
  for (const char* bad : {"9465", ":9465", "host:port", "127.0.0.1:70000"}) {
    auto e = MetricsEndpoint::Start(bad, registry);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("expected host:port"), std::string::npos) << e.status();
  }
  // A port another socket listens on (without SO_REUSEPORT).
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  auto taken = MetricsEndpoint::Start("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)), registry);
  close(fd);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("cannot listen"), std::string::npos);
}

}  // namespace
}  // namespace netrig::common
