#!/usr/bin/env bash
# Makes a fresh machine ready for the test suite: the Debian packages the tests start for real
# (nginx with the njs, brotli, ModSecurity (with the OWASP CRS) and geoip2 modules, caddy, openssl, chromium for the UI test, wrk for bench:edge, postgresql for the PostgreSQL store), the npm dependencies and the admin UI build.
# Idempotent and quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nginx-light libnginx-mod-http-js libnginx-mod-http-brotli-filter libnginx-mod-http-modsecurity modsecurity-crs libnginx-mod-http-geoip2 wrk openssl curl ca-certificates pdns-server pdns-backend-sqlite3 pdns-backend-geoip dnsutils chromium caddy pebble pdns-recursor iproute2 postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The tests need these Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package starts a default nginx on port 80 where an init system exists; the tests run
  # their own nginx processes and need none.
  if [ -x /usr/sbin/nginx ] && pgrep -x nginx >/dev/null 2>&1; then
    (command -v systemctl >/dev/null && systemctl stop nginx 2>/dev/null) || /usr/sbin/nginx -s quit 2>/dev/null || true
  fi
  # pdns-server's postinst may start a distribution pdns on port 53; the DNS tests start their
  # own pdns_server instances on free loopback ports and need none.
  if command -v systemctl >/dev/null && systemctl is-active --quiet pdns 2>/dev/null; then
    systemctl stop pdns 2>/dev/null || true
    systemctl disable pdns 2>/dev/null || true
  fi
  # pdns-recursor's postinst may start a distribution recursor on 127.0.0.1:53; the lab starts
  # its own inside its network namespaces and needs none.
  if command -v systemctl >/dev/null && systemctl is-active --quiet pdns-recursor 2>/dev/null; then
    systemctl stop pdns-recursor 2>/dev/null || true
    systemctl disable pdns-recursor 2>/dev/null || true
  fi
  # caddy's postinst enables (and, with systemd, starts) a distribution Caddy serving
  # /etc/caddy/Caddyfile on port 80 with its admin API on localhost:2019; the tests start their
  # own caddy processes (admin on a socket in each edge's root) and need none.
  if command -v systemctl >/dev/null && systemctl is-active --quiet caddy 2>/dev/null; then
    systemctl stop caddy 2>/dev/null || true
    systemctl disable caddy 2>/dev/null || true
  fi
  # postgresql's postinst creates a cluster and starts it on port 5432; the tests start their
  # own clusters (test/support/postgres.ts) on free loopback ports and need none.
  if command -v systemctl >/dev/null && systemctl is-active --quiet postgresql 2>/dev/null; then
    systemctl stop postgresql 2>/dev/null || true
    systemctl disable postgresql 2>/dev/null || true
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The admin UI the end-to-end test drives in Chromium, served by the control plane.
bash scripts/build-web-if-stale.sh
