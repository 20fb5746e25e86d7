// TestRun validation and compilation to RunPlan.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/rate/line_rate.h"
#include "lib/spec/testrun.h"
#include "lib/spec/units.h"
#include "lib/spec/validation.h"

namespace netrig::spec {

using internal::CheckDuration;
using internal::CheckOneOf;
using internal::DurationRule;
using internal::Issues;
using internal::Quote;

namespace {

constexpr uint32_t kMinFrameBytes = rate::kMinEthernetFrameBytes;  // 64
constexpr uint32_t kMaxFrameBytes = rate::kMaxEthernetFrameBytes;  // 9216
// Smallest IPv6 test frame: Ethernet 14 + IPv6 40 + UDP 8 + 18-byte probe signature + FCS 4
// (lib/packet MinFrameBytes(L3::kIpv6)).
constexpr uint32_t kMinIpv6FrameBytes = 84;
constexpr uint32_t kMaxFlows = 16u << 20;  // 16,777,216
constexpr int kMaxFrameSizes = 32;
constexpr int kMaxPorts = 64;
constexpr int kMaxTraffic = 256;
constexpr uint32_t kMaxTrials = 1000;

const std::vector<uint32_t>& RfcFrameSizes() {
  static const std::vector<uint32_t> k = {64, 128, 256, 512, 1024, 1280, 1518};  // §9.1
  return k;
}
// RFC 2544 §9.1 list with 64 replaced by the smallest IPv6 test frame.
const std::vector<uint32_t>& RfcFrameSizesIpv6() {
  static const std::vector<uint32_t> k = {84, 128, 256, 512, 1024, 1280, 1518};
  return k;
}

struct TestInfo {
  const char* name;
  bool supported;
  Rfc2544Test test;
  const char* unsupported_reason;
};
constexpr TestInfo kTests[] = {
    {"throughput", true, Rfc2544Test::kThroughput, ""},
    {"latency", true, Rfc2544Test::kLatency, ""},
    {"frameLoss", true, Rfc2544Test::kFrameLoss, ""},
    {"backToBack", true, Rfc2544Test::kBackToBack, ""},
    {"systemRecovery", false, Rfc2544Test::kThroughput,
     "RFC 2544 §26.5 system recovery is not supported yet"},
    {"reset", false, Rfc2544Test::kThroughput, "RFC 2544 §26.6 reset is not supported yet"},
};

std::string Num(double v) { return absl::StrCat(v); }

// A percentage field of Rfc2544 (plain number). Returns the value or `def`.
double CheckPercent(Issues& issues, const std::string& path, bool has, double value, double def,
                    bool zero_ok, absl::string_view what) {
  if (!has) return def;
  const bool ok = std::isfinite(value) && value <= 100 && (zero_ok ? value >= 0 : value > 0);
  if (!ok) {
    issues.Error(path, absl::StrCat(zero_ok ? "must be between 0 and 100" : "must be greater than 0 and at most 100",
                                    " (", what, "), got ", Num(value)));
    return def;
  }
  return value;
}

class SpecValidator {
 public:
  SpecValidator(Issues& issues, RunPlan* plan) : issues_(issues), plan_(plan) {}

  void Validate(const v1::TestRunSpec& spec, const std::string& path) {
    internal::CheckLevel(issues_, JoinPath(path, "level"), spec.level());
    if (spec.level() == "L2") plan_->level = Level::kL2;
    if (spec.level() == "L3") plan_->level = Level::kL3;
    Sut(spec, path);
    Ports(spec, path);
    BenchmarkSpec(spec, path);
    Verdict(spec, path);
    plan_->budget = spec.budget().empty()
                        ? absl::InfiniteDuration()
                        : CheckDuration(issues_, JoinPath(path, "budget"), spec.budget(),
                                        DurationRule{absl::InfiniteDuration(), true, absl::Hours(7 * 24)});
  }

