#include "controller/metrics/instrumented_store.h"

#include "absl/time/clock.h"

namespace netrig::controller::metrics {
namespace {

// An expected outcome of a conditional call (a failed compare, a missing key) is not a store
// error: the store answered.
bool Answered(const absl::Status& s) {
  return s.ok() || absl::IsNotFound(s) || absl::IsAborted(s) || absl::IsAlreadyExists(s) ||
         absl::IsOutOfRange(s) || absl::IsInvalidArgument(s);
}

template <typename F>
auto Timed(ControllerMetrics& m, const char* op, F&& f) {
  const absl::Time start = absl::Now();
  auto result = f();
  m.StoreOperation(op, Answered(result.status()), absl::ToDoubleSeconds(absl::Now() - start));
  return result;
}

}  // namespace

absl::StatusOr<store::KeyValue> InstrumentedStore::Get(absl::string_view key) {
  return Timed(metrics_, "get", [&] { return inner_.Get(key); });
}
absl::StatusOr<store::ListResult> InstrumentedStore::List(absl::string_view prefix,
                                                          int64_t limit) {
  return Timed(metrics_, "list", [&] { return inner_.List(prefix, limit); });
}
absl::StatusOr<int64_t> InstrumentedStore::Put(absl::string_view key, absl::string_view value,
                                               int64_t lease) {
  return Timed(metrics_, "put", [&] { return inner_.Put(key, value, lease); });
}
absl::StatusOr<int64_t> InstrumentedStore::Create(absl::string_view key, absl::string_view value,
                                                  int64_t lease) {
  return Timed(metrics_, "create", [&] { return inner_.Create(key, value, lease); });
}
absl::StatusOr<int64_t> InstrumentedStore::CompareAndSwap(absl::string_view key,
                                                          int64_t expected_mod_revision,
                                                          absl::string_view value,
                                                          int64_t lease) {
  return Timed(metrics_, "compare_and_swap", [&] {
    return inner_.CompareAndSwap(key, expected_mod_revision, value, lease);
  });
}
absl::StatusOr<int64_t> InstrumentedStore::Delete(absl::string_view key) {
  return Timed(metrics_, "delete", [&] { return inner_.Delete(key); });
}
absl::StatusOr<int64_t> InstrumentedStore::CompareAndDelete(absl::string_view key,
                                                            int64_t expected_mod_revision) {
  return Timed(metrics_, "compare_and_delete",
               [&] { return inner_.CompareAndDelete(key, expected_mod_revision); });
}
absl::StatusOr<int64_t> InstrumentedStore::Txn(const store::TxnRequest& txn) {
  return Timed(metrics_, "txn", [&] { return inner_.Txn(txn); });
}
absl::StatusOr<std::unique_ptr<store::WatchHandle>> InstrumentedStore::Watch(
    absl::string_view prefix, int64_t start_revision, store::EventCallback on_events,
    store::ErrorCallback on_error) {
  return Timed(metrics_, "watch", [&] {
    return inner_.Watch(prefix, start_revision, std::move(on_events), std::move(on_error));
  });
}
absl::StatusOr<int64_t> InstrumentedStore::Grant(absl::Duration ttl) {
  return Timed(metrics_, "lease_grant", [&] { return inner_.Grant(ttl); });
}
absl::StatusOr<absl::Duration> InstrumentedStore::KeepAlive(int64_t lease) {
  return Timed(metrics_, "lease_keepalive", [&] { return inner_.KeepAlive(lease); });
}
absl::Status InstrumentedStore::Revoke(int64_t lease) {
  const absl::Time start = absl::Now();
  absl::Status s = inner_.Revoke(lease);
  metrics_.StoreOperation("lease_revoke", Answered(s), absl::ToDoubleSeconds(absl::Now() - start));
  return s;
}

bool InstrumentedStore::Probe() {
  const bool up = Answered(Get("/netrig/v1/health").status());
  metrics_.SetStoreUp(up);
  return up;
}

}  // namespace netrig::controller::metrics
