"""`groundwork worker` with poison documents: text containing POISON-RAISE makes parsing raise an unexpected
error; POISON-KILL makes the worker process that parses it die with SIGKILL. Everything else is the real
worker (run by the chaos tests as a subprocess: `python -m tests.scaleout.worker_harness worker ...`)."""

from __future__ import annotations

import os
import signal
from typing import Any

import groundwork.ingestion.pipeline as pipeline
from groundwork.platform.cli.main import main

_parse = pipeline.parse_document


def _poisoned_parse(data: bytes, **kwargs: Any) -> Any:
    if b"POISON-RAISE" in data:
        raise RuntimeError("poison document: parsing always raises")
    if b"POISON-KILL" in data:
        os.kill(os.getpid(), signal.SIGKILL)
    return _parse(data, **kwargs)


pipeline.parse_document = _poisoned_parse  # type: ignore[assignment]

if __name__ == "__main__":
    # The poison is patched into this process: parse here, not in the parser subprocess (#15's isolation).
    os.environ["GROUNDWORK_INGESTION__PARSER_ISOLATION"] = "false"
    main()
