// netrigctl commands against an in-process fake controller: output and exit codes.
#include "cli/commands.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/app.h"
#include "cli/format.h"
#include "tests/unit/cli/fake_controller.h"

namespace netrig::cli {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::FakeServer;
using testing::MakeRun;
using testing::WithProgress;

constexpr char kGoodSpec[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata:
  name: inline-ok
spec:
  level: L1
  sut: {template: linux-router, version: "1.0"}
  ports:
    - {name: west, agent: {pool: default}}
    - {name: east, agent: {pool: default}}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [64, 512]
      trialDuration: 60s
      traffic: [{from: west, to: east}]
)";

// Two errors: a frame size below the minimum and traffic to a port that does not exist.
constexpr char kBadSpec[] = R"(apiVersion: netrig.io/v1alpha1
kind: TestRun
metadata:
  name: inline-bad
spec:
  level: L1
  sut: {template: linux-router}
  ports:
    - {name: west, agent: {pool: default}}
    - {name: east, agent: {pool: default}}
  benchmark:
    rfc2544:
      tests: [throughput]
      frameSizes: [64, 20]
      trialDuration: 60s
      traffic: [{from: west, to: north}]
)";

class TempFiles {
 public:
  TempFiles() {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("netrigctl_test_", ::getpid(), "_", counter_++);
    std::filesystem::create_directories(dir_);
  }
  ~TempFiles() { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

struct Capture {
  std::ostringstream out;
  std::ostringstream err;
  Io io{.out = out, .err = err, .now = absl::FromUnixSeconds(1714557600 + 300)};  // +5 min
};

v1::RunResults SampleResults(const std::string& id) {
  v1::RunResults r;
  r.set_id(id);
  auto add = [&](const std::string& test, uint32_t size, const std::string& metric, double v) {
    v1::TestRunResult* x = r.add_results();
    x->set_test(test);
    x->set_frame_size(size);
    x->set_direction("west->east");
    x->set_metric(metric);
    x->set_value(v);
  };
  add("throughput", 64, "throughput_fps", 744047);
  add("throughput", 64, "throughput_percent", 50);
  add("throughput", 64, "throughput_l2_mbps", 380.96);
  add("latency", 64, "latency_min_ns", 1200);
  add("latency", 64, "latency_avg_ns", 3400);
  add("latency", 64, "latency_max_ns", 9800);
  add("latency", 64, "latency_p99_ns", 7000);
  add("frameLoss", 64, "loss_percent_at_100pct", 12.3);
  add("frameLoss", 64, "loss_percent_at_90pct", 0);
  add("frameLoss", 64, "loss_percent_at_80pct", 0);
  add("backToBack", 64, "b2b_avg_frames", 4096);
  add("throughput", 1518, "throughput_fps", 40650);
  v1::TrialRecord* t = r.add_trials();
  t->set_index(1);
  t->set_test("throughput");
  t->set_frame_size(64);
  t->set_direction("west->east");
  t->set_offered_rate_percent(100);
  t->set_tx_frames(1488095);
  t->set_rx_frames(744047);
  t->set_loss_percent(50.0);
  t->set_valid(true);
  t->set_passed(false);
  t->set_note("binary search: upper half");
  v1::TrialRecord* bad = r.add_trials();
  bad->set_index(2);
  bad->set_test("throughput");
  bad->set_frame_size(64);
  bad->set_valid(false);
  bad->set_invalid_reason("agent a2 did not report");
  return r;
}

// A port nobody listens on.
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// ---------------------------------------------------------------- validate

TEST(ValidateTest, GoodSpecIsValid) {
  TempFiles files;
  Capture c;
  EXPECT_EQ(Validate({files.Write("good.yaml", kGoodSpec)}, c.io), kExitOk) << c.out.str();
  EXPECT_EQ(c.out.str(), "valid\n");
}

TEST(ValidateTest, QuickstartExampleIsValid) {
  const std::string path = std::string(NETRIG_SOURCE_DIR) + "/examples/rfc2544-quickstart.yaml";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " does not exist yet";
  Capture c;
  EXPECT_EQ(Validate({path}, c.io), kExitOk) << c.out.str();
  EXPECT_EQ(c.out.str(), "valid\n");
  // Its short trials are RFC deviations: warnings on stderr, not errors.
  EXPECT_THAT(c.err.str(), HasSubstr("warning: "));
}

TEST(ValidateTest, BadSpecPrintsEveryErrorWithPath) {
  TempFiles files;
  Capture c;
  EXPECT_EQ(Validate({files.Write("bad.yaml", kBadSpec)}, c.io), kExitError);
  const std::string out = c.out.str();
  EXPECT_THAT(out, HasSubstr("spec.benchmark.rfc2544.frameSizes[1]: "));
  EXPECT_THAT(out, HasSubstr("spec.benchmark.rfc2544.traffic[0].to: "));
  EXPECT_THAT(out, Not(HasSubstr("valid\n")));
  // One error per line, each starting with its path.
  std::istringstream lines(out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    EXPECT_THAT(line, ::testing::StartsWith("spec.")) << line;
    ++n;
  }
  EXPECT_GE(n, 2);
}

TEST(ValidateTest, SeveralFilesArePrefixedWithTheirName) {
  TempFiles files;
  const std::string good = files.Write("good.yaml", kGoodSpec);
  const std::string bad = files.Write("bad.yaml", kBadSpec);
  Capture c;
  EXPECT_EQ(Validate({good, bad}, c.io), kExitError);
  EXPECT_THAT(c.out.str(), HasSubstr(good + ": valid\n"));
  EXPECT_THAT(c.out.str(), HasSubstr(bad + ": spec.benchmark.rfc2544.frameSizes[1]: "));

  Capture both_good;
  EXPECT_EQ(Validate({good, good}, both_good.io), kExitOk);
}

TEST(ValidateTest, SyntaxErrorAndMissingFile) {
  TempFiles files;
  Capture c;
  EXPECT_EQ(Validate({files.Write("broken.yaml", "spec: [unclosed\n")}, c.io), kExitError);
  EXPECT_FALSE(c.out.str().empty());

  Capture missing;
  EXPECT_EQ(Validate({"/nonexistent/spec.yaml"}, missing.io), kExitError);
  EXPECT_THAT(missing.err.str(), HasSubstr("cannot read /nonexistent/spec.yaml"));
}

TEST(ValidateTest, ReadsStdin) {
  Capture c;
  std::istringstream in(kGoodSpec);
  c.io.in = &in;
  EXPECT_EQ(Validate({"-"}, c.io), kExitOk);
  EXPECT_EQ(c.out.str(), "valid\n");
}

// ---------------------------------------------------------------- run

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = files_.Write("spec.yaml", kGoodSpec);
    client_ = server_.NewClient();
  }

