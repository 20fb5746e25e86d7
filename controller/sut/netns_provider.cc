#include "controller/sut/netns_provider.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace netrig::controller::sut {

SutProvider::~SutProvider() = default;

namespace {

std::string Trimmed(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

std::string Failure(const Command& argv, const ExecResult& r) {
  std::string detail = Trimmed(r.err);
  if (detail.empty()) detail = Trimmed(r.out);
  return absl::StrCat("`", RenderCommand(argv), "` failed (exit ", r.exit_code, ")",
                      detail.empty() ? "" : ": ", detail);
}

absl::Status WithContext(const absl::Status& s, const std::string& context) {
  return absl::Status(s.code(), absl::StrCat(context, s.message()));
}

const SutLink* FindLink(const SutInstance& inst, const std::string& name) {
  for (const SutLink& l : inst.links) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

}  // namespace

NetnsSutProvider::NetnsSutProvider() : NetnsSutProvider(std::make_unique<ExecRunner>()) {}

NetnsSutProvider::NetnsSutProvider(std::unique_ptr<CommandRunner> runner,
                                   absl::Duration poll_interval)
    : NetnsSutProvider(std::move(runner), NetnsSutOptions{.poll_interval = poll_interval}) {}

NetnsSutProvider::NetnsSutProvider(std::unique_ptr<CommandRunner> runner, NetnsSutOptions options)
    : runner_(std::move(runner)),
      poll_interval_(options.poll_interval),
      frr_(*runner_, std::move(options.frr), options.poll_interval) {}

ExecResult NetnsSutProvider::Run(const Command& argv) { return runner_->Run(argv); }

absl::StatusOr<std::vector<std::string>> NetnsSutProvider::ListNamespaces() {
  const Command cmd = ListNamespacesCommand();
  ExecResult r = Run(cmd);
  if (!r.ok()) return absl::InternalError(absl::StrCat("sut: ", Failure(cmd, r)));
  return ParseNetnsList(r.out);
}

absl::Status NetnsSutProvider::DestroyNamespace(const std::string& ns,
                                                const std::vector<SutLink>& links) {
  absl::StatusOr<std::vector<std::string>> names = ListNamespaces();
  if (!names.ok()) return names.status();
  if (std::find(names->begin(), names->end(), ns) == names->end()) return absl::OkStatus();
  // Deleting the veths first removes the agent ends synchronously; a namespace's own devices
  // are otherwise torn down asynchronously after `ip netns del` returns. Errors are ignored
  // (the link may never have been made); the namespace deletion below is what counts.
  for (const SutLink& l : links) {
    (void)Run(InNamespaceLinkDelCommand(ns, l.sut_ifname));
  }
  const Command cmd = DestroyCommand(ns);
  ExecResult r = Run(cmd);
  if (r.ok()) return absl::OkStatus();
  // Gone in the meantime (a concurrent Destroy) is fine too.
  names = ListNamespaces();
  if (names.ok() && std::find(names->begin(), names->end(), ns) == names->end()) {
    return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat("sut.destroy: ", Failure(cmd, r)));
}

absl::Status NetnsSutProvider::Teardown(const std::string& ns, const std::string& template_name,
                                        const std::vector<SutLink>& links) {
  // Daemons die before their namespace goes. Only the linux-* templates are known to have none;
  // an orphan (template unknown) may have some.
  absl::Status daemons = absl::OkStatus();
  if (template_name != kTemplateLinuxRouter && template_name != kTemplateLinuxShaper) {
    daemons = frr_.Stop(ns);
  }
  absl::Status netns = DestroyNamespace(ns, links);
  if (daemons.ok()) return netns;
  return absl::InternalError(absl::StrCat("sut.destroy: ", daemons.message(),
                                          netns.ok() ? "" : "; ", netns.message()));
}

absl::StatusOr<SutInstance> NetnsSutProvider::Create(const SutRequest& request) {
  absl::StatusOr<SutInstance> planned = PlanInstance(request);
  if (!planned.ok()) return planned.status();
  SutInstance inst = *std::move(planned);
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<std::string>> existing = ListNamespaces();
  if (!existing.ok()) return existing.status();
  if (std::find(existing->begin(), existing->end(), inst.namespace_name) != existing->end()) {
    return absl::AlreadyExistsError(absl::StrCat("sut.create: namespace ", inst.namespace_name,
                                                 " already exists (run ", inst.run_id,
                                                 " has a SUT)"));
  }
  const std::string context =
      absl::StrCat("sut.create (", inst.template_name, ", run ", inst.run_id, "): ");
  const bool frr = inst.template_name == kTemplateFrrRouter;
  if (frr) {
    // Before the namespace exists: a missing binary or a config FRR refuses creates nothing.
    if (absl::Status s = frr_.CheckInstalled(FrrParamsOf(inst).daemons); !s.ok()) {
      return WithContext(s, context);
    }
    // Leftovers of an earlier attempt for this run (directory, daemons) go first.
    if (absl::Status s = frr_.Stop(inst.namespace_name); !s.ok()) return WithContext(s, context);
    if (absl::Status s = frr_.Prepare(inst); !s.ok()) {
      return absl::IsInvalidArgument(s) ? s : WithContext(s, context);
    }
  }
  const std::vector<Command> cmds = CreateCommands(inst);
  for (size_t i = 0; i < cmds.size(); ++i) {
    ExecResult r = Run(cmds[i]);
    if (r.ok()) continue;
    std::string msg = context + Failure(cmds[i], r);
    absl::Status cleanup = absl::OkStatus();
    if (i > 0) {  // the namespace is ours: remove it and, with it, every veth made so far
      cleanup = Teardown(inst.namespace_name, inst.template_name, inst.links);
    } else if (frr) {  // only the instance directory exists
      cleanup = frr_.Stop(inst.namespace_name);
    }
    if (!cleanup.ok()) absl::StrAppend(&msg, "; cleanup also failed: ", cleanup.message());
    return absl::InternalError(msg);
  }
  if (frr) {
    if (absl::Status s = frr_.Start(inst); !s.ok()) {
      std::string msg = context + std::string(s.message());
      absl::Status cleanup = Teardown(inst.namespace_name, inst.template_name, inst.links);
      if (!cleanup.ok()) absl::StrAppend(&msg, "; cleanup also failed: ", cleanup.message());
      return absl::Status(s.code(), msg);
    }
  }
  return inst;
}

absl::Status NetnsSutProvider::ProbeReady(const SutInstance& inst) {
  std::vector<std::string> problems;
  const std::string qdisc = ExpectedQdisc(inst);
  for (const SutLink& l : inst.links) {
    const Command show = LinkShowCommand(inst, l);
    ExecResult r = Run(show);
    if (!r.ok()) {
      problems.push_back(absl::StrCat("link ", l.name, ": ", Failure(show, r)));
      continue;
    }
    const LinkState st = ParseLinkShow(r.out);
    if (!st.found) {
      problems.push_back(absl::StrCat("link ", l.name, " (", l.sut_ifname, "): not found"));
    } else if (!st.up) {
      problems.push_back(absl::StrCat("link ", l.name, " (", l.sut_ifname, "): down"));
    } else if (!st.carrier) {
      problems.push_back(absl::StrCat("link ", l.name, " (", l.sut_ifname, "): no carrier"));
    }
    if (!qdisc.empty()) {
      const Command qs = QdiscShowCommand(inst, l);
      ExecResult q = Run(qs);
      if (!q.ok()) {
        problems.push_back(absl::StrCat("link ", l.name, " qdisc: ", Failure(qs, q)));
      } else if (!absl::StrContains(q.out, absl::StrCat("qdisc ", qdisc, " "))) {
        problems.push_back(absl::StrCat("link ", l.name, " (", l.sut_ifname, "): no ", qdisc,
                                        " qdisc"));
      }
    }
  }
  const Command fwd = ForwardingCommand(inst);
  ExecResult f = Run(fwd);
  if (!f.ok()) {
    problems.push_back(absl::StrCat("forwarding: ", Failure(fwd, f)));
  } else if (Trimmed(f.out) != "1") {
    problems.push_back(absl::StrCat("net.ipv4.ip_forward is ", Trimmed(f.out), ", not 1"));
  }
  if (inst.template_name == kTemplateFrrRouter) frr_.Probe(inst, problems);
  if (problems.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrJoin(problems, "; "));
}

absl::Status NetnsSutProvider::WaitReady(const SutInstance& inst, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // FRR probes run several vtysh commands: poll them less often.
  const absl::Duration interval = inst.template_name == kTemplateFrrRouter
                                      ? std::max(poll_interval_, frr_.options().probe_interval)
                                      : poll_interval_;
  while (true) {
    absl::Status s = ProbeReady(inst);
    if (s.ok()) return s;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("sut.ready: ", inst.namespace_name,
                                                      " not ready after ",
                                                      absl::FormatDuration(timeout), ": ",
                                                      s.message()));
    }
    absl::SleepFor(std::min(interval, std::max(deadline - absl::Now(), absl::ZeroDuration())));
  }
}