 private:
  void Sut(const v1::TestRunSpec& spec, const std::string& path) {
    const std::string sp = JoinPath(path, "sut");
    if (!spec.has_sut()) {
      issues_.Error(sp, "required (template or static)");
      return;
    }
    const v1::SutRef& sut = spec.sut();
    SutPlan& out = plan_->sut;
    out.version = sut.version();
    switch (sut.source_case()) {
      case v1::SutRef::SOURCE_NOT_SET:
        issues_.Error(sp, "one of template or static is required");
        break;
      case v1::SutRef::kTemplate:
        out.template_name = sut.template_();
        if (sut.template_().empty()) {
          issues_.Error(JoinPath(sp, "template"), "must not be empty");
        } else if (!IsDnsSubdomain(sut.template_())) {
          issues_.Error(JoinPath(sp, "template"),
                        absl::StrCat(Quote(sut.template_()), " is not a valid SutTemplate name"));
        }
        break;
      case v1::SutRef::kStatic: {
        out.is_static = true;
        const std::string st = JoinPath(sp, "static");
        const v1::StaticSut& s = sut.static_();
        out.static_name = s.name();
        out.mgmt_address = s.mgmt_address();
        if (s.name().empty()) issues_.Error(JoinPath(st, "name"), "required");
        if (!s.mgmt_address().empty() &&
            (s.mgmt_address().find_first_of(" \t/") != std::string::npos)) {
          issues_.Error(JoinPath(st, "mgmtAddress"),
                        absl::StrCat(Quote(s.mgmt_address()), " is not a host or host:port"));
        }
        for (const auto& [event, action] : s.events()) {
          const std::string ep = MapKeyPath(JoinPath(st, "events"), event);
          if (!IsDnsLabel(event)) {
            issues_.Error(ep, "event names use lowercase letters, digits and '-'");
          }
          if (action.empty()) issues_.Error(ep, "the action must not be empty");
          out.events.emplace(event, action);
        }
        if (!sut.parameters().empty()) {
          issues_.Error(JoinPath(sp, "parameters"), "only a template takes parameters");
        }
        break;
      }
    }
    for (const auto& [key, value] : sut.parameters()) {
      const std::string kp = MapKeyPath(JoinPath(sp, "parameters"), key);
      if (key.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(key[0])) ||
          !std::all_of(key.begin(), key.end(), [](char c) {
            return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
          })) {
        issues_.Error(kp, "parameter names start with a letter and use letters, digits, '_', '-'");
      }
      out.parameters.emplace(key, value);
    }
  }