  // A watch script: Pending, Running trials, then the final state.
  void ScriptRun(const std::string& final_phase, const std::string& verdict) {
    auto& s = server_.service;
    s.runs["run-1"] = MakeRun("run-1", final_phase, verdict);
    s.results["run-1"] = SampleResults("run-1");
    v1::Run pending = MakeRun("run-1", "Pending");
    v1::Run r1 = WithProgress(MakeRun("run-1", "Running"), "throughput", 64, 1, 100, 1488095, 0);
    v1::Run r2 = WithProgress(MakeRun("run-1", "Running"), "throughput", 64, 2, 50, 744047, 50);
    v1::Run done = MakeRun("run-1", final_phase, verdict);
    done.mutable_test_run()->mutable_status()->set_summary("3 frame sizes");
    s.watch_sessions = {{pending, r1, r2, done}};
  }

  int RunWait(Capture& c, Output output = Output::kTable) {
    RunOptions o;
    o.file = spec_;
    o.wait = true;
    o.output = output;
    o.reconnect_window = absl::Seconds(3);
    return cli::Run(*client_, o, c.io);
  }

  TempFiles files_;
  std::string spec_;
  FakeServer server_;
  std::unique_ptr<Client> client_;
};

TEST_F(RunTest, WithoutWaitPrintsTheRunId) {
  Capture c;
  RunOptions o;
  o.file = spec_;
  EXPECT_EQ(cli::Run(*client_, o, c.io), kExitOk) << c.err.str();
  EXPECT_EQ(c.out.str(), "run-1\n");
  EXPECT_EQ(server_.service.last_document, kGoodSpec);
}

