// The StateStore conformance suite: one set of value-parameterized tests that every StateStore
// implementation must pass. A test binary includes this header once and instantiates it with a
// harness factory:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformanceTest,
//       ::testing::Values(StoreHarnessFactory{"memory", [] { return MakeMemoryHarness(); }}),
//       StoreHarnessName);
//
// Each test works under its own key prefix (the test's name), so a harness may share one backend
// (one etcd server) across tests. Waits are bounded condition waits, never fixed sleeps.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/store/state_store.h"

namespace netrig::testing {

using ::netrig::controller::store::Compare;
using ::netrig::controller::store::Event;
using ::netrig::controller::store::EventType;
using ::netrig::controller::store::KeyValue;
using ::netrig::controller::store::Op;
using ::netrig::controller::store::StateStore;
using ::netrig::controller::store::TxnRequest;
using ::netrig::controller::store::WatchHandle;

// Gives the suite stores of one implementation.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Non-empty: the backend is unavailable here (e.g. no etcd binary); tests are skipped.
  virtual std::string SkipReason() { return ""; }
  // Opens a store on this harness's data. Called again after the previous store was destroyed,
  // it must see the same data when Persistent().
  virtual absl::StatusOr<std::unique_ptr<StateStore>> Open() = 0;
  virtual bool Persistent() const = 0;
  // Lets `d` pass for lease expiry: fake clocks advance and reap; real ones do nothing (the
  // suite then polls, up to LeaseExpiryWait()).
  virtual void AdvanceTime(absl::Duration d) = 0;
  virtual absl::Duration LeaseExpiryWait() const { return absl::Seconds(1); }
  // True when leases run on wall-clock time that AdvanceTime() cannot move.
  virtual bool RealTime() const { return false; }
};

struct StoreHarnessFactory {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};

// Keeps gtest's parameter printing readable ("memory", not a byte dump).
inline void PrintTo(const StoreHarnessFactory& f, std::ostream* os) { *os << f.name; }

inline std::string StoreHarnessName(const ::testing::TestParamInfo<StoreHarnessFactory>& info) {
  return info.param.name;
}

// Collects watch events across the delivery thread; waits are bounded.
class EventCollector {
 public:
  void Add(const std::vector<Event>& events) {
    absl::MutexLock lock(&mu_);
    events_.insert(events_.end(), events.begin(), events.end());
  }
  void SetError(const absl::Status& s) {
    absl::MutexLock lock(&mu_);
    error_ = s;
  }
  // True once at least n events arrived (false after `timeout`).
  bool WaitFor(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return events_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<Event> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  absl::Status error() {
    absl::MutexLock lock(&mu_);
    return error_;
  }
  controller::store::EventCallback Callback() {
    return [this](const std::vector<Event>& e) { Add(e); };
  }
  controller::store::ErrorCallback ErrorCb() {
    return [this](const absl::Status& s) { SetError(s); };
  }

 private:
  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

class StoreConformanceTest : public ::testing::TestWithParam<StoreHarnessFactory> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    ASSERT_NE(harness_, nullptr);
    if (std::string reason = harness_->SkipReason(); !reason.empty()) {
      GTEST_SKIP() << reason;
    }
    auto store = harness_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    ns_ = absl::StrCat("/conformance/", GetParam().name, "/", info->name(), "/");
  }
  void TearDown() override {
    if (store_ != nullptr) {
      store_->Stop();
    }
    store_.reset();
    harness_.reset();
  }

  // A key under this test's namespace.
  std::string K(absl::string_view suffix) const { return absl::StrCat(ns_, suffix); }

