#!/usr/bin/env bash
# The main job: a controller, a local agent and a virtual SUT on this machine, one RFC 2544 run.
#
#   scripts/demo.sh [spec.yaml]        (default examples/rfc2544-quickstart.yaml; needs root)
#
# Installs the packages and builds (scripts/setup.sh), starts netrig-controller with the
# embedded SQLite store and the netns SUT provider, and submits the spec with
# `netrigctl run --wait`: the controller creates the SUT namespace (linux-shaper), starts a
# netrig-agent on its veth links, calibrates, runs the benchmark with live progress, writes the
# reports (HTML, JSON, JUnit) and removes the SUT. The script then stops the controller and
# checks that no namespace, veth or process of netrig is left. Output: demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "demo: needs root for network namespaces; re-running with sudo"
  exec sudo -E "$0" "$@"
fi
SPEC="${1:-examples/rfc2544-quickstart.yaml}"
OUT="${NETRIG_DEMO_OUT:-$PWD/demo-output}"
GRPC="${NETRIG_DEMO_GRPC:-127.0.0.1:17400}"
REST="${NETRIG_DEMO_REST:-127.0.0.1:17401}"

scripts/setup.sh build --targets "netrig-controller netrig-agent netrigctl"

rm -rf "$OUT"
mkdir -p "$OUT"
controller_pid=""
stop_controller() {
  if [[ -n "$controller_pid" ]] && kill -0 "$controller_pid" 2>/dev/null; then
    kill -TERM "$controller_pid"   # cancels a running run; its SUT and agent are removed
    wait "$controller_pid" 2>/dev/null || true
  fi
  controller_pid=""
}
trap stop_controller EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

echo
echo "== netrig-controller: gRPC $GRPC, REST $REST, store sqlite:$OUT/state.db, SUT provider netns =="
build/controller/netrig-controller --listen "$GRPC" --rest "$REST" --store "sqlite:$OUT/state.db" \
  --results-dir "$OUT/results" --sut-provider netns --local-agents build/agent/netrig-agent \
  2>"$OUT/controller.log" &
controller_pid=$!
for _ in $(seq 100); do
  kill -0 "$controller_pid" 2>/dev/null || break
  build/cli/netrigctl --server "$GRPC" get agents >/dev/null 2>&1 && break
  sleep 0.1
done
if ! kill -0 "$controller_pid" 2>/dev/null; then
  echo "demo: netrig-controller did not start:"; cat "$OUT/controller.log"; exit 1
fi

echo "== netrigctl run -f $SPEC --wait =="
set +e
build/cli/netrigctl --server "$GRPC" run -f "$SPEC" --wait --max-trial-rows 0
rc=$?
set -e
run_id=$(build/cli/netrigctl --server "$GRPC" get runs -o json | python3 -c \
  'import json,sys; r=json.load(sys.stdin).get("runs", []); print(r[0]["id"] if r else "")')
stop_controller

echo
echo "== teardown check =="
left=0
if ip netns list | grep -q '^nrsut-'; then echo "left behind: $(ip netns list | grep '^nrsut-')"; left=1; fi
if pgrep -f 'netrig-(agent|controller)' >/dev/null; then echo "left behind: $(pgrep -af 'netrig-(agent|controller)')"; left=1; fi
if [[ -n "$run_id" ]] && ip -o link show | grep -q "nr[0-9a-f]\{6\}p[0-9]"; then echo "left behind: veths"; left=1; fi
((left == 0)) && echo "no SUT namespace, veth or netrig process is left"

if [[ -n "$run_id" && -f "$OUT/results/$run_id/report.html" ]]; then
  echo
  echo "Reports of run $run_id:"
  echo "  HTML   $OUT/results/$run_id/report.html"
  echo "  JSON   $OUT/results/$run_id/report.json   (schema docs/schemas/report-v1.schema.json)"
  echo "  JUnit  $OUT/results/$run_id/junit.xml"
  echo "  per-flow counters of every trial: $OUT/results/$run_id/trial-*.json"
fi
((left == 0)) || exit 1
exit "$rc"
