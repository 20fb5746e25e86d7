#include "cli/commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/format.h"
#include "lib/spec/testrun.h"

namespace netrig::cli {
namespace {

constexpr const char* kPhases[] = {"Pending",   "Scheduled", "Running",    "Succeeded",
                                   "Failed",    "Cancelled", "Interrupted"};

std::optional<std::string> ReadInput(const std::string& file, Io& io, std::string* error) {
  if (file == "-") {
    std::string text((std::istreambuf_iterator<char>(*io.in)), std::istreambuf_iterator<char>());
    return text;
  }
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    *error = absl::StrCat("cannot read ", file, ": ", std::strerror(errno));
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) {
    *error = absl::StrCat("cannot read ", file, ": ", std::strerror(errno));
    return std::nullopt;
  }
  return text;
}

// Prints an RPC failure; `id` names the run for NOT_FOUND.
int PrintError(const absl::Status& status, const std::string& id, Io& io) {
  if (absl::IsNotFound(status) && !id.empty()) {
    io.err << "error: run " << id << " not found\n";
  } else {
    io.err << "error: " << status.message() << "\n";
  }
  return kExitError;
}

// Live progress on stderr: one line per change, or one line rewritten in place on a terminal.
// Also used from the Ctrl-C thread, hence the lock.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(Io& io) : io_(io) {}

  void Update(const v1::Run& run) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& phase = run.test_run().status().phase();
    if (io_.tty && phase != last_phase_ && !last_phase_.empty()) {
      ClearLocked();
      io_.err << "phase " << last_phase_ << " -> " << phase << "\n";
    }
    last_phase_ = phase;
    const std::string line = ProgressLine(run);
    if (line == last_line_ && (open_ || !io_.tty)) return;
    last_line_ = line;
    if (io_.tty) {
      io_.err << "\r\033[K" << line;
      open_ = true;
    } else {
      io_.err << line << "\n";
    }
    io_.err.flush();
  }

  void Note(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    ClearLocked();
    io_.err << text << "\n";
    if (io_.tty && !last_line_.empty()) {
      io_.err << last_line_;
      open_ = true;
    }
    io_.err.flush();
  }

  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_) io_.err << "\n";
    open_ = false;
    io_.err.flush();
  }

 private:
  void ClearLocked() {
    if (open_) io_.err << "\r\033[K";
    open_ = false;
  }

  Io& io_;
  std::mutex mu_;
  std::string last_line_;
  std::string last_phase_;
  bool open_ = false;
};

// Watches the Ctrl-C counter while `run --wait` waits: the first Ctrl-C asks the controller to
// cancel the run (and the wait goes on until the run ends), the second cancels every call in
// flight so that the wait returns at once.
class InterruptWatcher {
 public:
  InterruptWatcher(Client& client, const std::string& id, const RunOptions& options, Io& io,
                   ProgressDisplay& display)
      : client_(client), id_(id), options_(options), io_(io), display_(display) {
    if (io_.interrupts != nullptr) thread_ = std::thread([this] { Loop(); });
  }
  ~InterruptWatcher() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    if (cancel_thread_.joinable()) cancel_thread_.join();
  }
  bool abandoned() const { return abandoned_; }

 private:
  void Loop() {
    bool cancel_sent = false;
    while (!done_) {
      const int n = io_.interrupts->load();
      if (n >= 2) {
        abandoned_ = true;
        display_.Note(absl::StrCat("stopped waiting; run ", id_,
                                   " may still be running (netrigctl get runs)"));
        client_.CancelAll();
        return;
      }
      if (n >= 1 && !cancel_sent) {
        cancel_sent = true;
        display_.Note(absl::StrCat("interrupted: cancelling run ", id_,
                                   " and waiting for it to stop (Ctrl-C again to stop waiting)"));
        // In its own thread so that a second Ctrl-C is seen while CancelRun is in flight.
        cancel_thread_ = std::thread([this] {
          absl::StatusOr<v1::Run> r = client_.CancelRun(id_, "interrupted from netrigctl");
          if (r.ok()) return;
          if (absl::IsFailedPrecondition(r.status())) {
            display_.Note(absl::StrCat("run ", id_, " has already finished"));
          } else if (!absl::IsCancelled(r.status())) {
            display_.Note(absl::StrCat("cancel failed: ", r.status().message()));
          }
        });
      }
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(options_.poll_interval));
    }
  }

  Client& client_;
  const std::string id_;
  const RunOptions& options_;
  Io& io_;
  ProgressDisplay& display_;
  std::atomic<bool> done_{false};
  std::atomic<bool> abandoned_{false};
  std::thread thread_;
  std::thread cancel_thread_;
};

std::string CombinedJson(const v1::Run& run, const v1::RunResults& results) {
  nlohmann::ordered_json j;
  j["run"] = nlohmann::ordered_json::parse(ToJson(run));
  j["results"] = nlohmann::ordered_json::parse(ToJson(results));
  return j.dump(2) + "\n";
}

}  // namespace

