{{/*
OpenTelemetry: the standard OTEL_* variables of every service when `telemetry.enabled`
(service-kit starts its SDK only when an OTLP endpoint is set; nothing is rendered otherwise).
Call with (dict "root" $ "svc" $svc).
*/}}
{{- define "idp.otelEnv" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $t := $root.Values.telemetry -}}
{{- if $t.enabled }}
{{- $managed := list "OTEL_SERVICE_NAME" "OTEL_EXPORTER_OTLP_ENDPOINT" "OTEL_EXPORTER_OTLP_PROTOCOL" "OTEL_TRACES_SAMPLER" "OTEL_TRACES_SAMPLER_ARG" "OTEL_RESOURCE_ATTRIBUTES" }}
{{- range $name := concat (keys ($svc.env | default dict)) (keys ($svc.secretEnv | default dict)) }}
{{- if has $name $managed }}
{{- fail (printf "%s.env/secretEnv sets %s, which the chart derives from telemetry.*: set it there" $svc.name $name) }}
{{- end }}
{{- end }}
{{- $attrs := dict "service.namespace" $root.Release.Namespace }}
{{- with $root.Values.global.image.tag | default $root.Chart.AppVersion }}{{ $_ := set $attrs "service.version" (toString .) }}{{ end }}
{{- range $k, $v := $t.resourceAttributes }}{{ $_ := set $attrs $k (tpl (toString $v) $root) }}{{ end }}
{{- $pairs := list }}
{{- range $k := keys $attrs | sortAlpha }}{{ $pairs = append $pairs (printf "%s=%s" $k (index $attrs $k)) }}{{ end }}
- name: OTEL_SERVICE_NAME
  value: {{ $svc.name | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ tpl (required "telemetry.endpoint is required when telemetry.enabled (e.g. http://otel-collector.monitoring:4318)" $t.endpoint) $root | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $t.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $t.sampler.name | quote }}
{{- if hasSuffix "traceidratio" $t.sampler.name }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $t.sampler.ratio | toString | quote }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $pairs | quote }}
{{- end }}
{{- end -}}

{{/* Egress from the services to the collector (NetworkPolicy rule), when telemetry is on and peers are given. */}}
{{- define "idp.otelEgress" -}}
{{- $t := .Values.telemetry -}}
{{- if and $t.enabled $t.networkPolicy.to -}}
{{- $ports := list }}
{{- range $t.networkPolicy.ports }}{{ $ports = append $ports (dict "port" . "protocol" "TCP") }}{{ end }}
{{- toJson (list (dict "to" $t.networkPolicy.to "ports" $ports)) }}
{{- else -}}
[]
{{- end -}}
{{- end -}}
