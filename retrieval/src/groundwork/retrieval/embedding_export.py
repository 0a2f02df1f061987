"""Export a sentence-transformers BERT-style model to ONNX, int8 ONNX or OpenVINO IR. Run as a child process by
`groundwork.retrieval.embedding_cache` (which writes the checksum manifest afterwards):

    python -m groundwork.retrieval.embedding_export --model-dir DIR --out DIR --format onnx-int8

The graph maps (input_ids, attention_mask, token_type_ids) to the last hidden state; pooling and
normalisation stay in numpy (`groundwork.retrieval.embedding_runtimes`), as sentence-transformers does them.
`onnx-int8` is ONNX Runtime's dynamic quantisation (int8 weights per channel, activations quantised per
batch: the VNNI kernels); OpenVINO's IR keeps fp32 weights and runs bf16 when compiled with that hint.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger("groundwork.retrieval.embedding_export")

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def export_onnx(model_dir: Path, out_file: Path) -> None:
    """Trace the transformer of `model_dir` into `out_file` (dynamic batch and sequence axes)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    example = tokenizer(["an example sentence", "another, longer example sentence"], return_tensors="pt", padding=True)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model),
            tuple(example[name] for name in INPUTS),
            str(out_file),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
        )


def quantize_int8(source: Path, out_file: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(out_file), weight_type=QuantType.QInt8, per_channel=True)


def to_openvino(source: Path, out_file: Path) -> None:
    import openvino

    model = openvino.convert_model(str(source))
    openvino.save_model(model, str(out_file), compress_to_fp16=False)


def export(model_dir: Path, out: Path, fmt: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "onnx-fp32":
        export_onnx(model_dir, out / "model.onnx")
        return
    scratch = out.with_name(out.name + ".fp32")
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        export_onnx(model_dir, scratch / "model.onnx")
        if fmt == "onnx-int8":
            quantize_int8(scratch / "model.onnx", out / "model.onnx")
        elif fmt == "openvino":
            to_openvino(scratch / "model.onnx", out / "model.xml")
        else:
            raise ValueError(f"unknown format {fmt!r}")
    finally:
        for file in scratch.iterdir():
            file.unlink()
        scratch.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", required=True, choices=["onnx-fp32", "onnx-int8", "openvino"])
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    export(args.model_dir, args.out, args.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
