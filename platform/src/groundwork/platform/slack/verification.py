"""Verifying that a request to `/slack/events` comes from Slack, now, for the first time.

Slack signs each request: `v0=` + HMAC-SHA256(signing secret, `v0:<timestamp>:<body>`), with the timestamp in
`X-Slack-Request-Timestamp`. A request is refused when a header is missing or malformed, when its timestamp is
more than 5 minutes away from now (stale, or from the future), when the signature does not match (forged or
altered), or when the same signature was already accepted (replayed; `replay.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from slack_sdk.signature import Clock, SignatureVerifier

from groundwork.platform.slack.errors import SlackRequestRejectedError
from groundwork.platform.slack.replay import ReplayGuard

TOLERANCE_SECONDS = 5 * 60
"""Slack's rule: a request older (or newer) than this is refused."""


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class RequestVerifier:
    def __init__(
        self, signing_secret: str, replay_guard: ReplayGuard, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._signatures = SignatureVerifier(signing_secret, clock=_Clock(clock))
        self._replays = replay_guard

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Return if the request is authentic, fresh and new; else raise `SlackRequestRejectedError`."""
        lowered = {name.lower(): value for name, value in headers.items()}
        raw_timestamp = lowered.get("x-slack-request-timestamp")
        signature = lowered.get("x-slack-signature")
        if not raw_timestamp or not signature:
            raise SlackRequestRejectedError("missing_headers", "the request carries no Slack signature")
        if not (raw_timestamp.isascii() and raw_timestamp.isdigit()) or len(raw_timestamp) > 12:
            raise SlackRequestRejectedError("missing_headers", "the request timestamp is not a number of seconds")
        timestamp = int(raw_timestamp)
        now = self._clock()
        if abs(now - timestamp) > TOLERANCE_SECONDS:
            raise SlackRequestRejectedError("stale", "the request timestamp is more than 5 minutes from now")
        if not self._signatures.is_valid(body=body, timestamp=raw_timestamp, signature=signature):
            raise SlackRequestRejectedError("forged", "the request signature does not match")
        if not self._replays.first_sighting(signature, timestamp, now=now, tolerance_seconds=TOLERANCE_SECONDS):
            raise SlackRequestRejectedError("replayed", "this request was already received")
