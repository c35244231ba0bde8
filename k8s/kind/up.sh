#!/usr/bin/env bash
# kind quick start: cluster, ingress-nginx, images, Secrets, the chart, `helm test`.
# Needs docker (or CONTAINER_ENGINE), kind, kubectl, helm and node on the laptop.
# The first run needs the network once (kind node image, ingress-nginx, postgres/nats/busybox
# images, npm packages for the image builds); later runs work offline from the local caches.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ns="${NAMESPACE:-identity-platform}"
release="${RELEASE:-identity}"
cluster="${KIND_CLUSTER:-identity-platform}"

kind get clusters | grep -qx "$cluster" || kind create cluster --config "$here/cluster.yaml" --name "$cluster"
kubectl config use-context "kind-$cluster"

if ! kubectl get namespace ingress-nginx >/dev/null 2>&1; then
  # ingress-nginx's kind flavour: hostPort 80/443 on the node labelled ingress-ready=true.
  kubectl apply -f "${INGRESS_NGINX_MANIFEST:-https://kind.sigs.k8s.io/examples/ingress/deploy-ingress-nginx.yaml}"
  kubectl -n ingress-nginx wait --for=condition=ready pod -l app.kubernetes.io/component=controller --timeout=180s
fi

# Pods must reach the stand-ins at the host browsers use (values-kind.yaml devAzure.ingress.host),
# so issuers match: CoreDNS answers that name with the stand-ins' Service.
node "$here/coredns-rewrite.mjs" "${LOGIN_HOST:-login.identity.localtest.me}" "$release-dev-azure.$ns.svc.cluster.local"

"$here/build-images.sh" dev
"$here/create-secrets.sh" "$ns"

chart="$("$here/../offline-chart.sh")"
# No --wait: a Deployment that does not become ready is reported with its /readyz, not a timeout.
# The stand-ins may reach the API server (issuer discovery and keys) at its own addresses only.
api_server="$(node "$here/api-server-egress.mjs")"
helm upgrade --install "$release" "$chart" --namespace "$ns" -f "$chart/values-kind.yaml" \
  --set-json "devAzure.apiServerEgress.to=$api_server" --timeout 10m
for d in $(kubectl -n "$ns" get deploy -l app.kubernetes.io/instance="$release" -o name); do
  kubectl -n "$ns" rollout status "$d" --timeout=5m || {
    echo "$d is not ready; its /readyz says:" >&2
    kubectl -n "$ns" exec "$d" -- node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>r.text()).then(console.log)" >&2 || true
  }
done
helm test "$release" --namespace "$ns"