bool IsFinished(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Cancelled" ||
         phase == "Interrupted";
}

int ExitCodeFor(const v1::TestRunStatus& status) {
  const std::string& phase = status.phase();
  const std::string& verdict = status.verdict();
  const bool failed_verdict = verdict == "Fail" || verdict == "Regressed";
  if (phase == "Cancelled" || phase == "Interrupted") return kExitCancelled;
  if (failed_verdict && (phase == "Failed" || phase == "Succeeded")) return kExitFailedVerdict;
  if (phase == "Succeeded" && (verdict.empty() || verdict == "Pass")) return kExitOk;
  return kExitError;  // Failed without a verdict, Inconclusive, unknown phase
}

int Validate(const std::vector<std::string>& files, Io& io) {
  if (files.empty()) {
    io.err << "error: no file given (-f FILE)\n";
    return kExitError;
  }
  const bool several = files.size() > 1;
  bool all_valid = true;
  for (const std::string& file : files) {
    std::string error;
    std::optional<std::string> text = ReadInput(file, io, &error);
    if (!text) {
      io.err << "error: " << error << "\n";
      all_valid = false;
      continue;
    }
    std::vector<spec::Document> docs = spec::ParseDocuments(*text);
    if (docs.empty()) {
      io.out << (several ? file + ": " : "") << "no document found\n";
      all_valid = false;
      continue;
    }
    bool file_valid = true;
    for (const spec::Document& doc : docs) {
      std::string prefix = several ? file + ": " : "";
      if (docs.size() > 1) {
        absl::StrAppend(&prefix, "document ", doc.index + 1,
                        doc.kind.empty() ? "" : " (" + doc.kind + ")", ": ");
      }
      for (const spec::FieldError& e : doc.errors) io.out << prefix << e << "\n";
      for (const spec::FieldError& w : doc.warnings) io.err << "warning: " << prefix << w << "\n";
      if (!doc.ok()) file_valid = false;
    }
    if (file_valid && several) io.out << file << ": valid\n";
    all_valid = all_valid && file_valid;
  }
  if (!all_valid) return kExitError;
  if (!several) io.out << "valid\n";
  return kExitOk;
}

std::string DefaultTrigger(const char* ci_env) {
  if (ci_env == nullptr) return "manual";
  const std::string v = absl::AsciiStrToLower(ci_env);
  return v == "true" || v == "1" || v == "yes" ? "ci" : "manual";
}

int Run(Client& client, const RunOptions& options, Io& io) {
  std::string error;
  std::optional<std::string> text = ReadInput(options.file, io, &error);
  if (!text) {
    io.err << "error: " << error << "\n";
    return kExitError;
  }
  std::map<std::string, std::string> labels;
  if (!options.trigger.empty()) labels["netrig.io/trigger"] = options.trigger;
  absl::StatusOr<v1::Run> run = client.SubmitRun(*text, labels);
  if (!run.ok()) {
    if (absl::IsInvalidArgument(run.status())) {
      io.err << "error: the controller rejected " << options.file << ":\n";
      for (absl::string_view line : absl::StrSplit(run.status().message(), '\n', absl::SkipEmpty())) {
        io.err << line << "\n";
      }
      return kExitError;
    }
    return PrintError(run.status(), "", io);
  }
  if (!options.wait) {
    if (options.output == Output::kJson) {
      io.out << ToJson(*run);
    } else {
      io.out << run->id() << "\n";
    }
    return kExitOk;
  }
  io.err << "submitted run " << run->id();
  if (!run->test_run().metadata().name().empty()) io.err << " (" << run->test_run().metadata().name() << ")";
  io.err << "\n";
  return WaitForRun(client, run->id(), options, io);
}

