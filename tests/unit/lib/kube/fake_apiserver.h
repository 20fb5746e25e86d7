// FakeApiServer: an in-process, plain-HTTP stand-in for kube-apiserver on 127.0.0.1:0, for
// lib/kube unit tests. Each test scripts it with a handler; the default handler is a tiny object
// store (GET / POST / PUT with resourceVersion conflicts / DELETE) keyed by the URL path, which
// is enough for UpdateWithRetry and the Lease protocol. Every request is recorded.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/client.h"

namespace netrig::kube::testing {

struct SeenRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::string body;
  httplib::Headers headers;

  std::string Header(const std::string& key) const {
    auto it = headers.find(key);
    return it == headers.end() ? "" : it->second;
  }
};

// A metav1.Status body.
inline void SendStatus(httplib::Response& res, int code, const std::string& reason,
                       const std::string& message, Json causes = Json()) {
  Json status = {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
                 {"message", message}, {"reason", reason},   {"code", code}};
  if (!causes.is_null()) {
    status["details"] = {{"causes", causes}};
  }
  res.status = code;
  res.set_content(status.dump(), "application/json");
}

class FakeApiServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  FakeApiServer() {
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back({req.method, req.target, req.path, req.body, req.headers});
        handler = handler_;
      }
      if (handler) {
        handler(req, res);
      } else {
        Store(req, res);
      }
    };
    server_.Get(".*", dispatch);
    server_.Post(".*", dispatch);
    server_.Put(".*", dispatch);
    server_.Patch(".*", dispatch);
    server_.Delete(".*", dispatch);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) {
      std::this_thread::yield();
    }
  }

  ~FakeApiServer() {
    closing_.store(true);
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  Config config() const {
    Config c;
    c.server = url();
    return c;
  }

  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }

  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  // Requests whose method and path match.
  std::vector<SeenRequest> requests(const std::string& method, const std::string& path) const {
    std::vector<SeenRequest> out;
    for (const SeenRequest& r : requests()) {
      if (r.method == method && r.path == path) {
        out.push_back(r);
      }
    }
    return out;
  }

  // True once the destructor started: streaming handlers must return.
  bool closing() const { return closing_.load(); }

  // Store access for tests (path = the object's URL path).
  Json Stored(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(path);
    return it == objects_.end() ? Json() : it->second;
  }
  void Put(const std::string& path, Json object) {
    std::lock_guard<std::mutex> lock(mu_);
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects_[path] = std::move(object);
  }

  // The default handler: an object store keyed by path.
  void Store(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    const Json body = Json::parse(req.body, nullptr, false);
    if (req.method == "GET") {
      auto it = objects_.find(req.path);
      if (it == objects_.end()) {
        SendStatus(res, 404, "NotFound", "\"" + req.path + "\" not found");
        return;
      }
      res.set_content(it->second.dump(), "application/json");
    } else if (req.method == "POST") {
      const std::string path = req.path + "/" + NameOf(body);
      if (objects_.count(path) != 0) {
        SendStatus(res, 409, "AlreadyExists", "\"" + NameOf(body) + "\" already exists");
        return;
      }
      Json stored = body;
      stored["metadata"]["resourceVersion"] = std::to_string(++rv_);
      objects_[path] = stored;
      res.status = 201;
      res.set_content(stored.dump(), "application/json");
    } else if (req.method == "PUT") {
      auto it = objects_.find(req.path);
      if (it == objects_.end()) {
        SendStatus(res, 404, "NotFound", "\"" + req.path + "\" not found");
        return;
      }
      if (ResourceVersionOf(body) != ResourceVersionOf(it->second)) {
        SendStatus(res, 409, "Conflict",
                   "Operation cannot be fulfilled: the object has been modified; please apply "
                   "your changes to the latest version and try again");
        return;
      }
      Json stored = body;
      stored["metadata"]["resourceVersion"] = std::to_string(++rv_);
      it->second = stored;
      res.set_content(stored.dump(), "application/json");
    } else if (req.method == "DELETE") {
      if (objects_.erase(req.path) == 0) {
        SendStatus(res, 404, "NotFound", "\"" + req.path + "\" not found");
        return;
      }
      res.set_content(R"({"kind":"Status","status":"Success"})", "application/json");
    } else {
      SendStatus(res, 405, "MethodNotAllowed", "not supported by the fake");
    }
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> closing_{false};
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<SeenRequest> requests_;
  std::map<std::string, Json> objects_;
  int64_t rv_ = 100;
};

// Polls `condition` every 10 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace netrig::kube::testing
