#include "controller/store/etcd_store.h"

#include <grpcpp/grpcpp.h>

#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/common/status_macros.h"

namespace netrig::controller::store {
namespace {

namespace pb = ::etcdserverpb;

absl::Status ToStatus(const grpc::Status& s, absl::string_view what) {
  if (s.ok()) {
    return absl::OkStatus();
  }
  // grpc::StatusCode and absl::StatusCode share the canonical google.rpc.Code numbering.
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("etcd ", what, ": ", s.error_message()));
}

absl::Status CheckKey(absl::string_view what, absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": key must not be empty"));
  }
  return absl::OkStatus();
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(),
                  kv.lease()};
}

Event FromProto(const mvccpb::Event& e) {
  Event out;
  out.type = e.type() == mvccpb::Event::DELETE ? EventType::kDelete : EventType::kPut;
  out.kv = FromProto(e.kv());
  out.has_prev = e.has_prev_kv();
  if (out.has_prev) {
    out.prev = FromProto(e.prev_kv());
  }
  return out;
}

// One Watch stream and the thread that reads it.
class EtcdWatch : public std::enable_shared_from_this<EtcdWatch> {
 public:
  EtcdWatch(pb::WatchCreateRequest create, EventCallback on_events, ErrorCallback on_error)
      : create_(std::move(create)), on_events_(std::move(on_events)), on_error_(std::move(on_error)) {}

  ~EtcdWatch() {
    if (thread_.joinable()) {
      if (OnThread()) {
        thread_.detach();  // last reference dropped by the reader thread as it returns
      } else {
        thread_.join();
      }
    }
  }

  // Starts the stream; waits up to `timeout` for etcd to confirm the watch.
  absl::Status Start(pb::Watch::Stub* stub, absl::Duration timeout) {
    {
      std::lock_guard<std::mutex> lock(join_mu_);
      thread_ = std::thread([self = shared_from_this(), stub] { self->Run(stub); });
    }
    bool done;
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      done = mu_.AwaitWithTimeout(absl::Condition(&created_done_), timeout);
      status = create_status_;
    }
    if (!done) {
      status = absl::DeadlineExceededError("etcd Watch: no confirmation from etcd in time");
    }
    if (!status.ok()) {
      Cancel();
    }
    return status;
  }

  void Cancel() {
    {
      absl::MutexLock lock(&mu_);
      canceled_ = true;
    }
    ctx_.TryCancel();
    if (OnThread()) {
      return;
    }
    std::lock_guard<std::mutex> lock(join_mu_);
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  bool OnThread() {
    absl::MutexLock lock(&mu_);
    return thread_id_ == std::this_thread::get_id();
  }
  bool canceled() {
    absl::MutexLock lock(&mu_);
    return canceled_;
  }
  void SetCreated(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (!created_done_) {
      created_done_ = true;
      create_status_ = std::move(status);
    }
  }
  void Fail(absl::Status status) {
    bool report;
    {
      absl::MutexLock lock(&mu_);
      report = created_done_ && !canceled_;
      if (!created_done_) {
        created_done_ = true;
        create_status_ = status;
      }
    }
    if (report && on_error_) {
      on_error_(status);
    }
  }

  void Run(pb::Watch::Stub* stub) {
    {
      absl::MutexLock lock(&mu_);
      thread_id_ = std::this_thread::get_id();
      if (canceled_) {
        created_done_ = true;
        create_status_ = absl::CancelledError("etcd Watch: canceled");
        return;
      }
    }
    auto stream = stub->Watch(&ctx_);
    pb::WatchRequest req;
    *req.mutable_create_request() = create_;
    pb::WatchResponse resp;
    bool ended_by_server = false;
    if (stream->Write(req)) {
      while (stream->Read(&resp)) {
        if (resp.created()) {
          if (resp.canceled()) {
            break;  // creation refused; reported through Finish/cancel_reason below
          }
          SetCreated(absl::OkStatus());
        }
        if (resp.canceled()) {
          ended_by_server = true;
          if (resp.compact_revision() > 0) {
            Fail(absl::OutOfRangeError(absl::StrCat(
                "etcd Watch: start revision compacted; history starts at ",
                resp.compact_revision())));
          } else {
            Fail(absl::UnavailableError(
                absl::StrCat("etcd Watch: canceled by etcd: ", resp.cancel_reason())));
          }
          ctx_.TryCancel();
          break;
        }
        if (resp.events_size() > 0 && !canceled()) {
          std::vector<Event> events;
          events.reserve(resp.events_size());
          for (const mvccpb::Event& e : resp.events()) {
            events.push_back(FromProto(e));
          }
          on_events_(events);
        }
      }
    }
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!ended_by_server) {
      absl::Status s = st.ok() ? absl::UnavailableError("etcd Watch: stream closed by etcd")
                               : ToStatus(st, "Watch");
      if (resp.created() && resp.canceled()) {
        s = absl::InvalidArgumentError(absl::StrCat("etcd Watch: ", resp.cancel_reason()));
      }
      Fail(std::move(s));
    }
  }

  const pb::WatchCreateRequest create_;
  EventCallback on_events_;
  ErrorCallback on_error_;
  grpc::ClientContext ctx_;
  absl::Mutex mu_;
  bool created_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status create_status_ ABSL_GUARDED_BY(mu_);
  bool canceled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id thread_id_ ABSL_GUARDED_BY(mu_);
  std::mutex join_mu_;
  std::thread thread_;
};