  int64_t MustPut(absl::string_view key, absl::string_view value, int64_t lease = 0) {
    auto rev = store_->Put(key, value, lease);
    EXPECT_TRUE(rev.ok()) << rev.status();
    return rev.ok() ? *rev : -1;
  }
  int64_t CurrentRevision() {
    auto list = store_->List(K("__none__/"));
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? list->revision : -1;
  }
  // Polls (bounded) until `key` is gone; needed for real clocks (etcd lease expiry).
  bool WaitGone(absl::string_view key, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      auto kv = store_->Get(key);
      if (absl::IsNotFound(kv.status())) {
        return true;
      }
      if (absl::Now() > deadline) {
        return false;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<StateStore> store_;
  std::string ns_;
};

TEST_P(StoreConformanceTest, PutThenGetReturnsValueAndRevisions) {
  const int64_t r1 = MustPut(K("a"), "v1");
  auto kv = store_->Get(K("a"));
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->key, K("a"));
  EXPECT_EQ(kv->value, "v1");
  EXPECT_EQ(kv->create_revision, r1);
  EXPECT_EQ(kv->mod_revision, r1);
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(kv->lease, 0);

  const int64_t r2 = MustPut(K("a"), "v2");
  EXPECT_GT(r2, r1);
  kv = store_->Get(K("a"));
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value, "v2");
  EXPECT_EQ(kv->create_revision, r1);
  EXPECT_EQ(kv->mod_revision, r2);
  EXPECT_EQ(kv->version, 2);
}

TEST_P(StoreConformanceTest, GetMissingKeyIsNotFound) {
  auto kv = store_->Get(K("missing"));
  EXPECT_TRUE(absl::IsNotFound(kv.status())) << kv.status();
}

TEST_P(StoreConformanceTest, EmptyValueRoundTrips) {
  MustPut(K("empty"), "");
  auto kv = store_->Get(K("empty"));
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value, "");
}

TEST_P(StoreConformanceTest, ListIsSortedAndRespectsPrefixBoundaries) {
  MustPut(K("a/2"), "2");
  MustPut(K("ab"), "x");  // shares the bytes "a" but not the prefix "a/"
  MustPut(K("a/1"), "1");
  MustPut(K("a"), "a");
  const int64_t last = MustPut(K("a/3"), "3");
  MustPut(K("a0"), "y");  // '0' sorts right after '/', the usual off-by-one in range ends

  auto list = store_->List(K("a/"));
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> keys;
  for (const KeyValue& kv : list->kvs) {
    keys.push_back(kv.key);
  }
  ASSERT_THAT(keys, ::testing::ElementsAre(K("a/1"), K("a/2"), K("a/3")));
  EXPECT_EQ(list->kvs[0].value, "1");
  EXPECT_GE(list->revision, last);
  EXPECT_FALSE(list->more);

  auto limited = store_->List(K("a/"), 2);
  ASSERT_TRUE(limited.ok()) << limited.status();
  ASSERT_EQ(limited->kvs.size(), 2u);
  EXPECT_EQ(limited->kvs[0].key, K("a/1"));
  EXPECT_EQ(limited->kvs[1].key, K("a/2"));
  EXPECT_TRUE(limited->more);

  auto all = store_->List(ns_);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->kvs.size(), 6u);

  auto none = store_->List(K("zzz/"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->kvs.empty());
}

TEST_P(StoreConformanceTest, EveryWriteBumpsTheRevisionAndFailedWritesDoNot) {
  const int64_t start = CurrentRevision();
  const int64_t r1 = MustPut(K("k1"), "a");
  const int64_t r2 = MustPut(K("k2"), "b");
  auto r3 = store_->Delete(K("k1"));
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_GT(r1, start);
  EXPECT_GT(r2, r1);
  EXPECT_GT(*r3, r2);
  EXPECT_EQ(CurrentRevision(), *r3);

  // A failed compare writes nothing and leaves the revision alone.
  auto cas = store_->CompareAndSwap(K("k2"), r1, "nope");
  EXPECT_TRUE(absl::IsAborted(cas.status())) << cas.status();
  EXPECT_EQ(CurrentRevision(), *r3);
  auto kv = store_->Get(K("k2"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->mod_revision, r2);
  EXPECT_EQ(kv->value, "b");
}

TEST_P(StoreConformanceTest, CompareAndSwapSucceedsOnMatchAndAbortsOnConflict) {
  const int64_t r1 = MustPut(K("cas"), "v1");
  auto r2 = store_->CompareAndSwap(K("cas"), r1, "v2");
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_GT(*r2, r1);
  // The same expected revision is stale now.
  auto stale = store_->CompareAndSwap(K("cas"), r1, "v3");
  EXPECT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  auto kv = store_->Get(K("cas"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "v2");
  EXPECT_EQ(kv->mod_revision, *r2);
  EXPECT_EQ(kv->version, 2);

  // expected 0 = must not exist.
  auto fresh = store_->CompareAndSwap(K("cas-new"), 0, "n");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto again = store_->CompareAndSwap(K("cas-new"), 0, "n2");
  EXPECT_TRUE(absl::IsAborted(again.status())) << again.status();
  // A missing key never matches a non-zero revision.
  auto missing = store_->CompareAndSwap(K("cas-missing"), r1, "m");
  EXPECT_TRUE(absl::IsAborted(missing.status())) << missing.status();
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("cas-missing")).status()));
}