TEST_F(RunTest, WithoutWaitJson) {
  Capture c;
  RunOptions o;
  o.file = spec_;
  o.output = Output::kJson;
  EXPECT_EQ(cli::Run(*client_, o, c.io), kExitOk);
  nlohmann::json j = nlohmann::json::parse(c.out.str());
  EXPECT_EQ(j["id"], "run-1");
  EXPECT_EQ(j["testRun"]["status"]["phase"], "Pending");
}

TEST_F(RunTest, WaitSucceededPassExitsZeroWithProgressAndResults) {
  ScriptRun("Succeeded", "Pass");
  Capture c;
  EXPECT_EQ(RunWait(c), kExitOk) << c.err.str();
  const std::string err = c.err.str();
  EXPECT_THAT(err, HasSubstr("submitted run run-1"));
  EXPECT_THAT(err, HasSubstr("Pending"));
  EXPECT_THAT(err, HasSubstr("Running  throughput  64B  west->east  trial 1  offered 100.00% "
                             "(1488095 fps)"));
  EXPECT_THAT(err, HasSubstr("trial 2  offered 50.00% (744047 fps)  last loss 50%"));
  EXPECT_THAT(err, HasSubstr("run run-1 Succeeded, verdict Pass"));
  EXPECT_THAT(err, Not(HasSubstr("\r")));  // not a terminal: plain lines
  const std::string out = c.out.str();
  EXPECT_THAT(out, HasSubstr("Direction west->east:"));
  EXPECT_THAT(out, HasSubstr("100%:12.3 90%:0 80%:0"));
  EXPECT_THAT(out, HasSubstr("744047"));
  EXPECT_THAT(out, HasSubstr("Trials:"));
}

TEST_F(RunTest, WaitEmptyVerdictIsSuccess) {
  ScriptRun("Succeeded", "");
  Capture c;
  EXPECT_EQ(RunWait(c), kExitOk);
}

TEST_F(RunTest, WaitFailedVerdictExitsOne) {
  ScriptRun("Failed", "Fail");
  Capture c;
  EXPECT_EQ(RunWait(c), kExitFailedVerdict);
  EXPECT_THAT(c.err.str(), HasSubstr("run run-1 Failed, verdict Fail"));
}

TEST_F(RunTest, WaitRegressedExitsOne) {
  ScriptRun("Failed", "Regressed");
  Capture c;
  EXPECT_EQ(RunWait(c), kExitFailedVerdict);
}

TEST_F(RunTest, WaitFailedWithoutVerdictIsAnError) {
  ScriptRun("Failed", "");
  Capture c;
  EXPECT_EQ(RunWait(c), kExitError);
}

TEST_F(RunTest, WaitCancelledAndInterruptedExitThree) {
  ScriptRun("Cancelled", "");
  Capture c;
  EXPECT_EQ(RunWait(c), kExitCancelled);
  ScriptRun("Interrupted", "");
  Capture c2;
  EXPECT_EQ(RunWait(c2), kExitCancelled);
}

TEST_F(RunTest, WaitJsonCombinesRunAndResults) {
  ScriptRun("Succeeded", "Pass");
  Capture c;
  EXPECT_EQ(RunWait(c, Output::kJson), kExitOk);
  nlohmann::json j = nlohmann::json::parse(c.out.str());
  EXPECT_EQ(j["run"]["testRun"]["status"]["verdict"], "Pass");
  EXPECT_EQ(j["results"]["id"], "run-1");
  EXPECT_EQ(j["results"]["trials"].size(), 2u);
}

