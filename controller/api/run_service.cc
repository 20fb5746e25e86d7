#include "controller/api/run_service.h"


#include <algorithm>
#include <filesystem>
#include <fstream>

#include <google/protobuf/util/json_util.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "absl/random/distributions.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "controller/api/live_view.h"
#include "controller/report/report.h"
#include "controller/store/keys.h"
#include "lib/common/status_macros.h"
#include "lib/spec/testrun.h"

namespace netrig::controller::api {
namespace {

namespace keys = store::keys;

std::string Now3339() { return absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()); }

// FNV-1a, 64 bit: a stable fingerprint of the submitted spec (not a security hash).
std::string SpecHash(const v1::TestRun& run) {
  std::string bytes;
  run.spec().SerializeToString(&bytes);
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("fnv1a64:%016x", h);
}

int PriorityOf(spec::Level level) {
  return level == spec::Level::kL1 ? 1 : level == spec::Level::kL2 ? 2 : 3;
}

void SetCondition(v1::TestRunStatus& st, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message) {
  for (auto& c : *st.mutable_conditions()) {
    if (c.type() == type) {
      if (c.status() != status) c.set_last_transition_time(Now3339());
      c.set_status(status);
      c.set_reason(reason);
      c.set_message(message);
      return;
    }
  }
  v1::StatusCondition* c = st.add_conditions();
  c->set_type(type);
  c->set_status(status);
  c->set_reason(reason);
  c->set_message(message);
  c->set_last_transition_time(Now3339());
}

absl::StatusOr<v1::Run> ParseRun(const store::KeyValue& kv) {
  v1::Run run;
  if (!run.ParseFromString(kv.value)) {
    return absl::DataLossError(absl::StrCat("run record ", kv.key, " does not parse"));
  }
  return run;
}

std::string CalibrationSummary(const std::vector<v1::Calibration>& cal) {
  std::vector<std::string> parts;
  for (const v1::Calibration& c : cal) {
    if (!c.error().empty()) {
      parts.push_back(absl::StrCat(c.direction(), ": ", c.error()));
    } else {
      parts.push_back(absl::StrFormat("%s: max %.0f fps (%.1f%% of line rate) at %u B, latency "
                                      "floor min %u ns avg %u ns",
                                      c.direction(), c.max_tx_fps(), c.max_tx_percent_line_rate(),
                                      c.frame_size(), c.latency_floor_min_ns(),
                                      c.latency_floor_avg_ns()));
    }
  }
  return absl::StrJoin(parts, "; ");
}

std::string HostDescription() {
  utsname u{};
  if (uname(&u) != 0) return "";
  return absl::StrCat(u.nodename, " (", u.sysname, " ", u.release, " ", u.machine, ")");
}

// A spec port placed on an agent port: the spec's speed when it asks for one, else the port's.
run::BoundPort BindPort(const spec::PortPlan& p, const std::string& agent_id,
                        const v1::PortCapability& pc) {
  run::BoundPort b;
  b.role = p.name;
  b.agent_id = agent_id;
  b.agent_port = pc.name();
  b.speed_bps = p.speed_bps != 0 ? p.speed_bps : pc.speed_bps();
  b.mac = pc.mac();
  b.gateway_mac = pc.gateway_mac();
  return b;
}

// A SUT parameter the run service itself takes (not the template's): how long to wait for
// readiness. Removed from the parameters handed to the provider.
constexpr char kReadyTimeoutParameter[] = "readyTimeout";

}  // namespace

RunService::RunService(store::StateStore& store, agents::AgentRegistry& registry,
                       agents::TrialCoordinator& coordinator, RunServiceOptions options)
    : store_(store), registry_(registry), coordinator_(coordinator), options_(options) {}

RunService::~RunService() { Stop(); }

bool RunService::IsTerminal(const std::string& phase) {
  return phase == kSucceeded || phase == kFailed || phase == kCancelled || phase == kInterrupted;
}

absl::Status RunService::Start() {
  // A run recorded as Running belongs to a controller that died: its trials are stored, but
  // nobody is driving it any more.
  ASSIGN_OR_RETURN(store::ListResult all, store_.List(keys::RunsPrefix()));
  std::vector<v1::Run> stored;
  for (const store::KeyValue& kv : all.kvs) {
    if (kv.key.find('/', keys::RunsPrefix().size()) != std::string::npos) continue;  // trials
    ASSIGN_OR_RETURN(v1::Run run, ParseRun(kv));
    stored.push_back(std::move(run));
  }
  // Run counters are totals over the stored history (docs/metrics.md): rebuilt before the
  // first scrape can see them, so a restart is not a counter reset.
  if (options_.metrics != nullptr) options_.metrics->Rebuild(stored);
  for (const v1::Run& run : stored) {
    if (run.test_run().status().phase() == kRunning) {
      Finish(run.id(), kInterrupted, "", "interrupted: the controller restarted during the run",
             "ControllerRestarted", /*report=*/true);
    }
  }
  RemoveOrphanSuts();
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  if (options_.metrics != nullptr) options_.metrics->SetLeader(true);
  return absl::OkStatus();
}

void RunService::Stop() {
  if (stop_.exchange(true)) return;
  if (scheduler_.joinable()) scheduler_.join();
  if (options_.metrics != nullptr) options_.metrics->SetLeader(false);
  std::vector<std::shared_ptr<Active>> active;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : active_) {
      a->cancel_reason = "controller shutting down";
      a->cancel.store(true);
      coordinator_.CancelAgents(a->agents, "controller shutting down");
      active.push_back(a);
    }
  }
  for (auto& a : active) {
    if (a->thread.joinable()) a->thread.join();
  }
}

v1::ValidateRunResponse RunService::Validate(const std::string& document) const {
  v1::ValidateRunResponse out;
  const spec::ParseResult parsed = spec::ParseTestRun(document);
  for (const spec::FieldError& e : parsed.errors) {
    v1::FieldError* fe = out.add_errors();
    fe->set_path(e.path);
    fe->set_message(e.message);
  }
  out.set_valid(parsed.errors.empty());
  return out;
}