class EtcdWatchHandle : public WatchHandle {
 public:
  explicit EtcdWatchHandle(std::shared_ptr<EtcdWatch> w) : w_(std::move(w)) {}
  ~EtcdWatchHandle() override { Cancel(); }
  void Cancel() override { w_->Cancel(); }

 private:
  std::shared_ptr<EtcdWatch> w_;
};

}  // namespace

class EtcdStore::Impl {
 public:
  explicit Impl(EtcdStoreOptions options) : options_(std::move(options)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    channel_ = grpc::CreateCustomChannel(options_.endpoint, grpc::InsecureChannelCredentials(),
                                         args);
    kv_ = pb::KV::NewStub(channel_);
    watch_ = pb::Watch::NewStub(channel_);
    lease_ = pb::Lease::NewStub(channel_);
  }

  void Deadline(grpc::ClientContext& ctx) const {
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  }

  absl::StatusOr<int64_t> Apply(const char* what, const TxnRequest& txn, bool already_exists) {
    std::set<absl::string_view> seen;
    pb::TxnRequest req;
    for (size_t i = 0; i < txn.compares.size(); ++i) {
      const Compare& c = txn.compares[i];
      RETURN_IF_ERROR(CheckKey(absl::StrCat(what, " compares[", i, "]"), c.key));
      pb::Compare* pc = req.add_compare();
      pc->set_key(c.key);
      pc->set_target(pb::Compare::MOD);
      pc->set_result(pb::Compare::EQUAL);
      pc->set_mod_revision(c.mod_revision);  // an absent key has mod_revision 0 in etcd
    }
    for (size_t i = 0; i < txn.ops.size(); ++i) {
      const Op& op = txn.ops[i];
      const std::string field = absl::StrCat(what, " ops[", i, "]");
      RETURN_IF_ERROR(CheckKey(field, op.key));
      if (!seen.insert(op.key).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": key ", op.key, " appears twice in one transaction"));
      }
      if (op.lease < 0) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": lease must be >= 0"));
      }
      pb::RequestOp* ro = req.add_success();
      if (op.kind == Op::Kind::kPut) {
        pb::PutRequest* put = ro->mutable_request_put();
        put->set_key(op.key);
        put->set_value(op.value);
        put->set_lease(op.lease);
      } else {
        ro->mutable_request_delete_range()->set_key(op.key);
      }
    }
    grpc::ClientContext ctx;
    Deadline(ctx);
    pb::TxnResponse resp;
    RETURN_IF_ERROR(ToStatus(kv_->Txn(&ctx, req, &resp), absl::StrCat(what, " ", FirstKey(txn))));
    if (!resp.succeeded()) {
      if (already_exists) {
        return absl::AlreadyExistsError(
            absl::StrCat(what, " ", FirstKey(txn), ": key already exists"));
      }
      return absl::AbortedError(
          absl::StrCat(what, " ", FirstKey(txn), ": mod_revision compare failed"));
    }
    return resp.header().revision();
  }

  static std::string FirstKey(const TxnRequest& txn) {
    if (!txn.compares.empty()) {
      return txn.compares.front().key;
    }
    return txn.ops.empty() ? std::string() : txn.ops.front().key;
  }

  void Track(const std::shared_ptr<EtcdWatch>& w) {
    absl::MutexLock lock(&mu_);
    std::erase_if(watches_, [](const std::weak_ptr<EtcdWatch>& x) { return x.expired(); });
    watches_.push_back(w);
  }

  void Stop() {
    std::vector<std::weak_ptr<EtcdWatch>> watches;
    {
      absl::MutexLock lock(&mu_);
      watches.swap(watches_);
    }
    for (const auto& weak : watches) {
      if (auto w = weak.lock()) {
        w->Cancel();
      }
    }
  }

  const EtcdStoreOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<pb::Watch::Stub> watch_;
  std::unique_ptr<pb::Lease::Stub> lease_;
  absl::Mutex mu_;
  std::vector<std::weak_ptr<EtcdWatch>> watches_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Create(EtcdStoreOptions options) {
  if (options.endpoint.empty()) {
    return absl::InvalidArgumentError("EtcdStore: endpoint must not be empty");
  }
  if (options.rpc_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("EtcdStore: rpc_timeout must be positive");
  }
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::make_unique<Impl>(std::move(options))));
}