  void Ports(const v1::TestRunSpec& spec, const std::string& path) {
    const std::string pp = JoinPath(path, "ports");
    ports_path_ = pp;
    if (spec.ports().empty()) {
      issues_.Error(pp, "at least one port is required");
      return;
    }
    if (spec.ports_size() > kMaxPorts) {
      issues_.Error(pp, absl::StrCat(spec.ports_size(), " ports; at most ", kMaxPorts));
      return;
    }
    std::map<std::string, size_t> seen;
    for (int i = 0; i < spec.ports_size(); ++i) {
      const v1::PortBinding& p = spec.ports(i);
      const std::string ip = IndexPath(pp, static_cast<size_t>(i));
      PortPlan out;
      out.name = p.name();
      if (p.name().empty()) {
        issues_.Error(JoinPath(ip, "name"), "required");
      } else if (!IsDnsLabel(p.name())) {
        issues_.Error(JoinPath(ip, "name"),
                      absl::StrCat(Quote(p.name()),
                                   " is not a valid port name: lowercase letters, digits and "
                                   "'-', at most 63 characters"));
      } else if (auto [it, inserted] = seen.emplace(p.name(), static_cast<size_t>(i)); !inserted) {
        issues_.Error(JoinPath(ip, "name"),
                      absl::StrCat("duplicate port name ", Quote(p.name()), " (also ",
                                   IndexPath(pp, it->second), ")"));
      }
      const std::string ap = JoinPath(ip, "agent");
      if (!p.agent().pool().empty()) {
        out.agent_pool = p.agent().pool();
        if (!IsDnsSubdomain(p.agent().pool())) {
          issues_.Error(JoinPath(ap, "pool"),
                        absl::StrCat(Quote(p.agent().pool()), " is not a valid AgentPool name"));
        }
      }
      out.agent_name = p.agent().name();
      internal::CheckLabels(issues_, p.agent().labels(), JoinPath(ap, "labels"), true);
      out.agent_labels.insert(p.agent().labels().begin(), p.agent().labels().end());
      if (!p.speed().empty()) {
        absl::StatusOr<uint64_t> bps = rate::ParseBitsPerSecond(p.speed());
        if (!bps.ok()) {
          issues_.Error(JoinPath(ip, "speed"), std::string(bps.status().message()));
        } else if (*bps == 0) {
          issues_.Error(JoinPath(ip, "speed"), "must be greater than 0");
        } else {
          out.speed_bps = *bps;
        }
      }
      out.pmd = p.pmd();
      if (!p.pmd().empty() && !std::all_of(p.pmd().begin(), p.pmd().end(), [](char c) {
            return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                   absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
          })) {
        issues_.Error(JoinPath(ip, "pmd"),
                      absl::StrCat(Quote(p.pmd()), " is not a DPDK driver name (net_af_xdp, "
                                                   "net_af_packet, net_ice...)"));
      }
      plan_->ports.push_back(std::move(out));
      port_names_.push_back(p.name());
    }
  }

  void BenchmarkSpec(const v1::TestRunSpec& spec, const std::string& path) {
    const std::string bp = JoinPath(path, "benchmark");
    const v1::Benchmark& b = spec.benchmark();
    switch (b.methodology_case()) {
      case v1::Benchmark::METHODOLOGY_NOT_SET:
        issues_.Error(bp, "required: one of rfc2544, rfc3918, rfc7640, convergence");
        return;
      case v1::Benchmark::kRfc2544:
        Rfc2544(b.rfc2544(), JoinPath(bp, "rfc2544"));
        return;
      case v1::Benchmark::kRfc3918:
        issues_.Error(JoinPath(bp, "rfc3918"),
                      "RFC 3918 multicast benchmarks are not supported yet (use rfc2544)");
        return;
      case v1::Benchmark::kRfc7640:
        issues_.Error(JoinPath(bp, "rfc7640"),
                      "RFC 7640 traffic management benchmarks are not supported yet (use rfc2544)");
        return;
      case v1::Benchmark::kConvergence:
        issues_.Error(JoinPath(bp, "convergence"),
                      "convergence benchmarks are not supported yet (use rfc2544)");
        return;
    }
  }