absl::StatusOr<v1::Run> RunService::Submit(const std::string& document,
                                           const std::map<std::string, std::string>& labels,
                                           const std::string& request_id) {
  if (!request_id.empty()) {
    RETURN_IF_ERROR(keys::ValidateId("request_id", request_id));
    if (absl::StatusOr<v1::Run> earlier = RunForRequest(request_id); !absl::IsNotFound(earlier.status())) {
      return earlier;
    }
  }
  spec::ParseResult parsed = spec::ParseTestRun(document);
  auto& meta_labels = *parsed.object.mutable_metadata()->mutable_labels();
  for (const auto& [k, v] : labels) meta_labels.insert({k, v});
  if (const auto t = meta_labels.find(kTriggerLabel); t != meta_labels.end()) {
    static const std::set<std::string> kTriggers = {"manual", "ci", "schedule", "webhook",
                                                    "operator"};
    if (kTriggers.count(t->second) == 0) {
      parsed.errors.push_back({absl::StrCat("metadata.labels[\"", kTriggerLabel, "\"]"),
                               absl::StrCat("\"", t->second,
                                            "\" is not one of manual, ci, schedule, webhook, "
                                            "operator")});
    }
  }
  if (!parsed.errors.empty()) {
    std::vector<std::string> lines;
    for (const spec::FieldError& e : parsed.errors) lines.push_back(e.ToString());
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  ASSIGN_OR_RETURN(spec::RunPlan plan, spec::CompileTestRun(parsed.object));
  v1::Run run;
  *run.mutable_test_run() = parsed.object;
  run.mutable_test_run()->clear_status();
  v1::TestRunStatus* st = run.mutable_test_run()->mutable_status();
  st->set_phase(kPending);
  SetCondition(*st, "Scheduled", "False", "Queued", "waiting for agents");
  run.set_created_time(Now3339());
  run.set_spec_hash(SpecHash(run.test_run()));
  run.set_priority(PriorityOf(plan.level));
  // Ids are the submission second plus a counter that starts at a random value, so a restarted
  // controller (or a second replica) does not reuse one; a collision is retried with a new id.
  for (int attempt = 0;; ++attempt) {
    {
      absl::MutexLock lock(&mu_);
      if (id_counter_ == 0) id_counter_ = absl::Uniform<uint64_t>(id_bits_, 1, 0xffff);
      run.set_id(absl::StrCat(absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()),
                              "-", absl::StrFormat("%04x", ++id_counter_ & 0xffff)));
    }
    std::string bytes;
    run.SerializeToString(&bytes);
    store::TxnRequest txn;
    txn.compares.push_back({keys::Run(run.id()), 0});
    txn.ops.push_back(store::Op::Put(keys::Run(run.id()), bytes));
    txn.ops.push_back(store::Op::Put(keys::QueueEntry(run.priority(), run.id()), run.id()));
    if (!request_id.empty()) {
      txn.compares.push_back({keys::Request(request_id), 0});
      txn.ops.push_back(store::Op::Put(keys::Request(request_id), run.id()));
    }
    const absl::Status s = store_.Txn(txn).status();
    if (s.ok()) return run;
    if (!absl::IsAborted(s)) return s;
    // Lost a race with a concurrent submission of the same request: return its run.
    if (!request_id.empty()) {
      absl::StatusOr<v1::Run> earlier = RunForRequest(request_id);
      if (!absl::IsNotFound(earlier.status())) return earlier;
    }
    if (attempt == 4) return s;  // the run id was taken each time
  }
}

absl::StatusOr<v1::Run> RunService::RunForRequest(const std::string& request_id) const {
  absl::StatusOr<store::KeyValue> kv = store_.Get(keys::Request(request_id));
  if (absl::IsNotFound(kv.status())) {
    return absl::NotFoundError(absl::StrCat("no run for request ", request_id));
  }
  RETURN_IF_ERROR(kv.status());
  return Get(kv->value);
}

absl::StatusOr<v1::Run> RunService::Get(const std::string& id) const { return Get(id, nullptr); }

absl::StatusOr<v1::Run> RunService::Get(const std::string& id, int64_t* revision) const {
  RETURN_IF_ERROR(keys::ValidateId("run id", id));
  auto kv = store_.Get(keys::Run(id));
  if (absl::IsNotFound(kv.status())) {
    return absl::NotFoundError(absl::StrCat("run ", id, " not found"));
  }
  RETURN_IF_ERROR(kv.status());
  if (revision != nullptr) *revision = kv->mod_revision;
  return ParseRun(*kv);
}

absl::StatusOr<std::vector<v1::Run>> RunService::List(const std::string& phase,
                                                     uint32_t limit) const {
  ASSIGN_OR_RETURN(store::ListResult all, store_.List(keys::RunsPrefix()));
  std::vector<v1::Run> out;
  for (const store::KeyValue& kv : all.kvs) {
    if (kv.key.find('/', keys::RunsPrefix().size()) != std::string::npos) continue;
    ASSIGN_OR_RETURN(v1::Run run, ParseRun(kv));
    if (!phase.empty() && run.test_run().status().phase() != phase) continue;
    out.push_back(std::move(run));
  }
  std::reverse(out.begin(), out.end());  // newest first (ids sort by submission time)
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<v1::Run> RunService::Update(const std::string& id,
                                           const std::function<void(v1::Run&)>& mutate) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    ASSIGN_OR_RETURN(store::KeyValue kv, store_.Get(keys::Run(id)));
    ASSIGN_OR_RETURN(v1::Run run, ParseRun(kv));
    mutate(run);
    std::string bytes;
    run.SerializeToString(&bytes);
    if (bytes == kv.value) {
      return run;  // nothing changed: no write, no new revision, no wake-up for watchers
    }
    auto r = store_.CompareAndSwap(keys::Run(id), kv.mod_revision, bytes);
    if (r.ok()) return run;
    if (!absl::IsAborted(r.status())) return r.status();
  }
  return absl::AbortedError(absl::StrCat("run ", id, ": too many concurrent updates"));
}

void RunService::DeleteQueueEntry(const std::string& id) {
  // The entry's key carries the run's priority; deleting the others is a no-op.
  for (int p = 1; p <= 3; ++p) (void)store_.Delete(keys::QueueEntry(p, id));
}

