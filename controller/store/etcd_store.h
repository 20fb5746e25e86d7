// EtcdStore: StateStore on etcd's v3 gRPC API (KV, Txn, Watch, Lease), through our own proto
// subset (proto/etcd). The only code that knows etcd exists; everything else sees StateStore.
//
//  - Every unary RPC carries a deadline (options.rpc_timeout). An unreachable etcd gives
//    Unavailable (or DeadlineExceeded) promptly: calls do not wait for the channel to connect.
//  - Conditional writes are one Txn with `mod_revision == expected` compares (STYLE 12.9);
//    a failed compare is Aborted (AlreadyExists for Create).
//  - Each Watch is one bidi Watch stream served by its own thread (Stop()/Cancel() join it).
//    The stream has no deadline (it is long-lived); Watch() itself waits at most rpc_timeout
//    for etcd to confirm creation. A broken stream ends the watch with on_error(Unavailable)
//    and a compacted start revision with on_error(OutOfRange); the caller re-watches from
//    last_seen_revision + 1 (no automatic reconnect, so no silent gaps).
//  - KeepAlive is one round trip on a LeaseKeepAlive stream, with the RPC deadline.
//  - etcd rounds TTLs up to whole seconds and to its minimum TTL (about 2 s with default flags).
#pragma once

#include <memory>
#include <string>

#include "controller/store/state_store.h"

namespace netrig::controller::store {

struct EtcdStoreOptions {
  std::string endpoint;  // host:port of an etcd client URL, e.g. "127.0.0.1:2379" (plaintext)
  absl::Duration rpc_timeout = absl::Seconds(5);
};

class EtcdStore : public StateStore {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Create(EtcdStoreOptions options);
  ~EtcdStore() override;

  // Default arguments repeat StateStore's exactly (callers holding the concrete type).
  absl::StatusOr<KeyValue> Get(absl::string_view key) override;
  absl::StatusOr<ListResult> List(absl::string_view prefix, int64_t limit = 0) override;
  absl::StatusOr<int64_t> Put(absl::string_view key, absl::string_view value,
                              int64_t lease = 0) override;
  absl::StatusOr<int64_t> Create(absl::string_view key, absl::string_view value,
                                 int64_t lease = 0) override;
  absl::StatusOr<int64_t> CompareAndSwap(absl::string_view key, int64_t expected_mod_revision,
                                         absl::string_view value, int64_t lease = 0) override;
  absl::StatusOr<int64_t> Delete(absl::string_view key) override;
  absl::StatusOr<int64_t> CompareAndDelete(absl::string_view key,
                                           int64_t expected_mod_revision) override;
  absl::StatusOr<int64_t> Txn(const TxnRequest& txn) override;
  absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(absl::string_view prefix,
                                                     int64_t start_revision,
                                                     EventCallback on_events,
                                                     ErrorCallback on_error = nullptr) override;
  absl::StatusOr<int64_t> Grant(absl::Duration ttl) override;
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease) override;
  absl::Status Revoke(int64_t lease) override;
  void Stop() override;

  class Impl;

 private:
  explicit EtcdStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netrig::controller::store
