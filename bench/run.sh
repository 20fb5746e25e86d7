#!/usr/bin/env bash
# Side-by-side performance measurements, one run, one worker core, 64-byte frames.
# Prints one line per comparison:  name: ours X, reference Y, ratio Z
# Needs root (namespaces for the AF_XDP comparison). Usage: bench/run.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
DUR="${1:-5}"
[[ -x "$BUILD/agent/netrig-agent" && -x "$BUILD/bench/rx_analyzer_bench" ]] ||
  scripts/setup.sh "$BUILD" -DNETRIG_BUILD_BENCH=ON
AGENT="$BUILD/agent/netrig-agent"
OUT="bench/out"
mkdir -p "$OUT"

py() { python3 -c "$@"; }

# Agent TX rate (frames/s) of a standalone run; extra args are passed to `netrig-agent run`.
agent_tx_pps() {
  "$AGENT" run --lcores 0,1 --poll busy --duration "${DUR}s" --drain 100ms -o json "$@" \
    2>"$OUT/agent.err" >"$OUT/agent.json"
  py 'import json; j=json.load(open("'"$OUT"'/agent.json")); s=j["stats"]["streams"][0]; print(int(s["tx_packets"])/j["duration_s"])'
}

# testpmd txonly on the same core (lcore 1 forwards); median of its per-second Tx-pps samples.
testpmd_pps() {
  (sleep "$((DUR + 2))"; echo) | timeout "$((DUR + 10))" dpdk-testpmd -l 0,1 --no-huge -m 1024 \
    --no-pci --file-prefix "nrbench$$" "$@" -- --forward-mode=txonly --txpkts=64 \
    --total-num-mbufs=16384 --stats-period 1 -a >"$OUT/testpmd.log" 2>&1 || true
  py '
import re, statistics
v = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", open("'"$OUT"'/testpmd.log").read())]
v = [x for x in v if x > 0][1:]   # drop the ramp-up sample
print(statistics.median(v) if v else 0)'
}

line() {  # name ours reference [note]
  py "o=$2; r=$3; print(f'$1: ours {o:.0f}, reference {r:.0f}, ratio {o/r if r else 0:.3f}' + ('$4' and ' ($4)'))"
}

echo "# netrig bench $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo -) on $(nproc) cores"

# 1. TX with signatures over 1024 flows into net_null vs testpmd txonly (one flow).
ours=$(agent_tx_pps --port name=n,pmd=net_null --stream tx=n,flows=1024,size=64,rate=max)
ref=$(testpmd_pps --vdev net_null0)
line tx_net_null_64B "$ours" "$ref" "frames/s; ours 1024 flows with signatures, testpmd txonly"

# 2. TX on net_af_xdp over a veth (in a namespace made here) vs testpmd on the same PMD.
NS="nrbench$$"
cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "/var/run/dpdk/nrbench$$"  # testpmd's runtime directory
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link add nrbx0 type veth peer name nrbx1
ip -n "$NS" link set nrbx0 up
ip -n "$NS" link set nrbx1 up
AGENT_NS=(ip netns exec "$NS")
ours=$("${AGENT_NS[@]}" bash -c "$(declare -f agent_tx_pps py); AGENT=$AGENT OUT=$OUT DUR=$DUR agent_tx_pps --port name=x,pmd=net_af_xdp,iface=nrbx0 --stream tx=x,flows=1024,size=64,rate=max")
ref=$("${AGENT_NS[@]}" bash -c "$(declare -f testpmd_pps py); OUT=$OUT DUR=$DUR testpmd_pps --vdev net_af_xdp0,iface=nrbx0,start_queue=0,queue_count=1")
line tx_af_xdp_veth_64B "$ours" "$ref" "frames/s"
cleanup

# 3. RX analyzer cost per packet, 65,536 flows in random order (Google Benchmark).
"$BUILD/bench/rx_analyzer_bench" --benchmark_format=json --benchmark_out="$OUT/rx.json" \
  --benchmark_out_format=json >/dev/null 2>&1
py '
import json
b = {x["name"].split("/")[0]: x["ns_per_packet"] * 1e9 for x in json.load(open("'"$OUT"'/rx.json"))["benchmarks"]}
full, ref = b["BM_AnalyzeFull"], b["BM_CountOnly"]
verdict = "met" if full <= 30 else "MISSED"
print(f"rx_analyzer_ns_per_packet_65536_flows: ours {full:.2f}, reference {ref:.2f}, ratio {full/ref:.3f} "
      f"(reference = find signature and count only; budget 30 ns: {verdict})")'

# 4. Ring loopback at the agent's own maximum rate: every frame sent is received, none lost.
"$AGENT" run --lcores 0,1 --poll busy --duration "${DUR}s" --drain 200ms -o json \
  --port name=r,pmd=net_ring --stream tx=r,rx=r,flows=1024,size=64,rate=max >"$OUT/ring.json" 2>"$OUT/agent.err"
py '
import json
j = json.load(open("'"$OUT"'/ring.json")); s = j["stats"]["streams"][0]
tx, rx = int(s["tx_packets"]), int(s["unique_packets"])
mpps = tx / j["duration_s"] / 1e6
lost, dup, reord = s["lost"], s["duplicates"], s["reordered"]
print(f"ring_loopback_received_vs_sent: ours {rx}, reference {tx}, ratio {rx/tx:.6f} "
      f"(at {mpps:.2f} Mpps; lost {lost}, duplicates {dup}, reordered {reord})")'