void RunService::Finish(const std::string& id, const std::string& phase,
                        const std::string& verdict, const std::string& summary,
                        const std::string& reason, bool report) {
  auto finish = [&](v1::Run& run) {
    v1::TestRunStatus* st = run.mutable_test_run()->mutable_status();
    st->set_phase(phase);
    if (!verdict.empty()) st->set_verdict(verdict);
    st->set_summary(summary);
    st->set_completion_time(Now3339());
    SetCondition(*st, "Completed", "True", reason, summary);
  };
  std::string report_url;
  if (report && !options_.results_dir.empty()) {
    // The report is written from the final record before that record is stored, so whoever
    // sees the run finished finds the report complete.
    absl::StatusOr<v1::RunResults> results = Results(id);
    if (results.ok()) {
      finish(*results->mutable_run());
      const std::filesystem::path dir = std::filesystem::absolute(options_.results_dir) / id;
      auto written = report::WriteReports(*results, dir.string());
      if (written.ok()) {
        report_url = "file://" + (dir / "report.html").string();
      } else {
        std::fprintf(stderr, "netrig-controller: report of run %s: %s\n", id.c_str(),
                     std::string(written.status().message()).c_str());
      }
    }
  }
  auto stored = Update(id, [&](v1::Run& run) {
    finish(run);
    if (!report_url.empty()) run.mutable_test_run()->mutable_status()->set_report_url(report_url);
  });
  DeleteQueueEntry(id);
  if (stored.ok() && options_.metrics != nullptr) options_.metrics->RunFinished(*stored);
}

absl::StatusOr<v1::Run> RunService::Cancel(const std::string& id, const std::string& reason) {
  ASSIGN_OR_RETURN(v1::Run run, Get(id));
  const std::string& phase = run.test_run().status().phase();
  if (IsTerminal(phase)) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", id, " already finished (", phase, "): nothing to cancel"));
  }
  const std::string why = reason.empty() ? "cancelled by the user" : "cancelled: " + reason;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      it->second->cancel_reason = why;
      it->second->cancel.store(true);
      coordinator_.CancelAgents(it->second->agents, why);
      return run;  // the executing thread records the end
    }
  }
  Finish(id, kCancelled, "", why, "Cancelled");
  return Get(id);
}

absl::StatusOr<v1::RunResults> RunService::Results(const std::string& id) const {
  ASSIGN_OR_RETURN(v1::Run run, Get(id));
  v1::RunResults out;
  out.set_id(id);
  *out.mutable_results() = run.test_run().status().results();
  ASSIGN_OR_RETURN(store::ListResult trials, store_.List(keys::TrialsPrefix(id)));
  for (const store::KeyValue& kv : trials.kvs) {
    if (!out.add_trials()->ParseFromString(kv.value)) {
      return absl::DataLossError(absl::StrCat("trial record ", kv.key, " does not parse"));
    }
  }
  auto extra = store_.Get(keys::RunReport(id));
  if (extra.ok()) {
    v1::RunResults stored;
    if (!stored.ParseFromString(extra->value)) {
      return absl::DataLossError(absl::StrCat("report record ", extra->key, " does not parse"));
    }
    *out.mutable_fingerprint() = stored.fingerprint();
    *out.mutable_outcomes() = stored.outcomes();
  } else if (!absl::IsNotFound(extra.status())) {
    return extra.status();
  }
  if (out.fingerprint().spec_hash().empty()) out.mutable_fingerprint()->set_spec_hash(run.spec_hash());
  *out.mutable_run() = std::move(run);
  return out;
}

std::vector<v1::AgentInfo> RunService::Agents() const {
  std::vector<v1::AgentInfo> out;
  for (const agents::AgentRecord& r : registry_.List()) {
    v1::AgentInfo a;
    a.set_id(r.id);
    a.set_state(agents::AgentStateName(r.state));
    *a.mutable_capabilities() = r.capabilities;
    a.set_last_seen(absl::FormatTime(absl::RFC3339_sec, r.last_seen, absl::UTCTimeZone()));
    a.set_unavailable_reason(r.unavailable_reason);
    a.set_reported_state(r.reported_state);
    out.push_back(a);
  }
  return out;
}

void RunService::SchedulerLoop() {
  absl::Time last_gauges = absl::InfinitePast();
  while (!stop_.load()) {
    auto queue = store_.List(keys::QueuePrefix());
    if (queue.ok() && absl::Now() - last_gauges >= absl::Seconds(1)) {
      UpdateGauges(queue->kvs);  // the queue as this tick found it
      last_gauges = absl::Now();
    }
    if (queue.ok()) {
      for (const store::KeyValue& kv : queue->kvs) {
        if (stop_.load()) break;
        const std::string id = kv.value;
        {
          absl::MutexLock lock(&mu_);
          if (active_.count(id) != 0) continue;
        }
        TryStart(id);
      }
    }
    // Reap finished executions.
    {
      absl::MutexLock lock(&mu_);
      for (auto it = active_.begin(); it != active_.end();) {
        if (it->second->thread.joinable() && it->second->done.load()) {
          it->second->thread.join();
          it = active_.erase(it);
        } else {
          ++it;
        }
      }
    }
    const absl::Time until = absl::Now() + options_.schedule_interval;
    while (absl::Now() < until && !stop_.load()) absl::SleepFor(absl::Milliseconds(20));
  }
}

