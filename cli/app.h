// The netrigctl command line: CLI11 definitions, global options (--server, --timeout) and the
// dispatch to the command functions of commands.h. main.cc wires the real terminal; tests call
// Main() with string streams and a client factory pointing at a fake controller.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/client.h"
#include "cli/commands.h"

namespace netrig::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:7400";
inline constexpr char kServerEnv[] = "NETRIG_SERVER";

// Creates the client for --server and --timeout.
using ClientFactory =
    std::function<std::unique_ptr<Client>(const std::string& server, absl::Duration timeout)>;

// "10s", "1m30s", "500ms", or a plain number of seconds ("10", "2.5"). Must be positive.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

// The whole program: parses `args` (args[0] is the program name) and runs the command.
// Returns the exit code (usage errors: 2; --help: 0).
int Main(const std::vector<std::string>& args, Io& io, const ClientFactory& factory);

}  // namespace netrig::cli
