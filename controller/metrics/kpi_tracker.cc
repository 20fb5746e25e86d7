#include "controller/metrics/kpi_tracker.h"

#include "absl/time/time.h"

namespace netrig::controller::metrics {
namespace {

std::optional<absl::Time> ParseTime(const std::string& s) {
  absl::Time t;
  std::string err;
  if (s.empty() || !absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return std::nullopt;
  return t;
}

std::string LabelOr(const v1::ObjectMeta& m, const std::string& key, const std::string& dflt) {
  const auto it = m.labels().find(key);
  return it == m.labels().end() || it->second.empty() ? dflt : it->second;
}

}  // namespace

bool IsFlagged(const std::string& verdict) { return verdict == "Fail" || verdict == "Regressed"; }

RunFacts FactsOf(const v1::Run& run) {
  const v1::TestRun& tr = run.test_run();
  const v1::ObjectMeta& m = tr.metadata();
  RunFacts f;
  f.id = run.id();
  f.test = m.name().empty() ? m.generate_name() : m.name();
  f.level = tr.spec().level().empty() ? "L1" : tr.spec().level();
  f.suite = LabelOr(m, "netrig.io/suite", "none");
  f.trigger = LabelOr(m, "netrig.io/trigger", "manual");
  if (!tr.spec().sut().template_().empty()) {
    f.sut = tr.spec().sut().template_();
  } else if (tr.spec().sut().has_static_()) {
    f.sut = "static";
  } else {
    f.sut = "none";
  }
  f.version = tr.spec().sut().version();
  f.phase = tr.status().phase();
  f.verdict = tr.status().verdict().empty() ? "none" : tr.status().verdict();
  const auto created = ParseTime(run.created_time());
  const auto started = ParseTime(tr.status().start_time());
  const auto completed = ParseTime(tr.status().completion_time());
  if (created && started) f.queue_wait_s = absl::ToDoubleSeconds(*started - *created);
  if (started && completed) f.duration_s = absl::ToDoubleSeconds(*completed - *started);
  return f;
}

KpiChange KpiTracker::Observe(const RunFacts& run) {
  KpiChange c;
  c.flagged = IsFlagged(run.verdict);
  c.regression = run.verdict == "Regressed";
  if (run.version.empty()) return c;  // release KPIs need a version
  c.new_version = versions_.insert({run.sut, run.version}).second;
  if (run.verdict == "Pass") {
    c.new_passed_version = passed_.insert({run.sut, run.version, run.level}).second;
  }
  // Only a judged run (Pass or a flag) resolves an earlier flag; cancelled, interrupted and
  // inconclusive runs say nothing about it.
  if (run.verdict != "Pass" && !c.flagged) return c;
  const TestKey key{run.test, run.sut, run.version};
  if (auto it = open_flags_.find(key); it != open_flags_.end()) {
    (c.flagged ? c.confirmed : c.dismissed) = it->second;
    open_flags_.erase(it);
  }
  if (c.flagged) open_flags_[key] = run;
  return c;
}

}  // namespace netrig::controller::metrics
