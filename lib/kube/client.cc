// Client: the Kubernetes REST verbs over libcurl. One easy handle per call, so every method is
// thread-safe without a lock around the transfer; watches use a multi handle so they can poll
// `*stop` every 100 ms even when the server sends nothing.
#include "lib/kube/client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace netrig::kube {
namespace {

constexpr int64_t kMaxRetryAfterSeconds = 60;  // a Retry-After beyond this is the server's bug
constexpr size_t kMaxErrorBody = 64 * 1024;

using EasyHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// RFC 3986 percent-encoding of everything but the unreserved characters: for path segments and
// query values (label selectors contain '=', ',' and '!').
std::string Escape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

class Query {
 public:
  void Add(const std::string& key, const std::string& value) {
    if (!value.empty()) {
      parts_.push_back(absl::StrCat(key, "=", Escape(value)));
    }
  }
  std::string str() const { return parts_.empty() ? "" : "?" + absl::StrJoin(parts_, "&"); }

 private:
  std::vector<std::string> parts_;
};

std::string CollectionPath(const Resource& r, const std::string& ns) {
  std::string path = r.group.empty() ? absl::StrCat("/api/", r.version)
                                     : absl::StrCat("/apis/", r.group, "/", r.version);
  if (r.namespaced && !ns.empty()) {
    absl::StrAppend(&path, "/namespaces/", Escape(ns));
  }
  absl::StrAppend(&path, "/", r.plural);
  return path;
}

std::string ObjectPath(const Resource& r, const std::string& ns, const std::string& name,
                       const std::string& subresource = "") {
  std::string path = absl::StrCat(CollectionPath(r, ns), "/", Escape(name));
  if (!subresource.empty()) {
    absl::StrAppend(&path, "/", subresource);
  }
  return path;
}

// "get v1 configmaps ns/name": the prefix of every error message.
std::string Describe(const std::string& verb, const Resource& r, const std::string& ns,
                     const std::string& name) {
  std::string object;
  if (r.namespaced) {
    object = absl::StrCat(ns.empty() ? "(all namespaces)" : ns, name.empty() ? "" : "/", name);
  } else {
    object = name;
  }
  return absl::StrCat(verb, " ", r.ApiVersion(), " ", r.plural, object.empty() ? "" : " ", object);
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Typed field reads that never throw (nlohmann's value() throws on a type mismatch).
std::string StringField(const Json& object, const char* key) {
  if (!object.is_object()) {
    return "";
  }
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t IntField(const Json& object, const char* key, int64_t fallback) {
  if (!object.is_object()) {
    return fallback;
  }
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

absl::StatusCode CodeForHttp(long http, const std::string& reason) {
  switch (http) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
    case 415:
      return absl::StatusCode::kUnimplemented;
    case 409:
      return reason == "AlreadyExists" ? absl::StatusCode::kAlreadyExists
                                       : absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 429:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  if (http >= 500) {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kUnknown;
}

// The server's message from a metav1.Status object, plus the field causes it does not already
// mention (the apiserver's 422 message lists them; other servers may only put them in causes).
std::string StatusMessage(const Json& status) {
  std::string message = StringField(status, "message");
  if (status.is_object() && status.contains("details") && status["details"].is_object()) {
    const Json& details = status["details"];
    if (details.contains("causes") && details["causes"].is_array()) {
      for (const Json& cause : details["causes"]) {
        const std::string field = StringField(cause, "field");
        const std::string text = StringField(cause, "message");
        if ((field.empty() || absl::StrContains(message, field)) &&
            (text.empty() || absl::StrContains(message, text))) {
          continue;
        }
        absl::StrAppend(&message, message.empty() ? "" : "; ", field, field.empty() ? "" : ": ",
                        text);
      }
    }
  }
  return message;
}

absl::Status StatusFromObject(const std::string& what, long http, const Json& status) {
  const std::string reason = StringField(status, "reason");
  std::string message = StatusMessage(status);
  if (message.empty()) {
    message = absl::StrCat("HTTP ", http, reason.empty() ? "" : " ", reason);
  }
  return absl::Status(CodeForHttp(http, reason), absl::StrCat(what, ": ", message));
}

absl::Status ErrorFromResponse(const std::string& what, long http, const std::string& body) {
  const Json status = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (StringField(status, "kind") == "Status") {
    return StatusFromObject(what, http, status);
  }
  std::string text(absl::StripAsciiWhitespace(body.substr(0, 300)));
  return absl::Status(CodeForHttp(http, ""),
                      absl::StrCat(what, ": HTTP ", http, text.empty() ? "" : ": ", text));
}

absl::Status TransportError(const std::string& what, CURLcode code, const char* detail) {
  const std::string text =
      absl::StrCat(what, ": ", curl_easy_strerror(code),
                   detail != nullptr && *detail != '\0' ? absl::StrCat(" (", detail, ")") : "");
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(text);
  }
  return absl::UnavailableError(text);
}

bool Retryable(const absl::Status& status, long http) {
  if (http == 429 || http >= 500) {
    return true;
  }
  return http == 0 && absl::IsUnavailable(status);  // transport: refused, reset, DNS...
}

size_t AppendToString(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  out->append(data, size * n);
  return size * n;
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

// ------------------------------------------------------------------ watch stream parsing

struct WatchStream {
  CURL* easy = nullptr;
  const std::function<bool(const WatchEvent&)>* on_event = nullptr;
  std::string what;
  long http = 0;
  std::string pending;     // bytes after the last newline
  std::string error_body;  // the body of a non-200 answer
  absl::Status result;     // a bad line or an ERROR event
  bool caller_stopped = false;

  // false ends the transfer (result or caller_stopped says why).
  bool HandleLine(absl::string_view line) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) {
      return true;
    }
    const Json event = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || !event.contains("type") || !event["type"].is_string()) {
      result = absl::InternalError(absl::StrCat(what, ": bad watch event: ", line.substr(0, 200)));
      return false;
    }
    const std::string type = event["type"].get<std::string>();
    const Json object = event.value("object", Json::object());
    WatchEvent e;
    if (type == "ADDED") {
      e.type = WatchEvent::Type::kAdded;
    } else if (type == "MODIFIED") {
      e.type = WatchEvent::Type::kModified;
    } else if (type == "DELETED") {
      e.type = WatchEvent::Type::kDeleted;
    } else if (type == "BOOKMARK") {
      e.type = WatchEvent::Type::kBookmark;
    } else if (type == "ERROR") {
      const long code = static_cast<long>(IntField(object, "code", 500));
      result = StatusFromObject(what, code, object);
      return false;
    } else {
      result = absl::InternalError(absl::StrCat(what, ": unknown watch event type \"", type, "\""));
      return false;
    }
    e.object = object;
    if (!(*on_event)(e)) {
      caller_stopped = true;
      return false;
    }
    return true;
  }

  size_t Write(const char* data, size_t n) {
    if (http == 0) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
    }
    if (http != 200) {
      if (error_body.size() < kMaxErrorBody) {
        error_body.append(data, n);
      }
      return n;
    }
    pending.append(data, n);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!HandleLine(absl::string_view(pending).substr(start, nl - start))) {
        return 0;  // CURLE_WRITE_ERROR: the transfer ends here
      }
    }
    pending.erase(0, start);
    return n;
  }