TEST_F(RunTest, WaitOnTerminalRewritesOneLine) {
  ScriptRun("Succeeded", "Pass");
  Capture c;
  c.io.tty = true;
  EXPECT_EQ(RunWait(c), kExitOk);
  EXPECT_THAT(c.err.str(), HasSubstr("\r\033[K"));
  EXPECT_THAT(c.err.str(), HasSubstr("phase Pending -> Running"));
}

TEST_F(RunTest, WaitReconnectsWhenTheStreamEndsEarly) {
  ScriptRun("Succeeded", "Pass");
  v1::Run running =
      WithProgress(MakeRun("run-1", "Running"), "throughput", 64, 1, 100, 1488095, 0);
  server_.service.watch_sessions = {{running}, {MakeRun("run-1", "Succeeded", "Pass")}};
  Capture c;
  EXPECT_EQ(RunWait(c), kExitOk) << c.err.str();
  EXPECT_THAT(c.err.str(), HasSubstr("reconnecting"));
  EXPECT_EQ(server_.service.watch_calls, 2);
}

TEST_F(RunTest, WaitGivesUpWhenTheRunNeverComesBack) {
  ScriptRun("Running", "");
  server_.service.watch_sessions = {{MakeRun("run-1", "Running")}};
  server_.service.watch_unavailable_after = 1;  // the controller went away
  Capture c;
  RunOptions o;
  o.file = spec_;
  o.wait = true;
  o.reconnect_window = absl::Milliseconds(600);
  EXPECT_EQ(cli::Run(*client_, o, c.io), kExitError);
  EXPECT_THAT(c.err.str(), HasSubstr("gave up waiting for run run-1"));
}

TEST_F(RunTest, FirstCtrlCCancelsTheRunAndKeepsWatching) {
  auto& s = server_.service;
  s.runs["run-1"] = MakeRun("run-1", "Running");
  s.results["run-1"] = SampleResults("run-1");
  s.watch_sessions = {
      {WithProgress(MakeRun("run-1", "Running"), "throughput", 64, 1, 100, 1488095, 0)}};
  s.hold_watch = true;
  std::atomic<int> interrupts{1};
  Capture c;
  c.io.interrupts = &interrupts;
  EXPECT_EQ(RunWait(c), kExitCancelled) << c.err.str();
  EXPECT_EQ(s.cancel_calls, 1);
  EXPECT_EQ(s.last_cancel_id, "run-1");
  EXPECT_THAT(s.last_cancel_reason, HasSubstr("netrigctl"));
  EXPECT_THAT(c.err.str(), HasSubstr("cancelling run run-1"));
}

TEST_F(RunTest, SecondCtrlCStopsWaitingAtOnce) {
  auto& s = server_.service;
  s.runs["run-1"] = MakeRun("run-1", "Running");
  s.watch_sessions = {{MakeRun("run-1", "Running")}};
  s.hold_watch = true;
  std::atomic<int> interrupts{0};
  Capture c;
  c.io.interrupts = &interrupts;
  std::thread presser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    interrupts = 2;
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunWait(c), kExitAbandoned);
  presser.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_THAT(c.err.str(), HasSubstr("stopped waiting"));
}

TEST_F(RunTest, InvalidSpecFromServerPrintsEveryErrorAndExitsTwo) {
  server_.service.submit_error =
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                   "spec.benchmark.rfc2544.frameSizes[1]: 20 is below the 64-byte minimum\n"
                   "spec.benchmark.rfc2544.traffic[0].to: unknown port \"north\"");
  Capture c;
  RunOptions o;
  o.file = spec_;
  o.wait = true;
  EXPECT_EQ(cli::Run(*client_, o, c.io), kExitError);
  EXPECT_THAT(c.err.str(),
              AllOf(HasSubstr("\nspec.benchmark.rfc2544.frameSizes[1]: 20 is below the 64-byte "
                              "minimum\n"),
                    HasSubstr("\nspec.benchmark.rfc2544.traffic[0].to: unknown port \"north\"\n")));
  EXPECT_EQ(c.out.str(), "");
}

