"""Convert a GGUF checkpoint into a safetensors directory that vLLM can serve (GGUF cannot be served by vLLM on
CPU). Run as a script by the interpreter that has transformers, gguf and accelerate (`.venv-vllm`):

    .venv-vllm/bin/python convert_gguf.py --gguf MODEL.gguf --out DIR [--dtype bfloat16]

It writes the model weights, config, tokenizer (`tokenizer.json`) and chat template into DIR. Stdlib only at
import time, and no groundwork imports: the interpreter running it need not have groundwork installed.
`groundwork.serving.models` calls it and writes the checksum manifest afterwards.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

logger = logging.getLogger("groundwork.serving.convert_gguf")


def convert(gguf: Path, out: Path, dtype: str) -> None:
    """Dequantise `gguf` with transformers and save it, with its tokenizer, into `out`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # this is the script's own process: never reach a hub
    transformers = importlib.import_module("transformers")
    torch = importlib.import_module("torch")
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(gguf.parent),
        gguf_file=gguf.name,
        quantization_config=transformers.GgufConfig(dequantize=True),
        dtype=getattr(torch, dtype),
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", type=Path, required=True, help="the .gguf file")
    parser.add_argument("--out", type=Path, required=True, help="directory to write (created)")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logger.info("converting %s -> %s (%s)", args.gguf, args.out, args.dtype)
    convert(args.gguf, args.out, args.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
