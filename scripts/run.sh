#!/usr/bin/env bash
# Set up Groundwork and run it on its embedded default: SQLite, local FAISS + tantivy indexes, in-process
# workers and a local vLLM (CPU) serving the packaged SmolLM2-135M-Instruct, all data under ./data
# (override with GROUNDWORK_DATA_DIR). A demo datastore `groundwork-docs` is built from this repository's docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup_vllm.sh
export HF_HUB_OFFLINE=1
.venv/bin/groundwork ingest docs --datastore groundwork-docs --include '*.md'
echo "Chat UI and API: http://127.0.0.1:8080 (or the --port given) — sign in with the admin API key in ${GROUNDWORK_DATA_DIR:-data}/admin-api-key"
echo "(written when the server starts with no admin key; see docs/access.md to add users, groups and keys)"
exec .venv/bin/groundwork serve "$@"