  static size_t WriteCallback(char* data, size_t size, size_t n, void* user) {
    return static_cast<WatchStream*>(user)->Write(data, size * n);
  }
};

}  // namespace

// ------------------------------------------------------------------ Client::Impl

struct Client::Impl {
  Config config;
  ClientOptions options;

  std::mutex token_mu;
  std::string token;
  struct timespec token_mtime {};

  struct Response {
    long http = 0;
    std::string body;
    int64_t retry_after_seconds = -1;
  };

  // The bearer token; re-read from token_file when its mtime changes (projected service
  // account tokens are rotated in place).
  std::string Token() {
    std::lock_guard<std::mutex> lock(token_mu);
    if (!config.token_file.empty()) {
      struct stat st {};
      if (stat(config.token_file.c_str(), &st) == 0 &&
          (st.st_mtim.tv_sec != token_mtime.tv_sec || st.st_mtim.tv_nsec != token_mtime.tv_nsec)) {
        std::ifstream in(config.token_file);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string fresh(absl::StripAsciiWhitespace(ss.str()));
        if (!fresh.empty()) {
          token = fresh;
          token_mtime = st.st_mtim;
        }
      }
    }
    return token;
  }

  // Options every request shares: TLS, auth, headers, timeouts.
  HeaderList Setup(CURL* easy, const std::string& url, const char* content_type) {
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(
                         std::min(options.request_timeout, absl::Seconds(10)))));
    if (config.insecure_skip_tls_verify) {
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!config.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (!config.client_cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(config.client_cert_pem.data()),
                     config.client_cert_pem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(config.client_key_pem.data()), config.client_key_pem.size(),
                    CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    }
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for bodies
    if (content_type != nullptr) {
      headers = curl_slist_append(headers, absl::StrCat("Content-Type: ", content_type).c_str());
    }
    if (const std::string t = Token(); !t.empty()) {
      headers = curl_slist_append(headers, absl::StrCat("Authorization: Bearer ", t).c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    return HeaderList(headers, &curl_slist_free_all);
  }

  // One HTTP exchange. Transport failures are errors; any HTTP status is a Response.
  absl::StatusOr<Response> Once(const std::string& what, const char* method,
                                const std::string& path, const std::string* body,
                                const char* content_type) {
    EasyHandle easy(curl_easy_init(), &curl_easy_cleanup);
    if (easy == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(what, ": curl_easy_init failed"));
    }
    const std::string url = config.server + path;
    HeaderList headers = Setup(easy.get(), url, content_type);
    curl_easy_setopt(easy.get(), CURLOPT_CUSTOMREQUEST, method);
    if (body != nullptr) {
      curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(body->size()));
    }
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options.request_timeout)));
    Response response;
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &AppendToString);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &response.body);
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(easy.get());
    if (rc != CURLE_OK) {
      return TransportError(what, rc, error);
    }
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &response.http);
    curl_off_t retry_after = -1;
    if (curl_easy_getinfo(easy.get(), CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0) {
      response.retry_after_seconds = retry_after;
    }
    return response;
  }

  absl::Duration Backoff(int attempt, int64_t retry_after_seconds) {
    if (retry_after_seconds > 0) {
      return absl::Seconds(std::min(retry_after_seconds, kMaxRetryAfterSeconds));
    }
    absl::Duration d = options.initial_backoff;
    for (int i = 1; i < attempt && d < options.max_backoff; ++i) {
      d *= 2;
    }
    d = std::min(d, options.max_backoff);
    // Jitter in [d/2, d] so that many clients do not come back in lockstep.
    thread_local absl::BitGen gen;
    return d / 2 + absl::Uniform(gen, 0.0, 1.0) * (d / 2);
  }

  // A request with retries on 429 / 5xx / transport errors; errors mapped from the status.
  absl::StatusOr<std::string> Call(const std::string& what, const char* method,
                                   const std::string& path, const std::string* body = nullptr,
                                   const char* content_type = nullptr) {
    const int attempts = std::max(1, options.max_attempts);
    absl::Status last;
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<Response> response = Once(what, method, path, body, content_type);
      long http = 0;
      int64_t retry_after = -1;
      if (response.ok()) {
        http = response->http;
        if (http >= 200 && http < 300) {
          return std::move(response->body);
        }
        retry_after = response->retry_after_seconds;
        last = ErrorFromResponse(what, http, response->body);
      } else {
        last = response.status();
      }
      if (!Retryable(last, http)) {
        return last;
      }
      if (attempt >= attempts) {
        return absl::Status(last.code(), absl::StrCat(last.message(), " (gave up after ", attempts,
                                                      attempts == 1 ? " attempt)" : " attempts)"));
      }
      absl::SleepFor(Backoff(attempt, retry_after));
    }
  }

  absl::StatusOr<Json> CallJson(const std::string& what, const char* method,
                                const std::string& path, const std::string* body = nullptr,
                                const char* content_type = nullptr) {
    absl::StatusOr<std::string> text = Call(what, method, path, body, content_type);
    if (!text.ok()) {
      return text.status();
    }
    Json json = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return absl::InternalError(
          absl::StrCat(what, ": response is not JSON: ", text->substr(0, 200)));
    }
    return json;
  }

  std::string WriteQuery() const {
    Query q;
    q.Add("fieldManager", options.field_manager);
    return q.str();
  }
};

