// MemoryStore: the in-process StateStore fake for unit tests (and a scratch store). Same
// semantics as SqliteStore (they share internal::LocalStore) but nothing survives the object.
// The whole event history is kept, so any revision can be watched from (no compaction).
#pragma once

#include <memory>

#include "controller/store/local_store.h"

namespace netrig::controller::store {

struct MemoryStoreOptions {
  // Lease clock; inject a fake one in tests and drive expiry with ExpireLeases().
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Background lease reaper period; zero: no thread, the owner calls ExpireLeases().
  absl::Duration reap_interval = absl::Seconds(1);
};

class MemoryStore : public internal::LocalStore {
 public:
  static absl::StatusOr<std::unique_ptr<MemoryStore>> Create(MemoryStoreOptions options = {});

 private:
  using LocalStore::LocalStore;
};

}  // namespace netrig::controller::store
