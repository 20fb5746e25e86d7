// EtcdProcess: a throwaway etcd server for integration tests. Temp data dir, client and peer
// ports picked at runtime on 127.0.0.1 (bind port 0), waits until /health answers, and on
// destruction kills the process and removes the directory. The child also gets SIGKILL if the
// test process dies (PR_SET_PDEATHSIG), so no server outlives its test.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netrig::testing {

class EtcdProcess {
 public:
  // The etcd binary: $NETRIG_ETCD_BIN if set, else "etcd" found in PATH; empty if none.
  static std::string FindBinary();

  static absl::StatusOr<std::unique_ptr<EtcdProcess>> Start(
      const std::string& binary, absl::Duration ready_timeout = absl::Seconds(20));
  ~EtcdProcess();

  // "127.0.0.1:<port>": a gRPC target for EtcdStore.
  const std::string& endpoint() const { return endpoint_; }
  pid_t pid() const { return pid_; }
  // Last lines of etcd's log (for failure messages).
  std::string LogTail() const;

 private:
  EtcdProcess() = default;

  std::string dir_;
  std::string endpoint_;
  int client_port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound to port 0, then released). Racy by nature; fine on a
// test machine.
absl::StatusOr<int> PickFreePort();

}  // namespace netrig::testing