EtcdStore::EtcdStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdStore::~EtcdStore() { Stop(); }

void EtcdStore::Stop() { impl_->Stop(); }

absl::StatusOr<KeyValue> EtcdStore::Get(absl::string_view key) {
  RETURN_IF_ERROR(CheckKey("Get", key));
  pb::RangeRequest req;
  req.set_key(std::string(key));
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  pb::RangeResponse resp;
  RETURN_IF_ERROR(ToStatus(impl_->kv_->Range(&ctx, req, &resp), absl::StrCat("Get ", key)));
  if (resp.kvs_size() == 0) {
    return absl::NotFoundError(absl::StrCat("Get ", key, ": not found"));
  }
  return FromProto(resp.kvs(0));
}

absl::StatusOr<ListResult> EtcdStore::List(absl::string_view prefix, int64_t limit) {
  if (limit < 0) {
    return absl::InvalidArgumentError("List: limit must be >= 0");
  }
  pb::RangeRequest req;
  // An empty prefix means every key: etcd spells that key = "\0", range_end = "\0".
  req.set_key(prefix.empty() ? std::string(1, '\0') : std::string(prefix));
  const std::string end = PrefixEnd(prefix);
  req.set_range_end(end.empty() ? std::string(1, '\0') : end);
  req.set_limit(limit);
  req.set_sort_order(pb::RangeRequest::ASCEND);
  req.set_sort_target(pb::RangeRequest::KEY);
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  pb::RangeResponse resp;
  RETURN_IF_ERROR(ToStatus(impl_->kv_->Range(&ctx, req, &resp), absl::StrCat("List ", prefix)));
  ListResult out;
  out.kvs.reserve(resp.kvs_size());
  for (const mvccpb::KeyValue& kv : resp.kvs()) {
    out.kvs.push_back(FromProto(kv));
  }
  out.revision = resp.header().revision();
  out.more = resp.more();
  return out;
}

absl::StatusOr<int64_t> EtcdStore::Put(absl::string_view key, absl::string_view value,
                                       int64_t lease) {
  RETURN_IF_ERROR(CheckKey("Put", key));
  if (lease < 0) {
    return absl::InvalidArgumentError("Put: lease must be >= 0");
  }
  pb::PutRequest req;
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  req.set_lease(lease);
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  pb::PutResponse resp;
  RETURN_IF_ERROR(ToStatus(impl_->kv_->Put(&ctx, req, &resp), absl::StrCat("Put ", key)));
  return resp.header().revision();
}

absl::StatusOr<int64_t> EtcdStore::Create(absl::string_view key, absl::string_view value,
                                          int64_t lease) {
  TxnRequest txn;
  txn.compares.push_back({std::string(key), 0});
  txn.ops.push_back(Op::Put(std::string(key), std::string(value), lease));
  return impl_->Apply("Create", txn, true);
}

absl::StatusOr<int64_t> EtcdStore::CompareAndSwap(absl::string_view key,
                                                  int64_t expected_mod_revision,
                                                  absl::string_view value, int64_t lease) {
  if (expected_mod_revision < 0) {
    return absl::InvalidArgumentError("CompareAndSwap: expected_mod_revision must be >= 0");
  }
  TxnRequest txn;
  txn.compares.push_back({std::string(key), expected_mod_revision});
  txn.ops.push_back(Op::Put(std::string(key), std::string(value), lease));
  return impl_->Apply("CompareAndSwap", txn, false);
}

