#include "controller/leader/leader_election.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"

namespace netrig::controller::leader {

std::string LeaderRecord::ToValue() const {
  return nlohmann::json{{"identity", identity}, {"advertise", advertise}}.dump();
}

absl::StatusOr<LeaderRecord> LeaderRecord::FromValue(absl::string_view value) {
  const nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError("leader record: not a JSON object");
  }
  LeaderRecord r;
  const auto identity = j.find("identity");
  if (identity == j.end() || !identity->is_string() || identity->get<std::string>().empty()) {
    return absl::InvalidArgumentError("leader record: identity: missing or not a string");
  }
  r.identity = identity->get<std::string>();
  if (const auto advertise = j.find("advertise"); advertise != j.end()) {
    if (!advertise->is_string()) {
      return absl::InvalidArgumentError("leader record: advertise: not a string");
    }
    r.advertise = advertise->get<std::string>();
  }
  return r;
}

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(
    store::StateStore& store, LeaderElectionOptions options) {
  if (options.key.empty()) {
    return absl::InvalidArgumentError("leader election: key: must not be empty");
  }
  if (options.identity.empty()) {
    return absl::InvalidArgumentError("leader election: identity: must not be empty");
  }
  if (options.lease_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("leader election: lease TTL: must be at least 1s, got ",
                     absl::FormatDuration(options.lease_ttl)));
  }
  const absl::Duration renew = options.renew_interval == absl::ZeroDuration()
                                   ? options.lease_ttl / 3
                                   : options.renew_interval;
  if (renew <= absl::ZeroDuration() || renew >= options.lease_ttl * 2 / 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leader election: renew interval: must be positive and below 2/3 of the lease "
        "TTL (",
        absl::FormatDuration(options.lease_ttl * 2 / 3), "), got ", absl::FormatDuration(renew)));
  }
  if (options.retry_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("leader election: retry interval: must be positive");
  }
  options.renew_interval = renew;
  return std::unique_ptr<LeaderElector>(new LeaderElector(store, std::move(options)));
}

LeaderElector::LeaderElector(store::StateStore& store, LeaderElectionOptions options)
    : store_(store),
      options_(std::move(options)),
      self_{options_.identity, options_.advertise},
      renew_interval_(options_.renew_interval),
      renew_deadline_(options_.lease_ttl * 2 / 3) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start(ElectedCallback on_elected, LostCallback on_lost) {
  on_elected_ = std::move(on_elected);
  on_lost_ = std::move(on_lost);
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kIdle) return;
    state_ = State::kFollower;
  }
  thread_ = std::thread([this] { Run(); });
  guard_ = std::thread([this] { Guard(); });
}

void LeaderElector::Stop() { Shutdown(/*revoke=*/true); }

void LeaderElector::AbandonForTest() { Shutdown(/*revoke=*/false); }

void LeaderElector::Shutdown(bool revoke) {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  if (guard_.joinable()) guard_.join();
  watch_.reset();  // cancels the watch: no callback runs after this
  int64_t lease = 0;
  bool was_leader = false;
  {
    absl::MutexLock lock(&mu_);
    lease = lease_;
    was_leader = state_ == State::kLeader;
    lease_ = 0;
    if (state_ != State::kLost) state_ = State::kStopped;
  }
  cv_.SignalAll();
  if (!revoke || lease == 0) return;
  // Another candidate sees the key vanish and takes over now instead of after the TTL.
  const absl::Status s = store_.Revoke(lease);
  if (was_leader) {
    std::fprintf(stderr,
                 "netrig-controller: leader election: %s resigned (lease %lld revoked: %s)\n",
                 self_.identity.c_str(), static_cast<long long>(lease), s.ToString().c_str());
  }
}

bool LeaderElector::is_leader() const {
  absl::MutexLock lock(&mu_);
  return state_ == State::kLeader;
}

bool LeaderElector::lost() const {
  absl::MutexLock lock(&mu_);
  return state_ == State::kLost;
}

LeaderRecord LeaderElector::leader() const {
  absl::MutexLock lock(&mu_);
  return leader_;
}

int64_t LeaderElector::lease_id() const {
  absl::MutexLock lock(&mu_);
  return state_ == State::kLeader ? lease_ : 0;
}