  void Rfc2544(const v1::Rfc2544& r, const std::string& rp) {
    Rfc2544Plan& out = plan_->rfc2544;
    Tests(r, rp);
    // l3 first: the frame-size minimum depends on it.
    if (!r.l3().empty() &&
        CheckOneOf(issues_, JoinPath(rp, "l3"), r.l3(), {"ipv4", "ipv6"}, "l3 protocol") &&
        r.l3() == "ipv6") {
      out.l3 = L3::kIpv6;
    }
    FrameSizes(r, rp);
    const std::string td = JoinPath(rp, "trialDuration");
    out.trial_duration = CheckDuration(issues_, td, r.trial_duration(), DurationRule{absl::Seconds(60)});
    if (out.trial_duration < absl::Seconds(60)) {
      issues_.Warn(td, absl::StrCat(HumanDuration(out.trial_duration),
                                    " is shorter than the 60 s RFC 2544 §24 recommends for the "
                                    "final trial; results are labelled short-trial"));
    }
    const std::string lt = JoinPath(rp, "lossTolerance");
    out.loss_tolerance_pct = CheckPercent(issues_, lt, r.has_loss_tolerance(), r.loss_tolerance(),
                                          0, true, "percent of offered frames");
    if (out.loss_tolerance_pct > 0) {
      issues_.Warn(lt, absl::StrCat("a ", Num(out.loss_tolerance_pct),
                                    "% loss tolerance is a tester extension: RFC 2544 throughput "
                                    "is the zero-loss rate (RFC 1242 §3.17)"));
    }
    out.resolution_pct = CheckPercent(issues_, JoinPath(rp, "resolution"), r.has_resolution(),
                                      r.resolution(), 0.1, false, "percent of line rate");
    out.min_rate_pct = CheckPercent(issues_, JoinPath(rp, "minRate"), r.has_min_rate(),
                                    r.min_rate(), 0, true, "percent of line rate");
    out.max_rate_pct = CheckPercent(issues_, JoinPath(rp, "maxRate"), r.has_max_rate(),
                                    r.max_rate(), 100, false, "percent of line rate");
    if (out.min_rate_pct >= out.max_rate_pct) {
      issues_.Error(JoinPath(rp, "maxRate"),
                    absl::StrCat("must be greater than minRate (", Num(out.min_rate_pct),
                                 "), got ", Num(out.max_rate_pct)));
    } else if (out.resolution_pct > out.max_rate_pct - out.min_rate_pct) {
      issues_.Warn(JoinPath(rp, "resolution"),
                   absl::StrCat(Num(out.resolution_pct), " is wider than the search range ",
                                Num(out.min_rate_pct), "..", Num(out.max_rate_pct),
                                "; the search ends after one trial"));
    }
    Traffic(r, rp);
    Latency(r, rp);
    FrameLoss(r, rp);
    BackToBack(r, rp);
    Waits(r, rp);
  }

  void Tests(const v1::Rfc2544& r, const std::string& rp) {
    const std::string tp = JoinPath(rp, "tests");
    if (r.tests().empty()) {
      issues_.Error(tp, "at least one test is required (throughput, latency, frameLoss, backToBack)");
      return;
    }
    std::vector<std::string> names;
    for (const TestInfo& t : kTests) names.push_back(t.name);
    std::map<std::string, size_t> seen;
    std::vector<std::pair<size_t, Rfc2544Test>> valid;
    for (int i = 0; i < r.tests_size(); ++i) {
      const std::string& name = r.tests(i);
      const std::string ip = IndexPath(tp, static_cast<size_t>(i));
      const TestInfo* info = nullptr;
      for (const TestInfo& t : kTests) {
        if (name == t.name) info = &t;
      }
      if (info == nullptr) {
        const std::string s = DidYouMean(name, names);
        issues_.Error(ip, absl::StrCat("unknown test ", Quote(name),
                                       s.empty() ? "" : absl::StrCat(" (did you mean ", s, "?)"),
                                       "; expected throughput, latency, frameLoss or backToBack"));
        continue;
      }
      if (auto [it, inserted] = seen.emplace(name, static_cast<size_t>(i)); !inserted) {
        issues_.Error(ip, absl::StrCat("duplicate test ", Quote(name), " (also ",
                                       IndexPath(tp, it->second), ")"));
        continue;
      }
      if (!info->supported) {
        issues_.Error(ip, info->unsupported_reason);
        continue;
      }
      valid.emplace_back(static_cast<size_t>(i), info->test);
      plan_->rfc2544.tests.push_back(info->test);
    }
    const bool has_throughput = seen.count("throughput") > 0;
    for (const auto& [i, test] : valid) {
      const std::string ip = IndexPath(tp, i);
      if (test == Rfc2544Test::kLatency && !has_throughput) {
        issues_.Error(ip, "latency needs throughput in the same run: RFC 2544 §26.2 measures "
                          "latency at the throughput rate");
      }
      if (test == Rfc2544Test::kBackToBack && !has_throughput) {
        issues_.Error(ip, "backToBack needs throughput in the same run: RFC 9004 §5 requires "
                          "throughput results first (and corrects buffer time with them)");
      }
    }
  }

