// StateStore conformance on EtcdStore against a real etcd started by this test (one server for
// the whole binary, each test under its own key prefix), plus etcd-specific failure behaviour.
// Skipped with a message when no etcd binary is installed.
#include <chrono>

#include "controller/store/etcd_store.h"
#include "tests/support/etcd_environment.h"
#include "tests/support/store_conformance.h"

namespace netrig::testing {
namespace {

using ::netrig::controller::store::EtcdStore;

constexpr char kNoEtcd[] =
    "etcd binary not found (install etcd-server, or set NETRIG_ETCD_BIN); skipping etcd tests";

// One etcd for all tests in this binary.
[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);

class EtcdHarness : public StoreHarness {
 public:
  std::string SkipReason() override {
    return EtcdEnvironment::etcd() == nullptr ? kNoEtcd : "";
  }
  absl::StatusOr<std::unique_ptr<StateStore>> Open() override {
    auto store = EtcdStore::Create({.endpoint = EtcdEnvironment::etcd()->endpoint(),
                                    .rpc_timeout = absl::Seconds(5)});
    if (!store.ok()) {
      return store.status();
    }
    return std::unique_ptr<StateStore>(*std::move(store));
  }
  bool Persistent() const override { return true; }  // a new client sees the same server
  void AdvanceTime(absl::Duration) override {}
  bool RealTime() const override { return true; }
  // etcd's lessor checks expiry every 500 ms; allow generous slack on a loaded machine.
  absl::Duration LeaseExpiryWait() const override { return absl::Seconds(10); }
};

INSTANTIATE_TEST_SUITE_P(Etcd, StoreConformanceTest,
                         ::testing::Values(StoreHarnessFactory{
                             "etcd", [] { return std::make_unique<EtcdHarness>(); }}),
                         StoreHarnessName);

TEST(EtcdStoreTest, UnreachableEtcdIsUnavailableWithinTheDeadline) {
  auto port = PickFreePort();  // nothing listens there
  ASSERT_TRUE(port.ok());
  auto store = EtcdStore::Create(
      {.endpoint = absl::StrCat("127.0.0.1:", *port), .rpc_timeout = absl::Seconds(2)});
  ASSERT_TRUE(store.ok());
  const absl::Time start = absl::Now();
  auto kv = (*store)->Get("/k");
  EXPECT_TRUE(absl::IsUnavailable(kv.status()) || absl::IsDeadlineExceeded(kv.status()))
      << kv.status();
  auto put = (*store)->Put("/k", "v");
  EXPECT_TRUE(absl::IsUnavailable(put.status()) || absl::IsDeadlineExceeded(put.status()))
      << put.status();
  auto w = (*store)->Watch("/", 0, [](const std::vector<Event>&) {});
  EXPECT_FALSE(w.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
}

TEST(EtcdStoreTest, WatchReportsAnErrorWhenEtcdGoesAway) {
  const std::string bin = EtcdProcess::FindBinary();
  if (bin.empty()) {
    GTEST_SKIP() << kNoEtcd;
  }
  auto etcd = EtcdProcess::Start(bin);  // a private server we can kill
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  auto store = EtcdStore::Create({.endpoint = (*etcd)->endpoint()});
  ASSERT_TRUE(store.ok());
  EventCollector c;
  auto w = (*store)->Watch("/x/", 0, c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*store)->Put("/x/1", "a").ok());
  ASSERT_TRUE(c.WaitFor(1));
  etcd->reset();  // SIGKILL
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (c.error().ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(absl::IsUnavailable(c.error())) << c.error();
  auto get = (*store)->Get("/x/1");
  EXPECT_TRUE(absl::IsUnavailable(get.status()) || absl::IsDeadlineExceeded(get.status()))
      << get.status();
  (*store)->Stop();  // joins the (ended) watch thread
}

TEST(EtcdStoreTest, StopEndsWatchesWithoutAnErrorCallback) {
  if (EtcdEnvironment::etcd() == nullptr) {
    GTEST_SKIP() << kNoEtcd;
  }
  auto store = EtcdStore::Create({.endpoint = EtcdEnvironment::etcd()->endpoint()});
  ASSERT_TRUE(store.ok());
  EventCollector c;
  auto w = (*store)->Watch("/stop/", 0, c.Callback(), c.ErrorCb());
  ASSERT_TRUE(w.ok()) << w.status();
  (*store)->Stop();
  EXPECT_TRUE(c.error().ok()) << c.error();
  (*w)->Cancel();
}

}  // namespace
}  // namespace netrig::testing
