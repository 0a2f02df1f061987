#!/usr/bin/env bash
# Set up Groundwork with its dev tools, make sure the services the tests use are running, then run
# lint (ruff), types (mypy --strict), architecture contracts (import-linter) and the test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
scripts/setup_vllm.sh   # the real vLLM (CPU) the answer tests run against, in its own venv
scripts/services.sh

export HF_HUB_OFFLINE=1
echo "== ruff";          .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy --strict"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
echo "== layout";        .venv/bin/python -c "import platform; platform.system()"
echo "== pytest";        .venv/bin/python -m pytest "$@"