  void FrameSizes(const v1::Rfc2544& r, const std::string& rp) {
    Rfc2544Plan& out = plan_->rfc2544;
    const std::string fp = JoinPath(rp, "frameSizes");
    if (r.frame_sizes().empty()) {
      out.frame_sizes = out.l3 == L3::kIpv6 ? RfcFrameSizesIpv6() : RfcFrameSizes();
      return;
    }
    if (r.frame_sizes_size() > kMaxFrameSizes) {
      issues_.Error(fp, absl::StrCat(r.frame_sizes_size(), " frame sizes; at most ",
                                     kMaxFrameSizes));
      return;
    }
    std::map<uint32_t, size_t> seen;
    for (int i = 0; i < r.frame_sizes_size(); ++i) {
      const uint32_t size = r.frame_sizes(i);
      const std::string ip = IndexPath(fp, static_cast<size_t>(i));
      if (size < kMinFrameBytes) {
        issues_.Error(ip, absl::StrCat(size, " is below the ", kMinFrameBytes, "-byte minimum"));
        continue;
      }
      if (size > kMaxFrameBytes) {
        issues_.Error(ip, absl::StrCat(size, " is above the ", kMaxFrameBytes, "-byte maximum"));
        continue;
      }
      if (out.l3 == L3::kIpv6 && size < kMinIpv6FrameBytes) {
        issues_.Error(ip, absl::StrCat(size, " is below the ", kMinIpv6FrameBytes,
                                       "-byte minimum for IPv6 (l3: ipv6)"));
        continue;
      }
      if (auto [it, inserted] = seen.emplace(size, static_cast<size_t>(i)); !inserted) {
        issues_.Error(ip, absl::StrCat("duplicate frame size ", size, " (also ",
                                       IndexPath(fp, it->second), ")"));
        continue;
      }
      out.frame_sizes.push_back(size);
    }
    if (r.frame_sizes_size() < 5) {
      issues_.Warn(fp, absl::StrCat(r.frame_sizes_size(), " frame size",
                                    r.frame_sizes_size() == 1 ? "" : "s",
                                    "; RFC 2544 §9 recommends at least five, including the "
                                    "smallest and largest"));
    }
  }

  void Traffic(const v1::Rfc2544& r, const std::string& rp) {
    const std::string tp = JoinPath(rp, "traffic");
    if (r.traffic().empty()) {
      issues_.Error(tp, "at least one traffic entry is required ({from: <port>, to: <port>})");
      return;
    }
    if (r.traffic_size() > kMaxTraffic) {
      issues_.Error(tp, absl::StrCat(r.traffic_size(), " traffic entries; at most ", kMaxTraffic));
      return;
    }
    std::map<std::pair<std::string, std::string>, size_t> directions;
    std::set<std::string> used;
    for (int i = 0; i < r.traffic_size(); ++i) {
      const v1::Rfc2544Traffic& t = r.traffic(i);
      const std::string ip = IndexPath(tp, static_cast<size_t>(i));
      TrafficPlan out;
      out.from = t.from();
      out.to = t.to();
      out.bidirectional = t.bidirectional();
      const bool from_ok = PortRef(JoinPath(ip, "from"), t.from());
      const bool to_ok = PortRef(JoinPath(ip, "to"), t.to());
      if (t.has_flows()) {
        if (t.flows() < 1 || t.flows() > kMaxFlows) {
          issues_.Error(JoinPath(ip, "flows"),
                        absl::StrCat("must be between 1 and ", kMaxFlows, ", got ", t.flows()));
        } else {
          out.flows = t.flows();
        }
      }
      if (from_ok && to_ok) {
        used.insert(t.from());
        used.insert(t.to());
        std::vector<std::pair<std::string, std::string>> dirs = {{t.from(), t.to()}};
        if (t.bidirectional() && t.from() != t.to()) dirs.emplace_back(t.to(), t.from());
        for (const auto& d : dirs) {
          auto [it, inserted] = directions.emplace(d, static_cast<size_t>(i));
          if (!inserted) {
            issues_.Error(ip, absl::StrCat("direction ", d.first, " -> ", d.second,
                                           " is already covered by ", IndexPath(tp, it->second)));
            break;
          }
        }
      }
      plan_->rfc2544.traffic.push_back(std::move(out));
    }
    for (size_t i = 0; i < port_names_.size(); ++i) {
      if (!port_names_[i].empty() && used.count(port_names_[i]) == 0 && !used.empty()) {
        issues_.Warn(IndexPath(ports_path_, i),
                     absl::StrCat("port ", Quote(port_names_[i]), " carries no traffic"));
      }
    }
  }