TEST_F(RunTest, MissingFile) {
  Capture c;
  RunOptions o;
  o.file = "/nonexistent.yaml";
  EXPECT_EQ(cli::Run(*client_, o, c.io), kExitError);
  EXPECT_THAT(c.err.str(), HasSubstr("cannot read /nonexistent.yaml"));
}

TEST_F(RunTest, WaitOnUnknownRun) {
  Capture c;
  RunOptions o;
  EXPECT_EQ(WaitForRun(*client_, "nope", o, c.io), kExitError);
  EXPECT_THAT(c.err.str(), HasSubstr("run nope not found"));
}

// ---------------------------------------------------------------- other commands

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& s = server_.service;
    v1::Run running = WithProgress(MakeRun("run-2", "Running"), "latency", 512, 4, 40, 93984, 0);
    running.mutable_test_run()->mutable_status()->set_start_time("2024-05-01T10:01:00Z");
    v1::StatusCondition* cond = running.mutable_test_run()->mutable_status()->add_conditions();
    cond->set_type("AgentsReady");
    cond->set_status("True");
    cond->set_reason("Placed");
    cond->set_message("west on a1, east on a2");
    cond->set_last_transition_time("2024-05-01T10:00:30Z");
    s.runs["run-1"] = MakeRun("run-1", "Succeeded", "Pass");
    s.runs["run-2"] = running;
    s.results["run-1"] = SampleResults("run-1");
    v1::AgentInfo a;
    a.set_id("a1");
    a.set_state("available");
    a.set_last_seen("2024-05-01T10:04:58Z");
    v1::PortCapability* p = a.mutable_capabilities()->add_ports();
    p->set_name("west");
    p->set_pmd("net_af_xdp");
    p->set_speed_bps(10'000'000'000);
    (*a.mutable_capabilities()->mutable_labels())["rack"] = "r1";
    s.agents.push_back(a);
    client_ = server_.NewClient();
  }

  FakeServer server_;
  std::unique_ptr<Client> client_;
};

TEST_F(CommandsTest, GetRunsTable) {
  Capture c;
  EXPECT_EQ(GetRuns(*client_, "", Output::kTable, c.io), kExitOk) << c.err.str();
  const std::string out = c.out.str();
  EXPECT_THAT(out, HasSubstr("ID      NAME         LEVEL   PHASE       VERDICT   PROGRESS"));
  EXPECT_THAT(out, HasSubstr("AGE"));
  EXPECT_THAT(out, HasSubstr("run-1   quickstart   L1      Succeeded   Pass"));
  EXPECT_THAT(out, HasSubstr("0/3 latency 512B"));
  EXPECT_THAT(out, HasSubstr("5m"));
}

TEST_F(CommandsTest, GetRunsPhaseFilterIsCanonicalised) {
  Capture c;
  EXPECT_EQ(GetRuns(*client_, "running", Output::kTable, c.io), kExitOk);
  EXPECT_EQ(server_.service.last_phase_filter, "Running");
  EXPECT_THAT(c.out.str(), AllOf(HasSubstr("run-2"), Not(HasSubstr("run-1"))));

  Capture bad;
  EXPECT_EQ(GetRuns(*client_, "Done", Output::kTable, bad.io), kExitError);
  EXPECT_THAT(bad.err.str(), HasSubstr("unknown phase \"Done\""));
}

TEST_F(CommandsTest, GetRunsJsonParses) {
  Capture c;
  EXPECT_EQ(GetRuns(*client_, "", Output::kJson, c.io), kExitOk);
  nlohmann::json j = nlohmann::json::parse(c.out.str());
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["id"], "run-1");
}

TEST_F(CommandsTest, GetAgentsTableAndJson) {
  Capture c;
  EXPECT_EQ(GetAgents(*client_, Output::kTable, c.io), kExitOk);
  EXPECT_THAT(c.out.str(), HasSubstr("ID   STATE       PORTS                 LABELS    LAST-SEEN"));
  EXPECT_THAT(c.out.str(), HasSubstr("a1   available   west/net_af_xdp/10G   rack=r1   2s ago"));
  Capture j;
  EXPECT_EQ(GetAgents(*client_, Output::kJson, j.io), kExitOk);
  nlohmann::json parsed = nlohmann::json::parse(j.out.str());
  EXPECT_EQ(parsed["agents"][0]["capabilities"]["ports"][0]["pmd"], "net_af_xdp");
}

