// SqliteStore: the embedded StateStore (default on one machine): one SQLite file in WAL mode.
//
// Schema (version 1):
//   meta(name TEXT PRIMARY KEY, value INTEGER)    counters: schema_version, revision, compacted,
//                                                 lease_id
//   kv(key BLOB PRIMARY KEY, value BLOB, create_revision, mod_revision, version, lease)
//   events(revision, seq, type, key, value, create_revision, mod_revision, version, lease,
//          has_prev, prev_value, prev_create_revision, prev_mod_revision, prev_version,
//          prev_lease; PRIMARY KEY(revision, seq))   the change log watches resume from
//   leases(id INTEGER PRIMARY KEY, ttl_ms, expires_unix_ms)
//
// Every write is one SQLite transaction (BEGIN IMMEDIATE ... COMMIT) that updates the rows, the
// revision counter and the event log together, so a crash (kill -9) leaves either all of a write
// or none of it, and a write that returned OK is on disk (synchronous=FULL by default; NORMAL
// survives process crashes but may lose the last writes on power loss). Lease deadlines are
// wall-clock instants, so leases keep running while the process is down and expire at the next
// reaper tick after a restart. The event log keeps the last `event_retention` revisions; watches
// from older revisions get OutOfRange.
//
// One process owns the file: watches only see writes made through the same SqliteStore object.
#pragma once

#include <memory>
#include <string>

#include "controller/store/local_store.h"

namespace netrig::controller::store {

struct SqliteStoreOptions {
  std::string path;            // database file; created if missing
  bool synchronous_full = true;
  int64_t event_retention = 100000;  // revisions of event history kept for watch resume
  std::function<absl::Time()> now = [] { return absl::Now(); };
  absl::Duration reap_interval = absl::Seconds(1);  // zero: owner calls ExpireLeases()
  absl::Duration busy_timeout = absl::Seconds(5);
};

class SqliteStore : public internal::LocalStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Create(SqliteStoreOptions options);

 private:
  using LocalStore::LocalStore;
};

}  // namespace netrig::controller::store
