#include "lib/common/metrics_endpoint.h"

#include <httplib.h>

#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/text_serializer.h"

namespace netrig::common {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry,
    HealthChecks health) {
  const auto colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", address, "\": expected host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:9465
  }
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->registry_ = std::move(registry);
  e->server_ = std::make_unique<httplib::Server>();
  prometheus::Registry* reg = e->registry_.get();
  e->server_->Get("/metrics", [reg](const httplib::Request&, httplib::Response& res) {
    res.set_content(SerializeMetrics(*reg), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto probe = [server = e->server_.get()](const char* path, std::function<absl::Status()> check) {
    server->Get(path, [check = std::move(check)](const httplib::Request&, httplib::Response& res) {
      const absl::Status s = check ? check() : absl::OkStatus();
      res.status = s.ok() ? 200 : 503;
      res.set_content(s.ok() ? "ok\n" : absl::StrCat(s.message(), "\n"),
                      "text/plain; charset=utf-8");
    });
  };
  probe("/healthz", std::move(health.live));
  probe("/readyz", std::move(health.ready));
  const int bound = port == 0 ? e->server_->bind_to_any_port(host)
                              : (e->server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(absl::StrCat("metrics address ", address, ": cannot listen"));
  }
  e->address_ = absl::StrCat(address.substr(0, colon), ":", bound);
  httplib::Server* server = e->server_.get();
  e->thread_ = std::thread([server] { server->listen_after_bind(); });
  // stop() before the listen loop runs would be lost (and the destructor's join would hang).
  for (int i = 0; i < 2000 && !server->is_running(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return e;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string SerializeMetrics(prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

}  // namespace netrig::common