bool LeaderElector::AwaitLeadership(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (state_ != State::kLeader && state_ != State::kLost && state_ != State::kStopped &&
         !stopping_) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) break;  // timed out
  }
  return state_ == State::kLeader;
}

void LeaderElector::Run() {
  while (true) {
    State state;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || state_ == State::kLost) return;
      state = state_;
    }
    if (state == State::kFollower) {
      Campaign();
    } else {
      Renew();
    }
    absl::MutexLock lock(&mu_);
    // A follower wakes up for a watch event on the key (or polls); a leader when a renewal is due.
    const bool leading = state_ == State::kLeader;
    const absl::Time wake = leading ? next_renewal_ : absl::Now() + options_.retry_interval;
    while (!stopping_ && state_ != State::kLost && absl::Now() < wake) {
      if (!leading && key_changed_) break;  // a watch event: read the key now
      cv_.WaitWithDeadline(&mu_, wake);
    }
  }
}

void LeaderElector::Campaign() {
  {
    absl::MutexLock lock(&mu_);
    key_changed_ = false;
  }
  absl::StatusOr<store::KeyValue> kv = store_.Get(options_.key);
  if (kv.ok()) {
    absl::StatusOr<LeaderRecord> record = LeaderRecord::FromValue(kv->value);
    {
      absl::MutexLock lock(&mu_);
      leader_ = record.ok() ? *record
                            : LeaderRecord{"(unreadable: " + record.status().ToString() + ")", ""};
    }
    EnsureWatch(kv->mod_revision + 1);
    return;
  }
  if (!absl::IsNotFound(kv.status())) {
    Warn(absl::StrCat("reading ", options_.key, ": ", kv.status().ToString()));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    leader_ = LeaderRecord{};
  }
  // The lease lives at least lease_ttl from the moment the Grant was sent.
  const absl::Time sent = absl::Now();
  absl::StatusOr<int64_t> lease = store_.Grant(options_.lease_ttl);
  if (!lease.ok()) {
    Warn(absl::StrCat("granting a lease: ", lease.status().ToString()));
    return;
  }
  absl::StatusOr<int64_t> revision = store_.Create(options_.key, self_.ToValue(), *lease);
  if (!revision.ok()) {
    store_.Revoke(*lease).IgnoreError();  // lost the race, or the store failed: not ours
    if (absl::IsAlreadyExists(revision.status())) {
      absl::MutexLock lock(&mu_);
      key_changed_ = true;  // someone else won: read who, at once
    } else {
      Warn(absl::StrCat("creating ", options_.key, ": ", revision.status().ToString()));
    }
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    state_ = State::kLeader;
    lease_ = *lease;
    own_revision_ = *revision;
    last_renewal_ = sent;
    next_renewal_ = sent + renew_interval_;
    leader_ = self_;
  }
  cv_.SignalAll();
  std::fprintf(
      stderr, "netrig-controller: leader election: %s is the leader (key %s, lease %lld, TTL %s)\n",
      self_.identity.c_str(), options_.key.c_str(), static_cast<long long>(*lease),
      absl::FormatDuration(options_.lease_ttl).c_str());
  // A watch left from the follower time started before our key: it stays valid (events up to
  // own_revision_ are ignored), so only a missing or broken one is replaced.
  EnsureWatch(*revision + 1);
  if (on_elected_) on_elected_();
}

void LeaderElector::Renew() {
  int64_t lease = 0;
  bool due = false;
  {
    absl::MutexLock lock(&mu_);
    lease = lease_;
    due = absl::Now() >= next_renewal_;
  }
  if (due) {
    const absl::Time sent = absl::Now();
    absl::StatusOr<absl::Duration> ttl = store_.KeepAlive(lease);
    if (absl::IsNotFound(ttl.status())) {
      Lose(absl::StrCat("lease ", lease, " expired or was revoked (", ttl.status().message(), ")"));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      if (ttl.ok()) {
        last_renewal_ = sent;
        next_renewal_ = sent + renew_interval_;
      } else {
        // Retry soon; the guard gives up at last_renewal_ + renew_deadline_.
        next_renewal_ = absl::Now() + std::min(options_.retry_interval, renew_interval_ / 2);
      }
    }
    cv_.SignalAll();  // the guard recomputes its deadline
    if (!ttl.ok()) {
      Warn(absl::StrCat("renewing lease ", lease, ": ", ttl.status().ToString(), "; retrying"));
    }
  }
  bool watch_ok = false;
  {
    absl::MutexLock lock(&mu_);
    watch_ok = watch_ != nullptr && !watch_broken_;
  }
  if (watch_ok) return;
  // Without a working watch, check the key by reading it, then watch again from there.
  absl::StatusOr<store::KeyValue> kv = store_.Get(options_.key);
  if (absl::IsNotFound(kv.status())) {
    Lose(absl::StrCat("the leader key ", options_.key, " was deleted"));
    return;
  }
  if (!kv.ok()) {
    Warn(absl::StrCat("reading ", options_.key, ": ", kv.status().ToString()));
    return;
  }
  if (kv->lease != lease) {
    Lose(absl::StrCat("the leader key ", options_.key, " now belongs to lease ", kv->lease));
    return;
  }
  EnsureWatch(kv->mod_revision + 1);
}

