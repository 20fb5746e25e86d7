#include "controller/store/sqlite_store.h"

#include <sqlite3.h>

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/common/status_macros.h"

namespace netrig::controller::store {
namespace {

constexpr int64_t kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv (
  key BLOB PRIMARY KEY, value BLOB NOT NULL, create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_lease ON kv(lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS events (
  revision INTEGER NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, key BLOB NOT NULL,
  value BLOB NOT NULL, create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER NOT NULL, has_prev INTEGER NOT NULL,
  prev_value BLOB NOT NULL, prev_create_revision INTEGER NOT NULL,
  prev_mod_revision INTEGER NOT NULL, prev_version INTEGER NOT NULL, prev_lease INTEGER NOT NULL,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
  id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL, expires_unix_ms INTEGER NOT NULL
);
)sql";

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  const std::string msg = absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db));
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

// A cached prepared statement; Reset() clears bindings and the cursor.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_ = 1;
    return *this;
  }
  Stmt& Bind(int64_t v) {
    sqlite3_bind_int64(stmt_, next_++, v);
    return *this;
  }
  Stmt& Bind(const std::string& v) {
    // Zero-length blobs must still be non-NULL.
    sqlite3_bind_blob64(stmt_, next_++, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindText(const std::string& v) {
    sqlite3_bind_text(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // True if a row is available, false when done.
  absl::StatusOr<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc == SQLITE_DONE) {
      return false;
    }
    return SqliteError(db_, sqlite3_sql(stmt_));
  }
  absl::Status Exec() {
    absl::StatusOr<bool> r = Step();
    sqlite3_reset(stmt_);
    return r.status();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Blob(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_ = 1;
};

class SqliteBackend : public internal::LocalBackend {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteBackend>> Open(const SqliteStoreOptions& options) {
    if (options.path.empty()) {
      return absl::InvalidArgumentError("SqliteStore: path must not be empty");
    }
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(options.path.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    std::unique_ptr<SqliteBackend> backend(new SqliteBackend(db, options.event_retention));
    if (rc != SQLITE_OK) {
      return absl::UnavailableError(absl::StrCat("sqlite open ", options.path, ": ",
                                                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
    RETURN_IF_ERROR(backend->ExecSql("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(backend->ExecSql(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                              : "PRAGMA synchronous=NORMAL"));
    RETURN_IF_ERROR(backend->ExecSql("BEGIN IMMEDIATE"));
    absl::Status s = backend->ExecSql(kSchema);
    if (s.ok()) {
      absl::StatusOr<int64_t> version = backend->GetCounter("schema_version");
      if (!version.ok()) {
        s = version.status();
      } else if (*version == 0) {
        s = backend->SetCounter("schema_version", kSchemaVersion);
      } else if (*version != kSchemaVersion) {
        s = absl::FailedPreconditionError(absl::StrCat("sqlite ", options.path, ": schema version ",
                                                       *version, ", this build reads ",
                                                       kSchemaVersion));
      }
    }
    if (!s.ok()) {
      (void)backend->ExecSql("ROLLBACK");
      return s;
    }
    RETURN_IF_ERROR(backend->ExecSql("COMMIT"));
    return backend;
  }

  ~SqliteBackend() override {
    stmts_.clear();
    sqlite3_close_v2(db_);
  }

  absl::Status Begin() override { return ExecSql("BEGIN IMMEDIATE"); }
  absl::Status Commit() override { return ExecSql("COMMIT"); }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_)) {
      (void)ExecSql("ROLLBACK");
    }
  }

  absl::StatusOr<std::optional<KeyValue>> GetKv(const std::string& key) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("SELECT key, value, create_revision, mod_revision, "
                                       "version, lease FROM kv WHERE key = ?"));
    s->Bind(key);
    ASSIGN_OR_RETURN(bool row, s->Step());
    std::optional<KeyValue> kv;
    if (row) {
      kv = ReadKv(*s);
    }
    s->Reset();
    return kv;
  }
  absl::StatusOr<std::vector<KeyValue>> RangeKv(const std::string& begin, const std::string& end,
                                                int64_t limit) override {
    Stmt* s;
    if (end.empty()) {
      ASSIGN_OR_RETURN(s, Prepare("SELECT key, value, create_revision, mod_revision, version, "
                                  "lease FROM kv WHERE key >= ? ORDER BY key LIMIT ?"));
      s->Bind(begin).Bind(limit > 0 ? limit : -1);
    } else {
      ASSIGN_OR_RETURN(s, Prepare("SELECT key, value, create_revision, mod_revision, version, "
                                  "lease FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"));
      s->Bind(begin).Bind(end).Bind(limit > 0 ? limit : -1);
    }
    std::vector<KeyValue> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) {
        break;
      }
      out.push_back(ReadKv(*s));
    }
    s->Reset();
    return out;
  }
  absl::Status PutKv(const KeyValue& kv) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("INSERT OR REPLACE INTO kv (key, value, create_revision, "
                                       "mod_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?)"));
    s->Bind(kv.key).Bind(kv.value).Bind(kv.create_revision).Bind(kv.mod_revision);
    s->Bind(kv.version).Bind(kv.lease);
    return s->Exec();
  }
  absl::Status DeleteKv(const std::string& key) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("DELETE FROM kv WHERE key = ?"));
    s->Bind(key);
    return s->Exec();
  }
  absl::StatusOr<std::vector<std::string>> KeysWithLease(int64_t lease) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("SELECT key FROM kv WHERE lease = ? AND lease != 0"));
    s->Bind(lease);
    std::vector<std::string> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) {
        break;
      }
      out.push_back(s->Blob(0));
    }
    s->Reset();
    return out;
  }
  absl::StatusOr<int64_t> GetCounter(const std::string& name) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("SELECT value FROM meta WHERE name = ?"));
    s->BindText(name);
    ASSIGN_OR_RETURN(bool row, s->Step());
    const int64_t v = row ? s->Int(0) : 0;
    s->Reset();
    return v;
  }
  absl::Status SetCounter(const std::string& name, int64_t value) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)"));
    s->BindText(name).Bind(value);
    return s->Exec();
  }
  absl::Status AppendEvents(int64_t revision, const std::vector<Event>& events) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                       "?, ?, ?, ?, ?)"));
    int64_t seq = 0;
    for (const Event& e : events) {
      s->Reset();
      s->Bind(revision).Bind(seq++).Bind(e.type == EventType::kPut ? 0 : 1).Bind(e.kv.key);
      s->Bind(e.kv.value).Bind(e.kv.create_revision).Bind(e.kv.mod_revision).Bind(e.kv.version);
      s->Bind(e.kv.lease).Bind(e.has_prev ? 1 : 0).Bind(e.prev.value).Bind(e.prev.create_revision);
      s->Bind(e.prev.mod_revision).Bind(e.prev.version).Bind(e.prev.lease);
      RETURN_IF_ERROR(s->Exec());
    }
    // Prune the log now and then; watches from before `compacted` get OutOfRange.
    if (revision % 1024 == 0 && revision > retention_) {
      const int64_t compacted = revision - retention_;
      ASSIGN_OR_RETURN(Stmt * del, Prepare("DELETE FROM events WHERE revision <= ?"));
      del->Bind(compacted);
      RETURN_IF_ERROR(del->Exec());
      RETURN_IF_ERROR(SetCounter("compacted", compacted));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Event>> EventsSince(int64_t from_revision, const std::string& begin,
                                                 const std::string& end) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("SELECT type, key, value, create_revision, mod_revision, "
                                       "version, lease, has_prev, prev_value, "
                                       "prev_create_revision, prev_mod_revision, prev_version, "
                                       "prev_lease FROM events WHERE revision >= ? "
                                       "ORDER BY revision, seq"));
    s->Bind(from_revision);
    std::vector<Event> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) {
        break;
      }
      std::string key = s->Blob(1);
      if (key < begin || (!end.empty() && key >= end)) {
        continue;
      }
      Event e;
      e.type = s->Int(0) == 0 ? EventType::kPut : EventType::kDelete;
      e.kv = KeyValue{key, s->Blob(2), s->Int(3), s->Int(4), s->Int(5), s->Int(6)};
      e.has_prev = s->Int(7) != 0;
      if (e.has_prev) {
        e.prev = KeyValue{std::move(key), s->Blob(8), s->Int(9), s->Int(10), s->Int(11),
                          s->Int(12)};
      }
      out.push_back(std::move(e));
    }
    s->Reset();
    return out;
  }
  absl::StatusOr<std::optional<internal::LeaseRow>> GetLease(int64_t id) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("SELECT id, ttl_ms, expires_unix_ms FROM leases "
                                       "WHERE id = ?"));
    s->Bind(id);
    ASSIGN_OR_RETURN(bool row, s->Step());
    std::optional<internal::LeaseRow> out;
    if (row) {
      out = internal::LeaseRow{s->Int(0), s->Int(1), s->Int(2)};
    }
    s->Reset();
    return out;
  }
  absl::Status PutLease(const internal::LeaseRow& lease) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("INSERT OR REPLACE INTO leases (id, ttl_ms, "
                                       "expires_unix_ms) VALUES (?, ?, ?)"));
    s->Bind(lease.id).Bind(lease.ttl_ms).Bind(lease.expires_unix_ms);
    return s->Exec();
  }
  absl::Status DeleteLease(int64_t id) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("DELETE FROM leases WHERE id = ?"));
    s->Bind(id);
    return s->Exec();
  }
  absl::StatusOr<std::vector<int64_t>> ExpiredLeases(int64_t now_unix_ms) override {
    ASSIGN_OR_RETURN(Stmt * s, Prepare("SELECT id FROM leases WHERE expires_unix_ms <= ?"));
    s->Bind(now_unix_ms);
    std::vector<int64_t> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) {
        break;
      }
      out.push_back(s->Int(0));
    }
    s->Reset();
    return out;
  }

 private:
  SqliteBackend(sqlite3* db, int64_t retention) : db_(db), retention_(retention) {}

  static KeyValue ReadKv(Stmt& s) {
    return KeyValue{s.Blob(0), s.Blob(1), s.Int(2), s.Int(3), s.Int(4), s.Int(5)};
  }

  absl::Status ExecSql(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      absl::Status s = SqliteError(db_, sql);
      sqlite3_free(err);
      return s;
    }
    return absl::OkStatus();
  }

  // Returns the cached statement for `sql`, reset and ready to bind.
  absl::StatusOr<Stmt*> Prepare(const char* sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) {
      sqlite3_stmt* raw = nullptr;
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
          SQLITE_OK) {
        return SqliteError(db_, sql);
      }
      it = stmts_.emplace(sql, std::make_unique<Stmt>(db_, raw)).first;
    }
    return &it->second->Reset();
  }

  sqlite3* db_;
  const int64_t retention_;
  std::map<std::string, std::unique_ptr<Stmt>> stmts_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Create(SqliteStoreOptions options) {
  if (options.event_retention < 1) {
    return absl::InvalidArgumentError("SqliteStore: event_retention must be >= 1");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteBackend> backend, SqliteBackend::Open(options));
  internal::LocalStoreOptions local;
  local.now = std::move(options.now);
  local.reap_interval = options.reap_interval;
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(backend), std::move(local)));
  RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace netrig::controller::store
