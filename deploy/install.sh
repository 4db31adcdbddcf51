#!/usr/bin/env bash
# Joins this machine to an Outpost control plane as an edge. Served by the control plane at
# /install.sh; `outpost edge add` prints the command that runs it:
#
#   curl -fsSL URL/install.sh | sudo bash -s -- --server URL --name NAME --pin sha256:…
#
# It installs nginx from Debian (when missing), downloads the one-file edge agent the control
# plane serves (the same version; no Node.js needed), checks its SHA-256 against the one the
# control plane publishes, installs it as /usr/local/bin/outpost-agent, writes the edge token to
# /etc/outpost/edge-token (mode 0600), its settings to /etc/outpost/agent.env, and enables
# outpost-agent.service. Re-running it is safe: it upgrades the agent in place to the control
# plane's version (nginx keeps serving: only the agent restarts) and, given a new token,
# replaces the old one (that is how a token is rotated).
#
# The token never appears on a command line or in the output: the script asks for it on the
# terminal, or reads it from --token-file PATH, from the environment variable
# OUTPOST_EDGE_TOKEN, or from standard input with --token-stdin. See docs/deploy.md.
set -euo pipefail
# Tracing would print the token: never trace this script.
{ set +x; } 2>/dev/null

usage() {
  cat <<'EOF'
Usage: install.sh --server URL [options]

Joins this machine to an Outpost control plane as an edge (Debian, run as root).

  --server URL        the control plane's URL (required), or several as a comma list in
                      order of preference (the agent fails over between them)
  --name NAME         the edge's name, for messages (the token identifies the edge)
  --pin FINGERPRINT   sha256:… fingerprint of the control plane's signing key
  --token-file PATH   read the edge token from this file
  --token-stdin       read the edge token from standard input (one line)
  --root DIR          the agent's state directory (default /var/lib/outpost-agent)
  --nginx PATH        the nginx binary (default /usr/sbin/nginx)
  --prefix DIR        write every file under DIR instead of / (for tests, like DESTDIR;
                      the files still refer to the final paths); never calls systemctl
  --insecure-http     allow a plain http:// --server that is not on this machine (the
                      token would travel unencrypted; the agent refuses it otherwise)
  --skip-packages     install nothing from Debian (nginx, curl must be there)
  --skip-agent        do not download the agent: use /usr/local/bin/outpost-agent, else
                      outpost-agent or `outpost agent` found on PATH
  --skip-systemd      install the unit file but do not enable or start it
  -h, --help          this help

Without --token-file or --token-stdin the token comes from OUTPOST_EDGE_TOKEN, else the script
asks for it on the terminal (input hidden). With sudo, pass the variable through with
`sudo --preserve-env=OUTPOST_EDGE_TOKEN bash …`.
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

SERVER=''
NAME=''
PIN=''
TOKEN_FILE_IN=''
TOKEN_STDIN=0
ROOT_DIR=/var/lib/outpost-agent
NGINX=/usr/sbin/nginx
PREFIX=''
SKIP_PACKAGES=0
SKIP_AGENT=0
INSECURE_HTTP=0
SKIP_SYSTEMD=0

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --server | --name | --pin | --token-file | --root | --nginx | --prefix)
      need_value "$@"
      opt="$1"
      val="$2"
      shift 2
      ;;
    --server=* | --name=* | --pin=* | --token-file=* | --root=* | --nginx=* | --prefix=*)
      opt="${1%%=*}"
      val="${1#*=}"
      shift
      [ -n "$val" ] || die "$opt needs a value (see --help)"
      ;;
    --token-stdin)
      TOKEN_STDIN=1
      shift
      continue
      ;;
    --skip-packages)
      SKIP_PACKAGES=1
      shift
      continue
      ;;
    --skip-systemd)
      SKIP_SYSTEMD=1
      shift
      continue
      ;;
    --skip-agent)
      SKIP_AGENT=1
      shift
      continue
      ;;
    --insecure-http)
      INSECURE_HTTP=1
      shift
      continue
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    --token | --token=*)
      die "the token is not taken on the command line (it would stay in shell history and ps); use --token-file, --token-stdin, OUTPOST_EDGE_TOKEN, or type it when asked"
      ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
  case "$opt" in
    --server) SERVER="$val" ;;
    --name) NAME="$val" ;;
    --pin) PIN="$val" ;;
    --token-file) TOKEN_FILE_IN="$val" ;;
    --root) ROOT_DIR="$val" ;;
    --nginx) NGINX="$val" ;;
    --prefix) PREFIX="$val" ;;
  esac