std::optional<RunService::Placement> RunService::Place(const std::string& id,
                                                      const spec::RunPlan& plan) {
  // Placement: each spec port needs an available agent port with the role's name, in the
  // right pool, with the requested agent name, labels, speed and driver.
  const std::vector<agents::AgentRecord> agents = registry_.List();
  std::vector<run::BoundPort> bound;
  std::set<std::string> used;  // agent/port
  std::vector<std::string> agent_ids;
  for (const spec::PortPlan& p : plan.ports) {
    bool found = false;
    for (const agents::AgentRecord& a : agents) {
      if (a.state != agents::AgentState::kAvailable) continue;
      const auto& labels = a.capabilities.labels();
      const auto pool = labels.find("pool");
      if ((pool == labels.end() ? std::string("default") : pool->second) != p.agent_pool) continue;
      if (!p.agent_name.empty() && p.agent_name != a.id) continue;
      bool labels_ok = true;
      for (const auto& [k, v] : p.agent_labels) {
        const auto it = labels.find(k);
        labels_ok = labels_ok && it != labels.end() && it->second == v;
      }
      if (!labels_ok) continue;
      for (const v1::PortCapability& pc : a.capabilities.ports()) {
        if (pc.name() != p.name || used.count(a.id + "/" + pc.name()) != 0) continue;
        if (p.speed_bps != 0 && pc.speed_bps() != p.speed_bps) continue;
        if (!p.pmd.empty() && pc.pmd() != p.pmd) continue;
        bound.push_back(BindPort(p, a.id, pc));
        used.insert(a.id + "/" + pc.name());
        if (std::find(agent_ids.begin(), agent_ids.end(), a.id) == agent_ids.end()) {
          agent_ids.push_back(a.id);
        }
        found = true;
        break;
      }
      if (found) break;
    }
    if (!found) {
      (void)Update(id, [&](v1::Run& r) {
        SetCondition(*r.mutable_test_run()->mutable_status(), "Scheduled", "False",
                     "WaitingForAgents",
                     absl::StrCat("no available agent port for spec port ", p.name, " (pool ",
                                  p.agent_pool, ")"));
      });
      return std::nullopt;
    }
  }
  return Placement{std::move(bound), std::move(agent_ids)};
}

bool RunService::TryStart(const std::string& id) {
  auto kv = store_.Get(keys::Run(id));
  if (!kv.ok()) return false;
  auto run = ParseRun(*kv);
  if (!run.ok() || run->test_run().status().phase() != kPending) return false;
  auto plan = spec::CompileTestRun(run->test_run());
  if (!plan.ok()) {
    Finish(id, kFailed, "", std::string(plan.status().message()), "InvalidSpec");
    return false;
  }
  const bool with_sut =
      options_.sut_provider != nullptr && !run->test_run().spec().sut().template_().empty();
  if (with_sut && !options_.sut_on_pool_agents) return TryStartWithSut(id, *run);
  std::optional<Placement> placement = Place(id, *plan);
  if (!placement.has_value()) return false;
  if (!registry_.Acquire(placement->agent_ids)) return false;
  if (with_sut) return TryStartWithSut(id, *run, std::move(placement));
  const std::vector<run::BoundPort>& bound = placement->bound;
  const std::vector<std::string>& agent_ids = placement->agent_ids;
  auto started = Update(id, [&](v1::Run& r) {
    v1::TestRunStatus* st = r.mutable_test_run()->mutable_status();
    st->set_phase(kRunning);
    st->set_start_time(Now3339());
    SetCondition(*st, "Scheduled", "True", "AgentsAssigned", absl::StrJoin(agent_ids, ", "));
  });
  if (!started.ok()) {
    registry_.Release(agent_ids);
    return false;
  }
  DeleteQueueEntry(id);
  if (options_.metrics != nullptr) options_.metrics->RunStarted(*started);
  auto active = std::make_shared<Active>();
  active->level = started->test_run().spec().level();
  absl::MutexLock lock(&mu_);
  active->agents = agent_ids;
  active_[id] = active;
  active->thread = std::thread([this, id, active, bound] { Execute(id, active, bound); });
  return true;
}

void RunService::WriteFlowFile(const std::string& id, int64_t n, const v1::TrialRecord& t,
                               const agents::TrialOutcome& outcome) const {
  // {"trial": TrialRecord, "agents": {"<agent id>": FlowStatsBatch, ...}} as proto JSON.
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(options_.results_dir) / id;
  std::filesystem::create_directories(dir, ec);
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string trial_json;
  (void)google::protobuf::util::MessageToJsonString(t, &trial_json, o);
  std::string out = absl::StrCat("{\"trial\": ", trial_json, ", \"agents\": {");
  bool first = true;
  for (const auto& [agent, batch] : outcome.batches) {
    std::string b;
    (void)google::protobuf::util::MessageToJsonString(batch, &b, o);
    absl::StrAppend(&out, first ? "" : ", ", "\"", agent, "\": ", b);
    first = false;
  }
  absl::StrAppend(&out, "}}\n");
  std::ofstream f(dir / absl::StrFormat("trial-%08d.json", n));
  f << out;
}

void RunService::Execute(std::string id, std::shared_ptr<Active> active,
                         std::vector<run::BoundPort> ports) {
  v1::RunFingerprint fingerprint;
  if (auto run = Get(id); run.ok() && run->test_run().spec().sut().has_static_()) {
    fingerprint.set_sut_provider("static");
  } else {
    fingerprint.set_sut_provider("external");
  }
  const Ending e = Benchmark(id, *active, ports, fingerprint);
  // Free the agents before the run is seen as finished: whoever reacts to the final phase
  // (a CI pipeline submitting its next run) must find them available.
  registry_.Release(active->agents);
  Finish(id, e, /*report=*/true);
  active->done.store(true);
}

