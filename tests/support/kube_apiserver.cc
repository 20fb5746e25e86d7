#include "tests/support/kube_apiserver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "lib/kube/client.h"
#include "tests/support/etcd_process.h"

namespace netrig::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kToolsHint[] =
    "build it with `tests/tools/build.sh` (see tests/tools/README.md) or set $KUBE_APISERVER";

bool Executable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(
           path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin", ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (Executable(candidate)) {
      return fs::absolute(candidate).string();
    }
  }
  return "";
}

// $env if set, else the most recently built <tools>/<tool>-*/bin/<tool>.
std::string FindTool(const char* env, const std::string& tool) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') {
    return Executable(v) ? std::string(v) : std::string();
  }
  const char* root_env = std::getenv("NETRIG_TOOLS_DIR");
  const fs::path root =
      root_env != nullptr && *root_env != '\0' ? root_env : "/var/cache/netrig-tools";
  std::error_code ec;
  std::string best;
  fs::file_time_type best_time;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
    if (entry.path().filename().string().rfind(tool + "-", 0) != 0) {
      continue;
    }
    const fs::path bin = entry.path() / "bin" / tool;
    std::error_code time_ec;
    const fs::file_time_type t = fs::last_write_time(bin, time_ec);
    if (!time_ec && Executable(bin.string()) && (best.empty() || t > best_time)) {
      best = bin.string();
      best_time = t;
    }
  }
  return best;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t lines) {
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      return text;
    }
  }
  return text.substr(pos + 1);
}

absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!in.read(raw.data(), static_cast<std::streamsize>(bytes))) {
    return absl::InternalError("cannot read /dev/urandom");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

// In the child after fork(): die with the test process (the parent at fork time).
void DieWithParent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    _exit(127);
  }
}

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  return argv;
}

// Starts a server with stdout and stderr going to `log`.
absl::StatusOr<pid_t> SpawnServer(std::vector<std::string> args, const std::string& log) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    DieWithParent(parent);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    std::vector<char*> argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Runs a command to completion with `stdin_text` piped in, capturing stdout and stderr.
CommandOutput RunCapture(std::vector<std::string> args,
                         const std::vector<std::pair<std::string, std::string>>& env,
                         const std::string& stdin_text) {
  CommandOutput result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = absl::StrCat("pipe: ", strerror(errno));
    return result;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    DieWithParent(parent);
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    for (const auto& [key, value] : env) {
      setenv(key.c_str(), value.c_str(), 1);
    }
    std::vector<char*> argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = absl::StrCat("fork: ", strerror(errno));
    return result;
  }
  // Feed stdin and drain both outputs together, so that no pipe fills up and blocks the child.
  int in_fd = in_pipe[1];
  size_t written = 0;
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (stdin_text.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) {
      break;
    }
    char buf[8192];
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_fd : err_fd;
      if (fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
          (i == 0 ? result.out : result.err).append(buf, n);
        } else if (n == 0 || errno != EINTR) {
          close(fd);
          fd = -1;
        }
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
      if (n > 0) {
        written += n;
      }
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_text.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) {
    close(in_fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool Exited(pid_t& pid) {
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
    pid = -1;
    return true;
  }
  return false;
}

std::string KubeconfigYaml(const std::string& server, const std::string& user,
                           const std::string& token, const std::string& ns) {
  return absl::Substitute(R"(apiVersion: v1
kind: Config
clusters:
- name: netrig-test
  cluster:
    server: $0
    insecure-skip-tls-verify: true
users:
- name: $1
  user:
    token: $2
contexts:
- name: netrig-test
  context:
    cluster: netrig-test
    user: $1
    namespace: $3
current-context: netrig-test
)",
                          server, user, token, ns);
}