  bool PortRef(const std::string& path, const std::string& name) {
    if (name.empty()) {
      issues_.Error(path, "required (a port name)");
      return false;
    }
    if (std::find(port_names_.begin(), port_names_.end(), name) != port_names_.end()) return true;
    std::vector<std::string> known;
    for (const std::string& p : port_names_) {
      if (!p.empty()) known.push_back(p);
    }
    const std::string s = DidYouMean(name, known);
    issues_.Error(path, absl::StrCat("unknown port ", Quote(name),
                                     s.empty() ? "" : absl::StrCat(" (did you mean ", s, "?)"),
                                     known.empty() ? "" : absl::StrCat("; ports: ", absl::StrJoin(known, ", "))));
    return false;
  }

  void Trials(const std::string& path, bool has, uint32_t value, uint32_t* out) {
    if (!has) return;
    if (value < 1 || value > kMaxTrials) {
      issues_.Error(path, absl::StrCat("must be between 1 and ", kMaxTrials, ", got ", value));
      return;
    }
    *out = value;
  }

  void Unused(const std::string& path, bool present, Rfc2544Test test) {
    if (present && !plan_->rfc2544.Has(test)) {
      issues_.Warn(path, absl::StrCat("ignored: ", TestName(test), " is not in tests"));
    }
  }

  void Latency(const v1::Rfc2544& r, const std::string& rp) {
    const std::string lp = JoinPath(rp, "latency");
    Unused(lp, r.has_latency(), Rfc2544Test::kLatency);
    Rfc2544Plan::Latency& out = plan_->rfc2544.latency;
    Trials(JoinPath(lp, "trials"), r.latency().has_trials(), r.latency().trials(), &out.trials);
    out.duration = CheckDuration(issues_, JoinPath(lp, "duration"), r.latency().duration(),
                                 DurationRule{absl::Seconds(120)});
    if (!plan_->rfc2544.Has(Rfc2544Test::kLatency)) return;
    if (out.trials < 20) {
      issues_.Warn(JoinPath(lp, "trials"),
                   absl::StrCat(out.trials, " trials; RFC 2544 §26.2 requires at least 20"));
    }
    if (out.duration < absl::Seconds(120)) {
      issues_.Warn(JoinPath(lp, "duration"),
                   absl::StrCat(HumanDuration(out.duration),
                                " is shorter than the 120 s stream RFC 2544 §26.2 asks for"));
    }
  }

  void FrameLoss(const v1::Rfc2544& r, const std::string& rp) {
    const std::string fp = JoinPath(rp, "frameLoss");
    Unused(fp, r.has_frame_loss(), Rfc2544Test::kFrameLoss);
    const v1::Rfc2544FrameLoss& f = r.frame_loss();
    if (f.has_step()) {
      if (!std::isfinite(f.step()) || f.step() <= 0 || f.step() > 10) {
        issues_.Error(JoinPath(fp, "step"),
                      absl::StrCat("must be greater than 0 and at most 10 (percent of line rate; "
                                   "RFC 2544 §26.3: granularity MUST be 10% or finer), got ",
                                   Num(f.step())));
      } else {
        plan_->rfc2544.frame_loss.step_pct = f.step();
      }
    }
  }

