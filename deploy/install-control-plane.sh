#!/usr/bin/env bash
# Installs the Outpost control plane as a systemd service, from the release tarball this script
# comes in (`npm run release` builds it: release/outpost-VERSION.tar.gz):
#
#   tar xzf outpost-0.1.0.tar.gz
#   sudo outpost-0.1.0/deploy/install-control-plane.sh --public-url https://cp.example.com \
#     --tls-cert /etc/ssl/cp/fullchain.pem --tls-key /etc/ssl/cp/privkey.pem
#
# It copies the package to /opt/outpost, installs its npm dependencies there (production only),
# creates the `outpost` system user, writes /etc/outpost/control-plane.env and
# /etc/systemd/system/outpost-control-plane.service, and starts it. The data dir is
# /var/lib/outpost (mode 0700). Re-running it upgrades in place and keeps the data.
# Needs Node.js 20 or newer (Debian 13 ships it; on Debian 12 install it from NodeSource).
# See docs/deploy.md.
set -euo pipefail
{ set +x; } 2>/dev/null

usage() {
  cat <<'USAGE'
Usage: install-control-plane.sh --public-url URL [options]

  --public-url URL    the https:// URL edges and the CLI use (required)
  --listen HOST:PORT  where to listen (default 0.0.0.0:443 with --tls-cert, else 127.0.0.1:8080
                      behind a reverse proxy that terminates TLS)
  --tls-cert FILE     PEM certificate chain to serve HTTPS with (copied to /etc/outpost/tls)
  --tls-key FILE      its PEM private key (copied, mode 0640, group outpost)
  --insecure-http     allow a plain http:// --public-url that is not this machine
  --prefix DIR        write every file under DIR instead of / (for tests); never calls
                      systemctl, useradd or npm
  --skip-packages     do not run npm ci in /opt/outpost (node_modules is there)
  --skip-systemd      install the unit but do not enable or start it
  -h, --help          this help
USAGE
}
say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
die() {
  printf 'install-control-plane.sh: %s\n' "$*" >&2
  exit 1
}

PUBLIC_URL=''
LISTEN=''
TLS_CERT=''
TLS_KEY=''
INSECURE_HTTP=0
PREFIX=''
SKIP_PACKAGES=0
SKIP_SYSTEMD=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --public-url | --listen | --tls-cert | --tls-key | --prefix)
      [ "$#" -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"
      case "$1" in
        --public-url) PUBLIC_URL="$2" ;;
        --listen) LISTEN="$2" ;;
        --tls-cert) TLS_CERT="$2" ;;
        --tls-key) TLS_KEY="$2" ;;
        --prefix) PREFIX="$2" ;;
      esac
      shift 2
      ;;
    --insecure-http) INSECURE_HTTP=1 && shift ;;
    --skip-packages) SKIP_PACKAGES=1 && shift ;;
    --skip-systemd) SKIP_SYSTEMD=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
done

[ -n "$PUBLIC_URL" ] || die "--public-url URL is required: the https:// URL edges will use"
PUBLIC_URL="${PUBLIC_URL%/}"
url_re='^https?://[]A-Za-z0-9.:@%_~+/[-]+$'
[[ "$PUBLIC_URL" =~ $url_re ]] ||
  die "--public-url \"$PUBLIC_URL\" is not an http:// or https:// URL"
