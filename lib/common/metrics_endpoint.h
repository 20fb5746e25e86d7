// Prometheus exposition for netrig processes: a prometheus-cpp registry served over HTTP at
// /metrics (text format 0.0.4). Metric naming rules (docs/metrics.md): the `netrig_` prefix,
// base units in the name (_seconds, _bytes, _ratio), `_total` on counters, bounded labels.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace netrig::common {

class MetricsEndpoint {
 public:
  // Binds `address` ("127.0.0.1:9465"; port 0 picks a free one) and serves `registry`.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // host:port actually bound (the port resolved when 0 was asked for).
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::string address_;
};

// The registry's current text exposition (for serving /metrics from an existing HTTP server).
std::string SerializeMetrics(prometheus::Registry& registry);

}  // namespace netrig::common