  void BackToBack(const v1::Rfc2544& r, const std::string& rp) {
    const std::string bp = JoinPath(rp, "backToBack");
    Unused(bp, r.has_back_to_back(), Rfc2544Test::kBackToBack);
    const v1::Rfc2544BackToBack& b = r.back_to_back();
    Rfc2544Plan::BackToBack& out = plan_->rfc2544.back_to_back;
    Trials(JoinPath(bp, "trials"), b.has_trials(), b.trials(), &out.trials);
    out.max_burst_duration = CheckDuration(issues_, JoinPath(bp, "maxBurstDuration"),
                                           b.max_burst_duration(),
                                           DurationRule{absl::Seconds(2), true, absl::Seconds(30)});
    out.trial_duration = CheckDuration(issues_, JoinPath(bp, "trialDuration"), b.trial_duration(),
                                       DurationRule{absl::Seconds(2)});
    if (!plan_->rfc2544.Has(Rfc2544Test::kBackToBack)) return;
    if (out.trial_duration < absl::Seconds(2)) {
      issues_.Warn(JoinPath(bp, "trialDuration"),
                   absl::StrCat(HumanDuration(out.trial_duration),
                                " is shorter than the 2 s RFC 2544 §26.4 requires"));
    } else if (out.max_burst_duration > out.trial_duration) {
      issues_.Warn(JoinPath(bp, "trialDuration"),
                   absl::StrCat("RFC 9004 §6.2: the idle part of a trial should exceed the burst "
                                "send time (maxBurstDuration ",
                                HumanDuration(out.max_burst_duration), ")"));
    }
  }

  void Waits(const v1::Rfc2544& r, const std::string& rp) {
    const std::string wp = JoinPath(rp, "waits");
    Rfc2544Plan::Waits& out = plan_->rfc2544.waits;
    out.drain = CheckDuration(issues_, JoinPath(wp, "drain"), r.waits().drain(),
                              DurationRule{absl::Seconds(2), false, absl::Minutes(1)});
    out.settle = CheckDuration(issues_, JoinPath(wp, "settle"), r.waits().settle(),
                               DurationRule{absl::Seconds(5), false, absl::Minutes(10)});
    if (out.drain < absl::Seconds(2)) {
      issues_.Warn(JoinPath(wp, "drain"), absl::StrCat(HumanDuration(out.drain),
                                                       " is shorter than the 2 s RFC 2544 §23 d) asks for"));
    }
    if (out.settle < absl::Seconds(5)) {
      issues_.Warn(JoinPath(wp, "settle"), absl::StrCat(HumanDuration(out.settle),
                                                        " is shorter than the 5 s RFC 2544 §23 e) asks for"));
    }
  }

  void Verdict(const v1::TestRunSpec& spec, const std::string& path) {
    const std::string vp = JoinPath(path, "verdict");
    const v1::VerdictPolicy& v = spec.verdict();
    VerdictPlan& out = plan_->verdict;
    const std::string& b = v.baseline();
    if (b.empty() || b == "none") {
      out.baseline = VerdictPlan::Baseline::kNone;
    } else if (b == "last-pass") {
      out.baseline = VerdictPlan::Baseline::kLastPass;
    } else if (IsDnsSubdomain(b)) {
      out.baseline = VerdictPlan::Baseline::kRun;
      out.baseline_run_id = b;
    } else {
      issues_.Error(JoinPath(vp, "baseline"),
                    absl::StrCat("expected none, last-pass or a run id, got ", Quote(b)));
    }
    if (!v.max_regression().empty()) {
      const std::string mp = JoinPath(vp, "maxRegression");
      absl::StatusOr<double> pct = ParsePercent(v.max_regression());
      if (!pct.ok()) {
        issues_.Error(mp, std::string(pct.status().message()));
      } else if (*pct < 0 || *pct > 100) {
        issues_.Error(mp, absl::StrCat("must be between 0% and 100%, got ", v.max_regression()));
      } else {
        out.max_regression_pct = *pct;
        if (out.baseline == VerdictPlan::Baseline::kNone) {
          issues_.Warn(mp, "ignored: no baseline to compare with (set baseline)");
        }
      }
    }
  }

