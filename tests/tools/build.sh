#!/usr/bin/env bash
# Build the test-only tools (kube-apiserver, helm) from the Go module proxy
# into a cache outside any clone, so that every clone on the machine shares
# one build per version.  See tests/tools/README.md.
#
# Usage: tests/tools/build.sh [kube-apiserver] [helm]     (default: both)
#
# stdout: one NAME=/absolute/path line per tool, so callers can do
#           eval "$(tests/tools/build.sh)"; "$KUBE_APISERVER" --version
# stderr: progress, timings.
#
# Environment:
#   NETRIG_TOOLS_DIR        cache root (default /var/cache/netrig-tools); binaries
#                           go to $NETRIG_TOOLS_DIR/<tool>-<version>/bin, the Go
#                           build and module caches to .../go-build, .../go-mod
#   NETRIG_TOOLS_GOMAXPROCS GOMAXPROCS for the go command and compilers (default 1)
#   GO                      go binary (default /usr/local/go/bin/go, else go in PATH)
#
# A tool is rebuilt only when <tool>-<version>/bin/<tool> is missing (the
# version is read from tests/tools/<module>/go.mod); delete it to force a
# rebuild.  Builds run with nice -n 19, idle-ish I/O priority, GOMAXPROCS=1 and
# go build -p 1 because the machine also runs latency-sensitive tests; expect
# a first kube-apiserver build to take tens of minutes (see README.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${NETRIG_TOOLS_DIR:-/var/cache/netrig-tools}
if [[ -z ${GO:-} ]]; then
  if [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; else GO=$(command -v go) || { echo "build.sh: no go toolchain found (set GO=)" >&2; exit 1; }; fi
fi

mkdir -p "$root" 2>/dev/null && [[ -w $root ]] || {
  echo "build.sh: cache dir $root is not writable; set NETRIG_TOOLS_DIR" >&2; exit 1; }
root=$(cd "$root" && pwd)

export GOCACHE=$root/go-build
export GOMODCACHE=$root/go-mod
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local          # never download another toolchain
export GOMAXPROCS=${NETRIG_TOOLS_GOMAXPROCS:-1}
export CGO_ENABLED=0              # like the upstream release builds: static binaries

log() { echo "build.sh: $*" >&2; }

# Version of module $2 as required in tests/tools/$1/go.mod.
modver() {
  awk -v m="$2" '($1 == "require" && $2 == m) { print $3; exit }
                 ($1 == m && $2 ~ /^v[0-9]/) { print $2; exit }' "$here/$1/go.mod"
}

# Field $3 (Hash or Time) of the proxy's .info for module $1@$2 (may be empty:
# not every proxy response carries the VCS origin).
infofield() {
  local f=$GOMODCACHE/cache/download/$1/@v/$2.info
  [[ -r $f ]] || return 0
  tr -d '\n' <"$f" | grep -o "\"$3\" *: *\"[^\"]*\"" | head -1 | sed 's/.*"\([^"]*\)"$/\1/' || true
}

nicely() {
  if command -v ionice >/dev/null; then nice -n 19 ionice -c 2 -n 7 "$@"; else nice -n 19 "$@"; fi
}

# cached <tool> <version>: print the binary and succeed if already built.
cached() {
  local bin=$root/$1-$2/bin/$1
  [[ -x $bin ]] || return 1
  log "$1 $2: cached"
  printf '%s=%s\n' "$(echo "$1" | tr 'a-z-' 'A-Z_')" "$bin"
}

# build <tool> <module dir> <main package> <version> <ldflags...>
build() {
  local tool=$1 moddir=$here/$2 pkg=$3 ver=$4; shift 4
  local dir=$root/$tool-$ver/bin
  local bin=$dir/$tool
  if ! cached "$tool" "$ver"; then
    mkdir -p "$dir"
    local tmp=$dir/.$tool.tmp.$$ logf=$root/$tool-$ver/build.log start=$SECONDS
    local cmd=("$GO" build -p 1 -trimpath -ldflags "$*" -o "$tmp" "$pkg")
    log "$tool $ver: building in $moddir (log: $logf)"
    {
      echo "# $(date -u +%FT%TZ) $($GO version)"
      printf '# cd %q && GOFLAGS=%q GOMAXPROCS=%q CGO_ENABLED=%q GOTOOLCHAIN=local GOCACHE=%q GOMODCACHE=%q nice -n 19' \
        "$moddir" "$GOFLAGS" "$GOMAXPROCS" "$CGO_ENABLED" "$GOCACHE" "$GOMODCACHE"
      printf ' %q' "${cmd[@]}"; echo
    } >"$logf"
    if ! (cd "$moddir" && nicely "${cmd[@]}") >>"$logf" 2>&1; then
      rm -f "$tmp"
      log "$tool $ver: BUILD FAILED after $((SECONDS - start))s; last lines of $logf:"
      tail -n 30 "$logf" >&2
      return 1
    fi
    mv -f "$tmp" "$bin"
    echo "# built in $((SECONDS - start))s" >>"$logf"
    log "$tool $ver: built in $((SECONDS - start))s"
    printf '%s=%s\n' "$(echo "$tool" | tr 'a-z-' 'A-Z_')" "$bin"
  fi
}

build_kube_apiserver() {
  local ver minor commit date ld="-s -w" p
  ver=$(modver k8s k8s.io/kubernetes)
  cached kube-apiserver "$ver" && return 0
  minor=${ver#v1.}; minor=${minor%%.*}
  (cd "$here/k8s" && "$GO" mod download k8s.io/kubernetes) >&2
  commit=$(infofield k8s.io/kubernetes "$ver" Hash)
  date=$(infofield k8s.io/kubernetes "$ver" Time)
  # What hack/lib/version.sh stamps into release builds (kube-apiserver
  # --version, /version and client-go's user agent read these).
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$ver -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.gitCommit=$commit -X $p.buildDate=${date:-1970-01-01T00:00:00Z}"
  done
  build kube-apiserver k8s k8s.io/kubernetes/cmd/kube-apiserver "$ver" "$ld"
}

build_helm() {
  local ver kver kminor commit ld
  ver=$(modver helm helm.sh/helm/v3)
  cached helm "$ver" && return 0
  kver=$(modver helm k8s.io/client-go)      # v0.32.2 -> Kubernetes 1.32
  kminor=${kver#v0.}; kminor=${kminor%%.*}
  (cd "$here/helm" && "$GO" mod download helm.sh/helm/v3) >&2
  commit=$(infofield helm.sh/helm/v3 "$ver" Hash)
  # Same ldflags as helm's Makefile (`make build`).
  ld="-s -w -X helm.sh/helm/v3/internal/version.version=$ver"
  ld+=" -X helm.sh/helm/v3/internal/version.gitCommit=$commit -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ld+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kminor"
  ld+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kminor"
  build helm helm helm.sh/helm/v3/cmd/helm "$ver" "$ld"
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(kube-apiserver helm)

# One build at a time per cache (several clones may call this concurrently).
exec 9>"$root/.build.lock"
flock 9

rc=0
for t in "${tools[@]}"; do
  case $t in
    kube-apiserver) build_kube_apiserver || rc=1 ;;
    helm) build_helm || rc=1 ;;
    *) log "unknown tool '$t' (known: kube-apiserver helm)"; rc=2 ;;
  esac
done
exit $rc
