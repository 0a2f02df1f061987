#!/usr/bin/env bash
# Set up Groundwork and run it on its embedded default: SQLite, local FAISS + tantivy indexes,
# in-process workers, all under ./data (override with GROUNDWORK_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/groundwork serve "$@"