absl::Status NetnsSutProvider::InjectEvent(const SutInstance& inst, const SutEvent& event) {
  bool up;
  if (event.type == "link-down") {
    up = false;
  } else if (event.type == "link-up") {
    up = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("sut.event: unknown event \"", event.type,
                                                   "\" (known: link-down, link-up)"));
  }
  const SutLink* link = FindLink(inst, event.link);
  if (link == nullptr) {
    std::vector<std::string> names;
    for (const SutLink& l : inst.links) names.push_back(l.name);
    return absl::NotFoundError(absl::StrCat("sut.event: no link \"", event.link, "\" (links: ",
                                            absl::StrJoin(names, ", "), ")"));
  }
  const Command cmd = LinkSetCommand(inst, *link, up);
  ExecResult r = Run(cmd);
  if (!r.ok()) return absl::InternalError(absl::StrCat("sut.event ", event.type, ": ", Failure(cmd, r)));
  return absl::OkStatus();
}

absl::Status NetnsSutProvider::Destroy(const SutInstance& inst) {
  // An instance known only by its run id (an orphan after a restart) names its namespace.
  std::string ns = inst.namespace_name;
  if (ns.empty() && ValidateRunId(inst.run_id).ok()) ns = NamespaceName(inst.run_id);
  if (ns.empty() || !absl::StartsWith(ns, kNamespacePrefix)) {
    return absl::InvalidArgumentError(absl::StrCat("sut.destroy: \"", ns,
                                                   "\" is not a SUT namespace"));
  }
  absl::MutexLock lock(&mu_);
  return Teardown(ns, inst.template_name, inst.links);
}