TEST_F(CommandsTest, DescribeRun) {
  Capture c;
  EXPECT_EQ(DescribeRun(*client_, "run-2", c.io), kExitOk) << c.err.str();
  const std::string out = c.out.str();
  EXPECT_THAT(out, HasSubstr("ID:          run-2"));
  EXPECT_THAT(out, HasSubstr("Phase:       Running"));
  EXPECT_THAT(out, HasSubstr("Started:     2024-05-01T10:01:00Z (4m ago)"));
  EXPECT_THAT(out, HasSubstr("Progress:    latency  512B  west->east  trial 4"));
  EXPECT_THAT(out, HasSubstr("AgentsReady   True     Placed"));
}

TEST_F(CommandsTest, ResultsTableAndJson) {
  Capture c;
  EXPECT_EQ(Results(*client_, "run-1", Output::kTable, c.io), kExitOk);
  const std::string out = c.out.str();
  EXPECT_THAT(out, HasSubstr("Direction west->east:"));
  EXPECT_THAT(out, HasSubstr("SIZE   THROUGHPUT(fps)   %LINE   Mbit/s"));
  // 64 B: fps, %, Mbit/s, latency in us, the loss curve, back-to-back.
  EXPECT_THAT(out, HasSubstr("64     744047            50.00   381.0    1.20          3.40          "
                             "9.80          7.00          100%:12.3 90%:0 80%:0 "));
  EXPECT_THAT(out, HasSubstr(" 4096.0\n"));
  // 1518 B has only a throughput: Mbit/s derived from fps.
  EXPECT_THAT(out, HasSubstr("1518   40650             -       493.7"));
  EXPECT_THAT(out, HasSubstr("valid/fail"));
  EXPECT_THAT(out, HasSubstr("invalid"));
  EXPECT_THAT(out, HasSubstr("agent a2 did not report"));

  Capture j;
  EXPECT_EQ(Results(*client_, "run-1", Output::kJson, j.io), kExitOk);
  nlohmann::json parsed = nlohmann::json::parse(j.out.str());
  EXPECT_EQ(parsed["id"], "run-1");
  EXPECT_EQ(parsed["results"].size(), 12u);
  EXPECT_EQ(parsed["trials"][0]["txFrames"], "1488095");  // proto3 JSON: uint64 as string
}

TEST_F(CommandsTest, UnknownRunId) {
  Capture d;
  EXPECT_EQ(DescribeRun(*client_, "nope", d.io), kExitError);
  EXPECT_EQ(d.err.str(), "error: run nope not found\n");
  Capture r;
  EXPECT_EQ(Results(*client_, "nope", Output::kTable, r.io), kExitError);
  EXPECT_EQ(r.err.str(), "error: run nope not found\n");
  Capture x;
  EXPECT_EQ(Cancel(*client_, "nope", "", x.io), kExitError);
  EXPECT_EQ(x.err.str(), "error: run nope not found\n");
}

TEST_F(CommandsTest, CancelFinishedRun) {
  Capture c;
  EXPECT_EQ(Cancel(*client_, "run-1", "", c.io), kExitError);
  EXPECT_THAT(c.err.str(), HasSubstr("error: cannot cancel run run-1: it has already finished"));
}

TEST_F(CommandsTest, CancelRunningRun) {
  Capture c;
  EXPECT_EQ(Cancel(*client_, "run-2", "bad build", c.io), kExitOk) << c.err.str();
  EXPECT_EQ(c.out.str(), "run run-2 cancelled\n");
  EXPECT_EQ(server_.service.last_cancel_reason, "bad build");
}

