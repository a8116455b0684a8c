#!/usr/bin/env bash
# Installs everything the end-to-end tests (test/e2e) need on a clean Debian machine: what `npm start` needs
# (code-server on Node 24: scripts/setup-code-server.sh), plus Debian's chromium to drive it and the fonts
# its screenshots show (emoji, CJK). Idempotent; run as root; works from any cwd. Env: E2E_FORCE=1 (see there).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SETUP_NAME=setup-e2e SETUP_EXTRA_APT="chromium fonts-noto-color-emoji fonts-noto-cjk fonts-noto-core" bash "$HERE/setup-code-server.sh"
[[ -x /usr/bin/chromium ]] || { echo "[setup-e2e] /usr/bin/chromium missing after install"; exit 1; }
