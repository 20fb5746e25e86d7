#include "cli/app.h"

#include <cstdlib>

#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace netrig::cli {
namespace {

constexpr char kExitCodes[] = R"(Exit codes:
  0    success; run --wait: the run Succeeded with verdict Pass (or without a verdict)
  1    run --wait: the run finished with a failed verdict (Fail or Regressed)
  2    error: invalid spec (validate, run), unreadable file, controller unreachable or
       refusing, unknown run id, cancel of a finished run; run --wait: the run Failed
       without a verdict or the verdict is Inconclusive
  3    run --wait: the run was Cancelled or Interrupted
  130  run --wait: a second Ctrl-C stopped the wait (the run may still be going)

Environment:
  NETRIG_SERVER   controller address host:port when --server is not given
)";

Output ParseOutput(const std::string& s) { return s == "json" ? Output::kJson : Output::kTable; }

}  // namespace

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: \"", text, "\" is not a duration (10s, 1m, 500ms)"));
  }
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--timeout: ", text, " must be positive"));
  }
  return d;
}

int Main(const std::vector<std::string>& args, Io& io, const ClientFactory& factory) {
  CLI::App app{"netrigctl: submit, watch and inspect netrig test runs", "netrigctl"};
  app.fallthrough();
  app.require_subcommand(1);
  app.footer(kExitCodes);

  std::string server = kDefaultServer;
  std::string timeout_text = "10s";
  app.add_option("--server", server, "controller address host:port")
      ->envname(kServerEnv)
      ->capture_default_str();
  app.add_option("--timeout", timeout_text,
                 "deadline of each request (10s, 1m, 500ms); run --wait itself has none")
      ->capture_default_str();

  // validate
  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand(
      "validate",
      "parse and validate spec files locally (nothing is sent to the controller); prints every "
      "error as \"path: message\"; exit 2 when invalid");
  validate->add_option("-f,--file", validate_files, "spec file (YAML or JSON; - for stdin); repeatable")
      ->required();

  // run
  RunOptions run_options;
  std::string run_output = "table";
  CLI::App* run = app.add_subcommand(
      "run",
      "submit a TestRun and print its id; with --wait follow its progress, print the results "
      "and exit by verdict (Ctrl-C cancels the run, a second Ctrl-C stops waiting)");
  run->add_option("-f,--file", run_options.file, "TestRun spec file (YAML or JSON; - for stdin)")
      ->required();
  run->add_flag("--wait", run_options.wait, "wait for the run to finish; exit code by verdict");
  run->add_option("-o,--output", run_output, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  run->add_option("--max-trial-rows", run_options.max_trial_rows,
                  "trials listed after the results (-1: all, 0: none; `netrigctl results` lists all)");
  run_options.trigger = DefaultTrigger(std::getenv("CI"));
  run->add_option("--trigger", run_options.trigger,
                  "netrig.io/trigger label unless the file sets it (default: ci when $CI is true, "
                  "else manual)")
      ->check(CLI::IsMember({"manual", "ci", "schedule", "webhook", "operator"}))
      ->capture_default_str();

  // get runs | agents
  CLI::App* get = app.add_subcommand("get", "list runs or agents");
  get->require_subcommand(1);
  std::string get_phase;
  std::string get_output = "table";
  CLI::App* get_runs = get->add_subcommand("runs", "list runs (ID NAME LEVEL PHASE VERDICT PROGRESS AGE)");
  get_runs->alias("run");
  get_runs->add_option("--phase", get_phase,
                       "only runs in this phase (Pending, Scheduled, Running, Succeeded, Failed, "
                       "Cancelled, Interrupted)");
  get_runs->add_option("-o,--output", get_output, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  CLI::App* get_agents =
      get->add_subcommand("agents", "list agents (ID STATE PORTS LABELS LAST-SEEN)");
  get_agents->alias("agent");
  get_agents->add_option("-o,--output", get_output, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  // describe run ID
  CLI::App* describe = app.add_subcommand("describe", "show one run in detail");
  describe->require_subcommand(1);
  std::string describe_id;
  CLI::App* describe_run =
      describe->add_subcommand("run", "spec summary, status, conditions, progress, timestamps");
  describe_run->add_option("id", describe_id, "run id")->required();

  // results ID
  std::string results_id;
  std::string results_output = "table";
  CLI::App* results = app.add_subcommand(
      "results", "results of a run: figures per direction and frame size, then every trial");
  results->add_option("id", results_id, "run id")->required();
  results->add_option("-o,--output", results_output, "table | json (RunResults)")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  // cancel ID
  std::string cancel_id;
  std::string cancel_reason;
  CLI::App* cancel = app.add_subcommand("cancel", "cancel a pending or running run");
  cancel->add_option("id", cancel_id, "run id")->required();
  cancel->add_option("--reason", cancel_reason, "why (kept in the run's status)");

  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, io.out, io.err);
    return rc == 0 ? kExitOk : kExitError;
  }

  if (*validate) return Validate(validate_files, io);

  absl::StatusOr<absl::Duration> timeout = ParseTimeout(timeout_text);
  if (!timeout.ok()) {
    io.err << "error: " << timeout.status().message() << "\n";
    return kExitError;
  }
  if (server.empty()) {
    io.err << "error: --server is empty\n";
    return kExitError;
  }
  std::unique_ptr<Client> client = factory(server, *timeout);

  if (*run) {
    run_options.output = ParseOutput(run_output);
    return Run(*client, run_options, io);
  }
  if (*get_runs) return GetRuns(*client, get_phase, ParseOutput(get_output), io);
  if (*get_agents) return GetAgents(*client, ParseOutput(get_output), io);
  if (*describe_run) return DescribeRun(*client, describe_id, io);
  if (*results) return Results(*client, results_id, ParseOutput(results_output), io);
  if (*cancel) return Cancel(*client, cancel_id, cancel_reason, io);
  io.err << "error: no command\n";
  return kExitError;
}

}  // namespace netrig::cli