  Issues& issues_;
  RunPlan* plan_;
  std::vector<std::string> port_names_;
  std::string ports_path_;
};

void ValidateStatus(Issues& issues, const v1::TestRunStatus& s) {
  if (!s.phase().empty()) {
    CheckOneOf(issues, "status.phase", s.phase(),
               {"Pending", "Scheduled", "Running", "Succeeded", "Failed", "Cancelled",
                "Interrupted"},
               "phase");
  }
  internal::CheckConditions(issues, s.conditions(), "status.conditions");
  if (!s.start_time().empty()) internal::CheckTimestamp(issues, "status.startTime", s.start_time());
  if (!s.completion_time().empty()) {
    internal::CheckTimestamp(issues, "status.completionTime", s.completion_time());
  }
  if (!s.verdict().empty()) {
    CheckOneOf(issues, "status.verdict", s.verdict(), {"Pass", "Fail", "Regressed", "Inconclusive"},
               "verdict");
  }
}

std::vector<FieldError> Validate(const v1::TestRun& run, std::vector<FieldError>* warnings,
                                 RunPlan* plan) {
  std::vector<FieldError> errors;
  Issues issues(&errors, warnings);
  internal::CheckTypeMeta(issues, run.api_version(), run.kind(), "TestRun", /*required=*/false);
  internal::CheckObjectMeta(issues, run.metadata(), "metadata");
  plan->name = run.metadata().name();
  if (!run.metadata().namespace_().empty()) plan->namespace_name = run.metadata().namespace_();
  plan->labels.insert(run.metadata().labels().begin(), run.metadata().labels().end());
  if (!run.has_spec()) {
    issues.Error("spec", "required");
  } else {
    SpecValidator(issues, plan).Validate(run.spec(), "spec");
  }
  if (run.has_status()) ValidateStatus(issues, run.status());
  return errors;
}

}  // namespace

bool Rfc2544Plan::Has(Rfc2544Test t) const {
  return std::find(tests.begin(), tests.end(), t) != tests.end();
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kL1:
      return "L1";
    case Level::kL2:
      return "L2";
    case Level::kL3:
      return "L3";
  }
  return "?";
}

const char* TestName(Rfc2544Test test) {
  switch (test) {
    case Rfc2544Test::kThroughput:
      return "throughput";
    case Rfc2544Test::kLatency:
      return "latency";
    case Rfc2544Test::kFrameLoss:
      return "frameLoss";
    case Rfc2544Test::kBackToBack:
      return "backToBack";
  }
  return "?";
}

const char* L3Name(L3 l3) { return l3 == L3::kIpv6 ? "ipv6" : "ipv4"; }

void ValidateTestRunSpec(const v1::TestRunSpec& spec, const std::string& path,
                         std::vector<FieldError>* errors, std::vector<FieldError>* warnings) {
  Issues issues(errors, warnings);
  RunPlan scratch;
  SpecValidator(issues, &scratch).Validate(spec, path);
}

std::vector<FieldError> ValidateTestRun(const v1::TestRun& run) {
  RunPlan scratch;
  return Validate(run, nullptr, &scratch);
}

std::vector<FieldError> ValidateTestRun(const v1::TestRun& run, std::vector<FieldError>* warnings) {
  RunPlan scratch;
  return Validate(run, warnings, &scratch);
}

absl::StatusOr<RunPlan> CompileTestRun(const v1::TestRun& run) {
  RunPlan plan;
  std::vector<FieldError> warnings;
  std::vector<FieldError> errors = Validate(run, &warnings, &plan);
  if (!errors.empty()) {
    return absl::InvalidArgumentError(JoinErrors(errors));
  }
  for (const FieldError& w : warnings) plan.deviations.push_back(w.ToString());
  return plan;
}

}  // namespace netrig::spec
