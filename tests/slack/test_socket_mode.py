"""Socket Mode: with `slack.socket_mode` the server opens a WebSocket to Slack (here to the local server that
stands in for Slack, which cannot be reached) and receives events and commands over it. Each envelope is
acknowledged by its id; the answer is posted through the Web API as with HTTP; a redelivered event (same event
id) is acknowledged and not answered again."""

from __future__ import annotations

import json
import time
from pathlib import Path

from groundwork.platform.config import SlackConfig
from groundwork.platform.slack.testing import FakeSlack, slack_user

from ..conftest import api_client, make_settings
from .conftest import WIFI, wait_job
from .helpers import event_body, mention, replies, wait_reply


def test_events_and_commands_arrive_over_socket_mode(tmp_path: Path) -> None:
    slack = FakeSlack(users={"UANA": slack_user("UANA", email="ana@acme.com")}, channels={"CSOCK": ["UANA"]}).start()
    settings = make_settings(
        tmp_path / "data",
        slack=SlackConfig(
            bot_token="xoxb-test",
            app_token="xapp-test",
            socket_mode=True,
            api_base_url=slack.base_url,
            default_datastores=["handbook"],
        ),
    )
    try:
        with api_client(settings) as client:
            client.post("/v1/datastores", json={"name": "handbook"})
            text = f"# Office wifi\n\nThe office wifi network is called acme-guest, reference {WIFI}.\n"
            upload = client.post(
                "/v1/datastores/handbook/documents",
                files={"file": ("wifi.md", text.encode(), "text/markdown")},
                data={"acl": json.dumps("tenant")},
            )
            wait_job(client, upload.json()["job"]["id"])
            deadline = time.monotonic() + 30
            while slack.socket_clients == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slack.socket_clients == 1, "the server connected over Socket Mode"
            assert slack.calls("apps.connections.open"), "the WebSocket URL came from apps.connections.open"

            event = mention("CSOCK", "UANA", "What is the office wifi network called?")
            envelope = json.loads(event_body(event, event_id="EvSocket0001"))
            slack.send_envelope("events_api", envelope, "env-1")
            assert WIFI in wait_reply(slack, "CSOCK", event["ts"])["text"]
            slack.send_envelope("events_api", {**envelope, "retry_attempt": 1}, "env-2")  # redelivered
            slack.send_envelope(
                "slash_commands",
                {"command": "/ask", "text": "", "team_id": "T0001", "channel_id": "CSOCK", "user_id": "UANA"},
                "env-3",
            )
            slack.wait_for(lambda _: {a.get("envelope_id") for a in slack.socket_acks()} >= {"env-1", "env-2", "env-3"})
            time.sleep(1.0)
            assert len(replies(slack, "CSOCK", event["ts"])) == 1, "a redelivered event is answered once"
            # Without a signing secret the HTTP endpoint is off: Socket Mode needs none.
            assert client.post("/slack/events", content=b"{}").status_code == 404
    finally:
        slack.stop()
