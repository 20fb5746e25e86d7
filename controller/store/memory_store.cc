#include "controller/store/memory_store.h"

#include <map>
#include <utility>
#include <variant>

#include "lib/common/status_macros.h"

namespace netrig::controller::store {
namespace {

// Maps plus an undo log, so a transaction that fails half-way leaves no trace.
class MemoryBackend : public internal::LocalBackend {
 public:
  absl::Status Begin() override {
    undo_.clear();
    in_txn_ = true;
    return absl::OkStatus();
  }
  absl::Status Commit() override {
    undo_.clear();
    in_txn_ = false;
    return absl::OkStatus();
  }
  void Rollback() override {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      (*it)();
    }
    undo_.clear();
    in_txn_ = false;
  }

  absl::StatusOr<std::optional<KeyValue>> GetKv(const std::string& key) override {
    auto it = kv_.find(key);
    if (it == kv_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  absl::StatusOr<std::vector<KeyValue>> RangeKv(const std::string& begin, const std::string& end,
                                                int64_t limit) override {
    std::vector<KeyValue> out;
    for (auto it = kv_.lower_bound(begin); it != kv_.end() && (end.empty() || it->first < end);
         ++it) {
      if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) {
        break;
      }
      out.push_back(it->second);
    }
    return out;
  }
  absl::Status PutKv(const KeyValue& kv) override {
    SaveKv(kv.key);
    kv_[kv.key] = kv;
    return absl::OkStatus();
  }
  absl::Status DeleteKv(const std::string& key) override {
    SaveKv(key);
    kv_.erase(key);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> KeysWithLease(int64_t lease) override {
    std::vector<std::string> keys;
    for (const auto& [key, kv] : kv_) {
      if (kv.lease == lease) {
        keys.push_back(key);
      }
    }
    return keys;
  }
  absl::StatusOr<int64_t> GetCounter(const std::string& name) override {
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second;
  }
  absl::Status SetCounter(const std::string& name, int64_t value) override {
    const int64_t old = counters_[name];
    Undo([this, name, old] { counters_[name] = old; });
    counters_[name] = value;
    return absl::OkStatus();
  }
  absl::Status AppendEvents(int64_t revision, const std::vector<Event>& events) override {
    const size_t old = events_.size();
    Undo([this, old] { events_.resize(old); });
    for (const Event& e : events) {
      events_.emplace_back(revision, e);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Event>> EventsSince(int64_t from_revision, const std::string& begin,
                                                 const std::string& end) override {
    std::vector<Event> out;
    auto it = std::lower_bound(
        events_.begin(), events_.end(), from_revision,
        [](const std::pair<int64_t, Event>& e, int64_t rev) { return e.first < rev; });
    for (; it != events_.end(); ++it) {
      const std::string& key = it->second.kv.key;
      if (key >= begin && (end.empty() || key < end)) {
        out.push_back(it->second);
      }
    }
    return out;
  }
  absl::StatusOr<std::optional<internal::LeaseRow>> GetLease(int64_t id) override {
    auto it = leases_.find(id);
    if (it == leases_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  absl::Status PutLease(const internal::LeaseRow& lease) override {
    SaveLease(lease.id);
    leases_[lease.id] = lease;
    return absl::OkStatus();
  }
  absl::Status DeleteLease(int64_t id) override {
    SaveLease(id);
    leases_.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int64_t>> ExpiredLeases(int64_t now_unix_ms) override {
    std::vector<int64_t> out;
    for (const auto& [id, row] : leases_) {
      if (row.expires_unix_ms <= now_unix_ms) {
        out.push_back(id);
      }
    }
    return out;
  }

 private:
  void Undo(std::function<void()> f) {
    if (in_txn_) {
      undo_.push_back(std::move(f));
    }
  }
  void SaveKv(const std::string& key) {
    auto it = kv_.find(key);
    if (it == kv_.end()) {
      Undo([this, key] { kv_.erase(key); });
    } else {
      Undo([this, old = it->second] { kv_[old.key] = old; });
    }
  }
  void SaveLease(int64_t id) {
    auto it = leases_.find(id);
    if (it == leases_.end()) {
      Undo([this, id] { leases_.erase(id); });
    } else {
      Undo([this, old = it->second] { leases_[old.id] = old; });
    }
  }

  std::map<std::string, KeyValue> kv_;
  std::map<std::string, int64_t> counters_;
  std::vector<std::pair<int64_t, Event>> events_;
  std::map<int64_t, internal::LeaseRow> leases_;
  bool in_txn_ = false;
  std::vector<std::function<void()>> undo_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MemoryStore>> MemoryStore::Create(MemoryStoreOptions options) {
  internal::LocalStoreOptions local;
  local.now = std::move(options.now);
  local.reap_interval = options.reap_interval;
  std::unique_ptr<MemoryStore> store(
      new MemoryStore(std::make_unique<MemoryBackend>(), std::move(local)));
  RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace netrig::controller::store
