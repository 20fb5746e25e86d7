// Leader election for controller replicas that share one StateStore (etcd in a cluster).
//
// A candidate becomes leader by creating the leader key (store::keys::kLeader) attached to a
// lease of `lease_ttl`; the key's value is a LeaderRecord (who leads and where it is reached).
// The leader renews the lease every lease_ttl / 3 and watches the key. Followers watch the key
// and campaign again as soon as it is deleted (lease revoked or expired). Followers also re-read
// the key every `retry_interval`, so a broken watch cannot leave them waiting forever.
//
// Losing leadership is final for an elector: on_lost is called once and the elector stops.
// The controller then exits and Kubernetes restarts it (like kube-controller-manager), so a
// scheduler never runs without a lease. Leadership is lost when:
//  - KeepAlive answers NotFound (the lease was revoked or expired),
//  - the key is deleted, or written by someone else (another lease),
//  - no renewal has succeeded for 2/3 of lease_ttl (etcd unreachable, or a store call hung):
//    measured from the send time of the last successful renewal by a separate guard thread,
//    so the leader gives up before etcd can expire its lease and elect another one.
//
// Thread safety: all methods are thread-safe. Callbacks run on the elector's threads (or the
// store's watch thread) without the elector's lock held; they must not block, and must not
// call Stop().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/store/keys.h"
#include "controller/store/state_store.h"

namespace netrig::controller::leader {

// The leader key's value, stored as JSON {"identity": "...", "advertise": "..."}.
struct LeaderRecord {
  std::string identity;   // who leads (pod name or host name)
  std::string advertise;  // where clients and agents reach it (host:port); may be empty

  std::string ToValue() const;
  // InvalidArgument naming the field when the value is not such a JSON object.
  static absl::StatusOr<LeaderRecord> FromValue(absl::string_view value);

  friend bool operator==(const LeaderRecord&, const LeaderRecord&) = default;
};

struct LeaderElectionOptions {
  std::string key{store::keys::kLeader};
  std::string identity;  // required
  std::string advertise;
  // TTL of the leadership lease: a crashed leader is replaced within about this long. At least
  // 1 s (etcd 3.4 raises anything below about 2 s to its minimum).
  absl::Duration lease_ttl = absl::Seconds(10);
  // Renewal period; zero: lease_ttl / 3. Must be below 2/3 of lease_ttl.
  absl::Duration renew_interval = absl::ZeroDuration();
  // How often a follower re-reads the key without a watch event, and the delay after a failed
  // store call.
  absl::Duration retry_interval = absl::Seconds(1);
};

class LeaderElector {
 public:
  using ElectedCallback = std::function<void()>;
  using LostCallback = std::function<void(const std::string& reason)>;

  // InvalidArgument naming the option when identity is empty or a duration is out of range.
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(store::StateStore& store,
                                                               LeaderElectionOptions options);
  ~LeaderElector();  // Stop()

  // Campaigns on a background thread until Stop() or a loss. on_elected is called once when
  // this elector becomes leader, on_lost once when it loses leadership (with the reason).
  // Either may be empty. Call once.
  void Start(ElectedCallback on_elected = nullptr, LostCallback on_lost = nullptr);
  // Stops campaigning and joins the threads. A leader revokes its lease, so that another
  // candidate takes over at once; on_lost is not called. Idempotent.
  void Stop();
  // Stops without revoking the lease, as a crashed process would: the key stays until the
  // lease expires.
  void AbandonForTest();

  bool is_leader() const;
  // True once leadership was lost (on_lost was called).
  bool lost() const;
  // The leader last seen in the store (this elector's own record while it leads); empty
  // identity when none is known.
  LeaderRecord leader() const;
  // Lease held while leading; 0 otherwise.
  int64_t lease_id() const;
  // Blocks until this elector leads, it lost, it stopped, or the timeout passed. True if it leads.
  bool AwaitLeadership(absl::Duration timeout) const;

 private:
  enum class State { kIdle, kFollower, kLeader, kLost, kStopped };

  LeaderElector(store::StateStore& store, LeaderElectionOptions options);

  void Run();    // campaign and renewal loop (thread_)
  void Guard();  // gives up leadership when the renewal deadline passes (guard_)
  // Follower: reads the key; creates it with a new lease if it is missing.
  void Campaign();
  // Leader: one lease renewal when due.
  void Renew();
  // (Re)creates the watch of the key from `from_revision` when there is none.
  void EnsureWatch(int64_t from_revision);
  void OnEvents(const std::vector<store::Event>& events);
  void OnWatchError(const absl::Status& status);
  // Leader -> kLost; calls on_lost outside the lock. No-op unless leading.
  void Lose(const std::string& reason);
  void Shutdown(bool revoke);
  // A store failure, at most once per retry_interval (they repeat while the store is down).
  void Warn(const std::string& message);

  store::StateStore& store_;
  const LeaderElectionOptions options_;
  const LeaderRecord self_;
  const absl::Duration renew_interval_;
  const absl::Duration renew_deadline_;  // 2/3 of lease_ttl after the last good renewal

  ElectedCallback on_elected_;
  LostCallback on_lost_;

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kIdle;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool key_changed_ ABSL_GUARDED_BY(mu_) = false;   // watch event: re-read the key
  bool watch_broken_ ABSL_GUARDED_BY(mu_) = false;  // the watch ended: recreate it
  LeaderRecord leader_ ABSL_GUARDED_BY(mu_);
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  // Revision of our Create: older watch events (an old leader's delete) are not about us.
  int64_t own_revision_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_renewal_ ABSL_GUARDED_BY(mu_);  // send time of the last good renewal
  absl::Time next_renewal_ ABSL_GUARDED_BY(mu_);
  absl::Time last_warning_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  mutable absl::CondVar cv_;  // signalled on every change of the fields above

  // Touched only by thread_ (and by Shutdown after joining it).
  std::unique_ptr<store::WatchHandle> watch_;

  std::thread thread_;
  std::thread guard_;
};

}  // namespace netrig::controller::leader