void LeaderElector::EnsureWatch(int64_t from_revision) {
  {
    absl::MutexLock lock(&mu_);
    if (watch_ != nullptr && !watch_broken_) return;
    watch_broken_ = false;
  }
  watch_.reset();
  absl::StatusOr<std::unique_ptr<store::WatchHandle>> w = store_.Watch(
      options_.key, from_revision, [this](const std::vector<store::Event>& e) { OnEvents(e); },
      [this](const absl::Status& s) { OnWatchError(s); });
  if (!w.ok()) {
    Warn(absl::StrCat("watching ", options_.key, ": ", w.status().ToString()));
    return;  // a follower polls; a leader retries at its next renewal
  }
  watch_ = *std::move(w);
}

void LeaderElector::OnEvents(const std::vector<store::Event>& events) {
  std::string lost_reason;
  {
    absl::MutexLock lock(&mu_);
    for (const store::Event& e : events) {
      if (e.kv.key != options_.key) continue;  // the watch is a prefix watch
      if (state_ == State::kLeader) {
        if (e.kv.mod_revision <= own_revision_) continue;  // before our key existed
        if (e.type == store::EventType::kDelete) {
          lost_reason = absl::StrCat("the leader key ", options_.key, " was deleted");
        } else if (e.kv.lease != lease_) {
          absl::StatusOr<LeaderRecord> other = LeaderRecord::FromValue(e.kv.value);
          lost_reason = absl::StrCat("the leader key ", options_.key, " was overwritten by ",
                                     other.ok() ? other->identity : "an unreadable record");
        }
      } else if (state_ == State::kFollower) {
        key_changed_ = true;
        if (e.type == store::EventType::kDelete) {
          leader_ = LeaderRecord{};
        } else if (absl::StatusOr<LeaderRecord> r = LeaderRecord::FromValue(e.kv.value); r.ok()) {
          leader_ = *r;
        }
      }
    }
  }
  cv_.SignalAll();
  if (!lost_reason.empty()) Lose(lost_reason);
}

void LeaderElector::OnWatchError(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    watch_broken_ = true;
    key_changed_ = true;  // a follower re-reads the key and watches again at once
  }
  cv_.SignalAll();
  Warn(absl::StrCat("the watch of ", options_.key, " ended: ", status.ToString()));
}

void LeaderElector::Lose(const std::string& reason) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kLeader) return;
    state_ = State::kLost;
  }
  cv_.SignalAll();
  std::fprintf(stderr, "netrig-controller: leader election: %s lost leadership: %s\n",
               self_.identity.c_str(), reason.c_str());
  if (on_lost_) on_lost_(reason);
}

void LeaderElector::Guard() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        if (stopping_ || state_ == State::kLost) return;
        if (state_ != State::kLeader) {
          cv_.Wait(&mu_);
          continue;
        }
        const absl::Time deadline = last_renewal_ + renew_deadline_;
        if (absl::Now() >= deadline) break;
        cv_.WaitWithDeadline(&mu_, deadline);
      }
    }
    Lose(absl::StrCat("no lease renewal succeeded for ", absl::FormatDuration(renew_deadline_),
                      " (store unreachable or too slow); the lease may expire any moment"));
  }
}

void LeaderElector::Warn(const std::string& message) {
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now - last_warning_ < options_.retry_interval) return;
    last_warning_ = now;
  }
  std::fprintf(stderr, "netrig-controller: leader election: %s: %s\n", self_.identity.c_str(),
               message.c_str());
}

}  // namespace netrig::controller::leader
