// LeaderElector: client-go's Lease protocol. Expiry is judged on the candidate's own clock: a
// lease is expired when its record (holder, renewTime, transitions) has not changed for
// leaseDurationSeconds since this candidate first saw it, so clock skew between nodes does not
// matter.
#include "lib/kube/leader_election.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace netrig::kube {
namespace {

// metav1.MicroTime, which Lease.spec.renewTime and acquireTime are.
std::string FormatMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string StringOr(const Json& object, const char* key, const std::string& fallback = "") {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int64_t IntOr(const Json& object, const char* key, int64_t fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

enum class Attempt { kHeld, kHeldByOther, kError };

// State of one Run(): what this candidate last observed, on its own clock.
struct ElectionState {
  std::string observed_record;
  absl::Time observed_at = absl::InfinitePast();
};

}  // namespace

LeaderElector::LeaderElector(Api* api, LeaderElectionConfig config)
    : api_(api), config_(std::move(config)) {}

LeaderElector::~LeaderElector() { Stop(); }

std::string LeaderElector::holder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return holder_;
}

void LeaderElector::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_.store(true);
  cv_.notify_all();
}

namespace {

int64_t LeaseSeconds(absl::Duration d) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(d))));
}

Json NewLease(const LeaderElectionConfig& config, absl::Time now) {
  return {{"apiVersion", kLeases.ApiVersion()},
          {"kind", kLeases.kind},
          {"metadata", {{"name", config.name}, {"namespace", config.ns}}},
          {"spec",
           {{"holderIdentity", config.identity},
            {"leaseDurationSeconds", LeaseSeconds(config.lease_duration)},
            {"acquireTime", FormatMicroTime(now)},
            {"renewTime", FormatMicroTime(now)},
            {"leaseTransitions", 0}}}};
}

// One round: read the lease, and take or renew it if we may.
Attempt TryAcquireOrRenew(Api& api, const LeaderElectionConfig& config, ElectionState& state,
                          std::string& holder_out) {
  const absl::Time now = absl::Now();
  absl::StatusOr<Json> lease = api.Get(kLeases, config.ns, config.name);
  if (absl::IsNotFound(lease.status())) {
    absl::StatusOr<Json> created = api.Create(kLeases, config.ns, NewLease(config, now));
    if (created.ok()) {
      holder_out = config.identity;
      state.observed_record.clear();
      return Attempt::kHeld;
    }
    return absl::IsAlreadyExists(created.status()) || absl::IsAborted(created.status())
               ? Attempt::kHeldByOther
               : Attempt::kError;
  }
  if (!lease.ok()) {
    return Attempt::kError;
  }
  Json& object = *lease;
  if (!object.contains("spec") || !object["spec"].is_object()) {
    object["spec"] = Json::object();
  }
  Json& spec = object["spec"];
  const std::string holder = StringOr(spec, "holderIdentity");
  const std::string record = absl::StrCat(holder, "|", StringOr(spec, "renewTime"), "|",
                                          IntOr(spec, "leaseTransitions", 0));
  if (record != state.observed_record) {
    state.observed_record = record;
    state.observed_at = now;
  }
  holder_out = holder;
  const absl::Duration duration =
      absl::Seconds(IntOr(spec, "leaseDurationSeconds", LeaseSeconds(config.lease_duration)));
  if (!holder.empty() && holder != config.identity && now < state.observed_at + duration) {
    return Attempt::kHeldByOther;
  }

  if (holder != config.identity) {
    spec["acquireTime"] = FormatMicroTime(now);
    spec["leaseTransitions"] = IntOr(spec, "leaseTransitions", 0) + 1;
  } else if (!spec.contains("acquireTime") || spec["acquireTime"].is_null()) {
    spec["acquireTime"] = FormatMicroTime(now);
  }
  spec["holderIdentity"] = config.identity;
  spec["leaseDurationSeconds"] = LeaseSeconds(config.lease_duration);
  spec["renewTime"] = FormatMicroTime(now);
  // The PUT carries the resourceVersion we read: a concurrent writer makes it fail with 409.
  absl::StatusOr<Json> written = api.Replace(kLeases, config.ns, config.name, object);
  if (written.ok()) {
    holder_out = config.identity;
    return Attempt::kHeld;
  }
  return absl::IsAborted(written.status()) ? Attempt::kHeldByOther : Attempt::kError;
}

}  // namespace

void LeaderElector::Run(const std::function<void()>& on_started,
                        const std::function<void()>& on_stopped) {
  ElectionState state;
  std::thread started_thread;  // on_started runs here so a long callback does not stop renewals
  absl::Time last_renew = absl::InfinitePast();

  auto stop_leading = [&] {
    leader_.store(false);
    if (on_stopped) {
      on_stopped();
    }
    if (started_thread.joinable()) {
      started_thread.join();
    }
  };

  while (!stop_.load()) {
    std::string seen_holder;
    const Attempt attempt = TryAcquireOrRenew(*api_, config_, state, seen_holder);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (attempt != Attempt::kError) {
        holder_ = seen_holder;
      }
    }
    if (attempt == Attempt::kHeld) {
      last_renew = absl::Now();
      if (!leader_.load()) {
        leader_.store(true);
        if (on_started) {
          started_thread = std::thread(on_started);
        }
      }
    } else if (leader_.load()) {
      // Someone else holds it now, or we could not renew for renew_deadline: step down.
      if (attempt == Attempt::kHeldByOther || absl::Now() - last_renew >= config_.renew_deadline) {
        stop_leading();
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(config_.retry_period),
                 [this] { return stop_.load(); });
  }

  if (leader_.load()) {
    if (config_.release_on_stop) {
      // Clear the holder so that the next candidate does not wait for the lease to expire.
      absl::StatusOr<Json> lease = api_->Get(kLeases, config_.ns, config_.name);
      if (lease.ok() && lease->contains("spec") && (*lease)["spec"].is_object() &&
          StringOr((*lease)["spec"], "holderIdentity") == config_.identity) {
        const absl::Time now = absl::Now();
        Json& spec = (*lease)["spec"];
        spec["holderIdentity"] = "";
        spec["leaseDurationSeconds"] = 1;
        spec["renewTime"] = FormatMicroTime(now);
        spec["acquireTime"] = FormatMicroTime(now);
        if (api_->Replace(kLeases, config_.ns, config_.name, *lease).ok()) {
          std::lock_guard<std::mutex> holder_lock(mu_);
          holder_.clear();
        }
      }
    }
    stop_leading();
  }
}

}  // namespace netrig::kube
