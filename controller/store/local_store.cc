#include "controller/store/local_store.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/store/watch_hub.h"
#include "lib/common/status_macros.h"

namespace netrig::controller::store {

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return end;
}

namespace internal {
namespace {

constexpr char kRevision[] = "revision";
constexpr char kCompacted[] = "compacted";
constexpr char kLeaseId[] = "lease_id";

absl::Status CheckKey(absl::string_view what, absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": key must not be empty"));
  }
  return absl::OkStatus();
}

}  // namespace

LocalStore::LocalStore(std::unique_ptr<LocalBackend> backend, LocalStoreOptions options)
    : options_(std::move(options)),
      backend_(std::move(backend)),
      hub_(std::make_unique<WatchHub>()) {}

LocalStore::~LocalStore() { Stop(); }

absl::Status LocalStore::Init() {
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(int64_t rev, backend_->GetCounter(kRevision));
    revision_ = rev > 0 ? rev : 1;
    ASSIGN_OR_RETURN(compacted_, backend_->GetCounter(kCompacted));
  }
  if (options_.reap_interval > absl::ZeroDuration()) {
    reaper_ = std::thread([this] { ReaperLoop(); });
  }
  return absl::OkStatus();
}

void LocalStore::Stop() {
  {
    absl::MutexLock lock(&reaper_mu_);
    stopping_ = true;
  }
  if (reaper_.joinable()) {
    reaper_.join();
  }
  hub_->Stop();
}

void LocalStore::ReaperLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&reaper_mu_);
      reaper_mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.reap_interval);
      if (stopping_) {
        return;
      }
    }
    // An error here (disk full) is retried on the next tick; the lease stays until then.
    (void)ExpireLeases();
  }
}

int64_t LocalStore::NowMs() const { return absl::ToUnixMillis(options_.now()); }

int64_t LocalStore::Revision() {
  absl::MutexLock lock(&mu_);
  return revision_;
}

absl::StatusOr<KeyValue> LocalStore::Get(absl::string_view key) {
  RETURN_IF_ERROR(CheckKey("Get", key));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<KeyValue> kv, backend_->GetKv(std::string(key)));
  if (!kv.has_value()) {
    return absl::NotFoundError(absl::StrCat("Get ", key, ": not found"));
  }
  return *std::move(kv);
}

absl::StatusOr<ListResult> LocalStore::List(absl::string_view prefix, int64_t limit) {
  if (limit < 0) {
    return absl::InvalidArgumentError("List: limit must be >= 0");
  }
  absl::MutexLock lock(&mu_);
  ListResult result;
  ASSIGN_OR_RETURN(result.kvs, backend_->RangeKv(std::string(prefix), PrefixEnd(prefix),
                                                 limit > 0 ? limit + 1 : 0));
  if (limit > 0 && static_cast<int64_t>(result.kvs.size()) > limit) {
    result.kvs.resize(limit);
    result.more = true;
  }
  result.revision = revision_;
  return result;
}

absl::StatusOr<int64_t> LocalStore::Put(absl::string_view key, absl::string_view value,
                                        int64_t lease) {
  TxnRequest txn;
  txn.ops.push_back(Op::Put(std::string(key), std::string(value), lease));
  return Apply("Put", txn, CompareFailure::kAborted, false);
}

absl::StatusOr<int64_t> LocalStore::Create(absl::string_view key, absl::string_view value,
                                           int64_t lease) {
  TxnRequest txn;
  txn.compares.push_back({std::string(key), 0});
  txn.ops.push_back(Op::Put(std::string(key), std::string(value), lease));
  return Apply("Create", txn, CompareFailure::kAlreadyExists, false);
}

absl::StatusOr<int64_t> LocalStore::CompareAndSwap(absl::string_view key,
                                                   int64_t expected_mod_revision,
                                                   absl::string_view value, int64_t lease) {
  if (expected_mod_revision < 0) {
    return absl::InvalidArgumentError("CompareAndSwap: expected_mod_revision must be >= 0");
  }
  TxnRequest txn;
  txn.compares.push_back({std::string(key), expected_mod_revision});
  txn.ops.push_back(Op::Put(std::string(key), std::string(value), lease));
  return Apply("CompareAndSwap", txn, CompareFailure::kAborted, false);
}

absl::StatusOr<int64_t> LocalStore::Delete(absl::string_view key) {
  TxnRequest txn;
  txn.ops.push_back(Op::Delete(std::string(key)));
  return Apply("Delete", txn, CompareFailure::kAborted, true);
}

