// Loads a StandaloneRun (or any netrig.v1 message) from YAML or JSON text, and from
// command-line shorthands, with errors naming the field path and the reason:
//   streams[0].flows: expected an unsigned integer, got "many"
//   ports[1].pmdd: unknown field (known: name, pmd, iface, pci, speed, queues, mac)
// Shorthands accepted where a message is expected:
//   rate: "10%" | "1Mpps" | "200Mbps" | "max"        (RateProfile)
//   size: 64 | "imix" | "64-1518/4"                  (SizeProfile; sweep min-max/step)
//   src_ip: "198.18.1.2"                             (FieldRange with count 1)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/netrig/v1/agent.pb.h"

namespace netrig::agent::control {

absl::Status ParseMessageText(absl::string_view text, google::protobuf::Message* out);
absl::Status LoadMessageFile(const std::string& path, google::protobuf::Message* out);

// "--port name=west,pmd=net_af_xdp,iface=veth0" style: comma-separated key=value pairs, keys
// are field names (dots for nested: src_ip.count=16). Shorthand keys for streams: tx, rx,
// size, rate, src, dst.
absl::StatusOr<v1::PortConfig> ParsePortFlag(absl::string_view text);
absl::StatusOr<v1::StreamConfig> ParseStreamFlag(absl::string_view text);

}  // namespace netrig::agent::control