TEST_P(StoreConformanceTest, CreateOnlyIfAbsent) {
  auto r = store_->Create(K("c"), "first");
  ASSERT_TRUE(r.ok()) << r.status();
  auto dup = store_->Create(K("c"), "second");
  EXPECT_TRUE(absl::IsAlreadyExists(dup.status())) << dup.status();
  auto kv = store_->Get(K("c"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "first");
  EXPECT_EQ(kv->mod_revision, *r);
}

TEST_P(StoreConformanceTest, DeleteAndCompareAndDelete) {
  const int64_t r1 = MustPut(K("d"), "v");
  auto del = store_->Delete(K("d"));
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_GT(*del, r1);
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("d")).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Delete(K("d")).status()));

  // Re-created keys start over: version 1, new create_revision.
  const int64_t r2 = MustPut(K("d"), "again");
  auto kv = store_->Get(K("d"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(kv->create_revision, r2);

  auto wrong = store_->CompareAndDelete(K("d"), r1);
  EXPECT_TRUE(absl::IsAborted(wrong.status())) << wrong.status();
  EXPECT_TRUE(store_->Get(K("d")).ok());
  auto right = store_->CompareAndDelete(K("d"), r2);
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("d")).status()));
}

TEST_P(StoreConformanceTest, TxnIsAllOrNothing) {
  const int64_t base = MustPut(K("run"), "pending");
  const int64_t other = MustPut(K("old-index"), "x");

  // A failing compare (second one) writes nothing.
  TxnRequest bad;
  bad.compares = {{K("run"), base}, {K("index"), 12345}};
  bad.ops = {Op::Put(K("run"), "started"), Op::Put(K("index"), "run"),
             Op::Delete(K("old-index"))};
  const int64_t before = CurrentRevision();
  auto failed = store_->Txn(bad);
  EXPECT_TRUE(absl::IsAborted(failed.status())) << failed.status();
  EXPECT_EQ(CurrentRevision(), before);
  auto run = store_->Get(K("run"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->value, "pending");
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("index")).status()));
  EXPECT_TRUE(store_->Get(K("old-index")).ok());

  // All compares hold: every op lands at one revision.
  TxnRequest good;
  good.compares = {{K("run"), base}, {K("index"), 0}, {K("old-index"), other}};
  good.ops = {Op::Put(K("run"), "started"), Op::Put(K("index"), "run"),
              Op::Delete(K("old-index"))};
  auto rev = store_->Txn(good);
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(*rev, before + 1);
  run = store_->Get(K("run"));
  auto index = store_->Get(K("index"));
  ASSERT_TRUE(run.ok() && index.ok());
  EXPECT_EQ(run->value, "started");
  EXPECT_EQ(run->mod_revision, *rev);
  EXPECT_EQ(index->mod_revision, *rev);
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("old-index")).status()));
}

TEST_P(StoreConformanceTest, TxnWithUnknownLeaseWritesNothing) {
  TxnRequest txn;
  txn.ops = {Op::Put(K("t1"), "a"), Op::Put(K("t2"), "b", /*lease=*/987654321)};
  auto rev = store_->Txn(txn);
  EXPECT_TRUE(absl::IsNotFound(rev.status())) << rev.status();
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("t1")).status()));
}