absl::Status WriteFile(const std::string& path, const std::string& text, mode_t mode = 0600) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  const ssize_t n = write(fd, text.data(), text.size());
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return absl::InternalError(absl::StrCat("write ", path, ": short write"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string FindKubeApiServerBinary() { return FindTool("KUBE_APISERVER", "kube-apiserver"); }
std::string FindHelmBinary() { return FindTool("HELM", "helm"); }
std::string FindKubectlBinary() { return FindInPath("kubectl"); }

absl::StatusOr<std::unique_ptr<KubeApiServer>> KubeApiServer::Start(absl::Duration ready_timeout) {
  const std::string etcd = EtcdProcess::FindBinary();
  const std::string apiserver = FindKubeApiServerBinary();
  const std::string kubectl = FindKubectlBinary();
  const std::string openssl = FindInPath("openssl");
  if (etcd.empty()) {
    return absl::FailedPreconditionError(
        "etcd not found ($NETRIG_ETCD_BIN or PATH); install the etcd-server package");
  }
  if (apiserver.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "kube-apiserver not found (not built in /var/cache/netrig-tools); ", kToolsHint));
  }
  if (kubectl.empty()) {
    return absl::FailedPreconditionError("kubectl not found in PATH; install the kubectl package");
  }
  if (openssl.empty()) {
    return absl::FailedPreconditionError("openssl not found in PATH; install the openssl package");
  }

  std::unique_ptr<KubeApiServer> s(new KubeApiServer());
  std::string tmpl = (fs::temp_directory_path() / "netrig-apiserver-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", strerror(errno)));
  }
  s->dir_ = tmpl;
  const std::string& d = s->dir_;

  absl::StatusOr<std::string> token = RandomHex(16);
  if (!token.ok()) {
    return token.status();
  }
  s->token_ = *token;
  if (absl::Status st =
          WriteFile(d + "/tokens.csv",
                    absl::StrCat(s->token_, ",netrig-admin,netrig-admin,system:masters\n"));
      !st.ok()) {
    return st;
  }
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{openssl, "genrsa", "-out", d + "/sa.key", "2048"},
        std::vector<std::string>{openssl, "rsa", "-in", d + "/sa.key", "-pubout", "-out",
                                 d + "/sa.pub"}}) {
    const CommandOutput r = RunCapture(cmd, {}, "");
    if (r.exit_code != 0) {
      return absl::InternalError(
          absl::StrCat(absl::StrJoin(cmd, " "), " failed (", r.exit_code, "): ", r.err));
    }
  }

  const absl::Time deadline = absl::Now() + ready_timeout;
  // etcd: tests/support/etcd_process.h (its own temp dir and free ports, killed with us).
  absl::StatusOr<std::unique_ptr<EtcdProcess>> etcd_process = EtcdProcess::Start(etcd, ready_timeout);
  if (!etcd_process.ok()) {
    return etcd_process.status();
  }
  s->etcd_ = *std::move(etcd_process);
  const std::string client_url = absl::StrCat("http://", s->etcd_->endpoint());
  absl::StatusOr<int> secure = PickFreePort();  // racy but fine on a test machine
  if (!secure.ok()) {
    return secure.status();
  }

  s->url_ = absl::StrCat("https://127.0.0.1:", *secure);
  absl::StatusOr<pid_t> api_pid = SpawnServer(
      {apiserver, "--etcd-servers=" + client_url, "--bind-address=127.0.0.1",
       "--advertise-address=127.0.0.1", absl::StrCat("--secure-port=", *secure),
       "--cert-dir=" + d + "/certs", "--token-auth-file=" + d + "/tokens.csv",
       "--authorization-mode=RBAC",
       "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
       "--service-account-key-file=" + d + "/sa.pub",
       "--service-account-signing-key-file=" + d + "/sa.key",
       "--service-cluster-ip-range=10.96.0.0/24", "--endpoint-reconciler-type=none",
       "--allow-privileged=true",
       // No controller-manager creates the "default" ServiceAccount in new namespaces, so the
       // ServiceAccount admission plugin would reject every Pod (as envtest, leave it out).
       "--disable-admission-plugins=ServiceAccount"},
      d + "/apiserver.log");
  if (!api_pid.ok()) {
    return api_pid.status();
  }
  s->apiserver_pid_ = *api_pid;

  kube::Config config;
  config.server = s->url_;
  config.token = s->token_;
  config.insecure_skip_tls_verify = true;
  kube::ClientOptions options;
  options.request_timeout = absl::Seconds(2);
  options.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::Client::Create(config, options);
  if (!client.ok()) {
    return client.status();
  }
  absl::Status last;
  while (true) {
    absl::StatusOr<std::string> ready = (*client)->GetRaw("/readyz");
    if (ready.ok()) {
      break;
    }
    last = ready.status();
    pid_t pid = s->apiserver_pid_;
    if (Exited(pid)) {
      s->apiserver_pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("kube-apiserver exited during startup:\n", s->LogTail()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("kube-apiserver not ready after ", absl::FormatDuration(ready_timeout),
                       " (last: ", last.message(), "):\n", s->LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(100));  // bounded readiness poll
  }

  s->kubeconfig_ = d + "/kubeconfig";
  if (absl::Status st =
          WriteFile(s->kubeconfig_, KubeconfigYaml(s->url_, "netrig-admin", s->token_, "default"));
      !st.ok()) {
    return st;
  }
  return s;
}

KubeApiServer::~KubeApiServer() {
  // SIGKILL: the state dies with the directory, so a graceful shutdown buys nothing.
  if (apiserver_pid_ > 0) {
    kill(apiserver_pid_, SIGKILL);
    int status = 0;
    waitpid(apiserver_pid_, &status, 0);
    apiserver_pid_ = -1;
  }
  etcd_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

CommandOutput KubeApiServer::Kubectl(const std::vector<std::string>& args,
                                     const std::string& stdin_text) const {
  std::vector<std::string> argv = {FindKubectlBinary(), "--kubeconfig", kubeconfig_, "--cache-dir",
                                   dir_ + "/kube-cache"};
  argv.insert(argv.end(), args.begin(), args.end());
  if (argv[0].empty()) {
    CommandOutput r;
    r.err = "kubectl not found in PATH";
    return r;
  }
  return RunCapture(std::move(argv), {{"HOME", dir_}}, stdin_text);
}

absl::StatusOr<CommandOutput> KubeApiServer::Helm(const std::vector<std::string>& args) const {
  const std::string helm = FindHelmBinary();
  if (helm.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("helm not found (not built in /var/cache/netrig-tools); build it with "
                     "`tests/tools/build.sh helm` (see tests/tools/README.md) or set $HELM"));
  }
  std::vector<std::string> argv = {helm};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string home = dir_ + "/helm";
  return RunCapture(std::move(argv),
                    {{"KUBECONFIG", kubeconfig_},
                     {"HELM_CONFIG_HOME", home},
                     {"HELM_CACHE_HOME", home},
                     {"HELM_DATA_HOME", home},
                     {"HOME", dir_}},
                    "");
}

absl::StatusOr<std::string> KubeApiServer::ServiceAccountKubeconfig(const std::string& ns,
                                                                    const std::string& name) const {
  // The namespace and the account, created if missing (apply is idempotent).
  const std::string objects =
      absl::StrCat("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ", ns,
                   "\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ", name,
                   "\n  namespace: ", ns, "\n");
  const CommandOutput applied = Kubectl({"apply", "-f", "-"}, objects);
  if (applied.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("kubectl apply serviceaccount ", ns, "/", name, ": ", applied.err));
  }
  // `kubectl create token` is a TokenRequest (POST .../serviceaccounts/NAME/token).
  const CommandOutput token =
      Kubectl({"create", "token", name, "--namespace", ns, "--duration", "1h"});
  if (token.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("kubectl create token ", ns, "/", name, ": ", token.err));
  }
  const std::string path = absl::StrCat(dir_, "/sa-", ns, "-", name, ".kubeconfig");
  if (absl::Status st = WriteFile(
          path, KubeconfigYaml(url_, absl::StrCat("system:serviceaccount:", ns, ":", name),
                               std::string(absl::StripAsciiWhitespace(token.out)), ns));
      !st.ok()) {
    return st;
  }
  return path;
}

std::string KubeApiServer::LogTail() const {
  return absl::StrCat("--- kube-apiserver.log (tail) ---\n",
                      Tail(ReadAll(dir_ + "/apiserver.log"), 30), "--- etcd.log (tail) ---\n",
                      etcd_ != nullptr ? etcd_->LogTail() : std::string());
}

}  // namespace netrig::testing
