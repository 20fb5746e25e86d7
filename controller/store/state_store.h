// StateStore: the controller's durable key-value state, modelled on the etcd v3 data model so
// that one contract covers the embedded store (SqliteStore), etcd (EtcdStore) and the unit-test
// fake (MemoryStore). All three pass tests/support/store_conformance.h.
//
// Data model (same as etcd v3):
//  - Keys and values are byte strings. Keys are ordered bytewise (unsigned). An empty key is
//    InvalidArgument everywhere.
//  - The store has one revision counter. Every successful write operation (Put, Create, CAS,
//    Delete, Txn, a lease revocation/expiry that deletes keys) increments it by exactly one; all
//    keys written by that operation get mod_revision = that revision. Operations that change
//    nothing (a failed compare, a Txn whose deletes hit no key, revoking a lease without keys)
//    do not increment it. Revisions start at 1 for an empty store (the first write is 2).
//  - Per key: create_revision (revision of the write that created it), mod_revision (revision of
//    the last write), version (1 on creation, +1 per write, reset by delete), lease (0 = none).
//
// Error codes (STYLE.md 12.5): InvalidArgument (bad input, the message names the field),
// NotFound (missing key or lease), AlreadyExists (Create on an existing key), Aborted (a
// mod_revision compare failed: lost an optimistic-concurrency race; re-read and retry),
// Unavailable (backend down), DeadlineExceeded (RPC deadline), OutOfRange (watch start revision
// already compacted), Internal (storage failure).
//
// Thread safety: every method of StateStore and WatchHandle is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace netrig::controller::store {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct ListResult {
  std::vector<KeyValue> kvs;  // sorted by key (bytewise ascending)
  int64_t revision = 0;       // store revision the listing was read at
  bool more = false;          // true if `limit` cut the listing short
};

enum class EventType { kPut, kDelete };

struct Event {
  EventType type = EventType::kPut;
  // PUT: the key as written. DELETE: key and mod_revision (= the delete's revision) only.
  KeyValue kv;
  bool has_prev = false;
  KeyValue prev;  // the key before this event, when has_prev
};

// One compare of a transaction: the key's current mod_revision must equal `mod_revision`;
// mod_revision == 0 means "the key must not exist".
struct Compare {
  std::string key;
  int64_t mod_revision = 0;
};

struct Op {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;  // kPut only
  int64_t lease = 0;  // kPut only; 0 = no lease

  static Op Put(std::string key, std::string value, int64_t lease = 0) {
    return Op{Kind::kPut, std::move(key), std::move(value), lease};
  }
  static Op Delete(std::string key) { return Op{Kind::kDelete, std::move(key), {}, 0}; }
};

// All compares are evaluated, then, only if all hold, all ops are applied atomically at one
// revision. A key may appear at most once among the ops (InvalidArgument otherwise). Deleting a
// missing key inside a Txn is a no-op.
struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<Op> ops;
};

// Watch callbacks run on a store-owned thread, one call at a time per watch, in revision order.
// They may call the store, and may Cancel() their own watch. A callback must not block for long:
// it delays later events of the same watch (events are queued, not dropped).
using EventCallback = std::function<void(const std::vector<Event>& events)>;
// Called at most once, when the watch ends for a reason other than Cancel() (for example etcd
// went away or the start revision was compacted). No event callback follows it. Re-watch from
// last_seen_revision + 1 to resume without gaps.
using ErrorCallback = std::function<void(const absl::Status& status)>;

class WatchHandle {
 public:
  virtual ~WatchHandle() = default;  // implies Cancel()
  // Stops delivery. When called from another thread than the callback's, returns only once no
  // callback is running, and none runs afterwards. Idempotent.
  virtual void Cancel() = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual absl::StatusOr<KeyValue> Get(absl::string_view key) = 0;
  // Keys starting with `prefix` (bytewise; "a/" does not match "ab"). An empty prefix lists the
  // whole keyspace. limit == 0: no limit.
  virtual absl::StatusOr<ListResult> List(absl::string_view prefix, int64_t limit = 0) = 0;

  // Unconditional write; returns the new store revision. A non-zero lease must exist (NotFound).
  virtual absl::StatusOr<int64_t> Put(absl::string_view key, absl::string_view value,
                                      int64_t lease = 0) = 0;
  // Write only if the key does not exist; AlreadyExists otherwise.
  virtual absl::StatusOr<int64_t> Create(absl::string_view key, absl::string_view value,
                                         int64_t lease = 0) = 0;
  // Write only if the key's mod_revision == expected_mod_revision (0 = must not exist);
  // Aborted otherwise.
  virtual absl::StatusOr<int64_t> CompareAndSwap(absl::string_view key,
                                                 int64_t expected_mod_revision,
                                                 absl::string_view value, int64_t lease = 0) = 0;
  // NotFound if the key does not exist.
  virtual absl::StatusOr<int64_t> Delete(absl::string_view key) = 0;
  // Delete only if the key's mod_revision == expected_mod_revision (> 0); Aborted otherwise.
  virtual absl::StatusOr<int64_t> CompareAndDelete(absl::string_view key,
                                                   int64_t expected_mod_revision) = 0;
  // Aborted if a compare fails (nothing is written). Returns the revision of the write (the
  // current revision when the ops changed nothing).
  virtual absl::StatusOr<int64_t> Txn(const TxnRequest& txn) = 0;

  // Delivers every event with revision >= start_revision on keys starting with `prefix`, in
  // revision order, without gaps or duplicates. start_revision <= 0: from the next write on.
  // A start_revision older than the retained history is OutOfRange (possibly reported through
  // on_error for etcd, which only tells after the watch is created).
  virtual absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(absl::string_view prefix,
                                                             int64_t start_revision,
                                                             EventCallback on_events,
                                                             ErrorCallback on_error = nullptr) = 0;

  // Leases: keys attached to a lease are deleted (DELETE events, one revision) when it is revoked
  // or expires. TTLs are rounded up to whole seconds; a backend may raise a TTL to its minimum
  // (etcd 3.4: about 2 s). Returns the lease id (never 0).
  virtual absl::StatusOr<int64_t> Grant(absl::Duration ttl) = 0;
  // One refresh: the lease lives another full TTL from now. The caller ticks (at ttl/3, say).
  // Returns the TTL granted; NotFound if the lease expired or never existed.
  virtual absl::StatusOr<absl::Duration> KeepAlive(int64_t lease) = 0;
  // NotFound if the lease does not exist.
  virtual absl::Status Revoke(int64_t lease) = 0;

  // Stops background work (watch threads, lease reaper) and joins it. Watches end without an
  // error callback. Idempotent; the destructor calls it. Other calls after Stop() are undefined.
  virtual void Stop() = 0;
};

// Smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix);
// empty if there is none (prefix empty or all 0xff).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace netrig::controller::store
