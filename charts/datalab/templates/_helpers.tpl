{{- define "datalab.name" -}}{{ .Values.datalab.id | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "datalab.fullname" -}}
{{- if contains .Values.datalab.id .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-%s" .Release.Name .Values.datalab.id | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "datalab.port" -}}{{ (include "datalab.type" . | fromYaml).port }}{{- end -}}
{{- define "datalab.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}{{ .Values.image.repository }}:{{ required "image.tag or image.digest is required" .Values.image.tag }}{{- end -}}
{{- end -}}
{{- define "datalab.labels" -}}
app.kubernetes.io/name: {{ include "datalab.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.datalab.version | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sciapps
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}
{{- define "datalab.selector" -}}
app.kubernetes.io/name: {{ include "datalab.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
