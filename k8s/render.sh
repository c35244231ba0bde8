#!/usr/bin/env bash
# Regenerates k8s/rendered/{kind,aks}.yaml from the chart for GitOps users.
# CI (test/chart) fails when these files differ from a fresh render: run this after
# changing the chart or its values files, and commit the result.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
chart="${RENDER_CHART:-$("$here/offline-chart.sh")}"
# A temporary offline copy (not a caller's chart) is removed afterwards.
if [ -z "${RENDER_CHART:-}" ] && [ "$chart" != "$(cd "$here/../helm/identity-platform" && pwd)" ]; then
  trap 'rm -rf "$(dirname "$chart")"' EXIT
fi
release="${RELEASE:-identity}"
namespace="${NAMESPACE:-identity-platform}"
for env in kind aks; do
  {
    echo "# Rendered by k8s/render.sh from helm/identity-platform with values-$env.yaml"
    echo "# (release \"$release\", namespace \"$namespace\"). Do not edit: edit the chart and re-run."
    helm template "$release" "$chart" --namespace "$namespace" --kube-version "${KUBE_VERSION:-1.34.0}" \
      -f "$chart/values-$env.yaml" --set nats.enabled=false
  } > "$here/rendered/$env.yaml"
  echo "wrote k8s/rendered/$env.yaml"
done
