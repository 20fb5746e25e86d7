#!/usr/bin/env bash
# Installs the Debian 12 packages netrig builds and tests with (idempotent), then builds.
#   scripts/setup.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libdpdk-dev dpdk dpdk-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libabsl-dev
  libxdp-dev libbpf-dev libsqlite3-dev libcpp-httplib-dev
  etcd-server etcd-client frr chromium prometheus
  iproute2 ethtool procps python3 python3-jsonschema debootstrap
  clang-14 libclang-rt-14-dev clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR="${1:-build}"
shift || true
TARGETS=()
if [[ "${1:-}" == "--targets" ]]; then  # --targets "a b c" builds only those
  read -r -a TARGETS <<<"$2"
  shift 2
fi
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/netrig-ccache}"
# Relative paths in the cache keys: a fresh clone elsewhere (CI) reuses this machine's cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/netrig-ccache"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache "$@" >/dev/null
if ((${#TARGETS[@]})); then
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${TARGETS[@]}"
else
  cmake --build "$BUILD_DIR" -j "$(nproc)"
fi
