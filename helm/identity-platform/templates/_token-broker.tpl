{{/* The broker's registrations/caller document (TOKEN_BROKER_CONFIG_FILE). */}}
{{- define "idp.tokenBrokerConfig" -}}
{{- $tb := .Values.tokenBroker -}}
{{- toPrettyJson (dict "registrations" ($tb.registrations | default list) "callers" ($tb.callers | default dict)) -}}
{{- end -}}
