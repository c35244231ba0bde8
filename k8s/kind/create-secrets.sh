#!/usr/bin/env bash
# Creates the Secrets and the CA ConfigMap values-kind.yaml expects, with random values
# (nothing secret is ever in the chart's values). Idempotent: existing objects are kept, so
# re-running does not rotate passwords under a running release.
#   k8s/kind/create-secrets.sh [namespace]     (default: identity-platform)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
ns="${1:-identity-platform}"
host="${INGRESS_HOST:-identity.localtest.me}"
# The stand-ins' and SCIM's ingress hosts (values-kind.yaml: devAzure.ingress.host, ingress.scimHost).
login_host="${LOGIN_HOST:-login.identity.localtest.me}"
scim_host="${SCIM_HOST:-scim.identity.localtest.me}"
release="${RELEASE:-identity}"
rand() { node -e 'process.stdout.write(require("crypto").randomBytes(Number(process.argv[1])).toString(process.argv[2]))' "$1" "$2"; }
exists() { kubectl -n "$ns" get "$1" "$2" >/dev/null 2>&1; }

kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"
# Pod Security admission: the API server refuses any pod of the namespace weaker than
# "restricted" (every pod the chart renders meets it; test/chart/policy.spec.ts).
kubectl label namespace "$ns" --overwrite pod-security.kubernetes.io/enforce=restricted \
  pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted

# Dev CA (scripts/dev-ca.mjs, under .dev/ca) and a server certificate it signs, covering the
# ingress hosts and the stand-ins' Service name: used by the ingress and by the stand-ins.
node --input-type=module -e "import { ensureDevCa } from '$root/scripts/dev-ca.mjs'; await ensureDevCa({ hosts: ['$host', '$scim_host', '$login_host', '$release-dev-azure'] });"
ca="$root/.dev/ca"

# nats-server parses $VARIABLE values as config values: a password must start with a letter.
natspw() { echo "n$(rand 24 hex)"; }
exists secret identity-platform-nats || kubectl -n "$ns" create secret generic identity-platform-nats \
  --from-literal=policy-api="$(natspw)" \
  --from-literal=scim="$(natspw)" --from-literal=token-broker="$(natspw)" \
  --from-literal=policy-reader="$(natspw)"
exists secret identity-platform-postgresql || kubectl -n "$ns" create secret generic identity-platform-postgresql \
  --from-literal=postgres-password="$(rand 24 hex)"
# The B2C client secret is the dev value of the "portal" app in dev-azure/config/dev-azure.json.
exists secret identity-platform-portal || kubectl -n "$ns" create secret generic identity-platform-portal \
  --from-literal=session-encryption-key="$(rand 32 base64)" \
  --from-literal=b2c-client-secret="$(node -e 'const c=require(process.argv[1]);for(const t of c.tenants)for(const a of t.apps??[])if(a.name==="portal")process.stdout.write(a.secrets[0].value)' "$root/dev-azure/config/dev-azure.json")"
exists secret identity-dev-azure-tls || kubectl -n "$ns" create secret tls identity-dev-azure-tls \
  --cert="$ca/server.pem" --key="$ca/server.key.pem"
exists configmap identity-dev-ca || kubectl -n "$ns" create configmap identity-dev-ca --from-file=ca.crt="$ca/ca.pem"

# Workload identity on kind: the token broker's projected token comes from kind's own
# service-account issuer. Give the stand-ins a federated credential for that issuer (and the
# portal's ingress reply URL), the CAs to read its keys, and let them read the issuer discovery
# without credentials (kind only).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
issuer="$(kubectl get --raw /.well-known/openid-configuration | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).issuer))')"
node "$root/k8s/kind/dev-azure-config.mjs" "$root/dev-azure/config/dev-azure.json" "$tmp/dev-azure.json" \
  "$issuer" "$ns:token-broker" "https://$host"
exists configmap identity-dev-azure-config || kubectl -n "$ns" create configmap identity-dev-azure-config --from-file=dev-azure.json="$tmp/dev-azure.json"
kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$tmp/cluster-ca.crt"
cat "$ca/ca.pem" "$tmp/cluster-ca.crt" > "$tmp/trust.crt"
exists configmap identity-dev-azure-trust || kubectl -n "$ns" create configmap identity-dev-azure-trust --from-file=ca.crt="$tmp/trust.crt"
kubectl get clusterrolebinding identity-dev-issuer-discovery >/dev/null 2>&1 || kubectl create clusterrolebinding identity-dev-issuer-discovery \
  --clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated
exists secret identity-platform-tls || kubectl -n "$ns" create secret tls identity-platform-tls \
  --cert="$ca/server.pem" --key="$ca/server.key.pem"
echo "Secrets ready in namespace $ns. Trust $ca/ca.pem in your browser to open https://$host."
