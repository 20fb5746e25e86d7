// A small exec helper: runs argv directly (fork + execvp, no shell), captures stdout and stderr.
// The CommandRunner interface lets the netns provider be tested without executing anything.
#pragma once

#include <string>
#include <vector>

namespace netrig::controller::sut {

using Command = std::vector<std::string>;

struct ExecResult {
  int exit_code = -1;  // 127: could not execute; 128+N: killed by signal N
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

// Shell-quoted rendering of a command, for error messages and logs
// (`ip -n 'a b' link` style: only words that need it are quoted).
std::string ShellQuote(const std::string& word);
std::string RenderCommand(const Command& argv);

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual ExecResult Run(const Command& argv) = 0;
};

// Runs commands for real.
class ExecRunner : public CommandRunner {
 public:
  ExecResult Run(const Command& argv) override;
};

}  // namespace netrig::controller::sut
