#include "controller/api/run_service.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <google/protobuf/util/json_util.h>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
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
  for (const store::KeyValue& kv : all.kvs) {
    if (kv.key.find('/', keys::RunsPrefix().size()) != std::string::npos) continue;  // trials
    ASSIGN_OR_RETURN(v1::Run run, ParseRun(kv));
    if (run.test_run().status().phase() == kRunning) {
      Finish(run.id(), kInterrupted, "", "interrupted: the controller restarted during the run",
             "ControllerRestarted");
    }
  }
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  return absl::OkStatus();
}

void RunService::Stop() {
  if (stop_.exchange(true)) return;
  if (scheduler_.joinable()) scheduler_.join();
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

absl::StatusOr<v1::Run> RunService::Submit(const std::string& document) {
  const spec::ParseResult parsed = spec::ParseTestRun(document);
  if (!parsed.errors.empty()) {
    std::vector<std::string> lines;
    for (const spec::FieldError& e : parsed.errors) lines.push_back(e.ToString());
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  ASSIGN_OR_RETURN(spec::RunPlan plan, spec::CompileTestRun(parsed.object));
  v1::Run run;
  {
    absl::MutexLock lock(&mu_);
    run.set_id(absl::StrCat(absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()),
                            "-", absl::StrFormat("%04x", ++id_counter_ & 0xffff)));
  }
  *run.mutable_test_run() = parsed.object;
  run.mutable_test_run()->clear_status();
  v1::TestRunStatus* st = run.mutable_test_run()->mutable_status();
  st->set_phase(kPending);
  SetCondition(*st, "Scheduled", "False", "Queued", "waiting for agents");
  run.set_created_time(Now3339());
  run.set_spec_hash(SpecHash(run.test_run()));
  run.set_priority(PriorityOf(plan.level));
  std::string bytes;
  run.SerializeToString(&bytes);
  store::TxnRequest txn;
  txn.compares.push_back({keys::Run(run.id()), 0});
  txn.ops.push_back(store::Op::Put(keys::Run(run.id()), bytes));
  txn.ops.push_back(store::Op::Put(keys::QueueEntry(run.priority(), run.id()), run.id()));
  RETURN_IF_ERROR(store_.Txn(txn).status());
  return run;
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
                        const std::string& reason) {
  (void)Update(id, [&](v1::Run& run) {
    v1::TestRunStatus* st = run.mutable_test_run()->mutable_status();
    st->set_phase(phase);
    if (!verdict.empty()) st->set_verdict(verdict);
    st->set_summary(summary);
    st->set_completion_time(Now3339());
    SetCondition(*st, "Completed", "True", reason, summary);
  });
  DeleteQueueEntry(id);
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
  while (!stop_.load()) {
    auto queue = store_.List(keys::QueuePrefix());
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
        if (it->second->thread.joinable() && it->second->agents.empty()) {
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
  // Placement: each spec port needs an available agent port with the role's name, in the
  // right pool, with the requested agent name, labels, speed and driver.
  const std::vector<agents::AgentRecord> agents = registry_.List();
  std::vector<run::BoundPort> bound;
  std::set<std::string> used;  // agent/port
  std::vector<std::string> agent_ids;
  for (const spec::PortPlan& p : plan->ports) {
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
        run::BoundPort b;
        b.role = p.name;
        b.agent_id = a.id;
        b.agent_port = pc.name();
        b.speed_bps = p.speed_bps != 0 ? p.speed_bps : pc.speed_bps();
        b.mac = pc.mac();
        b.gateway_mac = pc.gateway_mac();
        bound.push_back(b);
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
      return false;
    }
  }
  if (!registry_.Acquire(agent_ids)) return false;
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
  auto active = std::make_shared<Active>();
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
  auto run = Get(id);
  auto plan = run.ok() ? spec::CompileTestRun(run->test_run()) : run.status();
  const absl::Time started = absl::Now();
  int64_t trial_no = 0;
  std::string phase = kFailed, verdict, summary, reason = "Error";
  if (plan.ok()) {
    run::ExecutorCallbacks cb;
    cb.on_trial = [&](const v1::TrialRecord& t, const agents::TrialOutcome& outcome) {
      std::string bytes;
      t.SerializeToString(&bytes);
      (void)store_.Put(keys::Trial(id, ++trial_no), bytes);
      if (!options_.results_dir.empty()) WriteFlowFile(id, trial_no, t, outcome);
    };
    cb.on_progress = [&](const v1::TestRunProgress& p) {
      if (absl::Now() - started > plan->budget && !active->cancel.load()) {
        active->cancel_reason = absl::StrCat("time budget ", absl::FormatDuration(plan->budget),
                                             " exceeded");
        active->cancel.store(true);
      }
      (void)Update(id, [&](v1::Run& r) { *r.mutable_test_run()->mutable_status()->mutable_progress() = p; });
    };
    auto executor = run::Rfc2544Executor::Create(*plan, ports, coordinator_, cb);
    if (!executor.ok()) {
      summary = std::string(executor.status().message());
    } else {
      auto results = (*executor)->Run(active->cancel);
      if (active->cancel.load()) {
        phase = active->cancel_reason.rfind("time budget", 0) == 0 ? kFailed : kCancelled;
        summary = active->cancel_reason;
        reason = phase == kFailed ? "BudgetExceeded" : "Cancelled";
      } else if (!results.ok()) {
        summary = std::string(results.status().message());
      } else {
        // Verdict: every requested test completed at every frame size, in every direction.
        std::vector<std::string> problems;
        for (const auto& d : (*executor)->directions()) {
          for (const auto& fr : d.engine->reports()) {
            const std::pair<const char*, const methodology::TestOutcome*> outcomes[] = {
                {"throughput", &fr.throughput.outcome}, {"latency", &fr.latency.outcome},
                {"frameLoss", &fr.frame_loss.outcome}, {"backToBack", &fr.back_to_back.outcome}};
            for (const auto& [name, o] : outcomes) {
              if (o->state == methodology::TestState::kFailed ||
                  o->state == methodology::TestState::kPending) {
                problems.push_back(absl::StrCat(d.label, " ", name, " ", fr.frame_bytes, " B: ",
                                                methodology::TestStateName(o->state),
                                                o->reason.empty() ? "" : " (" + o->reason + ")"));
              }
            }
          }
        }
        (void)Update(id, [&](v1::Run& r) {
          *r.mutable_test_run()->mutable_status()->mutable_results() = {results->begin(),
                                                                        results->end()};
        });
        std::vector<std::string> parts;
        for (const auto& res : *results) {
          if (res.metric() == "throughput_fps") {
            parts.push_back(absl::StrFormat("%s %u B: %.0f fps", res.direction(), res.frame_size(),
                                            res.value()));
          }
        }
        if (problems.empty()) {
          phase = kSucceeded;
          verdict = "Pass";
          reason = "Completed";
          summary = absl::StrCat("throughput ", absl::StrJoin(parts, "; "));
        } else {
          verdict = "Fail";
          reason = "TestsFailed";
          summary = absl::StrJoin(problems, "; ");
        }
      }
    }
  } else {
    summary = std::string(plan.status().message());
  }
  // Free the agents before the run is seen as finished: whoever reacts to the final phase
  // (a CI pipeline submitting its next run) must find them available.
  registry_.Release(active->agents);
  Finish(id, phase, verdict, summary, reason);
  absl::MutexLock lock(&mu_);
  active->agents.clear();  // marks it reapable
}

}  // namespace netrig::controller::api