// ------------------------------------------------------------------ Client

absl::StatusOr<std::unique_ptr<Client>> Client::Create(Config config, ClientOptions options) {
  if (config.server.empty()) {
    return absl::InvalidArgumentError("kube client: config.server is empty");
  }
  if (!absl::StartsWith(config.server, "https://") && !absl::StartsWith(config.server, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat("kube client: config.server \"", config.server,
                                                   "\" must start with https:// or http://"));
  }
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "kube client: client_cert_pem and client_key_pem must be given together");
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("kube client: options.request_timeout must be positive");
  }
  InitCurlOnce();
  auto impl = std::make_unique<Impl>();
  config.server = std::string(absl::StripSuffix(config.server, "/"));
  impl->token = config.token;
  impl->config = std::move(config);
  impl->options = std::move(options);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const Config& Client::config() const { return impl_->config; }

absl::StatusOr<Json> Client::Get(const Resource& r, const std::string& ns,
                                 const std::string& name) {
  return impl_->CallJson(Describe("get", r, ns, name), "GET", ObjectPath(r, ns, name));
}

absl::StatusOr<Json> Client::List(const Resource& r, const std::string& ns,
                                  const ListOptions& options) {
  const std::string what = Describe("list", r, ns, "");
  Json result;
  Json items = Json::array();
  std::string continue_token;
  do {
    Query q;
    q.Add("labelSelector", options.label_selector);
    q.Add("fieldSelector", options.field_selector);
    if (options.limit > 0) {
      q.Add("limit", std::to_string(options.limit));
    }
    if (continue_token.empty()) {
      q.Add("resourceVersion", options.resource_version);  // not allowed with `continue`
    } else {
      q.Add("continue", continue_token);
    }
    absl::StatusOr<Json> page = impl_->CallJson(what, "GET", CollectionPath(r, ns) + q.str());
    if (!page.ok()) {
      return page.status();
    }
    if (!page->is_object()) {
      return absl::InternalError(absl::StrCat(what, ": response is not a List object"));
    }
    if (page->contains("items") && (*page)["items"].is_array()) {
      for (Json& item : (*page)["items"]) {
        items.push_back(std::move(item));
      }
    }
    continue_token = page->contains("metadata") ? StringField((*page)["metadata"], "continue") : "";
    result = std::move(*page);
  } while (!continue_token.empty());
  result["items"] = std::move(items);
  if (result.contains("metadata") && result["metadata"].is_object()) {
    result["metadata"].erase("continue");
    result["metadata"].erase("remainingItemCount");
  }
  return result;
}

