#include "controller/api/controller_service.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/common/metrics_endpoint.h"

namespace netrig::controller::api {
namespace {

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;  // "valid": false must be there, not implied
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

void Reply(httplib::Response& res, const absl::Status& s) {
  res.status = HttpStatus(s.code());
  res.set_content(nlohmann::json{{"code", absl::StatusCodeToString(s.code())},
                                  {"message", std::string(s.message())}}
                      .dump(),
                  "application/json");
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::Status ControllerServiceImpl::ValidateRun(grpc::ServerContext*,
                                                const v1::ValidateRunRequest* req,
                                                v1::ValidateRunResponse* resp) {
  *resp = runs_.Validate(req->document());
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::SubmitRun(grpc::ServerContext*, const v1::SubmitRunRequest* req,
                                              v1::Run* resp) {
  auto r = runs_.Submit(req->document(), {req->labels().begin(), req->labels().end()},
                        req->request_id());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *r;
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::GetRun(grpc::ServerContext*, const v1::GetRunRequest* req,
                                           v1::Run* resp) {
  auto r = runs_.Get(req->id());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *r;
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::ListRuns(grpc::ServerContext*, const v1::ListRunsRequest* req,
                                             v1::ListRunsResponse* resp) {
  auto r = runs_.List(req->phase(), req->limit());
  if (!r.ok()) return ToGrpc(r.status());
  for (auto& run : *r) *resp->add_runs() = std::move(run);
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::CancelRun(grpc::ServerContext*,
                                              const v1::CancelRunRequest* req, v1::Run* resp) {
  auto r = runs_.Cancel(req->id(), req->reason());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *r;
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::GetResults(grpc::ServerContext*, const v1::GetRunRequest* req,
                                               v1::RunResults* resp) {
  auto r = runs_.Results(req->id());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *r;
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest*,
                                               v1::ListAgentsResponse* resp) {
  for (auto& a : runs_.Agents()) *resp->add_agents() = std::move(a);
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::WatchRun(grpc::ServerContext* ctx,
                                             const v1::GetRunRequest* req,
                                             grpc::ServerWriter<v1::Run>* writer) {
  int64_t seen = -1;
  while (!ctx->IsCancelled()) {
    int64_t rev = 0;
    auto r = runs_.Get(req->id(), &rev);
    if (!r.ok()) return ToGrpc(r.status());
    if (rev != seen) {
      if (!writer->Write(*r)) return grpc::Status::CANCELLED;
      seen = rev;
      if (RunService::IsTerminal(r->test_run().status().phase())) return grpc::Status::OK;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return grpc::Status::CANCELLED;
}

RestServer::RestServer(RunService& runs, metrics::ControllerMetrics* metrics)
    : runs_(runs), metrics_(metrics), server_(std::make_unique<httplib::Server>()) {}

std::string PrometheusTargets(const std::vector<v1::AgentInfo>& agents) {
  // [{"targets": ["host:port"], "labels": {"agent": "...", "pool": "..."}}, ...]
  nlohmann::json out = nlohmann::json::array();
  for (const v1::AgentInfo& a : agents) {
    const std::string& address = a.capabilities().metrics_address();
    if (address.empty()) continue;
    const auto& labels = a.capabilities().labels();
    const auto pool = labels.find("pool");
    out.push_back({{"targets", {address}},
                   {"labels",
                    {{"agent", a.id()}, {"pool", pool == labels.end() ? "default" : pool->second}}}});
  }
  return out.dump();
}

RestServer::~RestServer() { Stop(); }

void RestServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> RestServer::Start(const std::string& host, int port) {
  using httplib::Request;
  using httplib::Response;
  httplib::Server& s = *server_;
  const auto parse = [](const Request& req, google::protobuf::Message* m) -> absl::Status {
    if (req.body.empty()) return absl::OkStatus();
    google::protobuf::util::JsonParseOptions o;
    auto st = google::protobuf::util::JsonStringToMessage(req.body, m, o);
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("request body: ", std::string(st.message())));
    }
    return absl::OkStatus();
  };
  const auto reply = [](Response& res, const absl::StatusOr<std::string>& body) {
    if (!body.ok()) {
      Reply(res, body.status());
    } else {
      res.set_content(*body, "application/json");
    }
  };
  s.Post("/v1/runs:validate", [&, parse, reply](const Request& req, Response& res) {
    v1::ValidateRunRequest in;
    if (auto st = parse(req, &in); !st.ok()) return Reply(res, st);
    reply(res, ToJson(runs_.Validate(in.document())));
  });
  s.Post("/v1/runs", [&, parse, reply](const Request& req, Response& res) {
    v1::SubmitRunRequest in;
    if (auto st = parse(req, &in); !st.ok()) return Reply(res, st);
    auto r = runs_.Submit(in.document(), {in.labels().begin(), in.labels().end()},
                          in.request_id());
    reply(res, r.ok() ? absl::StatusOr<std::string>(ToJson(*r)) : r.status());
  });
  s.Get("/v1/runs", [&, reply](const Request& req, Response& res) {
    auto r = runs_.List(req.get_param_value("phase"), 0);
    if (!r.ok()) return Reply(res, r.status());
    v1::ListRunsResponse out;
    for (auto& run : *r) *out.add_runs() = std::move(run);
    reply(res, ToJson(out));
  });
  s.Get(R"(/v1/runs/([A-Za-z0-9._-]+))", [&, reply](const Request& req, Response& res) {
    auto r = runs_.Get(req.matches[1]);
    reply(res, r.ok() ? absl::StatusOr<std::string>(ToJson(*r)) : r.status());
  });
  s.Get(R"(/v1/runs/([A-Za-z0-9._-]+)/results)", [&, reply](const Request& req, Response& res) {
    auto r = runs_.Results(req.matches[1]);
    reply(res, r.ok() ? absl::StatusOr<std::string>(ToJson(*r)) : r.status());
  });
  s.Post(R"(/v1/runs/([A-Za-z0-9._-]+):cancel)", [&, parse, reply](const Request& req, Response& res) {
    v1::CancelRunRequest in;
    if (auto st = parse(req, &in); !st.ok()) return Reply(res, st);
    auto r = runs_.Cancel(req.matches[1], in.reason());
    reply(res, r.ok() ? absl::StatusOr<std::string>(ToJson(*r)) : r.status());
  });
  s.Get("/v1/agents", [&, reply](const Request&, Response& res) {
    v1::ListAgentsResponse out;
    for (auto& a : runs_.Agents()) *out.add_agents() = std::move(a);
    reply(res, ToJson(out));
  });
  s.Get("/healthz", [](const Request&, Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this](const Request&, Response& res) {
    const absl::Status ready = ready_ ? ready_() : absl::OkStatus();
    res.status = ready.ok() ? 200 : 503;
    res.set_content(ready.ok() ? "ok\n" : absl::StrCat(ready.message(), "\n"), "text/plain");
  });
  if (metrics_ != nullptr) {
    s.Get("/metrics", [this](const Request&, Response& res) {
      res.set_content(common::SerializeMetrics(*metrics_->registry()),
                      "text/plain; version=0.0.4; charset=utf-8");
    });
    s.Get("/v1/prometheus/targets", [this](const Request&, Response& res) {
      res.set_content(PrometheusTargets(runs_.Agents()), "application/json");
    });
  }
  s.set_error_handler([](const Request& req, Response& res) {
    if (res.body.empty()) {
      Reply(res, absl::Status(res.status == 404 ? absl::StatusCode::kNotFound
                                                : absl::StatusCode::kInvalidArgument,
                              absl::StrCat(req.method, " ", req.path, ": no such endpoint")));
    }
  });
  const int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(absl::StrCat("REST: cannot listen on ", host, ":", port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the listen loop runs would be lost (and Stop()'s join would hang).
  for (int i = 0; i < 2000 && !server_->is_running(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return bound;
}

}  // namespace netrig::controller::api