RunService::Ending RunService::Benchmark(const std::string& id, Active& active,
                                         const std::vector<run::BoundPort>& ports,
                                         v1::RunFingerprint& fingerprint) {
  Ending e;
  auto run = Get(id);
  auto plan = run.ok() ? spec::CompileTestRun(run->test_run()) : run.status();
  if (!plan.ok()) {
    e.summary = std::string(plan.status().message());
    return e;
  }
  const absl::Time started = absl::Now();
  int64_t trial_no = 0;
  // Wall-clock time spent per benchmark x frame size x direction (JUnit case times).
  std::map<std::string, double> case_seconds;
  absl::Time trial_started = absl::Now();
  const auto case_key = [](const std::string& test, uint32_t size, const std::string& dir) {
    return absl::StrCat(test, "/", size, "/", dir);
  };
  run::ExecutorCallbacks cb;
  LiveView live;
  cb.on_trial = [&](const v1::TrialRecord& t, const agents::TrialOutcome& outcome) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - trial_started);
    case_seconds[case_key(t.test(), t.frame_size(), t.direction())] += seconds;
    if (options_.metrics != nullptr) options_.metrics->TrialDone(t.test(), t.valid(), seconds);
    std::string bytes;
    t.SerializeToString(&bytes);
    (void)store_.Put(keys::Trial(id, ++trial_no), bytes);
    if (!options_.results_dir.empty()) WriteFlowFile(id, trial_no, t, outcome);
  };
  cb.on_progress = [&](const v1::TestRunProgress& p) {
    trial_started = absl::Now();
    if (absl::Now() - started > plan->budget && !active.cancel.load()) {
      active.cancel_reason = absl::StrCat("time budget ", absl::FormatDuration(plan->budget),
                                          " exceeded");
      active.cancel.store(true);
    }
    (void)Update(id, [&](v1::Run& r) { *r.mutable_test_run()->mutable_status()->mutable_progress() = p; });
    if (options_.metrics != nullptr && p.frame_sizes_total() > 0) {
      options_.metrics->SetProgress(id, static_cast<double>(p.frame_sizes_done()) /
                                            static_cast<double>(p.frame_sizes_total()));
    }
  };
  if (options_.metrics != nullptr) {
    cb.on_live = [&](const std::vector<run::LiveSample>& samples) {
      for (const metrics::LiveStream& s : live.Update(samples)) options_.metrics->SetLive(id, s);
    };
  }
  auto executor = run::Rfc2544Executor::Create(*plan, ports, coordinator_, cb);
  if (!executor.ok()) {
    e.summary = std::string(executor.status().message());
    return e;
  }
  FillFingerprint(*run, ports, fingerprint);
  if (options_.calibration_duration > absl::ZeroDuration()) {
    SetStatusCondition(id, "Calibrated", "Unknown", "Calibrating",
                       "measuring the generator's maximum rate and latency floor");
    auto cal = (*executor)->Calibrate(options_.calibration_duration,
                                      options_.calibration_floor_fps, active.cancel);
    if (cal.ok()) {
      *fingerprint.mutable_calibration() = {cal->begin(), cal->end()};
      SetStatusCondition(id, "Calibrated", "True", "Calibrated", CalibrationSummary(*cal));
    } else {
      SetStatusCondition(id, "Calibrated", "False", "CalibrationFailed",
                         std::string(cal.status().message()));
    }
  }
  RecordFingerprint(id, fingerprint, {});
  auto results = active.cancel.load()
                     ? absl::StatusOr<std::vector<v1::TestRunResult>>(absl::CancelledError("cancelled"))
                     : (*executor)->Run(active.cancel);
  std::vector<v1::TestOutcome> outcomes;
  for (const auto& d : (*executor)->directions()) {
    for (v1::TestOutcome& o : run::OutcomesOf(d)) {
      o.set_duration_s(case_seconds[case_key(o.test(), o.frame_size(), o.direction())]);
      outcomes.push_back(std::move(o));
    }
  }
  RecordFingerprint(id, fingerprint, outcomes);
  if (active.cancel.load()) {
    e.phase = active.cancel_reason.rfind("time budget", 0) == 0 ? kFailed : kCancelled;
    e.summary = active.cancel_reason;
    e.reason = e.phase == kFailed ? "BudgetExceeded" : "Cancelled";
    return e;
  }
  if (!results.ok()) {
    e.summary = std::string(results.status().message());
    return e;
  }
  (void)Update(id, [&](v1::Run& r) {
    *r.mutable_test_run()->mutable_status()->mutable_results() = {results->begin(), results->end()};
  });
  Ending verdict = Verdict(outcomes, *results);
  if (verdict.verdict == "Pass") CompareWithBaseline(*run, *results, verdict);
  return verdict;
}

void RunService::CompareWithBaseline(const v1::Run& run,
                                     const std::vector<v1::TestRunResult>& results,
                                     Ending& e) const {
  auto plan = spec::CompileTestRun(run.test_run());
  if (!plan.ok() || plan->verdict.baseline == spec::VerdictPlan::Baseline::kNone) return;
  // The baseline: a named run, or the latest passing run of the same test (metadata.name,
  // else generateName) against the same SUT template.
  std::optional<v1::Run> base;
  if (plan->verdict.baseline == spec::VerdictPlan::Baseline::kRun) {
    auto b = Get(plan->verdict.baseline_run_id);
    if (!b.ok()) {
      e.summary += absl::StrCat("; baseline ", plan->verdict.baseline_run_id, " not found");
      return;
    }
    base = *b;
  } else {
    const auto test_of = [](const v1::Run& r) {
      const v1::ObjectMeta& m = r.test_run().metadata();
      return m.name().empty() ? m.generate_name() : m.name();
    };
    auto all = List(kSucceeded, 0);
    if (!all.ok()) return;
    for (const v1::Run& r : *all) {
      if (r.id() == run.id() || r.test_run().status().verdict() != "Pass" ||
          test_of(r) != test_of(run) ||
          r.test_run().spec().sut().template_() != run.test_run().spec().sut().template_()) {
        continue;
      }
      const auto key = [](const v1::Run& x) {
        return std::make_pair(x.test_run().status().completion_time(), x.id());
      };
      if (!base || key(r) > key(*base)) base = r;
    }
    if (!base) {
      e.summary += "; no passing run of this test yet: this one becomes the baseline";
      return;
    }
  }
  // Higher is better for every compared figure.
  const double limit = plan->verdict.max_regression_pct;
  std::vector<std::string> regressions;
  for (const v1::TestRunResult& now : results) {
    if (now.metric() != "throughput_fps" && now.metric() != "b2b_frames") continue;
    for (const v1::TestRunResult& then : base->test_run().status().results()) {
      if (then.metric() != now.metric() || then.test() != now.test() ||
          then.frame_size() != now.frame_size() || then.direction() != now.direction() ||
          then.value() <= 0) {
        continue;
      }
      const double drop_pct = 100.0 * (then.value() - now.value()) / then.value();
      if (drop_pct > limit) {
        regressions.push_back(absl::StrFormat("%s %s %u B: %.0f is %.1f%% below %.0f",
                                              now.direction(), now.metric(), now.frame_size(),
                                              now.value(), drop_pct, then.value()));
      }
    }
  }
  if (regressions.empty()) {
    e.summary += absl::StrFormat("; within %.1f%% of baseline %s", limit, base->id());
    return;
  }
  e.verdict = "Regressed";
  e.phase = kFailed;
  e.reason = "Regressed";
  e.summary = absl::StrFormat("regressed against baseline %s (max %.1f%%): %s", base->id(), limit,
                              absl::StrJoin(regressions, "; "));
}

