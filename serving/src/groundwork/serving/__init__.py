"""Serving: text generation on OpenAI-compatible (vLLM) servers. Filled in by the answers issue."""