TEST_F(CommandsTest, DeadlineExceeded) {
  server_.service.list_agents_delay = std::chrono::milliseconds(1500);
  std::unique_ptr<Client> impatient = server_.NewClient(absl::Milliseconds(200));
  Capture c;
  EXPECT_EQ(GetAgents(*impatient, Output::kTable, c.io), kExitError);
  EXPECT_THAT(c.err.str(), HasSubstr("did not answer ListAgents within 200ms"));
}

TEST(UnreachableTest, EveryCommandSaysItCannotReachTheController) {
  const std::string address = absl::StrCat("127.0.0.1:", UnusedPort());
  std::unique_ptr<Client> client = Client::Connect(address, absl::Seconds(5));
  const std::string expected = "error: cannot reach the controller at " + address + ": ";
  {
    Capture c;
    EXPECT_EQ(GetRuns(*client, "", Output::kTable, c.io), kExitError);
    EXPECT_THAT(c.err.str(), ::testing::StartsWith(expected));
  }
  {
    TempFiles files;
    Capture c;
    RunOptions o;
    o.file = files.Write("spec.yaml", kGoodSpec);
    o.wait = true;
    EXPECT_EQ(cli::Run(*client, o, c.io), kExitError);
    EXPECT_THAT(c.err.str(), ::testing::StartsWith(expected));
  }
  {
    Capture c;
    EXPECT_EQ(Cancel(*client, "run-1", "", c.io), kExitError);
    EXPECT_THAT(c.err.str(), ::testing::StartsWith(expected));
  }
}

// ---------------------------------------------------------------- the command line

class AppTest : public CommandsTest {
 protected:
  int Cli(std::vector<std::string> args, Capture& c) {
    args.insert(args.begin(), "netrigctl");
    return Main(args, c.io, [this](const std::string& server, absl::Duration timeout) {
      server_used = server;
      timeout_used = timeout;
      return server_.NewClient(timeout);
    });
  }
  std::string server_used;
  absl::Duration timeout_used;
};

TEST_F(AppTest, HelpDocumentsExitCodes) {
  Capture c;
  EXPECT_EQ(Cli({"--help"}, c), kExitOk);
  EXPECT_THAT(c.out.str(), AllOf(HasSubstr("Exit codes:"), HasSubstr("130"), HasSubstr("validate"),
                                 HasSubstr("NETRIG_SERVER")));
}

TEST_F(AppTest, GlobalOptionsAnywhere) {
  Capture c;
  EXPECT_EQ(Cli({"get", "runs", "--server", "ctl:1234", "--timeout", "3s", "-o", "json"}, c),
            kExitOk)
      << c.err.str();
  EXPECT_EQ(server_used, "ctl:1234");
  EXPECT_EQ(timeout_used, absl::Seconds(3));
  EXPECT_TRUE(nlohmann::json::accept(c.out.str()));
}

TEST_F(AppTest, DefaultServer) {
  Capture c;
  ::unsetenv("NETRIG_SERVER");
  EXPECT_EQ(Cli({"get", "agents"}, c), kExitOk);
  EXPECT_EQ(server_used, "127.0.0.1:7400");
  EXPECT_EQ(timeout_used, absl::Seconds(10));
  ::setenv("NETRIG_SERVER", "from-env:7401", 1);
  Capture e;
  EXPECT_EQ(Cli({"get", "agents"}, e), kExitOk);
  EXPECT_EQ(server_used, "from-env:7401");
  ::unsetenv("NETRIG_SERVER");
}

TEST_F(AppTest, Dispatch) {
  Capture d;
  EXPECT_EQ(Cli({"describe", "run", "run-2"}, d), kExitOk);
  EXPECT_THAT(d.out.str(), HasSubstr("run-2"));
  Capture r;
  EXPECT_EQ(Cli({"results", "run-1", "-o", "json"}, r), kExitOk);
  EXPECT_TRUE(nlohmann::json::accept(r.out.str()));
  Capture x;
  EXPECT_EQ(Cli({"cancel", "run-1", "--reason", "x"}, x), kExitError);
  Capture g;
  EXPECT_EQ(Cli({"get", "runs", "--phase", "Succeeded"}, g), kExitOk);
  EXPECT_THAT(g.out.str(), HasSubstr("run-1"));
}

