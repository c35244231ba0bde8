{{/*
nats-server `authorization` block: one user per service, passwords taken from the server's
environment ($NATS_PASSWORD_<SERVICE>, filled from messaging.existingSecret), and subject
permissions from messaging.permissions. Only tokenBroker.callers may publish token requests,
each on its own subject <tokenRequestSubject>.<user>, so the broker knows who asks.
*/}}
{{- define "idp.natsAuthConf" -}}
{{- $m := .Values.messaging -}}
{{- $callers := .Values.tokenBroker.callers | default dict -}}
authorization {
  users = [
{{- range $key := include "idp.serviceKeys" . | fromJsonArray }}
{{- $svc := index $.Values $key }}
{{- if $svc.enabled }}
{{- $perm := index $m.permissions $key }}
{{- $pub := concat (list) $perm.publish }}
{{- $sub := concat (list) $perm.subscribe }}
{{- if hasKey $callers $svc.name }}
{{- $pub = append $pub (printf "%s.%s" $m.tokenRequestSubject $svc.name) }}
{{- end }}
{{- if eq $key "tokenBroker" }}
{{- $sub = append $sub (printf "%s.*" $m.tokenRequestSubject) }}
{{- end }}
    {
      user: {{ $svc.name | quote }}
      password: ${{ include "idp.natsPasswordVar" $svc }}
      permissions: {
        publish: { allow: {{ toRawJson $pub }} }
        subscribe: { allow: {{ toRawJson $sub }} }
{{- if eq $key "tokenBroker" }}
        # Replies to token requests go to the requester's inbox, only while it waits.
        allow_responses: { max: 1, expires: "30s" }
{{- end }}
      }
    }
{{- end }}
{{- end }}
  ]
}
{{- end -}}
