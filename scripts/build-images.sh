#!/usr/bin/env bash
# Builds the netrig container images without a registry:
#   netrig/bookworm:minbase   debootstrap'd Debian 12 base (scripts/debootstrap-base.sh)
#   netrig/build:bookworm     compilers and -dev packages (images/Containerfile.build)
#   netrig/build-stage:TAG    the programs in /out (the `build` stage every image shares):
#                             compiled by images/Containerfile.compile, or with --binaries from
#                             programs already built on this Debian 12 userland
#   netrig/controller:TAG, netrig/agent:TAG, netrig/operator:TAG (the operator only when the
#   tree declares the netrig-operator target)
#
#   scripts/build-images.sh [--tag TAG] [--rebuild-base] [--no-cache] [--context DIR]
#                           [--binaries DIR]
#
# --binaries DIR: do not compile in Docker; take netrig-controller, netrigctl, netrig-agent and
# netrig-operator from DIR (searched recursively, e.g. a CMake build directory of this checkout
# made on Debian 12, which is the images' userland), stripped. The tests use it: a compile in
# `docker build` has no ccache and costs 4 to 23 minutes on 2 cores, depending on load.
# --tag: image tag (default: the project version in CMakeLists.txt, and `latest` on the same
# images). --rebuild-base: debootstrap
# the base image again, so every image is rebuilt on it (fresh packages, a cold compile).
# --no-cache: compile again on the existing build image. Docker's layer cache makes a rerun on
# an unchanged tree take seconds; a changed source file recompiles everything in one stage.
# --context: the source tree to compile (default: $NETRIG_IMAGES_CONTEXT, else this checkout),
# e.g. a `git worktree` of a release; the Containerfiles and scripts are this checkout's.
# Prints NAME=image lines on stdout (CONTROLLER_IMAGE=..., AGENT_IMAGE=..., OPERATOR_IMAGE=...);
# progress and timings go to stderr. Needs root and a Docker engine; pulls nothing.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

