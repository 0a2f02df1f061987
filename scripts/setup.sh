#!/usr/bin/env bash
# Create .venv and install Groundwork (all five members, pinned by constraints.txt).
#   scripts/setup.sh          the platform
#   scripts/setup.sh --dev    the platform plus test, lint and type-check tools
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Groundwork needs Python >= 3.11 (found: $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# torch first and pinned: a bare 'torch' requirement would pull a multi-GB CUDA build.
"${PIP[@]}" install -c constraints.txt torch==2.13.0
"${PIP[@]}" install -c constraints.txt -e ./client -e ./retrieval -e ./serving -e ./platform -e ./ingestion
if [ "${1:-}" = "--dev" ]; then
  "${PIP[@]}" install -c constraints.txt -r requirements-dev.txt
fi
# The optimised embedding model (OpenVINO IR, made from the packaged weights; ~30 s once per machine, then verified)
HF_HUB_OFFLINE=1 .venv/bin/groundwork models prepare-embedding
scripts/setup_ui.sh "${1:-}"   # the chat UI's libraries (npm ci); with --dev also Debian's Chromium
echo "installed into .venv ($(.venv/bin/python --version))"
