// SutProvider on Kubernetes: the SUT of a run is a Pod, or a KubeVirt VirtualMachine, made from
// a SutTemplate resource (kind pod / kubevirt) and attached to the template's Multus networks,
// one network per link in link order.
//
//   auto client = kube::Client::Create(*kube::DefaultConfig(flags.kubeconfig));
//   KubernetesSutProvider p(**client, {.ns = "lab"});
//   ASSIGN_OR_RETURN(SutInstance sut, p.Create(request));    // Pod "nrsut-<run id>"
//   RETURN_IF_ERROR(p.WaitReady(sut, absl::Minutes(2)));      // Ready + network-status
//   RETURN_IF_ERROR(p.Refresh(sut));                          // links' MACs/IPs, next hops
//   p.Destroy(sut);                                           // deleted and gone
//
// Objects carry the labels netrig.io/run, netrig.io/sut-template and
// app.kubernetes.io/managed-by=netrig-controller (ListOrphans selects on them) and the exact run
// id in the netrig.io/run-id annotation. Create after a controller restart adopts the object
// of the same run. Events (link-down...) are not implemented for this provider: InjectEvent
// returns Unimplemented.
//
// Thread safety: all methods may be called concurrently (kube::Api is thread-safe; the
// provider keeps no state between calls).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "controller/sut/kubernetes_render.h"
#include "controller/sut/sut_provider.h"
#include "lib/kube/client.h"

namespace netrig::controller::sut {

struct KubernetesSutOptions {
  std::string ns = "default";  // where SutTemplates are read and SUT objects created
  absl::Duration poll_interval = absl::Milliseconds(250);  // WaitReady and Destroy
  absl::Duration delete_timeout = absl::Minutes(2);        // Destroy waits this long for NotFound
};

class KubernetesSutProvider : public SutProvider {
 public:
  // `api` must outlive the provider.
  KubernetesSutProvider(kube::Api& api, KubernetesSutOptions options);

  absl::StatusOr<SutInstance> Create(const SutRequest& request) override;
  absl::Status WaitReady(const SutInstance& instance, absl::Duration timeout) override;
  // Links' MACs and addresses and the next hops from the Multus network-status annotation.
  // FailedPrecondition when the SUT is not ready.
  absl::Status Refresh(SutInstance& instance) override;
  absl::Status InjectEvent(const SutInstance& instance, const SutEvent& event) override;
  absl::Status Destroy(const SutInstance& instance) override;
  absl::StatusOr<std::vector<std::string>> ListOrphans(
      const std::set<std::string>& live_run_ids) override;

 private:
  // One look at the object: its readiness and, once ready, `filled` has the links and next
  // hops. Errors are those of the API (NotFound when the object is gone).
  struct Observation {
    Readiness readiness;
    SutInstance filled;
  };
  absl::StatusOr<Observation> Observe(const SutInstance& instance);
  absl::StatusOr<v1::SutTemplate> ReadTemplate(const std::string& name);
  absl::Status ResolveBindings(KubeSutPlan& plan);
  // Deletes ns/name if it is ours and waits until it is gone; OK when it does not exist.
  absl::Status DeleteAndWait(const kube::Resource& resource, const std::string& name);

  kube::Api& api_;
  KubernetesSutOptions options_;
};

}  // namespace netrig::controller::sut