void RunService::UpdateGauges(const std::vector<store::KeyValue>& queue) {
  if (options_.metrics == nullptr) return;
  std::map<std::string, int> queued, running;
  // Queue keys carry the priority, which is the level: .../queue/<01|02|03>/<id>.
  for (const store::KeyValue& kv : queue) {
    const absl::string_view rest = absl::string_view(kv.key).substr(keys::QueuePrefix().size());
    int priority = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find('/')), &priority) && priority >= 1 &&
        priority <= 3) {
      ++queued[absl::StrCat("L", priority)];
    }
  }
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, a] : active_) {
      if (!a->done.load()) ++running[a->level.empty() ? "L1" : a->level];
    }
  }
  options_.metrics->SetQueue(queued, running);
  options_.metrics->SetAgents(Agents());
}

RunService::Ending RunService::Verdict(const std::vector<v1::TestOutcome>& outcomes,
                                       const std::vector<v1::TestRunResult>& results) {
  // Pass: every requested test completed at every frame size, in every direction.
  std::vector<std::string> problems;
  for (const v1::TestOutcome& o : outcomes) {
    if (o.state() == "failed" || o.state() == "pending") {
      problems.push_back(absl::StrCat(o.direction(), " ", o.test(), " ", o.frame_size(), " B: ",
                                      o.state(),
                                      o.reason().empty() ? "" : " (" + o.reason() + ")"));
    }
  }
  std::vector<std::string> parts;
  for (const auto& res : results) {
    if (res.metric() == "throughput_fps") {
      parts.push_back(absl::StrFormat("%s %u B: %.0f fps", res.direction(), res.frame_size(),
                                      res.value()));
    }
  }
  Ending e;
  if (problems.empty()) {
    e.phase = kSucceeded;
    e.verdict = "Pass";
    e.reason = "Completed";
    e.summary = absl::StrCat("throughput ", absl::StrJoin(parts, "; "));
  } else {
    e.verdict = "Fail";
    e.reason = "TestsFailed";
    e.summary = absl::StrJoin(problems, "; ");
  }
  return e;
}

// ---------------------------------------------------------------- SUT lifecycle (local mode)

bool RunService::TryStartWithSut(const std::string& id, const v1::Run& run,
                                 std::optional<Placement> placement) {
  if (!placement.has_value()) {
    // One local-mode SUT run at a time: the local agents busy-poll the machine's cores.
    absl::MutexLock lock(&mu_);
    for (const auto& [other, a] : active_) {
      if (a->uses_sut && !a->done.load()) return false;
    }
  }
  auto started = Update(id, [&](v1::Run& r) {
    v1::TestRunStatus* st = r.mutable_test_run()->mutable_status();
    st->set_phase(kRunning);
    st->set_start_time(Now3339());
    std::string message = absl::StrCat("creating SUT ", run.test_run().spec().sut().template_());
    if (placement.has_value()) {
      absl::StrAppend(&message, " for agents ", absl::StrJoin(placement->agent_ids, ", "));
    }
    SetCondition(*st, "Scheduled", "True", "SutProvisioning", message);
    st->mutable_progress()->set_message(message);
  });
  if (!started.ok()) {
    if (placement.has_value()) registry_.Release(placement->agent_ids);
    return false;
  }
  DeleteQueueEntry(id);
  if (options_.metrics != nullptr) options_.metrics->RunStarted(*started);
  auto active = std::make_shared<Active>();
  active->uses_sut = !placement.has_value();
  active->level = started->test_run().spec().level();
  std::optional<std::vector<run::BoundPort>> pool_ports;
  if (placement.has_value()) pool_ports = placement->bound;
  absl::MutexLock lock(&mu_);
  if (placement.has_value()) active->agents = placement->agent_ids;
  active_[id] = active;
  active->thread = std::thread(
      [this, id, active, pool_ports] { ExecuteWithSut(id, active, pool_ports); });
  return true;
}

namespace {

// Cluster mode: each placed port sends to the SUT's interface on the link of the same name.
absl::Status GatewaysFromSut(const sut::SutInstance& sut, std::vector<run::BoundPort>& ports) {
  for (run::BoundPort& p : ports) {
    const sut::NextHop* hop = nullptr;
    for (const sut::NextHop& h : sut.next_hops) {
      if (h.link == p.role) hop = &h;
    }
    if (hop == nullptr || hop->mac.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("SUT ", sut.namespace_name, " has no next hop (MAC) on link ", p.role,
                       ": its template must attach a network for every spec port"));
    }
    p.gateway_mac = hop->mac;
  }
  return absl::OkStatus();
}

}  // namespace

void RunService::ExecuteWithSut(std::string id, std::shared_ptr<Active> active,
                                std::optional<std::vector<run::BoundPort>> pool_ports) {
  Ending e;
  v1::RunFingerprint fingerprint;
  fingerprint.set_sut_provider(options_.sut_provider_name);
  std::optional<sut::SutInstance> instance;
  local::LocalAgent agent;
  auto run = Get(id);
  if (!run.ok()) {
    e.summary = std::string(run.status().message());
  } else if (auto sut = ProvisionSut(id, *run, *active, &e.reason); !sut.ok()) {
    e.summary = std::string(sut.status().message());
  } else {
    instance = *sut;
    fingerprint.set_sut_instance(sut->namespace_name);
    for (const auto& [k, v] : sut->parameters) (*fingerprint.mutable_sut_parameters())[k] = v;
    absl::StatusOr<std::vector<run::BoundPort>> ports;
    if (pool_ports.has_value()) {
      e.reason = "SutNotReachable";
      absl::Status gw = GatewaysFromSut(*sut, *pool_ports);
      if (gw.ok()) {
        ports = *pool_ports;
      } else {
        ports = gw;
      }
    } else {
      ports = StartLocalAgent(id, *run, *sut, *active, &agent, &e.reason);
    }
    if (!ports.ok()) {
      e.summary = std::string(ports.status().message());
    } else {
      e = Benchmark(id, *active, *ports, fingerprint);
    }
  }
  if (active->cancel.load() && e.reason != "Cancelled" && e.reason != "BudgetExceeded") {
    // Cancelled while the SUT or the agent was being set up.
    e.phase = kCancelled;
    e.verdict.clear();
    e.summary = active->cancel_reason;
    e.reason = "Cancelled";
  }
  // Teardown before the run is seen as finished: whoever reacts to the final phase finds the
  // machine as it was.
  registry_.Release(active->agents);
  if (options_.local_agents != nullptr) options_.local_agents->Stop(agent);
  if (!agent.id.empty()) registry_.Remove(agent.id);  // a local agent's end is expected
  if (instance.has_value()) {
    absl::Status destroyed = options_.sut_provider->Destroy(*instance);
    SetStatusCondition(id, "SutReady", "False", destroyed.ok() ? "Destroyed" : "DestroyFailed",
                       destroyed.ok() ? absl::StrCat("SUT ", instance->namespace_name, " removed")
                                      : std::string(destroyed.message()));
    if (!destroyed.ok() && e.phase == kSucceeded) {
      e.phase = kFailed;
      e.reason = "SutDestroyFailed";
      e.summary = absl::StrCat(e.summary, "; ", destroyed.message());
    }
  }
  Finish(id, e, /*report=*/true);
  active->done.store(true);
}

