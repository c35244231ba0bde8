#!/bin/sh
# Run by every Dockerfile's deps stage in /app, after the production install and the COPY of
# the built dist/ folders: drops what the service never loads, then itself.
#  - workspaces nothing was copied into (dev-only ones, e.g. @idp/testing) and the links left
#    dangling by them;
#  - type-only packages, declarations and source maps of the built code;
#  - Prisma's query compilers for databases other than PostgreSQL.
set -eu
for ws in packages/* services/* dev-azure; do [ ! -d "$ws" ] || [ -d "$ws/dist" ] || rm -rf "$ws"; done
for d in packages services; do [ ! -d "$d" ] || rmdir --ignore-fail-on-non-empty "$d"; done
find node_modules -xtype l -delete
rm -rf node_modules/.cache
# Type packages, also nested ones (@opentelemetry/instrumentation-pg depends on @types/pg).
find node_modules -type d -name '@types' -path '*node_modules/@types' -prune -exec rm -rf {} +
find . -path ./node_modules -prune -o -path '*/dist/*' -type f \( -name '*.d.ts' -o -name '*.map' \) -exec rm -f {} +
if [ -d node_modules/@prisma/client/runtime ]; then
  find node_modules/@prisma/client/runtime -name 'query_compiler_*' ! -name '*.postgresql.*' -delete
fi
rm -f scripts/image-slim.sh
rmdir --ignore-fail-on-non-empty scripts
