"""One running API (uvicorn, real HTTP) with the Slack bot on, pointed at a local server that stands in for
Slack's Web API (Slack's servers cannot be reached from here); users and documents are created through the API.

Who may read what (document ACLs; Groundwork users are created with e-mail addresses):

| document | readable by | canary |
|---|---|---|
| Project Falcon budget | ana | FALCON |
| Backups | ana, bob | BACKUP |
| Office wifi | everyone in the tenant | WIFI |
| Planning offsite | carol | LISBON |

Slack users: UANA and UBOB map by e-mail, UCAROL by the explicit `slack.users` mapping (no e-mail), UDAVE has
an e-mail no Groundwork user has, UGUEST is an unmapped guest, UOTHERBOT is another bot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from groundwork.platform.api.app import create_app
from groundwork.platform.config import SlackConfig
from groundwork.platform.slack.testing import FakeSlack, slack_user

from ..conftest import admin_key, make_settings
from .helpers import SECRET, Bot, served

FALCON = "zqcanaryfalcon01"
BACKUP = "zqcanarybackup02"
WIFI = "zqcanarywifi03"
LISBON = "zqcanarylisbon04"

DOCUMENTS = {
    "falcon.md": (
        f"# Project Falcon\n\nThe Project Falcon launch budget is 4.2 million euros, approved under code {FALCON}.\n",
        {"users": ["ana@acme.com"]},
    ),
    "backups.md": (
        "# Backups\n\nThe metadata database is backed up every night at 02:00 UTC, reference "
        f"{BACKUP}. Backups are kept for 30 days in the groundwork-backups bucket.\n",
        {"users": ["ana@acme.com", "bob"]},
    ),
    "wifi.md": (
        f"# Office wifi\n\nThe office wifi network is called acme-guest, reference {WIFI}. Its password rotates "
        "every month.\n",
        "tenant",
    ),
    "offsite.md": (
        f"# Planning offsite\n\nThe quarterly planning offsite takes place in Lisbon, reference {LISBON}.\n",
        {"users": ["carol"]},
    ),
}
MAX_MEMBERS = 6


def fake_slack() -> FakeSlack:
    slack = FakeSlack()
    slack.users = {
        "UANA": slack_user("UANA", email="ana@acme.com"),
        "UBOB": slack_user("UBOB", email="bob@acme.com"),
        "UDAVE": slack_user("UDAVE", email="dave@acme.com"),
        "UGUEST": slack_user("UGUEST", email="guest@partner.example", guest=True),
        "UOTHERBOT": slack_user("UOTHERBOT", is_bot=True),
        "UBOT": slack_user("UBOT", is_bot=True),
    }
    slack.channels = {
        "CANA": ["UANA", "UBOT"],
        "CMIXED": ["UANA", "UBOB", "UBOT", "UOTHERBOT"],
        "CDAVE": ["UANA", "UDAVE", "UBOT"],
        "CGUEST": ["UANA", "UGUEST", "UBOT"],
        "CBIG": ["UANA", "UBOB", *(f"UX{i}" for i in range(MAX_MEMBERS)), "UBOT"],
        "CBROKEN": ["UANA", "UBOT"],
        "CLOAD": ["UANA", "UBOB", "UBOT"],
        "CJOIN": ["UANA", "UBOT"],
        "CALL": ["UANA", "UBOB", "UBOT"],
        "CTHREAD": ["UANA", "UBOB", "UBOT"],
        "CDUP": ["UANA", "UBOT"],
        "CFEEDBACK": ["UANA", "UBOB", "UBOT"],
    }
    slack.errors = {"conversations.members:CBROKEN": "missing_scope"}
    return slack.start()


@pytest.fixture(scope="package")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    slack = fake_slack()
    data_dir: Path = tmp_path_factory.mktemp("slack") / "data"
    settings = make_settings(
        data_dir,
        slack=SlackConfig(
            bot_token="xoxb-test",
            signing_secret=SECRET,
            api_base_url=slack.base_url,
            default_datastores=["handbook"],
            users={"UCAROL": "carol"},
            max_channel_members=MAX_MEMBERS,
            progress_delay_seconds=1.0,
        ),
    )
    app = create_app(settings)
    try:
        with served(app) as url, httpx.Client(base_url=url, timeout=60) as http:
            key = admin_key(settings)
            http.headers["Authorization"] = f"Bearer {key}"
            for name, email in (("ana@acme.com", "ana@acme.com"), ("bob", "bob@acme.com"), ("carol", None)):
                created = http.post("/v1/admin/users", json={"name": name, "email": email})
                assert created.status_code == 201, created.text
            assert http.post("/v1/datastores", json={"name": "handbook"}).status_code in (200, 201)
            jobs = []
            for filename, (text, acl) in DOCUMENTS.items():
                response = http.post(
                    "/v1/datastores/handbook/documents",
                    files={"file": (filename, text.encode(), "text/markdown")},
                    data={"acl": json.dumps(acl)},
                )
                assert response.status_code == 202, response.text
                jobs.append(response.json()["job"]["id"])
            for job in jobs:
                wait_job(http, job)
            yield Bot(app, http, slack, key)
    finally:
        slack.stop()


def wait_job(http: httpx.Client, job_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(f"/v1/jobs/{job_id}").json()["status"]
        if status == "succeeded":
            return
        assert status in ("queued", "running"), status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")
