#include "agent/control/controller_client.h"

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "proto/netrig/v1/agent.grpc.pb.h"

namespace netrig::agent::control {
namespace {

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

// Sends one trial's interim batches on a ReportStats stream from a thread of its own, so the
// trial's control loop never waits on the network. Only the newest batch waits to be sent:
// when the network is slower than the interval, superseded batches are dropped (they are live
// views; final counters go separately and are never dropped).
class InterimReporter {
 public:
  InterimReporter(v1::AgentSession::Stub& stub, std::string agent_id, absl::Time deadline)
      : stub_(stub), agent_id_(std::move(agent_id)) {
    ctx_.set_deadline(absl::ToChronoTime(deadline));
    thread_ = std::thread([this] { Run(); });
  }
  ~InterimReporter() { Close(absl::ZeroDuration()); }
  InterimReporter(const InterimReporter&) = delete;
  InterimReporter& operator=(const InterimReporter&) = delete;

  // Non-blocking. Replaces a batch still waiting.
  void Offer(v1::FlowStatsBatch batch) {
    absl::MutexLock lock(&mu_);
    if (!closing_) pending_ = std::move(batch);
  }

  // Sends what waits, ends the stream and waits for the controller to have read it (so every
  // interim batch arrives before the final one); cancels the stream after `wait`.
  void Close(absl::Duration wait) {
    if (!thread_.joinable()) return;
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      if (!mu_.AwaitWithTimeout(absl::Condition(&done_), wait)) {
        ctx_.TryCancel();
      }
    }
    thread_.join();
  }

 private:
  void Run() {
    std::unique_ptr<grpc::ClientWriter<v1::FlowStatsBatch>> writer;
    v1::StatsAck ack;
    bool ok = true;
    for (;;) {
      std::optional<v1::FlowStatsBatch> batch;
      bool closing = false;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](InterimReporter* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
              return r->pending_.has_value() || r->closing_;
            },
            this));
        batch.swap(pending_);
        closing = closing_;
      }
      if (batch.has_value() && ok) {
        batch->set_agent_id(agent_id_);
        if (writer == nullptr) writer = stub_.ReportStats(&ctx_, &ack);
        ok = writer->Write(*batch);  // false: the stream broke; later batches are dropped
      }
      if (closing) break;
    }
    if (writer != nullptr) {
      if (ok) writer->WritesDone();
      writer->Finish();
    }
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  v1::AgentSession::Stub& stub_;
  const std::string agent_id_;
  grpc::ClientContext ctx_;
  absl::Mutex mu_;
  std::optional<v1::FlowStatsBatch> pending_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// When a trial's interim stream must be over: its start, TX and drain, plus slack.
absl::Time InterimDeadline(const v1::TrialStart& start, absl::Duration slack) {
  const absl::Time now = absl::Now();
  absl::Time begin = absl::FromUnixNanos(static_cast<int64_t>(start.start_unix_ns()));
  if (begin < now) begin = now;
  return begin + absl::Nanoseconds(static_cast<int64_t>(start.duration_ns())) +
         absl::Nanoseconds(static_cast<int64_t>(start.drain_ns())) + slack;
}

}  // namespace

ControllerClient::ControllerClient(AgentRuntime& runtime, ClientOptions options,
                                   AgentMetrics* metrics)
    : runtime_(runtime), options_(std::move(options)), metrics_(metrics) {}

void ControllerClient::SetState(SessionState state) {
  if (metrics_ != nullptr) metrics_->SetSessionState(state);
}

void ControllerClient::CountTrial(TrialResult result) {
  if (metrics_ != nullptr) metrics_->CountTrial(result);
}

