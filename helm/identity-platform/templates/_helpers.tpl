{{/* Names, labels and the list of services. */}}

{{- define "idp.fullname" -}}
{{- .Values.fullnameOverride | default .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The values keys of the four services, in a stable order. */}}
{{- define "idp.serviceKeys" -}}
{{- toJson (list "portal" "policyApi" "scim" "tokenBroker") -}}
{{- end -}}

{{/* The services that connect to NATS: the portal publishes and subscribes to nothing and does not
connect (services/portal: ServiceKitModule nats: false), so it gets no NATS user, password, env or
network path. */}}
{{- define "idp.natsServiceKeys" -}}
{{- toJson (list "policyApi" "scim" "tokenBroker") -}}
{{- end -}}

{{/* Resource name of a component: <fullname>-<component name>. Call with (dict "root" $ "name" "portal"). */}}
{{- define "idp.componentName" -}}
{{- printf "%s-%s" (include "idp.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "idp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: identity-platform
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "idp.selectorLabels" . }}
{{- end -}}

{{- define "idp.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Image reference: per-component repository/tag override the global ones. */}}
{{- define "idp.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $repo := .svc.image.repository | default (printf "%s/%s" $g.repository .svc.name) -}}
{{- $tag := .svc.image.tag | default $g.tag | default .root.Chart.AppVersion -}}
{{- if $g.registry -}}
{{- printf "%s/%s:%s" $g.registry $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* Third-party image from an {registry, repository, tag} block. */}}
{{/* registry/repository:tag, and @digest when one is pinned (the tag then only documents it). */}}
{{- define "idp.thirdPartyImage" -}}
{{- if .registry -}}{{ printf "%s/%s:%s" .registry .repository .tag }}{{- else -}}{{ printf "%s:%s" .repository .tag }}{{- end -}}
{{- with .digest -}}@{{ . }}{{- end -}}
{{- end -}}

{{- define "idp.serviceAccountName" -}}
{{- .svc.serviceAccount.name | default (include "idp.componentName" (dict "root" .root "name" .svc.name)) -}}
{{- end -}}

{{/* NATS URL the services use: the in-chart server, the official chart, or the external one. */}}
{{- define "idp.natsUrl" -}}
{{- if .Values.natsServer.enabled -}}
{{- printf "nats://%s:4222" (include "idp.componentName" (dict "root" . "name" "nats")) -}}
{{- else if .Values.nats.enabled -}}
{{- printf "nats://%s:%v" (include "idp.natsChartService" .) (include "idp.natsChartPort" .) -}}
{{- else -}}
{{- required "messaging.url is required when neither natsServer.enabled nor nats.enabled is set" .Values.messaging.url -}}
{{- end -}}
{{- end -}}

{{/*
Client Service of the official nats chart: its nats.fullname (release name when it already
contains the chart name, else <release>-nats; nats.nameOverride / nats.fullnameOverride) unless
nats.service.name overrides it.
*/}}
{{- define "idp.natsChartService" -}}
{{- $n := .Values.nats -}}
{{- $full := "" -}}
{{- if $n.fullnameOverride -}}
{{- $full = $n.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := $n.nameOverride | default "nats" -}}
{{- if contains $name .Release.Name -}}
{{- $full = .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $full = printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- dig "service" "name" "" $n | default $full -}}
{{- end -}}

{{/* Client port of the official nats chart (config.nats.port). */}}
{{- define "idp.natsChartPort" -}}
{{- dig "config" "nats" "port" 4222 .Values.nats | default 4222 -}}
{{- end -}}

{{/* Environment variable holding a service's NATS password inside the NATS server pod. */}}
{{- define "idp.natsPasswordVar" -}}
{{- printf "NATS_PASSWORD_%s" (.name | upper | replace "-" "_") -}}
{{- end -}}

{{- define "idp.postgresqlHost" -}}
{{- include "idp.componentName" (dict "root" . "name" "postgresql") -}}
{{- end -}}

{{/* Pod grace period: the service's own shutdown budget plus a margin for the preStop sleep. */}}
{{- define "idp.terminationGrace" -}}
{{- add (div .Values.global.shutdownTimeoutMs 1000) 10 -}}
{{- end -}}

{{/*
A global default map with a service's keys laid over it (one level: a service key replaces the
whole global value). Sprig's merge treats false/0 as unset, so `enabled: false` or
`readOnlyRootFilesystem: false` would be lost; this does not. Returns JSON.
*/}}
{{- define "idp.override" -}}
{{- $out := deepCopy (.base | default dict) -}}
{{- range $k, $v := (.over | default dict) }}{{ $_ := set $out $k $v }}{{ end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Path prefix the policy API serves under: the ingress path without a trailing slash ("" for /). */}}
{{- define "idp.policyApiBasePath" -}}
{{- if .Values.ingress.enabled -}}{{- trimSuffix "/" .Values.ingress.paths.policyApi -}}{{- end -}}
{{- end -}}

{{/*
Refuses an Ingress without TLS unless ingress.tls.acknowledgeInsecurePlaintext says it is meant:
sign-in cookies, tokens and SCIM bearer tokens would cross the network in clear text.
*/}}
{{- define "idp.requireIngressTls" -}}
{{- $t := .Values.ingress.tls -}}
{{- if and (not $t.enabled) (not $t.acknowledgeInsecurePlaintext) -}}
{{- fail "ingress.tls.enabled=false would serve sign-in, tokens and SCIM bearer tokens over plain HTTP: enable TLS (ingress.tls.secretName), or, where TLS really ends before this Ingress or for a throwaway local cluster, set ingress.tls.acknowledgeInsecurePlaintext=true" -}}
{{- end -}}
{{- end -}}

{{/*
Annotations and labels as strings: Kubernetes keeps them as map[string]string and refuses a
number or boolean (`nginx.ingress.kubernetes.io/ssl-redirect: true` is an apply error), which
YAML values files produce unless quoted. Call with the map; renders YAML (nothing for an empty map).
*/}}
{{- define "idp.stringMap" -}}
{{- $out := dict -}}
{{- range $k, $v := (. | default dict) }}{{ $_ := set $out $k (toString $v) }}{{ end -}}
{{- if $out }}{{ toYaml $out }}{{ end -}}
{{- end -}}

{{/*
Value combinations the schema cannot express: each fails the render naming the values, instead
of a manifest the API server, the ingress controller or a service refuses later.
*/}}
{{- define "idp.valueChecks" -}}
{{- $v := .Values -}}
{{- if and $v.telemetry.enabled $v.networkPolicy.enabled (not $v.telemetry.networkPolicy.to) -}}
{{- fail "telemetry.networkPolicy.to is required with telemetry.enabled and networkPolicy.enabled: the collector as NetworkPolicy peers (e.g. its namespaceSelector + podSelector), for the egress rule on telemetry.networkPolicy.ports; without it the default deny drops every span" -}}
{{- end -}}
{{- if and $v.portal.enabled (not $v.policyApi.enabled) -}}
{{- fail "portal.enabled needs policyApi.enabled: the portal calls the policy API server-side (POLICY_API_URL, set by the chart to this release's policy-api Service)" -}}
{{- end -}}
{{- if $v.tokenBroker.enabled -}}
{{- /* What the broker checks at boot (services/token-broker/src/registrations/broker-config.ts). */ -}}
{{- $regs := list -}}
{{- range $v.tokenBroker.registrations | default list -}}
{{- if has .name $regs -}}
{{- fail (printf "tokenBroker.registrations: %q is listed twice; the token broker refuses to start" .name) -}}
{{- end -}}
{{- $regs = append $regs .name -}}
{{- end -}}
{{- if not $regs -}}
{{- fail "tokenBroker.registrations is empty: the token broker refuses to start without a client registration to sign for (name, tenantId, clientId, certificateName; k8s/README.md), or set tokenBroker.enabled=false" -}}
{{- end -}}
{{- range $caller, $grants := $v.tokenBroker.callers | default dict -}}
{{- range $grants -}}
{{- if not (has .registration $regs) -}}
{{- fail (printf "tokenBroker.callers.%s names registration %q, which tokenBroker.registrations does not have (%s); the token broker refuses to start" $caller .registration (join ", " $regs)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $natsUsers := list -}}
{{- range $key := include "idp.natsServiceKeys" . | fromJsonArray }}{{ if (index $v $key).enabled }}{{ $natsUsers = append $natsUsers (index $v $key).name }}{{ end }}{{ end -}}
{{- range $v.messaging.extraUsers -}}
{{- if has .name $natsUsers -}}
{{- fail (printf "messaging.extraUsers: the NATS user %q is already defined (a service of this chart or another extra user): nats-server refuses duplicate users" .name) -}}
{{- end -}}
{{- $natsUsers = append $natsUsers .name -}}
{{- end -}}
{{- if and $v.monitoring.serviceMonitor.enabled $v.networkPolicy.enabled (not $v.networkPolicy.metricsFrom) -}}
{{- fail "networkPolicy.metricsFrom is required with monitoring.serviceMonitor.enabled and networkPolicy.enabled: Prometheus as NetworkPolicy peers (e.g. its namespaceSelector + podSelector); without it the default deny blocks every scrape" -}}
{{- end -}}
{{- if and $v.natsServer.enabled $v.nats.enabled -}}
{{- fail "natsServer.enabled and nats.enabled are both true: deploy one NATS (natsServer for kind/offline, nats for the official chart), the services can use only one" -}}
{{- end -}}
{{- if $v.ingress.enabled -}}
{{- $i := $v.ingress -}}
{{- if and $i.tls.enabled (not $i.tls.secretName) -}}
{{- fail "ingress.tls.secretName is empty while ingress.tls.enabled=true: name the kubernetes.io/tls Secret for the host (without it the controller serves its default certificate)" -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $key := list "policyApi" "scim" "portal" -}}
{{- if (index $v $key).enabled -}}
{{- $p := index $i.paths $key | trimSuffix "/" | default "/" -}}
{{- with get $seen $p -}}
{{- fail (printf "ingress.paths.%s and ingress.paths.%s are both %q: each service needs a path of its own on ingress.host" . $key $p) -}}
{{- end -}}
{{- $_ := set $seen $p $key -}}
{{- end -}}
{{- end -}}
{{- if and $i.scimHost $v.scim.enabled (eq $i.scimHost $i.host) -}}
{{- fail (printf "ingress.scimHost is ingress.host (%s): the SCIM host needs a name of its own (or leave scimHost empty to serve SCIM under ingress.paths.scim)" $i.host) -}}
{{- end -}}
{{- end -}}
{{- range $key := include "idp.serviceKeys" . | fromJsonArray -}}
{{- $svc := index $v $key -}}
{{- if $svc.enabled -}}
{{- $as := include "idp.override" (dict "base" $v.global.autoscaling "over" $svc.autoscaling) | fromJson -}}
{{- if and $as.enabled (gt (int $as.minReplicas) (int $as.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling: minReplicas (%v) is above maxReplicas (%v)" $key $as.minReplicas $as.maxReplicas) -}}
{{- end -}}
{{- if $svc.database.enabled -}}
{{- if and $v.postgresql.enabled (not $svc.database.name) -}}
{{- fail (printf "%s.database.name is empty: the in-chart PostgreSQL needs the database name for %s" $key $svc.name) -}}
{{- end -}}
{{- if and (not $v.postgresql.enabled) (not $svc.database.secretKey) -}}
{{- fail (printf "%s.database.secretKey is empty: the key of postgresql.external.existingSecret holding %s's connection string" $key $svc.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
