#!/usr/bin/env bash
# The chat UI (ui/): its libraries from the npm registry (`npm ci`, pinned by ui/package-lock.json; nothing is
# built: the platform serves ui/ as it is).
#   scripts/setup_ui.sh          the UI's libraries
#   scripts/setup_ui.sh --dev    also Debian's Chromium, which the UI tests drive with Playwright
# Installs Debian's nodejs/npm or chromium with apt-get when they are missing and this runs as root; otherwise
# says exactly what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: $*"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

if ! command -v npm >/dev/null 2>&1 && ! apt_install nodejs npm; then
  echo "npm is missing: the chat UI needs Node.js 18+ and npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
# npm ci wipes and reinstalls node_modules; skip it when the lock file is the one last installed.
if ! cmp -s ui/package-lock.json ui/node_modules/.groundwork-installed-lock 2>/dev/null; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  cp ui/package-lock.json ui/node_modules/.groundwork-installed-lock
fi

if [ "${1:-}" = "--dev" ] && [ ! -x /usr/bin/chromium ] && ! apt_install chromium; then
  echo "/usr/bin/chromium is missing: the UI tests drive Debian's Chromium (apt-get install chromium)" >&2
  exit 1
fi
echo "chat UI libraries installed in ui/node_modules"
