{{/* The chart's name, cut to the 63 characters a label allows. */}}
{{- define "vedette.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's resource name prefix. */}}
{{- define "vedette.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every resource carries. */}}
{{- define "vedette.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "vedette.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of the server. */}}
{{- define "vedette.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vedette.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Selector labels of the operator. */}}
{{- define "vedette.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "vedette.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The Secret holding the bootstrap token. */}}
{{- define "vedette.tokenSecret" -}}
{{- default (printf "%s-token" (include "vedette.fullname" .)) .Values.bootstrapToken.existingSecret -}}
{{- end -}}

{{/* The operator's ServiceAccount. */}}
{{- define "vedette.operatorName" -}}
{{- printf "%s-operator" (include "vedette.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