TEST_F(AppTest, UsageErrorsExitTwo) {
  Capture none;
  EXPECT_EQ(Cli({}, none), kExitError);
  Capture bad_output;
  EXPECT_EQ(Cli({"results", "run-1", "-o", "yaml"}, bad_output), kExitError);
  Capture bad_timeout;
  EXPECT_EQ(Cli({"--timeout", "soon", "get", "runs"}, bad_timeout), kExitError);
  EXPECT_THAT(bad_timeout.err.str(), HasSubstr("--timeout"));
  Capture no_file;
  EXPECT_EQ(Cli({"validate"}, no_file), kExitError);
}

// ---------------------------------------------------------------- pure helpers

TEST(ExitCodeTest, ByPhaseAndVerdict) {
  auto code = [](const std::string& phase, const std::string& verdict) {
    v1::TestRunStatus s;
    s.set_phase(phase);
    s.set_verdict(verdict);
    return ExitCodeFor(s);
  };
  EXPECT_EQ(code("Succeeded", "Pass"), 0);
  EXPECT_EQ(code("Succeeded", ""), 0);
  EXPECT_EQ(code("Failed", "Fail"), 1);
  EXPECT_EQ(code("Failed", "Regressed"), 1);
  EXPECT_EQ(code("Succeeded", "Regressed"), 1);
  EXPECT_EQ(code("Failed", ""), 2);
  EXPECT_EQ(code("Succeeded", "Inconclusive"), 2);
  EXPECT_EQ(code("Cancelled", ""), 3);
  EXPECT_EQ(code("Interrupted", ""), 3);
  EXPECT_EQ(code("Running", ""), 2);
}

TEST(FormatTest, Helpers) {
  EXPECT_EQ(FormatNumber(12.30, 3), "12.3");
  EXPECT_EQ(FormatNumber(0, 3), "0");
  EXPECT_EQ(FormatNumber(-0.0001, 2), "0");
  EXPECT_EQ(FormatSpeed(10'000'000'000), "10G");
  EXPECT_EQ(FormatSpeed(2'500'000'000), "2.5G");
  EXPECT_EQ(FormatSpeed(100'000'000), "100M");
  EXPECT_EQ(FormatSpeed(0), "-");
  EXPECT_EQ(FormatAge(absl::Seconds(45)), "45s");
  EXPECT_EQ(FormatAge(absl::Minutes(12)), "12m");
  EXPECT_EQ(FormatAge(absl::Minutes(184)), "3h4m");
  EXPECT_EQ(FormatAge(absl::Hours(53)), "2d5h");
  EXPECT_EQ(FormatAge("garbage", absl::Now()), "-");
  EXPECT_EQ(FormatAge("2024-05-01T10:00:00Z", absl::FromUnixSeconds(1714557600 + 90)), "90s");
  EXPECT_EQ(*ParseTimeout("10"), absl::Seconds(10));
  EXPECT_EQ(*ParseTimeout("500ms"), absl::Milliseconds(500));
  EXPECT_FALSE(ParseTimeout("-1s").ok());
  EXPECT_FALSE(ParseTimeout("soon").ok());
}

TEST(FormatTest, ProgressLineWithoutCurrentTestShowsNewestCondition) {
  v1::Run run = MakeRun("r", "Scheduled");
  v1::StatusCondition* old = run.mutable_test_run()->mutable_status()->add_conditions();
  old->set_type("Scheduled");
  old->set_message("queued behind 2 runs");
  old->set_last_transition_time("2024-05-01T10:00:00Z");
  v1::StatusCondition* now = run.mutable_test_run()->mutable_status()->add_conditions();
  now->set_type("SutReady");
  now->set_message("creating linux-router");
  now->set_last_transition_time("2024-05-01T10:00:05Z");
  EXPECT_EQ(ProgressLine(run), "Scheduled  creating linux-router");
}

}  // namespace
}  // namespace netrig::cli
