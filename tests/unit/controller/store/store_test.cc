// StateStore conformance on MemoryStore and SqliteStore, plus SQLite durability tests
// (reopen, kill -9 mid-writes, schema version, event-log retention) and the key schema.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "controller/store/keys.h"
#include "controller/store/memory_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/support/store_conformance.h"

namespace netrig::testing {
namespace {

using ::netrig::controller::store::MemoryStore;
using ::netrig::controller::store::MemoryStoreOptions;
using ::netrig::controller::store::SqliteStore;
using ::netrig::controller::store::SqliteStoreOptions;
using ::netrig::controller::store::internal::LocalStore;

// Lease clock the tests move by hand.
class FakeClock {
 public:
  absl::Time Now() {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  std::function<absl::Time()> Fn() {
    return [this] { return Now(); };
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "netrig-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Expiry by the fake clock: AdvanceTime moves it and reaps on the last opened store.
class LocalHarness : public StoreHarness {
 public:
  void AdvanceTime(absl::Duration d) override {
    clock_.Advance(d);
    if (last_ != nullptr) {
      auto n = last_->ExpireLeases();
      EXPECT_TRUE(n.ok()) << n.status();
    }
  }

 protected:
  FakeClock clock_;
  LocalStore* last_ = nullptr;
};

class MemoryHarness : public LocalHarness {
 public:
  absl::StatusOr<std::unique_ptr<StateStore>> Open() override {
    auto store = MemoryStore::Create({.now = clock_.Fn(), .reap_interval = absl::ZeroDuration()});
    if (!store.ok()) {
      return store.status();
    }
    last_ = store->get();
    return std::unique_ptr<StateStore>(*std::move(store));
  }
  bool Persistent() const override { return false; }
};

class SqliteHarness : public LocalHarness {
 public:
  absl::StatusOr<std::unique_ptr<StateStore>> Open() override {
    auto store = SqliteStore::Create({.path = dir_.path() + "/state.db",
                                      .now = clock_.Fn(),
                                      .reap_interval = absl::ZeroDuration()});
    if (!store.ok()) {
      return store.status();
    }
    last_ = store->get();
    return std::unique_ptr<StateStore>(*std::move(store));
  }
  bool Persistent() const override { return true; }

 private:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Local, StoreConformanceTest,
                         ::testing::Values(
                             StoreHarnessFactory{"memory",
                                                 [] { return std::make_unique<MemoryHarness>(); }},
                             StoreHarnessFactory{"sqlite",
                                                 [] { return std::make_unique<SqliteHarness>(); }}),
                         StoreHarnessName);

// ---- SqliteStore specifics -------------------------------------------------------------------

class SqliteStoreTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<SqliteStore>> Open(bool sync_full = true,
                                                    int64_t retention = 100000) {
    return SqliteStore::Create({.path = path_,
                                .synchronous_full = sync_full,
                                .event_retention = retention,
                                .now = clock_.Fn(),
                                .reap_interval = absl::ZeroDuration()});
  }
  std::string Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::string out;
    char* err = nullptr;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* arg, int n, char** vals, char**) {
          auto* o = static_cast<std::string*>(arg);
          for (int i = 0; i < n; ++i) {
            absl::StrAppend(o, vals[i] ? vals[i] : "NULL", i + 1 < n ? "|" : "");
          }
          return 0;
        },
        &out, &err);
    EXPECT_EQ(err, nullptr) << err;
    sqlite3_free(err);
    sqlite3_close(db);
    return out;
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/state.db";
  FakeClock clock_;
};

TEST_F(SqliteStoreTest, UsesWalJournal) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Put("/k", "v").ok());
  EXPECT_EQ(Sql("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, ReopenKeepsRevisionLeasesAndWatchHistory) {
  int64_t lease = 0;
  int64_t r1 = 0, r2 = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    r1 = *(*store)->Put("/a", "1");
    auto l = (*store)->Grant(absl::Seconds(10));
    ASSERT_TRUE(l.ok());
    lease = *l;
    r2 = *(*store)->Put("/agent", "up", lease);
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Revision(), r2);
  auto kv = (*store)->Get("/agent");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->lease, lease);
  EXPECT_TRUE((*store)->KeepAlive(lease).ok());
  auto l2 = (*store)->Grant(absl::Seconds(10));
  ASSERT_TRUE(l2.ok());
  EXPECT_NE(*l2, lease) << "lease ids are never reused across restarts";
  EXPECT_GT(*(*store)->Put("/b", "2"), r2);

  EventCollector c;
  auto w = (*store)->Watch("/", r1, c.Callback());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(c.WaitFor(3));
  auto ev = c.events();
  EXPECT_EQ(ev[0].kv.mod_revision, r1);
  EXPECT_EQ(ev[1].kv.mod_revision, r2);
}

TEST_F(SqliteStoreTest, LeaseDeadlineKeepsRunningWhileClosed) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok());
    auto lease = (*store)->Grant(absl::Seconds(5));
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*store)->Put("/agent", "up", *lease).ok());
  }
  clock_.Advance(absl::Seconds(6));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->Get("/agent").ok());
  auto n = (*store)->ExpireLeases();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(absl::IsNotFound((*store)->Get("/agent").status()));
}

TEST_F(SqliteStoreTest, NewerSchemaVersionIsRefused) {
  { ASSERT_TRUE(Open().ok()); }
  Sql("UPDATE meta SET value = 99 WHERE name = 'schema_version'");
  auto store = Open();
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
}