absl::StatusOr<int64_t> LocalStore::CompareAndDelete(absl::string_view key,
                                                     int64_t expected_mod_revision) {
  if (expected_mod_revision <= 0) {
    return absl::InvalidArgumentError("CompareAndDelete: expected_mod_revision must be > 0");
  }
  TxnRequest txn;
  txn.compares.push_back({std::string(key), expected_mod_revision});
  txn.ops.push_back(Op::Delete(std::string(key)));
  return Apply("CompareAndDelete", txn, CompareFailure::kAborted, false);
}

absl::StatusOr<int64_t> LocalStore::Txn(const TxnRequest& txn) {
  return Apply("Txn", txn, CompareFailure::kAborted, false);
}

absl::StatusOr<int64_t> LocalStore::Apply(const char* what, const TxnRequest& txn,
                                          CompareFailure on_fail, bool require_existing_delete) {
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < txn.compares.size(); ++i) {
    RETURN_IF_ERROR(CheckKey(absl::StrCat(what, " compares[", i, "]"), txn.compares[i].key));
  }
  for (size_t i = 0; i < txn.ops.size(); ++i) {
    const std::string field = absl::StrCat(what, " ops[", i, "]");
    RETURN_IF_ERROR(CheckKey(field, txn.ops[i].key));
    if (!seen.insert(txn.ops[i].key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": key ", txn.ops[i].key, " appears twice in one transaction"));
    }
    if (txn.ops[i].lease < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": lease must be >= 0"));
    }
  }
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(backend_->Begin());
  absl::StatusOr<int64_t> rev = ApplyLocked(what, txn, on_fail, require_existing_delete);
  if (!rev.ok()) {
    backend_->Rollback();
  }
  return rev;
}

absl::StatusOr<int64_t> LocalStore::ApplyLocked(const char* what, const TxnRequest& txn,
                                                CompareFailure on_fail,
                                                bool require_existing_delete) {
  for (const Compare& c : txn.compares) {
    ASSIGN_OR_RETURN(std::optional<KeyValue> kv, backend_->GetKv(c.key));
    const int64_t actual = kv.has_value() ? kv->mod_revision : 0;
    if (actual != c.mod_revision) {
      if (on_fail == CompareFailure::kAlreadyExists) {
        return absl::AlreadyExistsError(absl::StrCat(what, " ", c.key, ": key already exists"));
      }
      return absl::AbortedError(absl::StrCat(what, " ", c.key, ": mod_revision is ", actual,
                                             ", expected ", c.mod_revision));
    }
  }
  const int64_t rev = revision_ + 1;
  std::vector<Event> events;
  for (const Op& op : txn.ops) {
    ASSIGN_OR_RETURN(std::optional<KeyValue> prev, backend_->GetKv(op.key));
    Event e;
    e.has_prev = prev.has_value();
    if (prev.has_value()) {
      e.prev = *prev;
    }
    if (op.kind == Op::Kind::kPut) {
      if (op.lease != 0) {
        ASSIGN_OR_RETURN(std::optional<LeaseRow> lease, backend_->GetLease(op.lease));
        if (!lease.has_value()) {
          return absl::NotFoundError(
              absl::StrCat(what, " ", op.key, ": lease ", op.lease, " not found"));
        }
      }
      e.type = EventType::kPut;
      e.kv = KeyValue{op.key,
                      op.value,
                      prev.has_value() ? prev->create_revision : rev,
                      rev,
                      prev.has_value() ? prev->version + 1 : 1,
                      op.lease};
      RETURN_IF_ERROR(backend_->PutKv(e.kv));
    } else {
      if (!prev.has_value()) {
        if (require_existing_delete) {
          return absl::NotFoundError(absl::StrCat(what, " ", op.key, ": not found"));
        }
        continue;
      }
      e.type = EventType::kDelete;
      e.kv.key = op.key;
      e.kv.mod_revision = rev;
      RETURN_IF_ERROR(backend_->DeleteKv(op.key));
    }
    events.push_back(std::move(e));
  }
  if (events.empty()) {
    backend_->Rollback();
    return revision_;
  }
  RETURN_IF_ERROR(backend_->SetCounter(kRevision, rev));
  RETURN_IF_ERROR(backend_->AppendEvents(rev, events));
  RETURN_IF_ERROR(backend_->Commit());
  revision_ = rev;
  hub_->Publish(rev, events);
  return rev;
}

