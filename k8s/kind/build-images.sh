#!/usr/bin/env bash
# Builds the five images from the repository root and loads them into the kind cluster
# (values-kind.yaml uses pullPolicy Never: nothing is pulled from a registry).
#   k8s/kind/build-images.sh [tag]      (default tag: dev)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tag="${1:-dev}"
cluster="${KIND_CLUSTER:-identity-platform}"
engine="${CONTAINER_ENGINE:-docker}"
declare -A dockerfiles=(
  [portal]=services/portal/Dockerfile
  [policy-api]=services/policy-api/Dockerfile
  [scim]=services/scim/Dockerfile
  [token-broker]=services/token-broker/Dockerfile
  [dev-azure]=dev-azure/Dockerfile
)
for name in portal policy-api scim token-broker dev-azure; do
  image="identity-platform/$name:$tag"
  echo "== $image"
  "$engine" build -f "$root/${dockerfiles[$name]}" -t "$image" "$root"
  kind load docker-image "$image" --name "$cluster"
done