absl::StatusOr<std::vector<std::string>> NetnsSutProvider::ListOrphans(
    const std::set<std::string>& live_run_ids) {
  absl::StatusOr<std::vector<std::string>> names = ListNamespaces();
  if (!names.ok()) return names.status();
  std::set<std::string> live_namespaces;
  for (const std::string& id : live_run_ids) {
    if (ValidateRunId(id).ok()) live_namespaces.insert(NamespaceName(id));
  }
  std::vector<std::string> orphans;
  for (const std::string& ns : *names) {
    if (!absl::StartsWith(ns, kNamespacePrefix) || live_namespaces.count(ns)) continue;
    // The run id: lo's alias (set at creation), else the name without the prefix.
    std::string run_id;
    ExecResult r = Run(LoAliasCommand(ns));
    if (r.ok()) run_id = ParseLinkAlias(r.out);
    if (run_id.empty() || NamespaceName(run_id) != ns) {
      run_id = ns.substr(sizeof(kNamespacePrefix) - 1);
    }
    if (live_run_ids.count(run_id)) continue;
    orphans.push_back(run_id);
  }
  // FRR instance directories whose namespace is gone (a crash in between) are orphans too.
  for (const auto& [ns, run_id] : frr_.ListInstanceDirs()) {
    if (live_namespaces.count(ns) || live_run_ids.count(run_id)) continue;
    if (std::find(orphans.begin(), orphans.end(), run_id) == orphans.end()) {
      orphans.push_back(run_id);
    }
  }
  std::sort(orphans.begin(), orphans.end());
  return orphans;
}

}  // namespace netrig::controller::sut
