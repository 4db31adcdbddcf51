#!/usr/bin/env bash
# `npm run release`: the release artefacts, built reproducibly (the same tree gives the same
# bytes: check with `sha256sum release/*` after two runs).
#
#   dist/                                    compiled JavaScript with source maps (npm run build)
#   dist/outpost-agent-linux-ARCH            the edge agent as one executable (Node's single
#                                            executable applications): no Node.js on the edge
#   dist/outpost-agent-linux-ARCH.sha256     its checksum, as the control plane serves it
#   release/outpost-agent-linux-ARCH         the same executable, beside
#   release/outpost-VERSION.tar.gz           the control plane: package.json + lock, bin/, dist/
#                                            (with the agent it serves to edges), deploy/ (the
#                                            systemd units and install scripts), docs/, examples/
#   release/SHA256SUMS
#
# `scripts/release.sh agent` builds only the agent executable; `scripts/release.sh if-stale`
# builds dist/ and the agent (no tarball) unless both are newer than every source: what the
# end-to-end tests call before they run the compiled package and the one-file agent.
# The executable is this machine's `node` with the bundled agent injected (postject): it runs on
# Linux machines of the same architecture with a glibc at least as new as this one's.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
case "$what" in all | agent | if-stale) ;; *)
  echo "usage: scripts/release.sh [all|agent|if-stale]" >&2
  exit 2
  ;;
esac

version="$(node -p 'require("./package.json").version')"
case "$(node -p process.arch)" in
  x64 | arm64) arch="$(node -p process.arch)" ;;
  *)
    echo "release.sh: no agent build for $(node -p process.arch)" >&2
    exit 1
    ;;
esac
# Every timestamp in the artefacts: the last commit's, so two builds of one tree agree.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH="$epoch"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t0=$SECONDS

if [ "$what" = if-stale ]; then
  built="dist/outpost-agent-linux-$arch"
  if [ -f "$built" ] && [ -f dist/cli/main.js ] && [ -f dist/web/dist/index.html ] &&
    [ -z "$(find src bin package.json package-lock.json -path src/web/dist -prune -o -type f -newer "$built" -print -quit)" ]; then
    exit 0
  fi
fi
if [ "$what" = all ] || [ "$what" = if-stale ]; then
  echo "==> npm run build (dist/)"
  npm run --silent build >/dev/null
else
  mkdir -p dist
fi

echo "==> Bundling the agent (esbuild)"
agent="dist/outpost-agent-linux-$arch"
npx --no-install esbuild src/cli/agent-main.ts --bundle --platform=node --target=node20 \
  --format=cjs --outfile="$work/agent.cjs" --define:__OUTPOST_VERSION__="\"$version\"" \
  --legal-comments=none --keep-names --log-level=warning \
  --log-override:empty-import-meta=silent --metafile="$work/meta.json"
# The agent must not carry the control plane: no SQLite binding, no HTTP server, no web UI.
node -e '
  const inputs = Object.keys(require(process.argv[1]).inputs);
  const bad = inputs.filter((i) => /node_modules\/(better-sqlite3|fastify|@fastify|kysely|acme-client)\/|^src\/(server|store|web|certs)\//.test(i));
  if (bad.length) { console.error("the agent bundle pulls in " + bad.join(", ")); process.exit(1); }
' "$work/meta.json"

echo "==> Single executable (node --experimental-sea-config, postject)"
# Relative names: the blob records the main script's path, and a temporary one would make two
# builds differ.
cat >"$work/sea.json" <<JSON
{ "main": "agent.cjs", "output": "agent.blob", "disableExperimentalSEAWarning": true,
  "useSnapshot": false, "useCodeCache": false }
JSON
(cd "$work" && node --experimental-sea-config sea.json >/dev/null 2>&1)
cp "$(command -v node)" "$work/outpost-agent"
chmod 755 "$work/outpost-agent"
npx --no-install postject "$work/outpost-agent" NODE_SEA_BLOB "$work/agent.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null 2>&1
got="$("$work/outpost-agent" --version)"
[ "$got" = "$version" ] || {
  echo "release.sh: the agent executable says \"$got\", not $version" >&2
  exit 1
}
mv -f "$work/outpost-agent" "$agent"
(cd dist && sha256sum "$(basename "$agent")") >"$agent.sha256"
touch -d "@$epoch" "$agent" "$agent.sha256"
echo "    $agent: $(du -m "$agent" | cut -f1) MB, sha256 $(cut -d' ' -f1 "$agent.sha256")"

if [ "$what" = all ]; then
  echo "==> Control-plane tarball"
  mkdir -p release
  name="outpost-$version"
  stage="$work/$name"
  mkdir -p "$stage"
  cp -r package.json package-lock.json README.md bin dist deploy docs examples "$stage/"
  tarball="release/$name.tar.gz"
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' --format=gnu -C "$work" -cf - "$name" | gzip -n -6 >"$tarball"
  cp -f "$agent" "release/$(basename "$agent")"
  touch -d "@$epoch" "release/$(basename "$agent")"
  (cd release && sha256sum "$name.tar.gz" "$(basename "$agent")" >SHA256SUMS)
  echo "    $tarball: $(du -m "$tarball" | cut -f1) MB"
  cat release/SHA256SUMS
fi
echo "==> Done in $((SECONDS - t0)) s"