absl::StatusOr<Json> Client::Create(const Resource& r, const std::string& ns, const Json& object) {
  Json body = object;
  if (body.is_object()) {
    if (!body.contains("apiVersion")) {
      body["apiVersion"] = r.ApiVersion();
    }
    if (!body.contains("kind") && !r.kind.empty()) {
      body["kind"] = r.kind;
    }
  }
  const std::string text = Dump(body);
  return impl_->CallJson(Describe("create", r, ns, NameOf(object)), "POST",
                         CollectionPath(r, ns) + impl_->WriteQuery(), &text, "application/json");
}

absl::StatusOr<Json> Client::Replace(const Resource& r, const std::string& ns,
                                     const std::string& name, const Json& object) {
  const std::string text = Dump(object);
  return impl_->CallJson(Describe("replace", r, ns, name), "PUT",
                         ObjectPath(r, ns, name) + impl_->WriteQuery(), &text, "application/json");
}

absl::StatusOr<Json> Client::Patch(const Resource& r, const std::string& ns,
                                   const std::string& name, const Json& patch, PatchType type) {
  const std::string text = Dump(patch);
  return impl_->CallJson(Describe("patch", r, ns, name), "PATCH",
                         ObjectPath(r, ns, name) + impl_->WriteQuery(), &text,
                         PatchContentType(type));
}

absl::StatusOr<Json> Client::ReplaceStatus(const Resource& r, const std::string& ns,
                                           const std::string& name, const Json& object) {
  const std::string text = Dump(object);
  return impl_->CallJson(Describe("replace status of", r, ns, name), "PUT",
                         ObjectPath(r, ns, name, "status") + impl_->WriteQuery(), &text,
                         "application/json");
}

absl::StatusOr<Json> Client::PatchStatus(const Resource& r, const std::string& ns,
                                         const std::string& name, const Json& patch,
                                         PatchType type) {
  const std::string text = Dump(patch);
  return impl_->CallJson(Describe("patch status of", r, ns, name), "PATCH",
                         ObjectPath(r, ns, name, "status") + impl_->WriteQuery(), &text,
                         PatchContentType(type));
}

absl::Status Client::Delete(const Resource& r, const std::string& ns, const std::string& name,
                            const DeleteOptions& options) {
  Json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagation_policy.empty()) {
    body["propagationPolicy"] = options.propagation_policy;
  }
  if (options.grace_period_seconds >= 0) {
    body["gracePeriodSeconds"] = options.grace_period_seconds;
  }
  if (!options.precondition_uid.empty()) {
    body["preconditions"] = {{"uid", options.precondition_uid}};
  }
  const std::string text = Dump(body);
  return impl_
      ->Call(Describe("delete", r, ns, name), "DELETE", ObjectPath(r, ns, name), &text,
             "application/json")
      .status();
}

