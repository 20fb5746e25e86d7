// KubeApiServer: a throwaway Kubernetes control plane for integration and e2e tests, started
// envtest-style: Debian's etcd plus the kube-apiserver built by tests/tools/build.sh, both on
// 127.0.0.1 with free ports, a generated service-account key pair, a static admin bearer token
// (system:masters), RBAC authorization and the apiserver's self-signed serving certificate.
// There is no scheduler, controller-manager or kubelet: objects are stored and validated, pods
// never run. The destructor stops both processes and removes the temp directory; children get
// SIGKILL if the test process dies.
//
//   auto api = KubeApiServer::Start();
//   if (!api.ok()) GTEST_SKIP() << api.status();   // only for FailedPrecondition (no binary)
//   auto r = (*api)->Kubectl({"apply", "-f", path});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/etcd_process.h"

namespace netrig::testing {

// $KUBE_APISERVER, else the newest /var/cache/netrig-tools/kube-apiserver-*/bin/kube-apiserver
// (or $NETRIG_TOOLS_DIR); empty if none.
std::string FindKubeApiServerBinary();
// $HELM, else /var/cache/netrig-tools/helm-*/bin/helm; empty if none.
std::string FindHelmBinary();
// kubectl in PATH (absolute path); empty if none.
std::string FindKubectlBinary();

struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class KubeApiServer {
 public:
  // FailedPrecondition when etcd, kube-apiserver or kubectl is missing (tests skip on it, naming
  // the missing tool and how to build it); other errors when it fails to come up (with log tails).
  static absl::StatusOr<std::unique_ptr<KubeApiServer>> Start(
      absl::Duration ready_timeout = absl::Seconds(60));
  ~KubeApiServer();

  const std::string& url() const { return url_; }           // https://127.0.0.1:<port>
  const std::string& token() const { return token_; }       // admin bearer token
  const std::string& kubeconfig() const { return kubeconfig_; }  // admin kubeconfig (insecure TLS)
  const std::string& dir() const { return dir_; }           // temp dir, removed at the end

  // kubectl --kubeconfig <admin> ARGS..., with `stdin_text` piped in; waits for it to finish.
  CommandOutput Kubectl(const std::vector<std::string>& args,
                        const std::string& stdin_text = "") const;
  // helm ARGS... with KUBECONFIG and HELM_*_HOME inside dir(); FailedPrecondition without helm.
  absl::StatusOr<CommandOutput> Helm(const std::vector<std::string>& args) const;

  // A kubeconfig that authenticates as the ServiceAccount ns/name (a token from the
  // TokenRequest API), for RBAC tests: the account gets only what its Roles grant.
  absl::StatusOr<std::string> ServiceAccountKubeconfig(const std::string& ns,
                                                       const std::string& name) const;

  std::string LogTail() const;  // last lines of the apiserver's and etcd's logs

 private:
  KubeApiServer() = default;
  std::string dir_, url_, token_, kubeconfig_;
  std::unique_ptr<EtcdProcess> etcd_;
  int apiserver_pid_ = -1;
};

}  // namespace netrig::testing
