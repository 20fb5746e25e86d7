#include "lib/common/metrics_endpoint.h"

#include <exception>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"
#include "prometheus/text_serializer.h"

namespace netrig::common {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry) {
  const auto colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", address, "\": expected host:port"));
  }
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  try {
    // civetweb: one worker thread is plenty for a scrape every few seconds.
    e->exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& ex) {
    return absl::UnavailableError(
        absl::StrCat("metrics address ", address, ": cannot listen (", ex.what(), ")"));
  }
  e->registry_ = std::move(registry);
  e->exposer_->RegisterCollectable(e->registry_, "/metrics");
  const std::vector<int> ports = e->exposer_->GetListeningPorts();
  e->address_ = absl::StrCat(address.substr(0, colon), ":", ports.empty() ? port : ports.front());
  return e;
}

MetricsEndpoint::~MetricsEndpoint() = default;

std::string SerializeMetrics(prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

}  // namespace netrig::common
