#!/usr/bin/env bash
# Prints the path of a chart Helm can render without network access.
# The official `nats` chart is a declared dependency (condition nats.enabled). Helm refuses
# to render a chart whose dependency tarball is not in charts/, even when it is disabled,
# and fetching it needs the chart repository. When charts/ lacks it, this copies the chart
# to a temp dir without that dependency; the copy renders identically with nats.enabled=false.
set -euo pipefail
chart="$(cd "$(dirname "$0")/../helm/identity-platform" && pwd)"
if ls "$chart"/charts/nats-*.tgz >/dev/null 2>&1; then
  echo "$chart"
  exit 0
fi
# OFFLINE_CHART_DIR: where to put the copy (default: a new temp dir).
tmp="${OFFLINE_CHART_DIR:-$(mktemp -d)}/identity-platform"
rm -rf "$tmp"
mkdir -p "$(dirname "$tmp")"
cp -r "$chart" "$tmp"
# Drop the `dependencies:` block (the last block of Chart.yaml).
sed -i '/^dependencies:/,$d' "$tmp/Chart.yaml"
echo "$tmp"