absl::StatusOr<std::unique_ptr<WatchHandle>> LocalStore::Watch(absl::string_view prefix,
                                                               int64_t start_revision,
                                                               EventCallback on_events,
                                                               ErrorCallback /*on_error*/) {
  if (!on_events) {
    return absl::InvalidArgumentError("Watch: on_events must be set");
  }
  const std::string begin(prefix);
  const std::string end = PrefixEnd(prefix);
  absl::MutexLock lock(&mu_);
  // Re-read: the backend may have pruned its event log since Init().
  ASSIGN_OR_RETURN(compacted_, backend_->GetCounter(kCompacted));
  if (start_revision <= 0) {
    start_revision = revision_ + 1;
  }
  if (start_revision <= compacted_) {
    return absl::OutOfRangeError(absl::StrCat("Watch ", prefix, ": start revision ",
                                              start_revision, " is compacted (history starts at ",
                                              compacted_ + 1, ")"));
  }
  std::vector<Event> backlog;
  if (start_revision <= revision_) {
    ASSIGN_OR_RETURN(backlog, backend_->EventsSince(start_revision, begin, end));
  }
  return hub_->Add(begin, end, start_revision, std::move(backlog), std::move(on_events));
}

absl::StatusOr<int64_t> LocalStore::Grant(absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Grant: ttl must be positive");
  }
  // Whole seconds, like etcd.
  const int64_t ttl_s = absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(backend_->Begin());
  absl::StatusOr<int64_t> id = [&]() -> absl::StatusOr<int64_t> {
    ASSIGN_OR_RETURN(int64_t last, backend_->GetCounter(kLeaseId));
    const int64_t next = last + 1;
    RETURN_IF_ERROR(backend_->SetCounter(kLeaseId, next));
    RETURN_IF_ERROR(backend_->PutLease({next, ttl_s * 1000, NowMs() + ttl_s * 1000}));
    RETURN_IF_ERROR(backend_->Commit());
    return next;
  }();
  if (!id.ok()) {
    backend_->Rollback();
  }
  return id;
}

absl::StatusOr<absl::Duration> LocalStore::KeepAlive(int64_t lease) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<LeaseRow> row, backend_->GetLease(lease));
  const int64_t now = NowMs();
  if (!row.has_value()) {
    return absl::NotFoundError(absl::StrCat("KeepAlive: lease ", lease, " not found"));
  }
  if (row->expires_unix_ms <= now) {
    // Expired but not reaped yet: reap now so the answer and the keys agree.
    RETURN_IF_ERROR(RevokeLocked(lease));
    return absl::NotFoundError(absl::StrCat("KeepAlive: lease ", lease, " expired"));
  }
  row->expires_unix_ms = now + row->ttl_ms;
  RETURN_IF_ERROR(backend_->Begin());
  if (absl::Status s = backend_->PutLease(*row); !s.ok()) {
    backend_->Rollback();
    return s;
  }
  RETURN_IF_ERROR(backend_->Commit());
  return absl::Milliseconds(row->ttl_ms);
}

absl::Status LocalStore::Revoke(int64_t lease) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<LeaseRow> row, backend_->GetLease(lease));
  if (!row.has_value()) {
    return absl::NotFoundError(absl::StrCat("Revoke: lease ", lease, " not found"));
  }
  return RevokeLocked(lease);
}

absl::Status LocalStore::RevokeLocked(int64_t lease) {
  RETURN_IF_ERROR(backend_->Begin());
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, backend_->KeysWithLease(lease));
    const int64_t rev = revision_ + 1;
    std::vector<Event> events;
    for (const std::string& key : keys) {
      ASSIGN_OR_RETURN(std::optional<KeyValue> prev, backend_->GetKv(key));
      if (!prev.has_value()) {
        continue;
      }
      Event e;
      e.type = EventType::kDelete;
      e.kv.key = key;
      e.kv.mod_revision = rev;
      e.has_prev = true;
      e.prev = *std::move(prev);
      RETURN_IF_ERROR(backend_->DeleteKv(key));
      events.push_back(std::move(e));
    }
    RETURN_IF_ERROR(backend_->DeleteLease(lease));
    if (!events.empty()) {
      RETURN_IF_ERROR(backend_->SetCounter(kRevision, rev));
      RETURN_IF_ERROR(backend_->AppendEvents(rev, events));
    }
    RETURN_IF_ERROR(backend_->Commit());
    if (!events.empty()) {
      revision_ = rev;
      hub_->Publish(rev, events);
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    backend_->Rollback();
  }
  return status;
}

absl::StatusOr<int> LocalStore::ExpireLeases() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::vector<int64_t> expired, backend_->ExpiredLeases(NowMs()));
  for (int64_t id : expired) {
    RETURN_IF_ERROR(RevokeLocked(id));
  }
  return static_cast<int>(expired.size());
}

}  // namespace internal
}  // namespace netrig::controller::store