if [[ "$PUBLIC_URL" == http://* ]] && [ "$INSECURE_HTTP" = 0 ]; then
  die "--public-url \"$PUBLIC_URL\" is plain http://: edges refuse it. Give the https:// URL (with --tls-cert/--tls-key, or of a reverse proxy in front; docs/deploy.md), or pass --insecure-http"
fi
if [ -n "$TLS_CERT$TLS_KEY" ]; then
  [ -n "$TLS_CERT" ] && [ -n "$TLS_KEY" ] || die "--tls-cert and --tls-key go together"
  [ -r "$TLS_CERT" ] || die "cannot read --tls-cert $TLS_CERT"
  [ -r "$TLS_KEY" ] || die "cannot read --tls-key $TLS_KEY"
  grep -q -- '-----BEGIN CERTIFICATE-----' "$TLS_CERT" || die "--tls-cert $TLS_CERT is not a PEM certificate"
  grep -q -- '-----BEGIN .*PRIVATE KEY-----' "$TLS_KEY" || die "--tls-key $TLS_KEY is not a PEM private key"
  LISTEN="${LISTEN:-0.0.0.0:443}"
else
  LISTEN="${LISTEN:-127.0.0.1:8080}"
fi
[[ "$LISTEN" =~ ^(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$ ]] ||
  die "--listen \"$LISTEN\" must look like 0.0.0.0:443 or [::]:443"
if [ -n "$PREFIX" ]; then
  mkdir -p "$PREFIX"
  PREFIX="$(cd "$PREFIX" && pwd)"
elif [ "$(id -u)" -ne 0 ]; then
  die "run this as root (e.g. with sudo)"
fi
at() { printf '%s%s' "$PREFIX" "$1"; }

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -f "$SRC/package.json" ] && [ -f "$SRC/dist/cli/main.js" ] ||
  die "run this script from an extracted release tarball (it has no dist/ beside it: $SRC)"
VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$SRC/package.json")"
APP=/opt/outpost
ETC=/etc/outpost
DATA=/var/lib/outpost
UNIT=outpost-control-plane.service

if [ -z "$PREFIX" ]; then
  command -v node >/dev/null 2>&1 || die "the control plane needs Node.js 20 or newer: install it first (docs/deploy.md)"
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "the control plane needs Node.js 20 or newer (found $(node --version)); see docs/deploy.md"
  if ! id outpost >/dev/null 2>&1; then
    step "Creating the outpost system user"
    useradd --system --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin outpost
  fi
fi

step "Installing Outpost $VERSION to $APP"
mkdir -p "$(at "$APP")"
# The package's files are replaced; node_modules is kept when the lock file did not change.
for item in bin dist deploy docs examples README.md package.json package-lock.json; do
  rm -rf "$(at "$APP/$item")"
  [ ! -e "$SRC/$item" ] || cp -a "$SRC/$item" "$(at "$APP/$item")"
done
if [ "$SKIP_PACKAGES" = 0 ] && [ -z "$PREFIX" ]; then
  step "Installing npm dependencies (production only)"
  (cd "$APP" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
fi

umask 022
mkdir -p "$(at "$ETC")"
SERVE_ARGS=''
if [ -n "$TLS_CERT" ]; then
  mkdir -p "$(at "$ETC/tls")"
  install -m 644 "$TLS_CERT" "$(at "$ETC/tls/cert.pem")"
  install -m 640 "$TLS_KEY" "$(at "$ETC/tls/key.pem")"
  [ -n "$PREFIX" ] || chgrp outpost "$ETC/tls/key.pem"
  SERVE_ARGS="--tls-cert $ETC/tls/cert.pem --tls-key $ETC/tls/key.pem"
  say "Copied the certificate and key to $ETC/tls (key mode 0640, group outpost)."
fi
[ "$INSECURE_HTTP" = 0 ] || SERVE_ARGS="${SERVE_ARGS:+$SERVE_ARGS }--insecure-http"
cat >"$(at "$ETC/control-plane.env")" <<ENV
# Outpost control plane settings, written by install-control-plane.sh; read by $UNIT.
OUTPOST_DATA_DIR="$DATA"
OUTPOST_LISTEN="$LISTEN"
OUTPOST_PUBLIC_URL="$PUBLIC_URL"
# Flags added to \`outpost serve\` (split on spaces), e.g. --log-level debug
OUTPOST_SERVE_ARGS="$SERVE_ARGS"
ENV
chmod 644 "$(at "$ETC/control-plane.env")"
mkdir -p "$(at /etc/systemd/system)"
install -m 644 "$SRC/deploy/$UNIT" "$(at "/etc/systemd/system/$UNIT")"
say "Wrote $ETC/control-plane.env and /etc/systemd/system/$UNIT."

if [ -n "$PREFIX" ] || [ "$SKIP_SYSTEMD" = 1 ] || [ ! -d /run/systemd/system ]; then
  say "Not starting the service here; run it with: systemctl enable --now $UNIT"
  exit 0
fi
systemctl daemon-reload
systemctl enable --quiet "$UNIT"
systemctl restart "$UNIT"
sleep 2
systemctl is-active --quiet "$UNIT" || die "$UNIT did not stay up; see: journalctl -u outpost-control-plane -n 50"
say "The control plane is running at $PUBLIC_URL (journalctl -u outpost-control-plane -f)."
if [ -f "$DATA/admin-token" ]; then
  say "First start: the admin token is in $DATA/admin-token (mode 0600). Read it with:"
  say "  sudo cat $DATA/admin-token"
fi
