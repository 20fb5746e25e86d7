// One throwaway etcd (EtcdProcess) for every test of a binary. Register it once per binary:
//   [[maybe_unused]] ::testing::Environment* const kEnv =
//       ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);
// EtcdEnvironment::etcd() is null when no etcd binary is installed: tests skip with a message.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "tests/support/etcd_process.h"

namespace netrig::testing {

class EtcdEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string bin = EtcdProcess::FindBinary();
    if (bin.empty()) return;
    auto etcd = EtcdProcess::Start(bin);
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
  }
  void TearDown() override { etcd_.reset(); }

  static EtcdProcess* etcd() { return etcd_.get(); }

 private:
  static inline std::unique_ptr<EtcdProcess> etcd_;
};

}  // namespace netrig::testing
