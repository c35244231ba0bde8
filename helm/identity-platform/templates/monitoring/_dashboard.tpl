{{/*
A Grafana dashboard as JSON from (dict "uid" "title" "panels" (list (dict "title" "expr" "unit"))):
timeseries panels, two per row, on a Prometheus datasource variable. Legends are `__auto`
(Grafana names series from their labels), so no Go-template braces live in the JSON.
*/}}
{{- define "idp.dashboard" -}}
{{- $panels := list }}
{{- range $i, $p := .panels }}
{{- $target := dict "refId" "A" "expr" $p.expr "legendFormat" "__auto" "datasource" (dict "type" "prometheus" "uid" "${datasource}") }}
{{- $grid := dict "h" 8 "w" 12 "x" (mul (mod $i 2) 12) "y" (mul (div $i 2) 8) }}
{{- $defaults := dict "fieldConfig" (dict "defaults" (dict "unit" ($p.unit | default "short")) "overrides" list) }}
{{- $panels = append $panels (merge (dict "id" (add1 $i) "type" "timeseries" "title" $p.title "gridPos" $grid "targets" (list $target) "datasource" (dict "type" "prometheus" "uid" "${datasource}")) $defaults) }}
{{- end }}
{{- $ds := dict "name" "datasource" "type" "datasource" "query" "prometheus" "label" "Prometheus" }}
{{- toPrettyJson (dict "uid" .uid "title" .title "tags" (list "identity-platform") "timezone" "browser" "schemaVersion" 39 "refresh" "30s" "time" (dict "from" "now-6h" "to" "now") "templating" (dict "list" (list $ds)) "panels" $panels) }}
{{- end -}}
