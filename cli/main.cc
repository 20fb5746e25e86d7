// netrigctl: the user/CI client of the netrig controller. See docs/netrigctl.md.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"

namespace {

std::atomic<int> g_interrupts{0};

extern "C" void OnInterrupt(int) {
  // Counted; `run --wait` reads the count (1: cancel the run, 2: stop waiting). A third Ctrl-C
  // leaves at once whatever the program is doing.
  if (g_interrupts.fetch_add(1) + 1 >= 3) _exit(netrig::cli::kExitAbandoned);
}

bool IsWaitCommand(const std::vector<std::string>& args) {
  bool run = false;
  bool wait = false;
  for (const std::string& a : args) {
    if (a == "run") run = true;
    if (a == "--wait") wait = true;
  }
  return run && wait;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  netrig::cli::Io io{.out = std::cout, .err = std::cerr};
  io.tty = isatty(STDERR_FILENO) == 1;
  // Only `run --wait` turns Ctrl-C into "cancel the run"; elsewhere it ends the program as usual.
  if (IsWaitCommand(args)) {
    struct sigaction sa = {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    io.interrupts = &g_interrupts;
  }
  const int rc = netrig::cli::Main(args, io, [](const std::string& server, absl::Duration timeout) {
    return netrig::cli::Client::Connect(server, timeout);
  });
  std::cout.flush();
  return rc;
}