TEST_P(StoreConformanceTest, ConcurrentCompareAndSwapHasExactlyOneWinnerPerRound) {
  constexpr int kThreads = 6;
  constexpr int kRounds = 8;
  MustPut(K("counter"), "0");
  for (int round = 0; round < kRounds; ++round) {
    auto kv = store_->Get(K("counter"));
    ASSERT_TRUE(kv.ok()) << kv.status();
    const int64_t expected = kv->mod_revision;
    std::atomic<int> winners{0};
    std::atomic<int> aborted{0};
    std::atomic<int> other_errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto r = store_->CompareAndSwap(K("counter"), expected, absl::StrCat(round, "-", t));
        if (r.ok()) {
          ++winners;
        } else if (absl::IsAborted(r.status())) {
          ++aborted;
        } else {
          ++other_errors;
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(aborted.load(), kThreads - 1) << "round " << round;
    EXPECT_EQ(other_errors.load(), 0) << "round " << round;
  }
  auto kv = store_->Get(K("counter"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->version, 1 + kRounds);
}

TEST_P(StoreConformanceTest, WatchDeliversPutsAndDeletesInOrder) {
  EventCollector c;
  auto w = store_->Watch(K("w/"), 0, c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  const int64_t r1 = MustPut(K("w/a"), "1");
  MustPut(K("wx"), "outside");  // outside the prefix
  const int64_t r2 = MustPut(K("w/b"), "2");
  auto r3 = store_->Delete(K("w/a"));
  ASSERT_TRUE(r3.ok());
  const int64_t r4 = MustPut(K("w/b"), "3");
  ASSERT_TRUE(c.WaitFor(4));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].type, EventType::kPut);
  EXPECT_EQ(ev[0].kv.key, K("w/a"));
  EXPECT_EQ(ev[0].kv.value, "1");
  EXPECT_EQ(ev[0].kv.mod_revision, r1);
  EXPECT_FALSE(ev[0].has_prev);
  EXPECT_EQ(ev[1].kv.key, K("w/b"));
  EXPECT_EQ(ev[1].kv.mod_revision, r2);
  EXPECT_EQ(ev[2].type, EventType::kDelete);
  EXPECT_EQ(ev[2].kv.key, K("w/a"));
  EXPECT_EQ(ev[2].kv.mod_revision, *r3);
  ASSERT_TRUE(ev[2].has_prev);
  EXPECT_EQ(ev[2].prev.value, "1");
  EXPECT_EQ(ev[3].type, EventType::kPut);
  EXPECT_EQ(ev[3].kv.mod_revision, r4);
  EXPECT_EQ(ev[3].kv.version, 2);
  ASSERT_TRUE(ev[3].has_prev);
  EXPECT_EQ(ev[3].prev.value, "2");
  EXPECT_TRUE(c.error().ok()) << c.error();
}

TEST_P(StoreConformanceTest, WatchFromOlderRevisionReplaysMissedEventsWithoutGaps) {
  std::vector<int64_t> revs;
  for (int i = 0; i < 5; ++i) {
    revs.push_back(MustPut(K(absl::StrCat("r/", i)), absl::StrCat(i)));
  }
  EventCollector c;
  // Resume from the third write: exactly writes 2..4 are replayed, then live ones follow.
  auto w = store_->Watch(K("r/"), revs[2], c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  const int64_t live = MustPut(K("r/live"), "L");
  ASSERT_TRUE(c.WaitFor(4));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].kv.mod_revision, revs[2]);
  EXPECT_EQ(ev[1].kv.mod_revision, revs[3]);
  EXPECT_EQ(ev[2].kv.mod_revision, revs[4]);
  EXPECT_EQ(ev[3].kv.mod_revision, live);
  EXPECT_EQ(ev[0].kv.key, K("r/2"));
  EXPECT_EQ(ev[3].kv.key, K("r/live"));
}

