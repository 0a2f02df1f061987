"""Errors raised by the serving area. Adapters translate vendor exceptions (httpx, subprocess) into these with
`raise ... from exc`, so callers handle one hierarchy whatever server or transport sits underneath."""


class ServingError(Exception):
    """Base class of every serving error."""


class GeneratorError(ServingError):
    """A generation request failed."""


class GeneratorUnavailable(GeneratorError):
    """The server could not be reached (connection refused or reset before the request was sent, after all
    retries), or it answered that it cannot serve now (HTTP 502/503/504). Safe to retry later or elsewhere."""


class GeneratorTimeout(GeneratorError):
    """The server accepted the request but did not answer (or stopped streaming) within the read timeout."""


class GeneratorRequestError(GeneratorError):
    """The server rejected the request (HTTP 4xx), e.g. a prompt longer than the model's context. Retrying the
    same request will fail again."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class GeneratorResponseError(GeneratorError):
    """The server failed while answering (HTTP 5xx other than 502/503/504, a malformed stream, or the connection
    dropped after tokens were streamed). Never retried automatically: tokens may already have been consumed."""


class ModelResolutionError(ServingError):
    """A model URI cannot be resolved: unknown scheme, missing package or file, malformed URI."""


class ModelPreparationError(ServingError):
    """A model was found but could not be turned into a servable directory (conversion failed, bad manifest)."""


class EngineError(ServingError):
    """The local inference server could not be started, or died and could not be brought back."""