absl::StatusOr<int64_t> EtcdStore::Delete(absl::string_view key) {
  RETURN_IF_ERROR(CheckKey("Delete", key));
  pb::DeleteRangeRequest req;
  req.set_key(std::string(key));
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  pb::DeleteRangeResponse resp;
  RETURN_IF_ERROR(
      ToStatus(impl_->kv_->DeleteRange(&ctx, req, &resp), absl::StrCat("Delete ", key)));
  if (resp.deleted() == 0) {
    return absl::NotFoundError(absl::StrCat("Delete ", key, ": not found"));
  }
  return resp.header().revision();
}

absl::StatusOr<int64_t> EtcdStore::CompareAndDelete(absl::string_view key,
                                                    int64_t expected_mod_revision) {
  if (expected_mod_revision <= 0) {
    return absl::InvalidArgumentError("CompareAndDelete: expected_mod_revision must be > 0");
  }
  TxnRequest txn;
  txn.compares.push_back({std::string(key), expected_mod_revision});
  txn.ops.push_back(Op::Delete(std::string(key)));
  return impl_->Apply("CompareAndDelete", txn, false);
}

absl::StatusOr<int64_t> EtcdStore::Txn(const TxnRequest& txn) {
  return impl_->Apply("Txn", txn, false);
}

absl::StatusOr<std::unique_ptr<WatchHandle>> EtcdStore::Watch(absl::string_view prefix,
                                                              int64_t start_revision,
                                                              EventCallback on_events,
                                                              ErrorCallback on_error) {
  if (!on_events) {
    return absl::InvalidArgumentError("Watch: on_events must be set");
  }
  pb::WatchCreateRequest create;
  create.set_key(prefix.empty() ? std::string(1, '\0') : std::string(prefix));
  const std::string end = PrefixEnd(prefix);
  create.set_range_end(end.empty() ? std::string(1, '\0') : end);
  create.set_start_revision(start_revision > 0 ? start_revision : 0);
  create.set_prev_kv(true);
  auto w = std::make_shared<EtcdWatch>(std::move(create), std::move(on_events),
                                       std::move(on_error));
  impl_->Track(w);
  RETURN_IF_ERROR(w->Start(impl_->watch_.get(), impl_->options_.rpc_timeout));
  return std::make_unique<EtcdWatchHandle>(std::move(w));
}

absl::StatusOr<int64_t> EtcdStore::Grant(absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Grant: ttl must be positive");
  }
  pb::LeaseGrantRequest req;
  req.set_ttl(absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1))));
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  pb::LeaseGrantResponse resp;
  RETURN_IF_ERROR(ToStatus(impl_->lease_->LeaseGrant(&ctx, req, &resp), "LeaseGrant"));
  if (!resp.error().empty()) {
    return absl::InternalError(absl::StrCat("etcd LeaseGrant: ", resp.error()));
  }
  return resp.id();
}

absl::StatusOr<absl::Duration> EtcdStore::KeepAlive(int64_t lease) {
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  auto stream = impl_->lease_->LeaseKeepAlive(&ctx);
  pb::LeaseKeepAliveRequest req;
  req.set_id(lease);
  pb::LeaseKeepAliveResponse resp;
  const bool ok = stream->Write(req) && stream->Read(&resp);
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  if (!ok) {
    RETURN_IF_ERROR(ToStatus(st, absl::StrCat("LeaseKeepAlive ", lease)));
    return absl::UnavailableError(absl::StrCat("etcd LeaseKeepAlive ", lease, ": no response"));
  }
  if (resp.ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("KeepAlive: lease ", lease, " not found or expired"));
  }
  return absl::Seconds(resp.ttl());
}

absl::Status EtcdStore::Revoke(int64_t lease) {
  pb::LeaseRevokeRequest req;
  req.set_id(lease);
  grpc::ClientContext ctx;
  impl_->Deadline(ctx);
  pb::LeaseRevokeResponse resp;
  return ToStatus(impl_->lease_->LeaseRevoke(&ctx, req, &resp),
                  absl::StrCat("LeaseRevoke ", lease));
}

}  // namespace netrig::controller::store