TEST_P(StoreConformanceTest, TxnEventsShareOneRevision) {
  EventCollector c;
  auto w = store_->Watch(K("tx/"), 0, c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  TxnRequest txn;
  txn.ops = {Op::Put(K("tx/a"), "1"), Op::Put(K("tx/b"), "2")};
  auto rev = store_->Txn(txn);
  ASSERT_TRUE(rev.ok()) << rev.status();
  ASSERT_TRUE(c.WaitFor(2));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kv.mod_revision, *rev);
  EXPECT_EQ(ev[1].kv.mod_revision, *rev);
}

TEST_P(StoreConformanceTest, CancelStopsDelivery) {
  EventCollector canceled;
  EventCollector control;
  auto w1 = store_->Watch(K("c/"), 0, canceled.Callback(), canceled.ErrorCb());
  ASSERT_TRUE(w1.ok()) << w1.status();
  MustPut(K("c/before"), "1");
  ASSERT_TRUE(canceled.WaitFor(1));
  (*w1)->Cancel();
  auto w2 = store_->Watch(K("c/"), 0, control.Callback(), control.ErrorCb());
  ASSERT_TRUE(w2.ok()) << w2.status();
  MustPut(K("c/after"), "2");
  // Once the control watch saw the write, the canceled one would have too.
  ASSERT_TRUE(control.WaitFor(1));
  EXPECT_EQ(canceled.events().size(), 1u);
  EXPECT_TRUE(canceled.error().ok()) << "Cancel() must not report an error";
  (*w1)->Cancel();  // idempotent
}

TEST_P(StoreConformanceTest, CallbackMayCancelItsOwnWatch) {
  std::unique_ptr<WatchHandle> handle;
  absl::Mutex mu;
  int calls = 0;
  auto w = store_->Watch(K("self/"), 0, [&](const std::vector<Event>&) {
    absl::MutexLock lock(&mu);
    ++calls;
    handle->Cancel();
  });
  ASSERT_TRUE(w.ok()) << w.status();
  {
    absl::MutexLock lock(&mu);
    handle = *std::move(w);
  }
  MustPut(K("self/1"), "a");
  {
    absl::MutexLock lock(&mu);
    auto called = [&calls]() { return calls > 0; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&called), absl::Seconds(10)));
  }
  MustPut(K("self/2"), "b");
  EventCollector control;
  auto w2 = store_->Watch(K("self/"), 0, control.Callback());
  ASSERT_TRUE(w2.ok());
  MustPut(K("self/3"), "c");
  ASSERT_TRUE(control.WaitFor(1));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(calls, 1);
}

TEST_P(StoreConformanceTest, RevokedLeaseDeletesItsKeysWithDeleteEvents) {
  auto lease = store_->Grant(absl::Seconds(30));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_NE(*lease, 0);
  MustPut(K("l/agent1"), "alive", *lease);
  MustPut(K("l/agent2"), "alive", *lease);
  MustPut(K("l/keep"), "no lease");
  auto kv = store_->Get(K("l/agent1"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->lease, *lease);

  EventCollector c;
  auto w = store_->Watch(K("l/"), 0, c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(store_->Revoke(*lease).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("l/agent1")).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("l/agent2")).status()));
  EXPECT_TRUE(store_->Get(K("l/keep")).ok());
  ASSERT_TRUE(c.WaitFor(2));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 2u);
  for (const Event& e : ev) {
    EXPECT_EQ(e.type, EventType::kDelete);
    EXPECT_EQ(e.kv.mod_revision, ev[0].kv.mod_revision);  // one revision for the revocation
  }
  EXPECT_TRUE(absl::IsNotFound(store_->Revoke(*lease)));
  EXPECT_TRUE(absl::IsNotFound(store_->KeepAlive(*lease).status()));
}

