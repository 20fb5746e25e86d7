#!/usr/bin/env bash
# Regenerate the k8s.io staging-module `replace` block of go.mod for a
# k8s.io/kubernetes release.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver,
# ...) at the placeholder version v0.0.0 and replaces them with
# ./staging/src/... in its own go.mod.  Replace directives only apply in the
# main module, so any module that imports k8s.io/kubernetes as a library must
# map every one of those v0.0.0 requirements to the published tag
# v0.<minor>.<patch> itself.  This prints that block.
#
# Usage: tests/tools/k8s/gen-replace.sh v1.32.4 > /tmp/replace.txt
#        (then paste it into tests/tools/k8s/go.mod, bump the require line,
#        and run tests/tools/build.sh which tidies go.sum via -mod=mod)
set -euo pipefail
ver=${1:?usage: $0 v1.MINOR.PATCH}
proxy=${GOPROXY:-https://proxy.golang.org}
proxy=${proxy%%,*}
staging=v0.${ver#v1.}
curl -fsSL "$proxy/k8s.io/kubernetes/@v/$ver.mod" |
  awk '/^require[ \t]*\(/{r=1;next} r&&/^\)/{r=0} r&&$2=="v0.0.0"{print $1}' |
  sort -u |
  { echo "replace ("; while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done; echo ")"; }
