{{/*
NATS users: one per enabled service that uses NATS (not the portal) plus messaging.extraUsers, with their subject permissions.
Each may read only its own inbox (_INBOX.<user>.>); only tokenBroker.callers may publish token
requests, each on its own subject <tokenRequestSubject>.<user>, so the broker knows who asks.
Returns JSON: [{name, publish, subscribe, responder}].
*/}}
{{- define "idp.natsUsers" -}}
{{- $m := .Values.messaging -}}
{{- $callers := .Values.tokenBroker.callers | default dict -}}
{{- $users := list -}}
{{- range $key := include "idp.natsServiceKeys" . | fromJsonArray }}
{{- $svc := index $.Values $key }}
{{- if $svc.enabled }}
{{- $perm := index $m.permissions $key }}
{{- $sub := concat (list) ($perm.subscribe | default list) }}
{{- if eq $key "tokenBroker" }}{{ $sub = append $sub (printf "%s.*" $m.tokenRequestSubject) }}{{ end }}
{{- $users = append $users (dict "name" $svc.name "publish" ($perm.publish | default list) "subscribe" $sub "responder" (eq $key "tokenBroker")) }}
{{- end }}
{{- end }}
{{- range $m.extraUsers }}
{{- $users = append $users (dict "name" .name "publish" (.publish | default list) "subscribe" (.subscribe | default list) "responder" false) }}
{{- end }}
{{- $out := list }}
{{- range $users }}
{{- $pub := concat (list) .publish }}
{{- if hasKey $callers .name }}{{ $pub = append $pub (printf "%s.%s" $m.tokenRequestSubject .name) }}{{ end }}
{{- $sub := append (concat (list) .subscribe) (printf "_INBOX.%s.>" .name) }}
{{- $out = append $out (dict "name" .name "publish" $pub "subscribe" $sub "responder" .responder) }}
{{- end }}
{{- toJson $out -}}
{{- end -}}

{{/* nats-server `authorization` block; passwords are $NATS_PASSWORD_<USER> from the server's environment. */}}
{{- define "idp.natsAuthConf" -}}
authorization {
  users = [
{{- range include "idp.natsUsers" . | fromJsonArray }}
    {
      user: {{ .name | quote }}
      password: ${{ include "idp.natsPasswordVar" . }}
      permissions: {
{{- /* nats-server reads an empty allow list as "everything": a user with nothing to publish is denied all. */}}
{{- if .publish }}
        publish: { allow: {{ toRawJson .publish }} }
{{- else }}
        publish: { deny: [">"] }
{{- end }}
        subscribe: { allow: {{ toRawJson .subscribe }} }
{{- if .responder }}
        # Replies to token requests go to the requester's inbox, only while it waits.
        allow_responses: { max: 1, expires: "30s" }
{{- end }}
      }
    }
{{- end }}
  ]
}
{{- end -}}


{{/*
nats.enabled: the official chart is configured through the `nats:` values block, which cannot
see this chart's values. Fail the render when that block does not match what this chart
generates: every NATS user's $NATS_PASSWORD_<USER> must come from messaging.existingSecret
(nats-server refuses to start on an undefined variable), and podTemplate.patch must mount the
auth ConfigMap this chart renders (its name follows fullnameOverride, the patch's
{{ .Release.Name }} does not).
*/}}
{{- define "idp.natsChartChecks" -}}
{{- if .Values.nats.enabled }}
{{- $n := .Values.nats }}
{{- $secret := .Values.messaging.existingSecret }}
{{- $env := dig "container" "env" dict $n | default dict }}
{{- $missing := list }}
{{- range include "idp.natsUsers" . | fromJsonArray }}
{{- $var := include "idp.natsPasswordVar" . }}
{{- $ref := dig "valueFrom" "secretKeyRef" dict (get $env $var | default dict) }}
{{- if not (and (eq (toString (get $ref "name")) $secret) (eq (toString (get $ref "key")) .name)) }}
{{- $missing = append $missing (printf "%s: {valueFrom: {secretKeyRef: {name: %s, key: %s}}}" $var $secret .name) }}
{{- end }}
{{- end }}
{{- if $missing }}
{{- fail (printf "nats.enabled: nats.container.env must give the NATS server every user's password from messaging.existingSecret; set: %s" (join "; " $missing)) }}
{{- end }}
{{- $cm := include "idp.componentName" (dict "root" . "name" "nats-auth") }}
{{- $found := false }}
{{- range (dig "podTemplate" "patch" list $n | default list) }}
{{- $name := dig "value" "configMap" "name" "" . }}
{{- if kindIs "map" $name }}{{ $name = tpl (toString (get $name "$tplYaml")) $ | trim }}{{ end }}
{{- if eq (toString $name) $cm }}{{ $found = true }}{{ end }}
{{- end }}
{{- if not $found }}
{{- fail (printf "nats.enabled: nats.podTemplate.patch must add a volume from ConfigMap %s (the generated auth.conf) mounted at /etc/nats-config/auth" $cm) }}
{{- end }}
{{- end }}
{{- end -}}