TEST_F(SqliteStoreTest, WatchBeforeRetainedHistoryIsOutOfRange) {
  auto store = Open(/*sync_full=*/false, /*retention=*/10);
  ASSERT_TRUE(store.ok());
  while ((*store)->Revision() < 1100) {
    ASSERT_TRUE((*store)->Put("/k", "v").ok());
  }
  EventCollector c;
  auto old = (*store)->Watch("/", 2, c.Callback());
  EXPECT_TRUE(absl::IsOutOfRange(old.status())) << old.status();
  auto recent = (*store)->Watch("/", (*store)->Revision() - 5, c.Callback());
  ASSERT_TRUE(recent.ok()) << recent.status();
  EXPECT_TRUE(c.WaitFor(6));
}

TEST_F(SqliteStoreTest, KillDuringWritesKeepsEveryAcknowledgedWrite) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: write forever, acknowledging each write that returned OK.
    close(fds[0]);
    auto store = SqliteStore::Create({.path = path_, .reap_interval = absl::ZeroDuration()});
    if (!store.ok()) {
      _exit(2);
    }
    for (uint32_t i = 0;; ++i) {
      TxnRequest txn;  // a record and its index, atomically
      txn.ops = {Op::Put(absl::StrCat("/k/", absl::StrFormat("%08d", i)), absl::StrCat(i)),
                 Op::Put("/last", absl::StrCat(i))};
      if (!(*store)->Txn(txn).ok() || write(fds[1], &i, sizeof(i)) != sizeof(i)) {
        _exit(3);
      }
    }
  }
  close(fds[1]);
  uint32_t acked = 0;
  int64_t n_acks = 0;
  uint32_t v;
  while (n_acks < 150 && read(fds[0], &v, sizeof(v)) == sizeof(v)) {
    acked = v;
    ++n_acks;
  }
  ASSERT_EQ(n_acks, 150) << "child stopped early";
  kill(pid, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {  // acks sent before the kill
    acked = v;
  }
  close(fds[0]);

  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  auto list = (*store)->List("/k/");
  ASSERT_TRUE(list.ok());
  // Every acknowledged write is there; at most the one in flight beyond it; no holes.
  ASSERT_GE(list->kvs.size(), acked + 1);
  ASSERT_LE(list->kvs.size(), acked + 2);
  for (size_t i = 0; i < list->kvs.size(); ++i) {
    EXPECT_EQ(list->kvs[i].value, absl::StrCat(i));
  }
  // The index written in the same transaction agrees with the records.
  auto last = (*store)->Get("/last");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->value, absl::StrCat(list->kvs.size() - 1));
  EXPECT_EQ(last->mod_revision, (*store)->Revision());
  // The store keeps working after the crash.
  auto rev = (*store)->Put("/after", "crash");
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(*rev, last->mod_revision + 1);
}

// ---- MemoryStore specifics -------------------------------------------------------------------

TEST(MemoryStoreTest, BackgroundReaperExpiresLeasesAndStopJoinsIt) {
  FakeClock clock;
  auto store = MemoryStore::Create({.now = clock.Fn(), .reap_interval = absl::Milliseconds(5)});
  ASSERT_TRUE(store.ok());
  auto lease = (*store)->Grant(absl::Seconds(2));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*store)->Put("/agent", "up", *lease).ok());
  EventCollector c;
  auto w = (*store)->Watch("/", 0, c.Callback());
  ASSERT_TRUE(w.ok());
  clock.Advance(absl::Seconds(3));
  ASSERT_TRUE(c.WaitFor(1));  // the reaper, not the test, deleted it
  EXPECT_EQ(c.events()[0].type, EventType::kDelete);
  (*store)->Stop();
  (*store)->Stop();
}

TEST(MemoryStoreTest, WatchHandleOutlivingTheStoreIsSafe) {
  std::unique_ptr<WatchHandle> handle;
  {
    auto store = MemoryStore::Create({.reap_interval = absl::ZeroDuration()});
    ASSERT_TRUE(store.ok());
    auto w = (*store)->Watch("/", 0, [](const std::vector<Event>&) {});
    ASSERT_TRUE(w.ok());
    handle = *std::move(w);
  }
  handle->Cancel();
}

// ---- Key schema ------------------------------------------------------------------------------

namespace keys = ::netrig::controller::store::keys;

TEST(KeysTest, LayoutMatchesTheDocumentedSchema) {
  EXPECT_EQ(keys::Run("r1"), "/netrig/v1/runs/r1");
  EXPECT_EQ(keys::Trial("r1", 7), "/netrig/v1/runs/r1/trials/00000007");
  EXPECT_EQ(keys::TrialsPrefix("r1"), "/netrig/v1/runs/r1/trials/");
  EXPECT_EQ(keys::Agent("a-1"), "/netrig/v1/agents/a-1");
  EXPECT_EQ(keys::QueueEntry(1, "r1"), "/netrig/v1/queue/01/r1");
  EXPECT_LT(keys::QueueEntry(1, "zz"), keys::QueueEntry(2, "aa"));  // priority orders the queue
  EXPECT_LT(keys::Trial("r", 9), keys::Trial("r", 10));
}

TEST(KeysTest, IdsWithSeparatorsAreRejectedNamingTheField) {
  EXPECT_TRUE(keys::ValidateId("run id", "run-1.a_B").ok());
  auto s = keys::ValidateId("run id", "a/b");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("run id"));
  EXPECT_TRUE(absl::IsInvalidArgument(keys::ValidateId("agent id", "")));
}

TEST(PrefixEndTest, IncrementsTheLastByteAndDropsTrailingFF) {
  using ::netrig::controller::store::PrefixEnd;
  EXPECT_EQ(PrefixEnd("a/"), "a0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace netrig::testing