# Everything runs from main() and the script exits on the line that calls it: bash reads a
# script while running it, so editing this file during a (long) build must not change what the
# running build does.
main() {
  TAG=$(sed -n 's/^project(netrig VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
  ALSO_LATEST=1
  BASE_IMAGE="netrig/bookworm:minbase"
  BUILD_IMAGE="netrig/build:bookworm"
  REBUILD_BASE=0
  NO_CACHE=()
  CONTEXT="${NETRIG_IMAGES_CONTEXT:-.}"
  BINARIES=""
  while (($#)); do
    case "$1" in
      --tag) TAG="$2"; ALSO_LATEST=0; shift ;;
      --rebuild-base) REBUILD_BASE=1 ;;
      --no-cache) NO_CACHE=(--no-cache) ;;
      --context) CONTEXT=$(cd "$CALLER_DIR" && realpath -- "$2"); shift ;;
      --binaries) BINARIES=$(cd "$CALLER_DIR" && realpath -- "$2"); shift ;;
      -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
      *) echo "build-images: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
    esac
    shift
  done
  [[ -n "$TAG" ]] || { echo "build-images: --tag: no project version found in CMakeLists.txt" >&2; exit 2; }

  log() { echo "build-images: $*" >&2; }
  elapsed() { echo "$(($(date +%s) - $1)) s"; }
  if [[ ! -f "$CONTEXT/.dockerignore" ]]; then
    log "--context $CONTEXT: no .dockerignore (copy this checkout's; without it every file," \
      "build directories included, is sent to the build)"
    exit 2
  fi
  command -v docker >/dev/null || { log "docker is not installed"; exit 1; }
  docker info >/dev/null 2>&1 || { log "the Docker engine does not answer (docker info)"; exit 1; }

  # Two callers (tests running at once) must not build the same tags concurrently.
  exec 9>/tmp/netrig-build-images.lock
  flock 9

  # One snapshot of the sources for every build of this run: a file edited in the tree while
  # the images build would otherwise give each image a different COPY layer, and a compile of
  # its own. It copies what /.dockerignore lets in (its `!` lines); the snapshot's own
  # .dockerignore then drops the *.md files.
  SNAPSHOT=$(mktemp -d /tmp/netrig-build-context.XXXXXX)
  EMPTY=$(mktemp -d /tmp/netrig-build-empty.XXXXXX)  # the product images copy only from /out
  trap 'rm -rf "$SNAPSHOT" "$EMPTY"' EXIT
  sources=()
  for path in $(sed -n 's|^!\(.*[^/]\)/*$|\1|p' "$CONTEXT/.dockerignore"); do
    if [[ -e "$CONTEXT/$path" ]]; then sources+=("$path"); fi
  done
  tar -C "$CONTEXT" -c .dockerignore "${sources[@]}" | tar -C "$SNAPSHOT" -x

  total=$(date +%s)
  base_args=()
  ((REBUILD_BASE)) && base_args=(--rebuild)
  scripts/debootstrap-base.sh --tag "$BASE_IMAGE" "${base_args[@]}" >/dev/null

  build_stage() {  # docker build ARGS... into netrig/build-stage:$TAG, log on failure
    local build_log
    build_log=$(mktemp /tmp/netrig-build-images.XXXXXX.log)
    if ! docker build --force-rm -t "netrig/build-stage:$TAG" "$@" >"$build_log" 2>&1; then
      tail -40 "$build_log" >&2
      log "the build stage failed (full log: $build_log)"
      exit 1
    fi
    rm -f "$build_log"
  }
  t=$(date +%s)
  if [[ -n "$BINARIES" ]]; then
    # Programs built outside Docker, on the same Debian 12 userland as the images.
    bin_context="$EMPTY/binaries"  # not the snapshot: its .dockerignore lets in sources only
    mkdir -p "$bin_context/out"
    for program in netrig-controller netrigctl netrig-agent netrig-operator; do
      found=$(find "$BINARIES" -name "$program" -type f -perm -u+x -print -quit)
      if [[ -z "$found" ]]; then
        [[ $program == netrig-operator ]] && continue
        log "--binaries $BINARIES: no $program"
        exit 2
      fi
      install -s -m 0755 "$found" "$bin_context/out/"
    done
    printf 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY out/ /out/\n' >"$bin_context/Containerfile"
    build_stage --build-arg BASE_IMAGE="$BASE_IMAGE" -f "$bin_context/Containerfile" "$bin_context"
    rm -rf "$bin_context"  # the product images' context stays empty
    log "build stage from $BINARIES ready ($(elapsed "$t"))"
  else
    # A new base image (another image id) invalidates every layer built on it: no --no-cache
    # needed.
    build_log=$(mktemp /tmp/netrig-build-images.XXXXXX.log)
    if ! docker build --force-rm --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$BUILD_IMAGE" \
        - <images/Containerfile.build >"$build_log" 2>&1; then
      tail -40 "$build_log" >&2
      log "$BUILD_IMAGE failed (full log: $build_log)"
      exit 1
    fi
    rm -f "$build_log"
    log "$BUILD_IMAGE ready ($(elapsed "$t"))"
    # One compile for all images, tagged so that it stays in the cache (an untagged image would
    # be dangling, removed by the prune below).
    t=$(date +%s)
    build_stage "${NO_CACHE[@]}" --build-arg BUILD_IMAGE="$BUILD_IMAGE" \
      -f images/Containerfile.compile "$SNAPSHOT"
    log "build stage compiled ($(elapsed "$t"))"
  fi

  images=(controller agent)
  if docker run --rm --entrypoint test "netrig/build-stage:$TAG" -x /out/netrig-operator; then
    images+=(operator)
  else
    log "netrig-operator is not a target of this tree: no operator image"
  fi

  for image in "${images[@]}"; do
    t=$(date +%s)
    build_log=$(mktemp /tmp/netrig-build-images.XXXXXX.log)
    # No --no-cache here: it would compile again in each image; the build stage is cached now.
    if ! docker build --force-rm --build-arg BUILD_STAGE="netrig/build-stage:$TAG" \
        --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg VERSION="$TAG" \
        -t "netrig/$image:$TAG" -f "images/Containerfile.$image" "$EMPTY" >"$build_log" 2>&1; then
      tail -40 "$build_log" >&2
      log "netrig/$image:$TAG failed (full log: $build_log)"
      exit 1
    fi
    rm -f "$build_log"
    # Every shared library the programs need is in the image.
    programs=("/usr/bin/netrig-$image")
    [[ $image == controller ]] && programs+=(/usr/bin/netrigctl)
    for program in "${programs[@]}"; do
      if ! libs=$(docker run --rm --entrypoint ldd "netrig/$image:$TAG" "$program" 2>&1); then
        log "netrig/$image:$TAG: ldd $program: $libs"
        exit 1
      fi
      if grep -q 'not found' <<<"$libs"; then
        log "netrig/$image:$TAG: $program needs libraries the image lacks:"
        grep 'not found' <<<"$libs" >&2
        exit 1
      fi
    done
    if ((ALSO_LATEST)); then
      docker tag "netrig/$image:$TAG" "netrig/$image:latest"
    fi
    size=$(docker image inspect -f '{{.Size}}' "netrig/$image:$TAG" | numfmt --to=si)
    log "netrig/$image:$TAG ready, ${size}B ($(elapsed "$t"))"
  done

  # Images of earlier builds lose their tags to the new ones; remove those (ours only).
  docker image prune -f --filter label=io.netrig.image >/dev/null
  log "done in $(elapsed "$total")"
  for image in "${images[@]}"; do
    echo "${image^^}_IMAGE=netrig/$image:$TAG"
  done
}

main "$@"; exit
