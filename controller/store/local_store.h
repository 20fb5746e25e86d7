// Internal: the StateStore semantics shared by MemoryStore and SqliteStore (one process owns the
// data). LocalStore implements revisions, compares, transactions, leases and watches once on top
// of a small storage interface (LocalBackend), so the two stores cannot drift apart. Not part of
// the public interface: include memory_store.h or sqlite_store.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/state_store.h"

namespace netrig::controller::store::internal {

struct LeaseRow {
  int64_t id = 0;
  int64_t ttl_ms = 0;
  int64_t expires_unix_ms = 0;
};

// Storage primitives. Called only by LocalStore, with its mutex held (so implementations need no
// locking of their own). Writes happen between Begin() and Commit()/Rollback().
class LocalBackend {
 public:
  virtual ~LocalBackend() = default;

  virtual absl::Status Begin() = 0;
  virtual absl::Status Commit() = 0;
  virtual void Rollback() = 0;

  virtual absl::StatusOr<std::optional<KeyValue>> GetKv(const std::string& key) = 0;
  // Keys in [begin, end) (end empty: no upper bound), ascending, at most `limit` (0: all).
  virtual absl::StatusOr<std::vector<KeyValue>> RangeKv(const std::string& begin,
                                                        const std::string& end,
                                                        int64_t limit) = 0;
  virtual absl::Status PutKv(const KeyValue& kv) = 0;
  virtual absl::Status DeleteKv(const std::string& key) = 0;
  virtual absl::StatusOr<std::vector<std::string>> KeysWithLease(int64_t lease) = 0;

  // Named integer counters ("revision", "compacted", "lease_id"); 0 when never set.
  virtual absl::StatusOr<int64_t> GetCounter(const std::string& name) = 0;
  virtual absl::Status SetCounter(const std::string& name, int64_t value) = 0;

  // Event log for watch resume. Events of one revision are appended together, in order.
  virtual absl::Status AppendEvents(int64_t revision, const std::vector<Event>& events) = 0;
  // Events with revision >= from_revision on keys in [begin, end), in revision order.
  virtual absl::StatusOr<std::vector<Event>> EventsSince(int64_t from_revision,
                                                         const std::string& begin,
                                                         const std::string& end) = 0;

  virtual absl::StatusOr<std::optional<LeaseRow>> GetLease(int64_t id) = 0;
  virtual absl::Status PutLease(const LeaseRow& lease) = 0;
  virtual absl::Status DeleteLease(int64_t id) = 0;
  virtual absl::StatusOr<std::vector<int64_t>> ExpiredLeases(int64_t now_unix_ms) = 0;
};

struct LocalStoreOptions {
  // Clock for lease expiry. Tests inject a fake one and call ExpireLeases() themselves.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Period of the background lease reaper; zero disables it (then the owner calls
  // ExpireLeases()).
  absl::Duration reap_interval = absl::Seconds(1);
};

class WatchHub;

class LocalStore : public StateStore {
 public:
  ~LocalStore() override;

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

  // Revokes every lease whose deadline is <= options.now(). Returns how many expired.
  absl::StatusOr<int> ExpireLeases();
  // Current store revision.
  int64_t Revision();

 protected:
  LocalStore(std::unique_ptr<LocalBackend> backend, LocalStoreOptions options);
  // Loads counters; starts the reaper. Called once by the concrete Create().
  absl::Status Init();

 private:
  enum class CompareFailure { kAborted, kAlreadyExists };
  absl::StatusOr<int64_t> Apply(const char* what, const TxnRequest& txn, CompareFailure on_fail,
                                bool require_existing_delete);
  absl::StatusOr<int64_t> ApplyLocked(const char* what, const TxnRequest& txn,
                                      CompareFailure on_fail, bool require_existing_delete)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RevokeLocked(int64_t lease) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t NowMs() const;
  void ReaperLoop();

  const LocalStoreOptions options_;
  absl::Mutex mu_;
  std::unique_ptr<LocalBackend> backend_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<WatchHub> hub_;

  absl::Mutex reaper_mu_;
  bool stopping_ ABSL_GUARDED_BY(reaper_mu_) = false;
  std::thread reaper_;
};

}  // namespace netrig::controller::store::internal
