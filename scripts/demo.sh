#!/usr/bin/env bash
# The main job. Until the controller exists it installs packages, builds, and runs the agent's
# standalone loopback trial (DPDK ring port, three streams: 64 B IPv4, IMIX IPv4 with UDP
# checksums, and an IPv6 mix), then prints the per-stream and per-flow tables.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
echo
echo "== netrig-agent standalone run: examples/standalone-ring.yaml =="
build/agent/netrig-agent run -c examples/standalone-ring.yaml --max-rows 32
