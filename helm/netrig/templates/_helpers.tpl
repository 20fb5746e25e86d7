{{/* Names and labels shared by every template. */}}

{{/* <release>-netrig, or the release name when it already contains "netrig"; at most 63 characters. */}}
{{- define "netrig.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "controller"). */}}
{{- define "netrig.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: netrig
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: netrig
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod selector of a component; call with (dict "root" $ "component" "controller"). */}}
{{- define "netrig.selectorLabels" -}}
app.kubernetes.io/name: netrig
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* registry/repository:tag of a component; call with (dict "root" $ "image" .Values.controller.image). */}}
{{- define "netrig.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "netrig.pullPolicy" -}}
{{- .image.pullPolicy | default .root.Values.image.pullPolicy -}}
{{- end -}}

{{/* ServiceAccount name of a component; call with (dict "root" $ "component" "controller" "sa" .Values.controller.serviceAccount). */}}
{{- define "netrig.serviceAccountName" -}}
{{- if .sa.create -}}
{{- .sa.name | default (printf "%s-%s" (include "netrig.fullname" .root) .component) -}}
{{- else -}}
{{- .sa.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "netrig.controller.name" -}}{{ include "netrig.fullname" . }}-controller{{- end -}}
{{- define "netrig.operator.name" -}}{{ include "netrig.fullname" . }}-operator{{- end -}}
{{- define "netrig.etcd.name" -}}{{ include "netrig.fullname" . }}-etcd{{- end -}}

{{/* Where the controller's SUT objects live. */}}
{{- define "netrig.sutNamespace" -}}
{{- .Values.controller.sut.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* The controller's --store value: the in-chart etcd client Service or the external endpoints. */}}
{{- define "netrig.etcdStore" -}}
{{- if .Values.etcd.enabled -}}
etcd:{{ include "netrig.etcd.name" . }}.{{ .Release.Namespace }}.svc:{{ .Values.etcd.clientPort }}
{{- else -}}
{{- if not .Values.etcd.external.endpoints -}}
{{- fail "etcd.external.endpoints: required when etcd.enabled is false (the controller keeps its state in etcd)" -}}
{{- end -}}
etcd:{{ join "," .Values.etcd.external.endpoints }}
{{- end -}}
{{- end -}}

{{/* The controller's gRPC address inside the cluster (agents and the operator dial it). */}}
{{- define "netrig.controller.address" -}}
{{ include "netrig.controller.name" . }}.{{ .Release.Namespace }}.svc:{{ .Values.controller.grpcPort }}
{{- end -}}

{{- define "netrig.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* RBAC rules of the operator for the netrig resources of the namespaces it watches. */}}
{{- define "netrig.operator.resourceRules" -}}
- apiGroups: [netrig.io]
  resources: [testruns, testsuites, agentpools, suttemplates]
  verbs: [get, list, watch, update, patch]
- apiGroups: [netrig.io]
  resources: [testruns]                 # a TestSuite's runs; history beyond historyLimit
  verbs: [create, delete]
- apiGroups: [netrig.io]
  resources: [testruns/status, testsuites/status, agentpools/status]
  verbs: [get, update, patch]
- apiGroups: [netrig.io]
  resources: [testruns/finalizers, testsuites/finalizers, agentpools/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [pods]                     # SUT pods (label netrig.io/run) left by a deleted TestRun
  verbs: [get, list, watch, delete]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
