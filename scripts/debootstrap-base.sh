#!/usr/bin/env bash
# Builds the base image every netrig image starts from: a Debian 12 (bookworm) minbase root file
# system made with debootstrap and imported into Docker. Nothing is pulled from a registry.
#
#   scripts/debootstrap-base.sh [--rebuild] [--tag netrig/bookworm:minbase] [--mirror URL]
#
# Skips the build when the tag already exists (--rebuild forces it). Needs root (debootstrap
# mounts /proc in the target), debootstrap and a Docker engine. Prints the image tag on stdout;
# progress goes to stderr.
set -euo pipefail

TAG="netrig/bookworm:minbase"
MIRROR="http://deb.debian.org/debian"
SECURITY_MIRROR="http://deb.debian.org/debian-security"
REBUILD=0
while (($#)); do
  case "$1" in
    --rebuild) REBUILD=1 ;;
    --tag) TAG="$2"; shift ;;
    --mirror) MIRROR="$2"; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "debootstrap-base: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "debootstrap-base: $*" >&2; }

if ((!REBUILD)) && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG exists (--rebuild to rebuild it)"
  echo "$TAG"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  log "needs root (debootstrap creates device nodes and mounts /proc in the target)"
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  log "debootstrap is missing: apt-get install debootstrap"
  exit 1
fi

ROOTFS=$(mktemp -d /var/tmp/netrig-rootfs.XXXXXX)
cleanup() {
  # debootstrap may leave /proc or /sys mounted in the target when it fails half-way.
  umount -R "$ROOTFS/proc" "$ROOTFS/sys" 2>/dev/null || true
  rm -rf --one-file-system "$ROOTFS"
}
trap cleanup EXIT

start=$(date +%s)
log "debootstrap --variant=minbase bookworm from $MIRROR (log: $ROOTFS.log)"
if ! debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1; then
  tail -20 "$ROOTFS.log" >&2
  log "debootstrap failed (full log: $ROOTFS.log)"
  exit 1
fi
rm -f "$ROOTFS.log"

# What the images need from apt: security updates, no recommends, no docs or man pages, no
# package lists or downloaded .debs left in a layer.
cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
EOF
cat >"$ROOTFS/etc/apt/apt.conf.d/90netrig-container" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/90netrig-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
# Docker supplies these at run time.
rm -f "$ROOTFS/etc/hostname" "$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/usr/share/doc/*/changelog* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*

log "importing as $TAG"
tar --numeric-owner -C "$ROOTFS" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL io.netrig.image=bookworm' \
    --change 'CMD ["/bin/bash"]' \
    - "$TAG" >/dev/null
log "$TAG built in $(($(date +%s) - start)) s, $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=si)B"
echo "$TAG"
