"""Serving: text generation on OpenAI-compatible (vLLM) servers.

- `protocols.Generator`, values in `types`, errors in `errors`;
- `openai_client.OpenAIChatGenerator`: streams from any OpenAI-compatible server (vLLM on CPU, GPU or TPU);
- `engine.LocalEngine`: runs and supervises a local vLLM server from its own venv (`scripts/setup_vllm.sh`);
- `models`: model URIs (`package://`, `file://`) and one-time GGUF conversion; `tokens.TokenCounter`.

Importing this package imports no heavy library (vllm, torch, transformers never load in this process).
"""
