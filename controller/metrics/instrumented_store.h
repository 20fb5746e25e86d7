// A StateStore decorator that counts and times every call of the store it wraps
// (netrig_store_operations_total, netrig_store_operation_duration_seconds), and a health probe
// for netrig_store_up. Behaviour is exactly the inner store's.
#pragma once

#include "controller/metrics/controller_metrics.h"
#include "controller/store/state_store.h"

namespace netrig::controller::metrics {

class InstrumentedStore : public store::StateStore {
 public:
  InstrumentedStore(store::StateStore& inner, ControllerMetrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  absl::StatusOr<store::KeyValue> Get(absl::string_view key) override;
  absl::StatusOr<store::ListResult> List(absl::string_view prefix, int64_t limit = 0) override;
  absl::StatusOr<int64_t> Put(absl::string_view key, absl::string_view value,
                              int64_t lease = 0) override;
  absl::StatusOr<int64_t> Create(absl::string_view key, absl::string_view value,
                                 int64_t lease = 0) override;
  absl::StatusOr<int64_t> CompareAndSwap(absl::string_view key, int64_t expected_mod_revision,
                                         absl::string_view value, int64_t lease = 0) override;
  absl::StatusOr<int64_t> Delete(absl::string_view key) override;
  absl::StatusOr<int64_t> CompareAndDelete(absl::string_view key,
                                           int64_t expected_mod_revision) override;
  absl::StatusOr<int64_t> Txn(const store::TxnRequest& txn) override;
  absl::StatusOr<std::unique_ptr<store::WatchHandle>> Watch(
      absl::string_view prefix, int64_t start_revision, store::EventCallback on_events,
      store::ErrorCallback on_error = nullptr) override;
  absl::StatusOr<int64_t> Grant(absl::Duration ttl) override;
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease) override;
  absl::Status Revoke(int64_t lease) override;
  void Stop() override { inner_.Stop(); }

  // One cheap read (a missing key is healthy); sets netrig_store_up. True when healthy.
  bool Probe();

 private:
  store::StateStore& inner_;
  ControllerMetrics& metrics_;
};

}  // namespace netrig::controller::metrics
