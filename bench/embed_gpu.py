"""Embedding throughput of a MiniLM-shaped model on an accelerator, fp32 and bf16: chunks per second.

The model has all-MiniLM-L6-v2's exact architecture (its config.json is inlined below: 6 layers, hidden 384,
12 heads, intermediate 1536) with random weights, so the script runs where the packaged weights cannot travel
(a GPU machine reached with at most 64 MiB and no network). Throughput depends on the shapes, not on the
weight values; the figures are labelled "random weights, MiniLM shape". Inputs are random token ids with the
lengths of SciFact chunks as Groundwork embeds them (title + heading path + <= 200 tokens of text: 60-256
tokens, mean ~150), batched longest-first as the embedder does, mean-pooled and normalised on the device.

    python bench/embed_gpu.py                   # cuda if present, else cpu; prints a table and JSON
    python bench/embed_gpu.py --chunks 20000 --batch-size 256 --out results.json

Needs only torch and transformers (what the GPU machine has).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

MINILM_CONFIG: dict[str, Any] = {
    "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 384,
    "initializer_range": 0.02,
    "intermediate_size": 1536,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 6,
    "pad_token_id": 0,
    "type_vocab_size": 2,
    "vocab_size": 30522,
}


def chunk_lengths(count: int, seed: int) -> list[int]:
    import torch

    generator = torch.Generator().manual_seed(seed)
    lengths = (torch.randn(count, generator=generator) * 45 + 150).clamp(60, 256).round().to(torch.int64)
    return sorted(lengths.tolist(), reverse=True)


def run(device: str, dtype_name: str, lengths: list[int], batch_size: int) -> dict[str, Any]:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = BertModel(BertConfig(**MINILM_CONFIG), add_pooling_layer=False).eval().to(device=device, dtype=dtype)
    batches = []
    for start in range(0, len(lengths), batch_size):
        part = lengths[start : start + batch_size]
        ids = torch.randint(1000, 30000, (len(part), part[0]))
        mask = (torch.arange(part[0])[None, :] < torch.tensor(part)[:, None]).to(torch.int64)
        batches.append((ids.to(device), mask.to(device)))

    def encode() -> None:
        with torch.inference_mode():
            for ids, mask in batches:
                hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
                torch.nn.functional.normalize(pooled.float(), dim=1).cpu()

    encode()  # warm-up: kernels, allocator
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    encode()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return {
        "device": device,
        "dtype": dtype_name,
        "chunks": len(lengths),
        "tokens": sum(lengths),
        "seconds": seconds,
        "chunks_per_s": len(lengths) / seconds,
        "tokens_per_s": sum(lengths) / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else platform.processor() or "cpu"
    lengths = chunk_lengths(args.chunks, seed=0)
    results = [run(device, dtype, lengths, args.batch_size) for dtype in ("fp32", "bf16")]
    print(f"MiniLM shape, random weights, on {name} ({device}); {args.chunks} chunks, batch {args.batch_size}")
    print(f"{'dtype':6} {'seconds':>8} {'chunks/s':>10} {'tokens/s':>12}")
    for r in results:
        print(f"{r['dtype']:6} {r['seconds']:8.2f} {r['chunks_per_s']:10.0f} {r['tokens_per_s']:12.0f}")
    report = {
        "benchmark": "embed_gpu",
        "label": "MiniLM shape (all-MiniLM-L6-v2 config), random weights",
        "device_name": name,
        "torch": torch.__version__,
        "batch_size": args.batch_size,
        "results": results,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    else:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
