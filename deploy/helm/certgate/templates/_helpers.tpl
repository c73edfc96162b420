{{/* The chart's name, or nameOverride. */}}
{{- define "certgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: fullnameOverride, or the release name with the chart's name. */}}
{{- define "certgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select certgate's pods. */}}
{{- define "certgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "certgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels on every object. */}}
{{- define "certgate.labels" -}}
{{ include "certgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The config.yaml certgate reads: .Values.config with the listeners, the
mounted trust files, the policy directory and the admin socket set by the
chart, which mounts them.
*/}}
{{- define "certgate.config" -}}
{{- $cfg := deepCopy (default (dict) .Values.config) }}
{{- $listen := dict
  "grpc" (printf "0.0.0.0:%d" (int .Values.ports.grpc))
  "http" (printf "0.0.0.0:%d" (int .Values.ports.http))
  "metrics" (printf "0.0.0.0:%d" (int .Values.ports.metrics)) }}
{{- $_ := set $cfg "listen" (mergeOverwrite (default (dict) (get $cfg "listen")) $listen) }}
{{- $trust := default (dict) (get $cfg "trust") }}
{{- $_ = set $trust "ca_files" (list (printf "/etc/certgate/ca/%s" .Values.trust.ca.key)) }}
{{- if .Values.trust.crl.secret }}
{{- $_ = set $trust "crl_files" (list (printf "/etc/certgate/crl/%s" .Values.trust.crl.key)) }}
{{- else }}
{{- $_ = set $trust "crl_files" (list) }}
{{- end }}
{{- $_ = set $cfg "trust" $trust }}
{{- $_ = set $cfg "policy" (mergeOverwrite (default (dict) (get $cfg "policy")) (dict "dir" "/etc/certgate/policy")) }}
{{- $_ = set $cfg "admin" (mergeOverwrite (default (dict) (get $cfg "admin")) (dict "listen" "unix:/run/certgate/admin.sock")) }}
{{- toYaml $cfg }}
{{- end }}

{{/* The policy ConfigMap's name. */}}
{{- define "certgate.policyConfigMap" -}}
{{- if .Values.policy.existingConfigMap }}
{{- .Values.policy.existingConfigMap }}
{{- else }}
{{- printf "%s-policy" (include "certgate.fullname" .) }}
{{- end }}
{{- end }}