absl::StatusOr<sut::SutInstance> RunService::ProvisionSut(const std::string& id,
                                                          const v1::Run& run, Active& active,
                                                          std::string* reason) {
  const v1::SutRef& ref = run.test_run().spec().sut();
  sut::SutRequest req;
  req.run_id = id;
  req.template_name = ref.template_();
  absl::Duration ready_timeout = options_.sut_ready_timeout;
  for (const auto& [k, v] : ref.parameters()) {
    if (k != kReadyTimeoutParameter) {
      req.parameters[k] = v;
    } else if (!absl::ParseDuration(v, &ready_timeout) || ready_timeout <= absl::ZeroDuration()) {
      *reason = "InvalidSut";
      return absl::InvalidArgumentError(absl::StrCat(
          "spec.sut.parameters.readyTimeout: \"", v, "\" is not a positive duration (e.g. 30s)"));
    }
  }
  for (const v1::PortBinding& p : run.test_run().spec().ports()) {
    sut::SutLinkRequest link;
    link.name = p.name();
    req.links.push_back(link);
  }
  SetStatusCondition(id, "SutReady", "Unknown", "Creating",
                     absl::StrCat("creating ", req.template_name, " for run ", id));
  absl::StatusOr<sut::SutInstance> sut = options_.sut_provider->Create(req);
  if (!sut.ok()) {
    *reason = absl::IsInvalidArgument(sut.status()) ? "InvalidSut" : "SutCreateFailed";
    SetStatusCondition(id, "SutReady", "False", *reason, std::string(sut.status().message()));
    return absl::Status(sut.status().code(),
                        absl::StrCat("SUT ", req.template_name, ": ", sut.status().message()));
  }
  // Wait in slices so that a cancellation does not wait for the whole timeout.
  const absl::Time deadline = absl::Now() + ready_timeout;
  absl::Status ready = absl::DeadlineExceededError("not probed");
  while (!active.cancel.load()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    ready = options_.sut_provider->WaitReady(*sut, std::min(left, absl::Seconds(1)));
    if (ready.ok() || !absl::IsDeadlineExceeded(ready)) break;
  }
  // Addresses and next hops a cluster assigns are known only now.
  if (ready.ok() && !active.cancel.load()) ready = options_.sut_provider->Refresh(*sut);
  if (!ready.ok() || active.cancel.load()) {
    (void)options_.sut_provider->Destroy(*sut);
    if (active.cancel.load()) return absl::CancelledError(active.cancel_reason);
    *reason = absl::IsDeadlineExceeded(ready) ? "SutReadyTimeout" : "SutNotReady";
    const std::string msg =
        absl::IsDeadlineExceeded(ready)
            ? absl::StrCat("SUT ", req.template_name, " not ready after ",
                           absl::FormatDuration(ready_timeout), ": ", ready.message())
            : absl::StrCat("SUT ", req.template_name, ": ", ready.message());
    SetStatusCondition(id, "SutReady", "False", *reason, msg + " (SUT removed)");
    return absl::DeadlineExceededError(msg + " (SUT removed)");
  }
  SetStatusCondition(id, "SutReady", "True", "Ready",
                     absl::StrCat(sut->template_name, " in namespace ", sut->namespace_name));
  return sut;
}