done

# --- Check the arguments. Each value ends up in agent.env, so each is held to a safe shape. ---
[ -n "$SERVER" ] || die "--server URL is required: the control plane's URL, as printed by \`outpost edge add\`"
# Several control planes (docs/high-availability.md): a comma list, in order of preference. The
# agent fails over between them; this script downloads from the first.
url_re='^https?://[]A-Za-z0-9.:@%_~+/[-]+$'
SERVER_LIST=''
IFS=',' read -r -a server_items <<<"$SERVER"
for item in "${server_items[@]}"; do
  item="${item%/}"
  [ -n "$item" ] || die "--server \"$SERVER\" has an empty URL in its list"
  [[ "$item" =~ $url_re ]] ||
    die "--server \"$item\" is not an http:// or https:// URL"
  # The agent refuses plain http:// to another machine (the token, the bundles and the purges
  # would cross the network in clear): say so now rather than after installing.
  if [[ "$item" == http://* ]] && [ "$INSECURE_HTTP" = 0 ]; then
    server_host="${item#http://}"
    server_host="${server_host%%/*}"
    server_host="${server_host##*@}"
    case "$server_host" in
      localhost | localhost:* | 127.* | '[::1]' | '[::1]:'*) ;;
      *) die "--server \"$item\" is plain http:// to another machine: use the control plane's https:// URL (docs/deploy.md), or pass --insecure-http to send the edge token unencrypted" ;;
    esac
  fi
  SERVER_LIST="${SERVER_LIST:+$SERVER_LIST,}$item"
