// A gRPC server interceptor that records every finished call in
// netrig_grpc_server_handled_total{service,method,code} and its duration in
// netrig_grpc_server_handling_seconds. Register with
// ServerBuilder::experimental().SetInterceptorCreators(...).
#pragma once

#include <memory>

#include "controller/metrics/controller_metrics.h"
#include "grpcpp/support/server_interceptor.h"

namespace netrig::controller::metrics {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcMetricsInterceptor(
    ControllerMetrics& metrics);

// "/netrig.v1.ControllerService/SubmitRun" -> {"netrig.v1.ControllerService", "SubmitRun"}.
std::pair<std::string, std::string> SplitGrpcMethod(const std::string& full);

// "OK", "NOT_FOUND", ...
const char* GrpcCodeName(int code);

}  // namespace netrig::controller::metrics
