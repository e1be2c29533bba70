{{/* Generated from tools/sciapps/datalab_types.py by `sciapps schema generate`; do not edit. */}}
{{- define "datalab.types" -}}
jupyterlab:
  entryVariable: DATALAB_ENTRY
  launchPath: ''
  port: 8888
  portVariable: DATALAB_PORT
  probePath: /api
  tokenVariable: DATALAB_TOKEN
vnc:
  entryVariable: DATALAB_APP
  launchPath: vnc.html?autoconnect=1&resize=remote
  port: 6080
  portVariable: NOVNC_PORT
  probePath: /vnc.html
  tokenVariable: ''
{{- end -}}
{{/* The entry of this datalab's type, as YAML: include it, then fromYaml. */}}
{{- define "datalab.type" -}}
{{- index (include "datalab.types" . | fromYaml) .Values.datalab.type | toYaml -}}
{{- end -}}