done
SERVER="${SERVER_LIST%%,*}"
if [ -n "$NAME" ]; then
  [[ "$NAME" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "--name \"$NAME\" is not an edge name"
fi
if [ -n "$PIN" ]; then
  [[ "$PIN" =~ ^sha256:[A-Za-z0-9]+$ ]] ||
    die "--pin \"$PIN\" is not a key fingerprint (sha256:… as printed by \`outpost edge add\`)"
fi
[[ "$ROOT_DIR" =~ ^/[A-Za-z0-9._/-]*$ ]] || die "--root \"$ROOT_DIR\" must be an absolute path"
[[ "$NGINX" =~ ^/[A-Za-z0-9._/-]*$ ]] || die "--nginx \"$NGINX\" must be an absolute path"
if [ -n "$PREFIX" ]; then
  mkdir -p "$PREFIX" || die "cannot create --prefix $PREFIX"
  PREFIX="$(cd "$PREFIX" && pwd)"
fi
if [ -n "$TOKEN_FILE_IN" ] && [ "$TOKEN_STDIN" = 1 ]; then
  die "give the token one way: --token-file or --token-stdin"
fi

EDGE_LABEL="${NAME:-this edge}"
ETC_DIR=/etc/outpost
TOKEN_PATH="$ETC_DIR/edge-token"
ENV_PATH="$ETC_DIR/agent.env"
UNIT_NAME=outpost-agent.service
UNIT_PATH="/etc/systemd/system/$UNIT_NAME"
AGENT_BIN=/usr/local/bin/outpost-agent

# The path where a file really is written: under --prefix when given.
at() { printf '%s%s' "$PREFIX" "$1"; }

if [ -z "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then
  die "run this as root (e.g. with sudo): it installs packages and writes /etc/outpost and /etc/systemd/system"
fi
if [ "$SKIP_PACKAGES" = 0 ]; then
  if [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
    die "this script supports Debian and its derivatives (apt); elsewhere install nginx and curl by hand (docs/deploy.md), then re-run with --skip-packages"
  fi
fi

WORK="$(mktemp -d)"
NEW_AGENT_TMP=''
AGENT_CHANGED=0
cleanup() {
  rm -rf "$WORK"
  [ -z "$NEW_AGENT_TMP" ] || rm -f "$NEW_AGENT_TMP"
}
trap cleanup EXIT

step "Joining $EDGE_LABEL to $SERVER"

# --- The token: read first, so the rest runs unattended. Kept in an unexported variable. ---
TOKEN=''
TOKEN_SOURCE=''
trim_token() {
  TOKEN="${TOKEN//$'\r'/}"
  TOKEN="${TOKEN#"${TOKEN%%[![:space:]]*}"}"
  TOKEN="${TOKEN%"${TOKEN##*[![:space:]]}"}"
}
if [ -n "$TOKEN_FILE_IN" ]; then
  [ -r "$TOKEN_FILE_IN" ] || die "cannot read the token file $TOKEN_FILE_IN"
  IFS= read -r TOKEN <"$TOKEN_FILE_IN" || [ -n "$TOKEN" ] || die "the token file $TOKEN_FILE_IN is empty"
  TOKEN_SOURCE="the file $TOKEN_FILE_IN"
elif [ "$TOKEN_STDIN" = 1 ]; then
  IFS= read -r TOKEN || [ -n "$TOKEN" ] || die "--token-stdin: nothing on standard input"
  TOKEN_SOURCE='standard input'
elif [ -n "${OUTPOST_EDGE_TOKEN:-}" ]; then
  TOKEN="$OUTPOST_EDGE_TOKEN"
  TOKEN_SOURCE='OUTPOST_EDGE_TOKEN'
elif { : </dev/tty; } 2>/dev/null; then
  # Standard input is this script when piped from curl: ask on the terminal instead.
  if [ -s "$(at "$TOKEN_PATH")" ]; then
    printf 'Edge token for %s (input hidden; Enter keeps the current one): ' "$EDGE_LABEL" >/dev/tty
  else
    # shellcheck disable=SC2016 # the backquotes are meant literally
    printf 'Edge token for %s (input hidden, shown by `outpost edge add`): ' "$EDGE_LABEL" >/dev/tty
  fi
  IFS= read -r -s TOKEN </dev/tty || true
  printf '\n' >/dev/tty
  TOKEN_SOURCE='the terminal'
fi
unset OUTPOST_EDGE_TOKEN
trim_token
if [ -z "$TOKEN" ]; then
  if [ -z "$TOKEN_SOURCE" ] || [ "$TOKEN_SOURCE" = 'the terminal' ]; then
    [ -s "$(at "$TOKEN_PATH")" ] ||
      die "no edge token: type it when asked (needs a terminal), or pass --token-file PATH, --token-stdin, or set OUTPOST_EDGE_TOKEN"
    say "Keeping the current token in $TOKEN_PATH."
  else
    die "no edge token in $TOKEN_SOURCE"
  fi
elif ! [[ "$TOKEN" =~ ^ope_[A-Za-z0-9_-]{43}$ ]]; then
  TOKEN=''
  die "the token from $TOKEN_SOURCE is not an edge token (ope_ and 43 characters); copy the one \`outpost edge add\` or \`outpost edge rotate-token\` printed"
fi

# --- Packages from Debian: nginx, curl, CA certificates. ---
apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
candidate_major() {
  # The major version apt would install for package $1, or 0.
  local v
  v="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  v="${v#*:}"
  v="${v%%.*}"
  [[ "$v" =~ ^[0-9]+$ ]] && printf '%s' "$v" || printf '0'
}
install_packages() {
  local missing=()
  local status
  status="$(dpkg-query -W -f='${Status}' ca-certificates 2>/dev/null)" || status=''
  [ "$status" = 'install ok installed' ] || missing+=(ca-certificates)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ ! -x "$NGINX" ]; then
    apt_updated=1
    apt-get update -qq
    if [ "$(candidate_major nginx-light)" != 0 ]; then missing+=(nginx-light); else missing+=(nginx); fi
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    step "Installing from Debian: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  [ -x "$NGINX" ] || die "nginx is not at $NGINX after installing it; pass --nginx PATH"

  # The agent runs its own nginx master (prefix $ROOT_DIR): the distribution's service must
  # not hold ports 80/443. Only that service is stopped; the agent's nginx is left alone.
  if [ -n "$PREFIX" ]; then
    say "Leaving the distribution's nginx service alone (--prefix)."
  elif [ -d /run/systemd/system ] && systemctl cat nginx.service >/dev/null 2>&1; then
    if systemctl is-enabled --quiet nginx.service 2>/dev/null ||
      systemctl is-active --quiet nginx.service 2>/dev/null; then
      step "Stopping and disabling the distribution's nginx service (the agent runs its own)"
      systemctl disable --now nginx.service >/dev/null 2>&1 || true
    fi
  elif [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    step "Stopping the distribution's nginx (the agent runs its own)"
    "$NGINX" -s quit 2>/dev/null || true
  fi
  local site
  site="$(at /etc/nginx/sites-enabled/default)"
  if [ -e "$site" ] || [ -L "$site" ]; then
    rm -f "$site"
    say "Removed the distribution's default site (/etc/nginx/sites-enabled/default)."
  fi
}

# --- The agent: one executable from the control plane, checked, swapped in atomically. ---
machine_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) printf 'x64' ;;
    aarch64 | arm64) printf 'arm64' ;;
    *) uname -m ;;
  esac
}
fetch() {
  # fetch URL FILE: 200 or die with what the control plane said.
  local http_status
  http_status="$(curl -sSL --retry 3 --connect-timeout 10 -o "$2" -w '%{http_code}' "$1")" ||
    die "cannot download $1"
  if [ "$http_status" != 200 ]; then
    die "the control plane answered $http_status to $1: $(head -c 500 "$2" 2>/dev/null)"
  fi
}
install_agent() {
  command -v curl >/dev/null 2>&1 || die "curl is needed to download the agent (apt-get install curl)"
  local sums want file arch target
  fetch "$SERVER/v1/install/agent.sha256" "$WORK/agent.sha256"
  read -r want file <"$WORK/agent.sha256" || true
  [[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "$SERVER/v1/install/agent.sha256 is not a checksum"
  arch="$(machine_arch)"
  [ "$file" = "outpost-agent-linux-$arch" ] ||
    die "the control plane serves $file, and this machine is linux-$arch: install the agent by hand (docs/deploy.md)"
  target="$(at "$AGENT_BIN")"
  if [ -x "$target" ] && [ "$(sha256sum "$target" | cut -d' ' -f1)" = "$want" ]; then
    say "The agent at $AGENT_BIN is already the control plane's ($("$target" --version))."
    return
  fi
  step "Downloading the agent from $SERVER"
  mkdir -p "$(dirname "$target")"
  # Into the target's directory, so that the final rename is atomic: a running agent keeps its
  # old file (the inode) until it restarts, and nothing ever sees half a binary.
  local tmp
  tmp="$(mktemp "$(dirname "$target")/.outpost-agent.XXXXXX")"
  NEW_AGENT_TMP="$tmp"
  fetch "$SERVER/v1/install/agent" "$tmp"
  sums="$(sha256sum "$tmp" | cut -d' ' -f1)"
  [ "$sums" = "$want" ] || die "the downloaded agent's SHA-256 is $sums, not the published $want: not installed"
  chmod 755 "$tmp"
  local got
  got="$("$tmp" --version 2>&1)" || die "the downloaded agent does not run here: $got"
  mv -f "$tmp" "$target"
  NEW_AGENT_TMP=''
  AGENT_CHANGED=1
  say "Installed the outpost agent $got at $AGENT_BIN (sha256 $want)."
}

# --- Everything the files need is found before anything is written. ---
# With --skip-agent the agent was installed by hand: at /usr/local/bin, else wherever PATH has
# `outpost-agent`, else the `outpost` command of the npm package or release (`outpost agent`).
# The unit's ExecStart and the printed command name what was found.
AGENT_CMD="$AGENT_BIN"
if [ "$SKIP_AGENT" = 1 ] && [ ! -x "$(at "$AGENT_BIN")" ]; then
  if found="$(command -v outpost-agent 2>/dev/null)" && [ -n "$found" ]; then
    AGENT_CMD="$found"
  elif found="$(command -v outpost 2>/dev/null)" && [ -n "$found" ]; then
    AGENT_CMD="$found agent"
  else
    die "--skip-agent: no agent at $AGENT_BIN and neither outpost-agent nor outpost on PATH; install one first (docs/deploy.md), or drop --skip-agent to download it from the control plane. Nothing was written."
  fi
  [[ "$AGENT_CMD" =~ ^/[A-Za-z0-9._/\ -]*$ ]] || die "the agent was found at \"$AGENT_CMD\", a path the unit cannot name; install it at $AGENT_BIN"
  say "Using the agent installed by hand: $AGENT_CMD."
fi

# The unit: the one beside this script (a checkout or the release tarball), else the control
# plane's (when the script came through curl, or was saved on its own as a file).
unit_src=''
if [ -n "${BASH_SOURCE[0]:-}" ] && [ -f "$(dirname "${BASH_SOURCE[0]}")/$UNIT_NAME" ]; then
  unit_src="$(dirname "${BASH_SOURCE[0]}")/$UNIT_NAME"
else
  fetch "$SERVER/v1/install/$UNIT_NAME" "$WORK/$UNIT_NAME"
  grep -q '^ExecStart=' "$WORK/$UNIT_NAME" || die "$SERVER/v1/install/$UNIT_NAME is not a systemd unit; nothing was written"
  unit_src="$WORK/$UNIT_NAME"
fi
if [ "$AGENT_CMD" != "$AGENT_BIN" ]; then
  sed "s#^ExecStart=$AGENT_BIN #ExecStart=$AGENT_CMD #" "$unit_src" >"$WORK/unit"
  grep -q "^ExecStart=$AGENT_CMD " "$WORK/unit" || die "cannot point the unit's ExecStart at $AGENT_CMD"
  unit_src="$WORK/unit"
fi

if [ "$SKIP_PACKAGES" = 1 ]; then
  say "Skipping packages (--skip-packages): nginx and curl must already be installed."
  [ -x "$NGINX" ] || die "--skip-packages: nginx is not at $NGINX; install it, or pass --nginx PATH. Nothing was written."
else
  install_packages
fi
if [ "$SKIP_AGENT" = 1 ]; then
  say "Not downloading the agent (--skip-agent): $AGENT_BIN must already be installed."
else
  install_agent
fi

# --- Files: the token (0600), the settings, the unit. ---
umask 077
mkdir -p "$(at "$ETC_DIR")"
chmod 755 "$(at "$ETC_DIR")"

if [ -n "$TOKEN" ]; then
  tmp="$(mktemp "$(at "$ETC_DIR")/.edge-token.XXXXXX")"
  # printf is a shell builtin: the token is never a process argument.
  printf '%s\n' "$TOKEN" >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$(at "$TOKEN_PATH")"
  TOKEN=''
  say "Wrote the edge token to $TOKEN_PATH (mode 0600)."
fi
unset TOKEN

AGENT_ARGS=''
[ -z "$PIN" ] || AGENT_ARGS="--pin $PIN"
[ "$INSECURE_HTTP" = 0 ] || AGENT_ARGS="${AGENT_ARGS:+$AGENT_ARGS }--insecure-http"
tmp="$(mktemp "$(at "$ETC_DIR")/.agent.env.XXXXXX")"
cat >"$tmp" <<EOF
# Outpost edge agent settings, written by install.sh; read by $UNIT_NAME.
# The token is not here: it is in OUTPOST_TOKEN_FILE (mode 0600).
OUTPOST_SERVER="$SERVER_LIST"
OUTPOST_EDGE_NAME="$NAME"
OUTPOST_TOKEN_FILE="$TOKEN_PATH"
OUTPOST_ROOT="$ROOT_DIR"
OUTPOST_NGINX="$NGINX"
OUTPOST_PIN="$PIN"
# Flags added to the agent's command line (split on spaces), e.g. --log-level debug
OUTPOST_AGENT_ARGS="$AGENT_ARGS"
EOF
chmod 644 "$tmp"
mv -f "$tmp" "$(at "$ENV_PATH")"
say "Wrote the agent settings to $ENV_PATH."

mkdir -p "$(at /etc/systemd/system)"
install -m 644 "$unit_src" "$(at "$UNIT_PATH")"
say "Installed $UNIT_PATH."

# --- Start (or restart, to pick up a new token or version) the agent. ---
by_hand="$AGENT_CMD --server $SERVER_LIST --token-file $TOKEN_PATH --root $ROOT_DIR --nginx $NGINX${AGENT_ARGS:+ $AGENT_ARGS}"
if [ -n "$PREFIX" ] || [ "$SKIP_SYSTEMD" = 1 ] || [ ! -d /run/systemd/system ]; then
  if [ -n "$PREFIX" ]; then
    say "Files were written under $PREFIX (--prefix): systemd was left alone."
  elif [ "$SKIP_SYSTEMD" = 1 ]; then
    say "Not starting the agent (--skip-systemd)."
  else
    say "systemd is not running here (a container?): the agent was not started."
  fi
  say "Run the agent by hand (it keeps nginx running when it stops; restart it after a new token):"
  say "  $by_hand"
else
  step "Starting $UNIT_NAME"
  systemctl daemon-reload
  systemctl enable --quiet "$UNIT_NAME"
  # restart, not start: a re-run must pick up a new token and a new version. The agent's
  # nginx keeps serving across the restart (KillMode=process).
  systemctl restart "$UNIT_NAME"
  sleep 2
  if systemctl is-active --quiet "$UNIT_NAME"; then
    say "The agent is running. Follow it with: journalctl -u outpost-agent -f"
  else
    die "$UNIT_NAME did not stay up; see: journalctl -u outpost-agent -n 50"
  fi
fi
say "Done: $EDGE_LABEL is set up. \`outpost status\` on the control plane shows when it has applied its release."