void ControllerClient::Run(const std::atomic<bool>& shutdown) {
  SetState(SessionState::kDisconnected);
  absl::Duration backoff = options_.backoff_min;
  while (!shutdown.load()) {
    if (ServeSession(shutdown)) {
      backoff = options_.backoff_min;
    }
    if (shutdown.load()) {
      break;
    }
    // Sleep in small steps so shutdown stays prompt.
    const absl::Time until = absl::Now() + backoff;
    while (absl::Now() < until && !shutdown.load()) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

bool ControllerClient::ServeSession(const std::atomic<bool>& shutdown) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto channel = grpc::CreateCustomChannel(options_.target, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(DeadlineIn(options_.rpc_deadline))) {
    return false;
  }
  auto stub = v1::AgentSession::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->Session(&ctx);
  absl::Mutex write_mu;
  auto write = [&](const v1::AgentMessage& m) {
    absl::MutexLock lock(&write_mu);
    return stream->Write(m);
  };

  v1::AgentMessage reg;
  v1::AgentCapabilities* caps = reg.mutable_register_();
  caps->set_agent_id(options_.agent_id);
  caps->set_version(NETRIG_VERSION);
  for (const v1::PortCapability& pc : runtime_.PortCapabilities()) *caps->add_ports() = pc;
  caps->set_worker_cores(1);
  for (const auto& [k, v] : options_.labels) (*caps->mutable_labels())[k] = v;
  caps->set_metrics_address(options_.metrics_address);
  if (!write(reg)) {
    ctx.TryCancel();
    stream->Finish();
    return false;
  }
  SetState(SessionState::kIdle);

  std::atomic<bool> session_over{false};
  std::atomic<bool> trial_interrupt{false};
  std::atomic<bool> trial_running{false};
  std::string state = "idle";
  std::thread heartbeat([&] {
    while (!session_over.load()) {
      v1::AgentMessage hb;
      hb.mutable_heartbeat()->set_unix_ns(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
      hb.mutable_heartbeat()->set_state(trial_running.load() ? "running" : "idle");
      if (!write(hb)) break;
      const absl::Time until = absl::Now() + options_.heartbeat;
      while (absl::Now() < until && !session_over.load()) {
        if (shutdown.load()) {
          ctx.TryCancel();  // ends the read loop below
          break;
        }
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  });

  std::thread trial_thread;
  std::string running_trial;
  v1::ControllerMessage msg;
  while (stream->Read(&msg)) {
    if (msg.has_stop()) {
      if (msg.stop().trial_id() == running_trial) trial_interrupt.store(true);
      continue;
    }
    if (!msg.has_start()) continue;
    v1::AgentMessage ack;
    ack.mutable_ack()->set_command_id(msg.command_id());
    if (trial_running.load()) {
      ack.mutable_ack()->set_ok(false);
      ack.mutable_ack()->set_error("busy: another trial is running");
      write(ack);
      CountTrial(TrialResult::kRefused);
      continue;
    }
    if (absl::Status s = runtime_.ValidateStreams(msg.start().streams()); !s.ok()) {
      ack.mutable_ack()->set_ok(false);
      ack.mutable_ack()->set_error(std::string(s.message()));
      write(ack);
      CountTrial(TrialResult::kRefused);
      continue;
    }
    ack.mutable_ack()->set_ok(true);
    write(ack);
    if (trial_thread.joinable()) trial_thread.join();
    trial_interrupt.store(false);
    trial_running.store(true);
    SetState(SessionState::kRunning);
    running_trial = msg.start().trial_id();
    trial_thread = std::thread([this, &write, &trial_interrupt, &trial_running, &stub,
                                start = msg.start(), command = msg.command_id()] {
      std::unique_ptr<InterimReporter> interim;
      ProgressCallback on_progress;
      if (start.progress_interval_ns() > 0) {
        interim = std::make_unique<InterimReporter>(
            *stub, options_.agent_id, InterimDeadline(start, 2 * options_.rpc_deadline));
        on_progress = [&interim](v1::FlowStatsBatch b) { interim->Offer(std::move(b)); };
      }
      auto outcome = runtime_.RunTrial(start, &trial_interrupt, on_progress);
      // The data plane is idle again: the controller may send the next trial as soon as it has
      // these counters, so accept it from now on (the reader joins this thread before starting
      // the next one).
      trial_running.store(false);
      SetState(SessionState::kIdle);
      CountTrial(!outcome.ok()          ? TrialResult::kRefused
                 : outcome->interrupted ? TrialResult::kInterrupted
                                        : TrialResult::kCompleted);
      if (interim != nullptr) interim->Close(options_.rpc_deadline);
      if (!outcome.ok() || outcome->interrupted) {
        v1::AgentMessage fail;
        fail.mutable_ack()->set_command_id(command);
        fail.mutable_ack()->set_ok(false);
        fail.mutable_ack()->set_error(outcome.ok() ? "trial interrupted"
                                                   : std::string(outcome.status().message()));
        write(fail);
      } else {
        v1::FlowStatsBatch batch = std::move(outcome->stats);
        batch.set_agent_id(options_.agent_id);
        grpc::ClientContext rctx;
        rctx.set_deadline(DeadlineIn(options_.rpc_deadline));
        v1::StatsAck sack;
        auto writer = stub->ReportStats(&rctx, &sack);
        writer->Write(batch);
        writer->WritesDone();
        writer->Finish();
      }
    });
  }
  // The session is over: stop transmitting now (safety stop), then clean up.
  session_over.store(true);
  trial_interrupt.store(true);
  if (trial_thread.joinable()) trial_thread.join();
  SetState(SessionState::kDisconnected);
  heartbeat.join();
  stream->Finish();
  return true;
}

}  // namespace netrig::agent::control
