#include "controller/metrics/grpc_metrics.h"

#include "absl/time/clock.h"

namespace netrig::controller::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

class Interceptor : public grpc::experimental::Interceptor {
 public:
  Interceptor(ControllerMetrics& metrics, const char* method)
      : metrics_(metrics), method_(SplitGrpcMethod(method == nullptr ? "" : method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.GrpcHandled(method_.first, method_.second,
                           GrpcCodeName(methods->GetSendStatus().error_code()),
                           absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  ControllerMetrics& metrics_;
  const std::pair<std::string, std::string> method_;
  const absl::Time start_ = absl::Now();
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(ControllerMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new Interceptor(metrics_, info->method());
  }

 private:
  ControllerMetrics& metrics_;
};

}  // namespace

std::pair<std::string, std::string> SplitGrpcMethod(const std::string& full) {
  const std::string s = !full.empty() && full[0] == '/' ? full.substr(1) : full;
  const auto slash = s.find('/');
  if (slash == std::string::npos) return {"unknown", s.empty() ? "unknown" : s};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

const char* GrpcCodeName(int code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code < 17 ? kNames[code] : "UNKNOWN";
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcMetricsInterceptor(
    ControllerMetrics& metrics) {
  return std::make_unique<Factory>(metrics);
}

}  // namespace netrig::controller::metrics