absl::Status Client::Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                           const std::function<bool(const WatchEvent&)>& on_event,
                           const std::atomic<bool>* stop) {
  const std::string what = Describe("watch", r, ns, "");
  Query q;
  q.Add("watch", "true");
  q.Add("resourceVersion", options.resource_version);
  q.Add("labelSelector", options.label_selector);
  q.Add("fieldSelector", options.field_selector);
  if (options.allow_bookmarks) {
    q.Add("allowWatchBookmarks", "true");
  }
  const int64_t timeout_s = std::max<int64_t>(1, absl::ToInt64Seconds(options.timeout));
  q.Add("timeoutSeconds", std::to_string(timeout_s));

  EasyHandle easy(curl_easy_init(), &curl_easy_cleanup);
  using MultiHandle = std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)>;
  MultiHandle multi(curl_multi_init(), &curl_multi_cleanup);
  if (easy == nullptr || multi == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": curl init failed"));
  }
  HeaderList headers =
      impl_->Setup(easy.get(), impl_->config.server + CollectionPath(r, ns) + q.str(), nullptr);
  // The server ends the watch after timeoutSeconds; the local limit only catches a server that
  // went silent for good (TCP keepalive catches a dead peer earlier).
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(absl::Seconds(timeout_s) +
                                                               impl_->options.request_timeout)));
  WatchStream stream;
  stream.easy = easy.get();
  stream.on_event = &on_event;
  stream.what = what;
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &WatchStream::WriteCallback);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &stream);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error);
  curl_multi_add_handle(multi.get(), easy.get());

  CURLcode rc = CURLE_OK;
  bool stopped = false;
  for (int running = 1; running > 0;) {
    if (stop != nullptr && stop->load()) {
      stopped = true;
      break;
    }
    if (const CURLMcode mc = curl_multi_perform(multi.get(), &running); mc != CURLM_OK) {
      curl_multi_remove_handle(multi.get(), easy.get());
      return absl::InternalError(absl::StrCat(what, ": ", curl_multi_strerror(mc)));
    }
    if (running > 0) {
      curl_multi_poll(multi.get(), nullptr, 0, /*timeout_ms=*/100, nullptr);
    }
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
    if (msg->msg == CURLMSG_DONE) {
      rc = msg->data.result;
    }
  }
  curl_multi_remove_handle(multi.get(), easy.get());

  if (stopped || stream.caller_stopped) {
    return absl::OkStatus();
  }
  if (!stream.result.ok()) {
    return stream.result;
  }
  if (rc != CURLE_OK) {
    return TransportError(what, rc, error);
  }
  if (stream.http == 0) {
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &stream.http);
  }
  if (stream.http != 200) {
    return ErrorFromResponse(what, stream.http, stream.error_body);
  }
  // A last event without a trailing newline.
  if (!stream.pending.empty()) {
    const std::string last = std::move(stream.pending);
    stream.HandleLine(last);
    if (!stream.result.ok()) {
      return stream.result;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Client::GetRaw(const std::string& path) {
  return impl_->Call(absl::StrCat("get ", path), "GET", path);
}

// ------------------------------------------------------------------ UpdateWithRetry

absl::StatusOr<Json> UpdateWithRetry(Api& api, const Resource& r, const std::string& ns,
                                     const std::string& name,
                                     const std::function<absl::Status(Json&)>& mutate, bool status,
                                     int attempts) {
  absl::Status last;
  for (int attempt = 0; attempt < std::max(1, attempts); ++attempt) {
    absl::StatusOr<Json> object = api.Get(r, ns, name);
    if (!object.ok()) {
      return object.status();
    }
    if (absl::Status s = mutate(*object); !s.ok()) {
      return s;
    }
    absl::StatusOr<Json> written =
        status ? api.ReplaceStatus(r, ns, name, *object) : api.Replace(r, ns, name, *object);
    if (written.ok() || !absl::IsAborted(written.status())) {
      return written;
    }
    last = written.status();
  }
  return absl::AbortedError(absl::StrCat(last.message(), " (still conflicting after ",
                                         std::max(1, attempts), " attempts)"));
}

// ------------------------------------------------------------------ helpers

namespace {
const Json& Metadata(const Json& object) {
  static const Json kNone = Json::object();
  if (!object.is_object()) {
    return kNone;
  }
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kNone;
}
}  // namespace

std::string NameOf(const Json& object) { return StringField(Metadata(object), "name"); }
std::string NamespaceOf(const Json& object) { return StringField(Metadata(object), "namespace"); }
std::string UidOf(const Json& object) { return StringField(Metadata(object), "uid"); }
std::string ResourceVersionOf(const Json& object) {
  return StringField(Metadata(object), "resourceVersion");
}
int64_t GenerationOf(const Json& object) { return IntField(Metadata(object), "generation", 0); }

std::string FormatTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace netrig::kube
