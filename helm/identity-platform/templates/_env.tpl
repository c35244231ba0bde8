{{/*
Environment of a service container. Call with (dict "root" $ "key" "portal" "svc" $svc).
Variable names are the ones each service validates at boot (services/<name>/src/config.ts);
test/chart checks them against the services' zod schemas.
*/}}
{{- define "idp.env" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- /* Variables the chart derives from other values: an env/secretEnv entry would silently shadow them. */}}
{{- $managed := list "NODE_ENV" "PORT" "LOG_LEVEL" "SHUTDOWN_TIMEOUT_MS" "TRUSTED_PROXIES" "NATS_URL" "NATS_USER" "NATS_PASSWORD" "DATABASE_URL" "DATABASE_PASSWORD" "NODE_EXTRA_CA_CERTS" "PUBLIC_BASE_URL" "SCIM_PUBLIC_BASE_URL" "SCIM_RATE_LIMIT_PER_SECOND" "SCIM_RATE_LIMIT_BURST" "POLICY_API_URL" "API_BASE_PATH" "KEY_VAULT_URL" "TOKEN_BROKER_CONFIG_FILE" "AZURE_CLIENT_ID" "AZURE_TENANT_ID" "AZURE_AUTHORITY_HOST" "AZURE_FEDERATED_TOKEN_FILE" -}}
{{- range $name := concat (keys ($svc.env | default dict)) (keys ($svc.secretEnv | default dict)) }}
{{- if has $name $managed }}
{{- fail (printf "%s.env/secretEnv sets %s, which the chart derives from other values (global, ingress, messaging, postgresql, scim.publicBaseUrl, scim.rateLimit, tokenBroker.*): set it there" $.key $name) }}
{{- end }}
{{- end -}}
- name: NODE_ENV
  value: {{ $root.Values.global.nodeEnv | quote }}
- name: PORT
  value: {{ $svc.port | quote }}
- name: LOG_LEVEL
  value: {{ $svc.logLevel | default $root.Values.global.logLevel | quote }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ $root.Values.global.shutdownTimeoutMs | quote }}
{{- /* Unset: the services' own default (loopback and private ranges). */}}
{{- with $root.Values.global.trustedProxies }}
- name: TRUSTED_PROXIES
  value: {{ join "," . | quote }}
{{- end }}
{{- if has .key (include "idp.natsServiceKeys" $root | fromJsonArray) }}
- name: NATS_URL
  value: {{ include "idp.natsUrl" $root | quote }}
- name: NATS_USER
  value: {{ $svc.name | quote }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.messaging.existingSecret }}
      key: {{ $svc.name }}
{{- end }}
{{- if $svc.database.enabled }}
{{ include "idp.databaseEnv" (dict "root" $root "svc" $svc) }}
{{- end }}
{{- if eq .key "portal" }}
{{- /* Wiring the chart knows: where users reach the portal and where the policy API answers. */}}
- name: PUBLIC_BASE_URL
  value: {{ printf "%s://%s" (ternary "https" "http" $root.Values.ingress.tls.enabled) $root.Values.ingress.host | quote }}
- name: POLICY_API_URL
  value: {{ printf "http://%s:%v%s" (include "idp.componentName" (dict "root" $root "name" $root.Values.policyApi.name)) $root.Values.policyApi.service.port (include "idp.policyApiBasePath" $root) | quote }}
{{- end }}
{{- if and (eq .key "policyApi") (include "idp.policyApiBasePath" $root) }}
{{- /* The ingress does not rewrite: the API serves its routes under the ingress path. */}}
- name: API_BASE_PATH
  value: {{ include "idp.policyApiBasePath" $root | quote }}
{{- end }}
{{- if eq .key "scim" }}
{{- /* Where Entra ID reaches SCIM: the service builds meta.location, $ref and Location on it
(else on the request's Host / X-Forwarded-Host, which any client sets). */}}
{{- $i := $root.Values.ingress }}
{{- $scimUrl := $svc.publicBaseUrl | default "" }}
{{- if and (not $scimUrl) $i.enabled $i.tls.enabled }}
{{- $scimUrl = printf "https://%s" ($i.scimHost | default $i.host) }}
{{- end }}
{{- if $scimUrl }}
- name: SCIM_PUBLIC_BASE_URL
  value: {{ $scimUrl | quote }}
{{- end }}
{{- /* 0 = off: the service's own default, so nothing is rendered. */}}
{{- $rl := $svc.rateLimit | default dict }}
{{- if and (int64 ($rl.burst | default 0)) (not (int64 ($rl.perSecond | default 0))) }}
{{- fail "scim.rateLimit.burst is set but scim.rateLimit.perSecond is 0 (no limit): a burst limits nothing without a rate; set perSecond too" }}
{{- end }}
{{- if int64 ($rl.perSecond | default 0) }}
- name: SCIM_RATE_LIMIT_PER_SECOND
  value: {{ int64 $rl.perSecond | quote }}
{{- end }}
{{- if int64 ($rl.burst | default 0) }}
- name: SCIM_RATE_LIMIT_BURST
  value: {{ int64 $rl.burst | quote }}
{{- end }}
{{- end }}
{{- if eq .key "tokenBroker" }}
- name: KEY_VAULT_URL
  value: {{ tpl (required "tokenBroker.keyVault.url is required" $svc.keyVault.url) $root | quote }}
- name: TOKEN_BROKER_CONFIG_FILE
  value: /etc/token-broker/config.json
{{- $wi := $svc.workloadIdentity }}
{{- /* Without it the broker has no way into Key Vault and exits at boot: refuse to render instead. */}}
{{- $_ := required "tokenBroker.workloadIdentity.clientId is required: the client id of the managed identity (or app) whose federated credential trusts the broker's service account (see k8s/README.md)" $wi.clientId }}
{{- if eq $wi.mode "projected" }}
{{- /* What the AKS webhook would inject, for clusters without it. */}}
- name: AZURE_CLIENT_ID
  value: {{ $wi.clientId | quote }}
- name: AZURE_TENANT_ID
  value: {{ required "tokenBroker.workloadIdentity.tenantId is required in projected mode" $wi.tenantId | quote }}
- name: AZURE_AUTHORITY_HOST
  value: {{ tpl $wi.authorityHost $root | quote }}
- name: AZURE_FEDERATED_TOKEN_FILE
  value: /var/run/secrets/azure/tokens/azure-identity-token
{{- end }}
{{- end }}
{{- if $root.Values.global.caBundle.configMap }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/idp-ca/{{ $root.Values.global.caBundle.key }}
{{- end }}
{{- include "idp.otelEnv" (dict "root" $root "svc" $svc) }}
{{- /* Values may refer to the release, e.g. https://{{ .Release.Name }}-dev-azure:8443. */}}
{{- range $name, $value := $svc.env }}
- name: {{ $name }}
  value: {{ tpl ($value | toString) $root | quote }}
{{- end }}
{{- range $name, $ref := $svc.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
{{- end }}
{{- end -}}

{{/* DATABASE_URL: spliced from the in-cluster password (kind) or read whole from a Secret (AKS). */}}
{{- define "idp.databaseEnv" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- if $root.Values.postgresql.enabled -}}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.postgresql.existingSecret }}
      key: postgres-password
- name: DATABASE_URL
  value: {{ printf "postgresql://postgres:$(DATABASE_PASSWORD)@%s:5432/%s" (include "idp.postgresqlHost" $root) $svc.database.name | quote }}
{{- else -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.postgresql.external.existingSecret }}
      key: {{ $svc.database.secretKey }}
{{- end -}}
{{- end -}}
