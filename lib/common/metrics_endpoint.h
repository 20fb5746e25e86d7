// Prometheus exposition for netrig processes: a prometheus-cpp registry served over HTTP at
// /metrics (text format 0.0.4), by cpp-httplib on a thread of its own. Only the registry's
// families are served (prometheus-cpp's own Exposer would add unprefixed exposer_* metrics). Metric naming rules (docs/metrics.md): the `netrig_` prefix,
// base units in the name (_seconds, _bytes, _ratio), `_total` on counters, bounded labels.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace httplib {
class Server;
}

namespace netrig::common {

// Kubernetes probes served next to /metrics: 200 "ok" when the check returns OK, else 503 with
// the status message as the body. An empty check always passes, so /healthz then means "the
// process serves HTTP". Checks run on the endpoint's thread and must be thread-safe and quick.
struct HealthChecks {
  std::function<absl::Status()> live;   // GET /healthz (livenessProbe)
  std::function<absl::Status()> ready;  // GET /readyz (readinessProbe)
};

class MetricsEndpoint {
 public:
  // Binds `address` ("127.0.0.1:9465"; port 0 picks a free one) and serves `registry` at
  // /metrics, and `health` at /healthz and /readyz.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::shared_ptr<prometheus::Registry> registry,
      HealthChecks health = {});
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // host:port actually bound (the port resolved when 0 was asked for).
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::string address_;
};

// The registry's current text exposition (for serving /metrics from an existing HTTP server).
std::string SerializeMetrics(prometheus::Registry& registry);

}  // namespace netrig::common
