{{/* The chart label value, name-version. */}}
{{- define "landlord.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of the chart. */}}
{{- define "landlord.labels" -}}
helm.sh/chart: {{ include "landlord.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/name: landlord
{{- end }}

{{/* The manager pods' selector (the same as config/manager). */}}
{{- define "landlord.selectorLabels" -}}
app.kubernetes.io/name: landlord
app.kubernetes.io/component: manager
{{- end }}

{{- define "landlord.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
