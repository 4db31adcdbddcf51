#!/usr/bin/env bash
# Builds the admin UI (src/web → src/web/dist) when the build is missing or older than any of
# its sources. Quiet when the build is current. Used by `npm start` and the test setup.
set -euo pipefail
cd "$(dirname "$0")/.."

built=src/web/dist/index.html
if [ -f "$built" ] && [ -z "$(find src/web -path src/web/dist -prune -o -type f -newer "$built" -print -quit)" ]; then
  exit 0
fi
echo "Building the admin UI (src/web)…"
npm run --silent build:web >/dev/null