TEST_P(StoreConformanceTest, ExpiredLeaseDeletesItsKeysWithDeleteEvents) {
  auto lease = store_->Grant(absl::Seconds(2));
  ASSERT_TRUE(lease.ok()) << lease.status();
  MustPut(K("e/agent"), "alive", *lease);
  auto ttl = store_->KeepAlive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GE(*ttl, absl::Seconds(2));

  EventCollector c;
  auto w = store_->Watch(K("e/"), 0, c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  harness_->AdvanceTime(*ttl + absl::Seconds(1));
  EXPECT_TRUE(WaitGone(K("e/agent"), harness_->LeaseExpiryWait()));
  ASSERT_TRUE(c.WaitFor(1));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kDelete);
  EXPECT_EQ(ev[0].kv.key, K("e/agent"));
  EXPECT_TRUE(absl::IsNotFound(store_->KeepAlive(*lease).status()));
}

TEST_P(StoreConformanceTest, KeepAliveExtendsTheLease) {
  auto lease = store_->Grant(absl::Seconds(2));
  ASSERT_TRUE(lease.ok()) << lease.status();
  MustPut(K("ka/agent"), "alive", *lease);
  // Refreshing at a third of the TTL keeps the key for longer than one TTL.
  for (int i = 0; i < 4; ++i) {
    if (harness_->RealTime()) {
      absl::SleepFor(absl::Milliseconds(700));  // etcd: only real time passes
    } else {
      harness_->AdvanceTime(absl::Milliseconds(700));
    }
    auto ttl = store_->KeepAlive(*lease);
    ASSERT_TRUE(ttl.ok()) << "refresh " << i << ": " << ttl.status();
  }
  EXPECT_TRUE(store_->Get(K("ka/agent")).ok());
  ASSERT_TRUE(store_->Revoke(*lease).ok());
}

TEST_P(StoreConformanceTest, PutWithUnknownLeaseIsNotFound) {
  auto r = store_->Put(K("nolease"), "v", 987654321);
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("nolease")).status()));
}

TEST_P(StoreConformanceTest, ReopenKeepsData) {
  if (!harness_->Persistent()) {
    GTEST_SKIP() << GetParam().name << " is not persistent";
  }
  const int64_t rev = MustPut(K("p"), "persisted");
  store_->Stop();
  store_.reset();
  auto reopened = harness_->Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = *std::move(reopened);
  auto kv = store_->Get(K("p"));
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value, "persisted");
  EXPECT_EQ(kv->mod_revision, rev);
  EXPECT_GE(CurrentRevision(), rev);
  EXPECT_GT(MustPut(K("p2"), "after"), rev);
}

TEST_P(StoreConformanceTest, LargeValueRoundTrips) {
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 131) % 251);  // includes NUL and high bytes
  }
  MustPut(K("big"), big);
  auto kv = store_->Get(K("big"));
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value.size(), big.size());
  EXPECT_TRUE(kv->value == big);
}

TEST_P(StoreConformanceTest, BinaryKeysAreOrderedBytewise) {
  const std::string hi = K(std::string("\xff", 1));
  const std::string lo = K(std::string("\x01", 1));
  MustPut(hi, "hi");
  MustPut(lo, "lo");
  auto list = store_->List(ns_);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->kvs.size(), 2u);
  EXPECT_EQ(list->kvs[0].key, lo);
  EXPECT_EQ(list->kvs[1].key, hi);
}

TEST_P(StoreConformanceTest, EmptyKeyIsInvalidArgumentNamingTheKey) {
  auto expect_invalid = [](const absl::Status& s) {
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("key")) << s;
  };
  expect_invalid(store_->Get("").status());
  expect_invalid(store_->Put("", "v").status());
  expect_invalid(store_->Create("", "v").status());
  expect_invalid(store_->CompareAndSwap("", 0, "v").status());
  expect_invalid(store_->Delete("").status());
  TxnRequest txn;
  txn.ops = {Op::Put(K("ok"), "v"), Op::Put("", "v")};
  expect_invalid(store_->Txn(txn).status());
  EXPECT_TRUE(absl::IsNotFound(store_->Get(K("ok")).status())) << "txn must write nothing";
  TxnRequest dup;
  dup.ops = {Op::Put(K("dup"), "1"), Op::Delete(K("dup"))};
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Txn(dup).status()));
}

}  // namespace netrig::testing