absl::StatusOr<std::vector<run::BoundPort>> RunService::StartLocalAgent(
    const std::string& id, const v1::Run& run, const sut::SutInstance& sut, Active& active,
    local::LocalAgent* agent, std::string* reason) {
  *reason = "AgentStartFailed";
  if (options_.local_agents == nullptr || !options_.local_agents->enabled()) {
    return absl::FailedPreconditionError(
        "spec.sut.template: this controller creates SUTs but cannot start agents on their "
        "links (start it with --local-agents PATH-TO-netrig-agent)");
  }
  auto plan = spec::CompileTestRun(run.test_run());
  if (!plan.ok()) return plan.status();
  std::vector<local::LocalPort> ports;
  for (size_t i = 0; i < sut.links.size(); ++i) {
    local::LocalPort p;
    p.name = sut.links[i].name;
    p.ifname = sut.links[i].peer_ifname;
    p.gateway_mac = i < sut.next_hops.size() ? sut.next_hops[i].mac : "";
    for (const spec::PortPlan& pp : plan->ports) {
      if (pp.name == p.name) p.speed_bps = pp.speed_bps;
    }
    ports.push_back(p);
  }
  // net_af_xdp first; an agent that cannot open an AF_XDP socket exits at once and gets a
  // second chance on net_af_packet.
  std::string failures;
  for (const std::string pmd : {"net_af_xdp", "net_af_packet"}) {
    SetStatusCondition(id, "AgentsReady", "Unknown", "Starting",
                       absl::StrCat("starting local agent on ", pmd));
    absl::StatusOr<local::LocalAgent> started = options_.local_agents->Start(id, ports, pmd);
    if (!started.ok()) return started.status();
    *agent = *started;
    const absl::Time deadline = absl::Now() + options_.agent_register_timeout;
    std::string exit_status;
    while (absl::Now() < deadline && !active.cancel.load()) {
      if (!options_.local_agents->Running(*agent, &exit_status)) break;
      if (registry_.Acquire({agent->id})) {
        {
          absl::MutexLock lock(&mu_);
          active.agents = {agent->id};
        }
        return BindLocalPorts(id, *agent, plan->ports);
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (active.cancel.load()) return absl::CancelledError(active.cancel_reason);
    if (exit_status.empty()) {
      options_.local_agents->Stop(*agent);
      return absl::DeadlineExceededError(absl::StrCat(
          "local agent ", agent->id, " did not register within ",
          absl::FormatDuration(options_.agent_register_timeout), ": ",
          local::LocalAgents::LogTail(*agent)));
    }
    absl::StrAppend(&failures, failures.empty() ? "" : "; ", pmd, ": ", exit_status, ": ",
                    local::LocalAgents::LogTail(*agent, 300));
  }
  return absl::UnavailableError(absl::StrCat("local agent for ", id, " failed: ", failures));
}

absl::StatusOr<std::vector<run::BoundPort>> RunService::BindLocalPorts(
    const std::string& id, const local::LocalAgent& agent,
    const std::vector<spec::PortPlan>& wanted) {
  std::optional<agents::AgentRecord> record;
  for (const agents::AgentRecord& a : registry_.List()) {
    if (a.id == agent.id) record = a;
  }
  if (!record.has_value()) {
    return absl::UnavailableError(absl::StrCat("local agent ", agent.id, " went away"));
  }
  std::vector<run::BoundPort> bound;
  for (const spec::PortPlan& p : wanted) {
    const v1::PortCapability* cap = nullptr;
    for (const v1::PortCapability& pc : record->capabilities.ports()) {
      if (pc.name() == p.name) cap = &pc;
    }
    if (cap == nullptr) {
      return absl::InternalError(absl::StrCat("local agent ", agent.id, " has no port ", p.name));
    }
    bound.push_back(BindPort(p, agent.id, *cap));
  }
  SetStatusCondition(id, "AgentsReady", "True", "LocalAgentRegistered",
                     absl::StrCat(agent.id, " on ", agent.pmd, " (pid ", agent.pid, ")"));
  return bound;
}

void RunService::FillFingerprint(const v1::Run& run, const std::vector<run::BoundPort>& ports,
                                 v1::RunFingerprint& fp) const {
  const v1::SutRef& sut = run.test_run().spec().sut();
  fp.set_spec_hash(run.spec_hash());
  fp.set_sut_template(sut.template_());
  fp.set_sut_version(sut.version());
  if (fp.sut_parameters().empty()) {
    for (const auto& [k, v] : sut.parameters()) (*fp.mutable_sut_parameters())[k] = v;
  }
  if (sut.has_static_()) fp.set_sut_instance(sut.static_().name());
  fp.set_controller_version(options_.controller_version);
  fp.set_host(HostDescription());
  const std::vector<agents::AgentRecord> records = registry_.List();
  std::set<std::string> seen;
  for (const run::BoundPort& b : ports) {
    v1::PortFingerprint* pf = fp.add_ports();
    pf->set_role(b.role);
    pf->set_agent_id(b.agent_id);
    pf->set_agent_port(b.agent_port);
    pf->set_speed_bps(b.speed_bps);
    pf->set_mac(b.mac);
    pf->set_gateway_mac(b.gateway_mac);
    for (const agents::AgentRecord& a : records) {
      if (a.id != b.agent_id) continue;
      for (const v1::PortCapability& pc : a.capabilities.ports()) {
        if (pc.name() != b.agent_port) continue;
        pf->set_pmd(pc.pmd());
        pf->set_device(pc.device());
      }
      if (seen.insert(a.id).second) {
        v1::AgentFingerprint* af = fp.add_agents();
        af->set_id(a.id);
        af->set_version(a.capabilities.version());
        af->set_worker_cores(a.capabilities.worker_cores());
      }
    }
  }
}

void RunService::RemoveOrphanSuts() {
  if (options_.sut_provider == nullptr) return;
  // Every run that is not executing now is finished or queued: a SUT left for it is an orphan
  // of a controller that died (Start runs before the scheduler, so nothing executes yet).
  absl::StatusOr<std::vector<std::string>> orphans = options_.sut_provider->ListOrphans({});
  if (!orphans.ok()) {
    std::fprintf(stderr, "netrig-controller: listing orphaned SUTs: %s\n",
                 std::string(orphans.status().message()).c_str());
    return;
  }
  for (const std::string& run_id : *orphans) {
    sut::SutInstance inst;
    inst.run_id = run_id;
    const absl::Status s = options_.sut_provider->Destroy(inst);
    std::fprintf(stderr, "netrig-controller: orphaned SUT of run %s: %s\n", run_id.c_str(),
                 s.ok() ? "removed" : std::string(s.message()).c_str());
    if (s.ok()) {
      (void)Update(run_id, [&](v1::Run& r) {
        SetCondition(*r.mutable_test_run()->mutable_status(), "SutReady", "False", "Destroyed",
                     "orphaned SUT removed at controller start");
      });
    }
  }
}

void RunService::SetStatusCondition(const std::string& id, const std::string& type,
                                    const std::string& status, const std::string& reason,
                                    const std::string& message) {
  (void)Update(id, [&](v1::Run& r) {
    v1::TestRunStatus* st = r.mutable_test_run()->mutable_status();
    SetCondition(*st, type, status, reason, message);
    if (status != "True") st->mutable_progress()->set_message(message);
  });
}

void RunService::RecordFingerprint(const std::string& id, const v1::RunFingerprint& fingerprint,
                                   const std::vector<v1::TestOutcome>& outcomes) {
  v1::RunResults extra;
  *extra.mutable_fingerprint() = fingerprint;
  *extra.mutable_outcomes() = {outcomes.begin(), outcomes.end()};
  std::string bytes;
  extra.SerializeToString(&bytes);
  (void)store_.Put(keys::RunReport(id), bytes);
}

}  // namespace netrig::controller::api
