#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every ctest label (unit,
# integration, e2e), then builds the unit tests with AddressSanitizer + UBSan and runs them.
# Integration tests that need root skip with a message when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Kubernetes test tools (kube-apiserver, helm) are built from the Go module proxy into a cache
# outside the clone (tests/tools/README.md); the build runs niced next to the C++ build and is a
# no-op when cached. Tests that need them skip with a message if Go is missing.
tools_out=$(mktemp)
tests/tools/build.sh >"$tools_out" &
tools_pid=$!

scripts/setup.sh build

echo "== test tools (kube-apiserver, helm) =="
if wait "$tools_pid"; then
  while IFS= read -r line; do export "${line?}"; echo "$line"; done <"$tools_out"
elif [[ -x /usr/local/go/bin/go ]] || command -v go >/dev/null; then
  echo "test.sh: building the Kubernetes test tools failed (see above)" >&2
  exit 1
else
  echo "test.sh: no Go toolchain: the Kubernetes tests will skip"
fi
rm -f "$tools_out"

echo "== tests (unit, integration, e2e) =="
ctest --test-dir build --output-on-failure --timeout 600 -j 2 -L 'unit|integration|e2e'

echo "== unit tests under AddressSanitizer + UBSan =="
# Only the unit-test binaries (target netrig_unit_tests) are built with sanitizers; the
# integration and e2e tests ran above.
scripts/setup.sh build-asan --targets netrig_unit_tests \
  -DNETRIG_SANITIZE=ON -DNETRIG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 600 -j 2 -L unit
