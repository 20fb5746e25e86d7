#!/usr/bin/env bash
# Prints Kubernetes ConfigMaps for the netrig Grafana dashboards and Prometheus rules to stdout:
#   scripts/dashboards-configmap.sh [-n NAMESPACE] | kubectl apply -f -
# One ConfigMap per dashboard (dashboards/*.json), labelled grafana_dashboard: "1" so the Grafana
# dashboard sidecar (kiwigrid/k8s-sidecar, the grafana Helm chart's sidecar.dashboards) picks it
# up, and one ConfigMap netrig-prometheus-rules holding dashboards/rules/netrig.rules.yaml (mount
# it into Prometheus and list it under rule_files). File contents are embedded verbatim as YAML
# literal block scalars (JSON string escaping when a file cannot be one).
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=""
while (($#)); do
  case "$1" in
    -n | --namespace) NAMESPACE="${2:?--namespace needs a value}"; shift 2 ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dashboards-configmap: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

exec python3 - "$NAMESPACE" <<'PY'
import glob
import json
import os
import sys

namespace = sys.argv[1]


def scalar(text):
    """The file as a YAML value: a literal block scalar if it round-trips exactly, else a
    JSON (= YAML double-quoted) string."""
    printable = all(c == "\n" or c == "\t" or (" " <= c and c != "\x7f") for c in text)
    if (text and printable and "\r" not in text and not text[0] in " \t\n"
            and "\ufeff" not in text and "\u2028" not in text and "\u2029" not in text):
        if text.endswith("\n\n"):
            chomp, body = "|+", text[:-1]  # keep every trailing newline
        elif text.endswith("\n"):
            chomp, body = "|", text[:-1]
        else:
            chomp, body = "|-", text
        out = [chomp] + [("    " + line) if line else "" for line in body.split("\n")]
        return "\n".join(out)
    return json.dumps(text, ensure_ascii=True)


def configmap(name, labels, key, text, annotations=None):
    doc = ["---", "apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {name}"]
    if namespace:
        doc.append(f"  namespace: {json.dumps(namespace)}")
    doc.append("  labels:")
    doc += [f"    {k}: {json.dumps(v)}" for k, v in labels.items()]
    if annotations:
        doc.append("  annotations:")
        doc += [f"    {k}: {json.dumps(v)}" for k, v in annotations.items()]
    doc.append("data:")
    doc.append(f"  {key}: {scalar(text)}")
    return "\n".join(doc) + "\n"


common = {"app.kubernetes.io/name": "netrig", "app.kubernetes.io/part-of": "netrig"}
out = []
dashboards = sorted(glob.glob("dashboards/*.json"))
if not dashboards:
    sys.exit("dashboards-configmap: no dashboards/*.json found")
for path in dashboards:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    json.loads(text)  # refuse to ship a broken dashboard
    key = os.path.basename(path)
    out.append(configmap(
        "netrig-dashboard-" + key[:-len(".json")],
        {**common, "app.kubernetes.io/component": "dashboards", "grafana_dashboard": "1"},
        key, text, {"grafana_folder": "netrig"}))
with open("dashboards/rules/netrig.rules.yaml", encoding="utf-8") as f:
    rules = f.read()
out.append(configmap("netrig-prometheus-rules",
                     {**common, "app.kubernetes.io/component": "prometheus-rules"},
                     "netrig.rules.yaml", rules))
sys.stdout.write("".join(out))
PY
