"""Requests to `/slack/events` that Slack did not send, or not now, or not for the first time, are refused:
a table of forged, stale and replayed requests, each of which must get 401 and cause nothing (no Slack API call,
no answer). Retried deliveries of one event (`X-Slack-Retry-Num`, same event id) are answered once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from groundwork.platform.api.app import create_app
from groundwork.platform.slack.errors import SlackRequestRejectedError
from groundwork.platform.slack.replay import ReplayGuard
from groundwork.platform.slack.ttl import TtlCache
from groundwork.platform.slack.verification import RequestVerifier

from ..conftest import make_settings
from .helpers import SECRET, Bot, event_body, mention, replies, sign, wait_reply

QUESTION = "When is the metadata database backed up?"


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[bytes, int], tuple[bytes, dict[str, str]]]
    """(signed body, now) -> (body sent, headers sent)."""


def _headers(ts: int | str, signature: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}


CASES = [
    Case("no signature headers", lambda body, now: (body, {"Content-Type": "application/json"})),
    Case("no timestamp", lambda body, now: (body, {"X-Slack-Signature": sign(body, now)})),
    Case("no signature", lambda body, now: (body, {"X-Slack-Request-Timestamp": str(now)})),
    Case("empty signature", lambda body, now: (body, _headers(now, ""))),
    Case("timestamp not a number", lambda body, now: (body, _headers("12ab", sign(body, now)))),
    Case("timestamp with a sign", lambda body, now: (body, _headers(f"+{now}", sign(body, now)))),
    Case("signed with another secret", lambda body, now: (body, _headers(now, sign(body, now, "not-the-secret")))),
    Case(
        "body altered after signing",
        lambda body, now: (body.replace(b"backed up", b"deleted!!"), _headers(now, sign(body, now))),
    ),
    Case("body with a byte appended", lambda body, now: (body + b" ", _headers(now, sign(body, now)))),
    Case("timestamp changed after signing", lambda body, now: (body, _headers(now - 1, sign(body, now)))),
    Case("signature of another version", lambda body, now: (body, _headers(now, "v1=" + sign(body, now)[3:]))),
    Case("truncated signature", lambda body, now: (body, _headers(now, sign(body, now)[:-2]))),
    Case("upper-cased signature", lambda body, now: (body, _headers(now, sign(body, now).upper()))),
    Case(
        "signature of the body only",
        lambda body, now: (body, _headers(now, "v0=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())),
    ),
    Case("stale by 301 s", lambda body, now: (body, _headers(now - 301, sign(body, now - 301)))),
    Case("stale by a day", lambda body, now: (body, _headers(now - 86400, sign(body, now - 86400)))),
    Case("from the future by 301 s", lambda body, now: (body, _headers(now + 301, sign(body, now + 301)))),
]


def test_forged_and_stale_requests_are_all_refused_and_cause_nothing(bot: Bot) -> None:
    refused: list[str] = []
    threads: list[str] = []
    for case in CASES:
        event = mention("CANA", "UANA", QUESTION)
        threads.append(event["ts"])
        body, headers = case.build(event_body(event), int(time.time()))
        response = bot.http.post("/slack/events", content=body, headers=headers)
        if response.status_code == 401 and response.json()["error"]["code"] == "invalid_slack_request":
            refused.append(case.name)
    assert refused == [c.name for c in CASES], "every forged or stale request must be refused (100%)"
    # A genuine request sent after them is answered: the refusals above were not the bot being down.
    genuine = mention("CANA", "UANA", QUESTION)
    bot.event(genuine)
    wait_reply(bot.slack, "CANA", genuine["ts"])
    for ts in threads:
        assert replies(bot.slack, "CANA", ts) == [], "a refused request must not be answered"


def test_replayed_requests_are_refused(bot: Bot) -> None:
    event = mention("CANA", "UANA", QUESTION)
    body = event_body(event)
    now = int(time.time())
    headers = _headers(now, sign(body, now))
    assert bot.http.post("/slack/events", content=body, headers=headers).status_code == 200
    replays = [
        headers,
        {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},  # unsigned headers don't matter
        {k.lower(): v for k, v in headers.items()},
    ]
    statuses = [bot.http.post("/slack/events", content=body, headers=h).status_code for h in replays]
    assert statuses == [401, 401, 401]
    # Five copies at once: exactly none gets through (the original was already accepted).
    with ThreadPoolExecutor(5) as pool:
        codes = list(
            pool.map(lambda _: bot.http.post("/slack/events", content=body, headers=headers).status_code, range(5))
        )
    assert codes == [401] * 5
    wait_reply(bot.slack, "CANA", event["ts"])
    time.sleep(0.5)
    assert len(replies(bot.slack, "CANA", event["ts"])) == 1


def test_retried_deliveries_of_one_event_are_answered_once(bot: Bot) -> None:
    event = mention("CDUP", "UANA", QUESTION)
    body = event_body(event, event_id="EvRetried0001")
    now = int(time.time())
    # Slack signs each retry anew (a new timestamp), so these are not replays: they are the same event again.
    deliveries = [
        _headers(now, sign(body, now)),
        {**_headers(now + 1, sign(body, now + 1)), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        {**_headers(now + 2, sign(body, now + 2)), "X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"},
    ]
    with ThreadPoolExecutor(3) as pool:
        statuses = list(
            pool.map(lambda h: bot.http.post("/slack/events", content=body, headers=h).status_code, deliveries)
        )
    assert statuses == [200, 200, 200], "every delivery is acknowledged, so Slack stops retrying"
    wait_reply(bot.slack, "CDUP", event["ts"])
    time.sleep(1.5)
    assert len(replies(bot.slack, "CDUP", event["ts"])) == 1


def test_url_verification_needs_a_signature_too(bot: Bot) -> None:
    body = json.dumps({"token": "x", "challenge": "ch4llenge", "type": "url_verification"}).encode()
    assert "ch4llenge" in bot.send(body).text
    unsigned = bot.http.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and "ch4llenge" not in unsigned.text


def test_without_a_signing_secret_the_endpoint_is_off(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "data"))) as client:
        body = json.dumps({"type": "url_verification", "challenge": "x"}).encode()
        response = client.post(
            "/slack/events", content=body, headers=_headers(int(time.time()), sign(body, int(time.time())))
        )
    assert response.status_code == 404 and response.json()["error"]["code"] == "slack_not_configured"


# -- the parts, with a clock of their own ----------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(clock: Clock, size: int = 1000) -> RequestVerifier:
    return RequestVerifier(SECRET, ReplayGuard(size), clock=clock)


def _request(ts: int, body: bytes = b"{}") -> tuple[bytes, dict[str, str]]:
    return body, {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)}


@pytest.mark.parametrize(
    ("age", "accepted"), [(0, True), (300, True), (-300, True), (301, False), (-301, False), (10_000, False)]
)
def test_requests_older_or_newer_than_five_minutes_are_stale(age: int, accepted: bool) -> None:
    clock = Clock(1_800_000_000)
    body, headers = _request(int(clock.now) - age)
    if accepted:
        _verifier(clock).verify(body, headers)
    else:
        with pytest.raises(SlackRequestRejectedError) as raised:
            _verifier(clock).verify(body, headers)
        assert raised.value.reason == "stale"


def test_a_signature_is_remembered_for_as_long_as_its_request_is_valid() -> None:
    clock = Clock(1_800_000_000)
    verifier = _verifier(clock)
    body, headers = _request(int(clock.now))
    verifier.verify(body, headers)
    for seconds_later in (1, 150, 299):
        clock.now = 1_800_000_000 + seconds_later
        with pytest.raises(SlackRequestRejectedError) as raised:
            verifier.verify(body, headers)
        assert raised.value.reason == "replayed"
    clock.now = 1_800_000_000 + 301
    with pytest.raises(SlackRequestRejectedError) as raised:
        verifier.verify(body, headers)
    assert raised.value.reason == "stale"


def test_a_full_replay_memory_never_lets_a_replay_through() -> None:
    """With room for 3 signatures, 10 requests: every one replayed afterwards is refused (forgotten ones as
    stale-by-watermark), and new requests keep being accepted."""
    clock = Clock(1_800_000_000)
    verifier = _verifier(clock, size=3)
    sent = []
    for i in range(10):
        clock.now += 1
        body, headers = _request(int(clock.now), f'{{"n": {i}}}'.encode())
        verifier.verify(body, headers)
        sent.append((body, headers))
    for body, headers in sent:
        with pytest.raises(SlackRequestRejectedError):
            verifier.verify(body, headers)
    clock.now += 1
    verifier.verify(*_request(int(clock.now), b'{"n": "new"}'))


def test_ttl_cache_forgets_after_its_ttl_and_beyond_its_size() -> None:
    clock = Clock(0)
    cache: TtlCache[str, int] = TtlCache(10, 2, clock=clock)
    assert cache.add_if_absent("a", 1) and not cache.add_if_absent("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3, "the oldest entry goes first when full"
    clock.now = 10.5
    assert cache.get("b") is None and len(cache) == 0
    assert TtlCache[str, int](0, 5).add_if_absent("x", 1), "TTL 0 keeps nothing"