int WaitForRun(Client& client, const std::string& id, const RunOptions& options, Io& io) {
  ProgressDisplay display(io);
  v1::Run last;
  bool have_last = false;
  bool abandoned = false;
  absl::Status failure;
  {
    InterruptWatcher watcher(client, id, options, io, display);
    std::optional<absl::Time> lost_since;
    absl::Duration backoff = absl::Milliseconds(250);
    while (true) {
      std::unique_ptr<Client::Watch> watch = client.WatchRun(id);
      v1::Run update;
      while (watch->Read(&update)) {
        last = update;
        have_last = true;
        lost_since.reset();
        backoff = absl::Milliseconds(250);
        display.Update(last);
      }
      absl::Status status = watch->Finish();
      watch.reset();
      if (watcher.abandoned() || client.cancelled()) {
        abandoned = true;
        break;
      }
      if (have_last && IsFinished(last.test_run().status().phase())) break;
      // UNAVAILABLE: the controller went away (kill -9, network); CANCELLED not from us: it
      // shut down. Both are worth re-attaching; anything else (NOT_FOUND...) is final.
      if (!status.ok() && !absl::IsUnavailable(status) && !absl::IsCancelled(status)) {
        failure = status;
        break;
      }
      // The stream ended before the run did (controller restart, connection loss): attach
      // again; the first update of the new stream is the run as it is now.
      const absl::Time now = absl::Now();
      if (!lost_since) {
        lost_since = now;
        display.Note(absl::StrCat("lost the watch on run ", id, " (",
                                  status.ok() ? "stream ended" : status.message(),
                                  "); reconnecting"));
      } else if (now - *lost_since > options.reconnect_window) {
        failure = absl::UnavailableError(absl::StrCat(
            "gave up waiting for run ", id, " after ",
            absl::FormatDuration(options.reconnect_window), " without the controller: ",
            status.ok() ? "watch stream ended" : status.message()));
        break;
      }
      const absl::Time until = now + backoff;
      while (absl::Now() < until && !watcher.abandoned() && !client.cancelled()) {
        absl::SleepFor(std::min(options.poll_interval, until - absl::Now()));
      }
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    abandoned = abandoned || watcher.abandoned();
  }
  display.End();
  if (abandoned) return kExitAbandoned;
  if (!failure.ok()) return PrintError(failure, id, io);

  io.err << OutcomeLine(last) << "\n";
  absl::StatusOr<v1::RunResults> results = client.GetResults(id);
  v1::RunResults shown;
  if (results.ok()) {
    shown = *results;
  } else {
    io.err << "warning: cannot fetch the results of run " << id << ": "
           << results.status().message() << "\n";
    shown.set_id(id);
    *shown.mutable_results() = last.test_run().status().results();
  }
  if (options.output == Output::kJson) {
    io.out << CombinedJson(last, shown);
  } else {
    io.out << OutcomeLine(last) << "\n";
    if (!last.test_run().status().report_url().empty()) {
      io.out << "report: " << last.test_run().status().report_url() << "\n";
    }
    io.out << "\n";
    PrintResults(shown, io.out, options.max_trial_rows);
  }
  return ExitCodeFor(last.test_run().status());
}

int GetRuns(Client& client, const std::string& phase, Output output, Io& io) {
  std::string canonical;
  if (!phase.empty()) {
    for (const char* p : kPhases) {
      if (absl::EqualsIgnoreCase(phase, p)) canonical = p;
    }
    if (canonical.empty()) {
      io.err << "error: unknown phase \"" << phase << "\" (one of "
             << absl::StrJoin(std::begin(kPhases), std::end(kPhases), ", ") << ")\n";
      return kExitError;
    }
  }
  absl::StatusOr<v1::ListRunsResponse> runs = client.ListRuns(canonical);
  if (!runs.ok()) return PrintError(runs.status(), "", io);
  if (output == Output::kJson) {
    io.out << ToJson(*runs);
    return kExitOk;
  }
  if (runs->runs().empty()) {
    io.out << "No runs" << (canonical.empty() ? "" : " in phase " + canonical) << ".\n";
    return kExitOk;
  }
  PrintRunsTable({runs->runs().begin(), runs->runs().end()}, io.now, io.out);
  return kExitOk;
}

int GetAgents(Client& client, Output output, Io& io) {
  absl::StatusOr<v1::ListAgentsResponse> agents = client.ListAgents();
  if (!agents.ok()) return PrintError(agents.status(), "", io);
  if (output == Output::kJson) {
    io.out << ToJson(*agents);
    return kExitOk;
  }
  if (agents->agents().empty()) {
    io.out << "No agents registered.\n";
    return kExitOk;
  }
  PrintAgentsTable({agents->agents().begin(), agents->agents().end()}, io.now, io.out);
  return kExitOk;
}

int DescribeRun(Client& client, const std::string& id, Io& io) {
  absl::StatusOr<v1::Run> run = client.GetRun(id);
  if (!run.ok()) return PrintError(run.status(), id, io);
  PrintRunDescription(*run, io.now, io.out);
  return kExitOk;
}

int Results(Client& client, const std::string& id, Output output, Io& io) {
  absl::StatusOr<v1::RunResults> results = client.GetResults(id);
  if (!results.ok()) return PrintError(results.status(), id, io);
  if (output == Output::kJson) {
    io.out << ToJson(*results);
  } else {
    PrintResults(*results, io.out);
  }
  return kExitOk;
}

int Cancel(Client& client, const std::string& id, const std::string& reason, Io& io) {
  absl::StatusOr<v1::Run> run = client.CancelRun(id, reason);
  if (!run.ok()) {
    if (absl::IsFailedPrecondition(run.status())) {
      io.err << "error: cannot cancel run " << id << ": it has already finished";
      if (!run.status().message().empty()) io.err << " (" << run.status().message() << ")";
      io.err << "\n";
      return kExitError;
    }
    return PrintError(run.status(), id, io);
  }
  const std::string& phase = run->test_run().status().phase();
  io.out << "run " << id << (phase == "Cancelled" ? " cancelled" : " cancellation requested")
         << (phase.empty() || phase == "Cancelled" ? "" : " (phase " + phase + ")") << "\n";
  return kExitOk;
}

}  // namespace netrig::cli
