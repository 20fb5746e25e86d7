#include "controller/local/local_agents.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace netrig::controller::local {
namespace {

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return "stopped";
}

}  // namespace

std::string FindAgentBinary(const std::string& self_exe) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::canonical(self_exe, ec);
  if (ec) return "";
  for (const std::filesystem::path& p :
       {self.parent_path() / "netrig-agent", self.parent_path().parent_path() / "agent" / "netrig-agent"}) {
    if (access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

LocalAgents::LocalAgents(LocalAgentsOptions options) : options_(std::move(options)) {}

std::vector<std::string> LocalAgents::Command(const std::string& id,
                                              const std::vector<LocalPort>& ports,
                                              const std::string& pmd) const {
  std::vector<std::string> argv = {options_.binary, "serve",    "--controller", options_.controller,
                                   "--id",          id,         "--label",      "pool=local",
                                   "--lcores",      options_.lcores};
  if (!options_.metrics_address.empty()) {
    argv.push_back("--metrics-address");
    argv.push_back(options_.metrics_address);
  }
  for (const LocalPort& p : ports) {
    std::string port = absl::StrCat("name=", p.name, ",pmd=", pmd, ",iface=", p.ifname);
    if (p.speed_bps != 0) absl::StrAppend(&port, ",speed=", p.speed_bps);
    if (!p.gateway_mac.empty()) absl::StrAppend(&port, ",gateway_mac=", p.gateway_mac);
    argv.push_back("--port");
    argv.push_back(port);
  }
  return argv;
}

absl::StatusOr<LocalAgent> LocalAgents::Start(const std::string& run_id,
                                              const std::vector<LocalPort>& ports,
                                              const std::string& pmd) const {
  if (!enabled()) return absl::FailedPreconditionError("local agents are not enabled");
  LocalAgent agent;
  agent.id = absl::StrCat("local-", run_id);
  agent.pmd = pmd;
  const std::string dir = options_.log_dir.empty() ? "/tmp" : options_.log_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  agent.log_path = absl::StrCat(dir, "/agent-", agent.id, ".log");
  const std::vector<std::string> args = Command(agent.id, ports, pmd);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    // The agent must not outlive the controller: the kernel signals it when we die.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);  // the controller died before prctl
    const int fd = open(agent.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    setpgid(0, 0);  // Ctrl-C in the controller's terminal is the controller's to handle
    execv(argv[0], argv.data());
    _exit(127);
  }
  agent.pid = pid;
  return agent;
}

bool LocalAgents::Running(LocalAgent& agent, std::string* exit_status) const {
  if (agent.pid <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(agent.pid, &status, WNOHANG);
  if (r == 0) return true;
  if (exit_status != nullptr) *exit_status = r == agent.pid ? DescribeWaitStatus(status) : "gone";
  agent.pid = -1;
  return false;
}

void LocalAgents::Stop(LocalAgent& agent) const {
  if (agent.pid <= 0) return;
  kill(agent.pid, SIGTERM);
  const absl::Time until = absl::Now() + options_.stop_grace;
  while (absl::Now() < until) {
    int status = 0;
    if (waitpid(agent.pid, &status, WNOHANG) == agent.pid) {
      agent.pid = -1;
      return;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(agent.pid, SIGKILL);
  int status = 0;
  waitpid(agent.pid, &status, 0);
  agent.pid = -1;
}

std::string LocalAgents::LogTail(const LocalAgent& agent, size_t max_bytes) {
  std::ifstream f(agent.log_path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace netrig::controller::local
