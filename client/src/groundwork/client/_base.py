"""What the sync and async clients share: configuration, headers, and turning responses into results or
errors."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from groundwork.client import errors
from groundwork.client.calls import Call
from groundwork.client.retry import RetryPolicy

T = TypeVar("T")
USER_AGENT = "groundwork-client/0.1.0"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
UPLOAD_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
"""A bulk upload is stored and queued before the server answers: minutes for a large one on a busy server."""


class ClientConfig:
    """Where the server is and how to authenticate: an API key (`gw_...`) or an identity token (an OIDC ID or
    access token); both travel as `Authorization: Bearer`. Unset `base_url`/`api_key` come from the
    environment variables `GROUNDWORK_URL` and `GROUNDWORK_API_KEY`."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        token: str | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        url = base_url or os.environ.get("GROUNDWORK_URL")
        if not url:
            raise ValueError("no server: pass base_url or set GROUNDWORK_URL")
        if api_key and token:
            raise ValueError("pass api_key or token, not both")
        self.base_url = url.rstrip("/")
        credential = api_key or token or os.environ.get("GROUNDWORK_API_KEY")
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if credential:
            self.headers["Authorization"] = f"Bearer {credential}"
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()


def check(response: httpx.Response) -> None:
    """Raise the client's error for an error response (its body must have been read)."""
    if response.is_success:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    raise errors.error_from_response(response.status_code, body, response.headers, response.text[:500])


def result(call: Call[T], response: httpx.Response) -> T:
    check(response)
    return call.read(response)


def connection_error(exc: httpx.TransportError) -> errors.ConnectionError:
    return errors.ConnectionError(f"{type(exc).__name__}: {exc}")


def request_kwargs(call: Call[Any]) -> dict[str, Any]:
    return {
        "params": call.params,
        "json": call.json,
        "files": call.files,
        "data": call.data,
        "timeout": call.timeout,
    }
