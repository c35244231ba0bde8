{{/* PromQL label matcher for this release's series (ServiceMonitor jobLabel = app.kubernetes.io/name). */}}
{{- define "idp.monitoring.selector" -}}
namespace="{{ .Release.Namespace }}"
{{- end -}}
