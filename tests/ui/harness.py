"""What the UI tests (and scripts/screenshots.py) run: the platform served over real HTTP by uvicorn, a stand-in
for the language model, a browser, and an API client for setting things up.

The stand-in model speaks the OpenAI streaming protocol that vLLM speaks, token by token with a delay, and
records whether each stream ran to its end or was cut off by the platform: what it writes is chosen by the test,
because what is under test is the UI around the model (streaming, stopping, rendering). The real vLLM server is
used in test_vllm.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import Page, expect

from groundwork.platform.api.app import create_app
from groundwork.platform.config import Settings
from groundwork.serving.testing import Messages, ScriptedChatServer, repeat_sources

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

DEPLOY = b"""# Deploying the API

## Configuration

Set the port with an environment variable before starting the server:

```bash
export GROUNDWORK_API__PORT=9090
groundwork serve
```

The server reads the variable when it starts. The default port is 8080.
"""


CLAIM_WATCH = """() => {
  window.__shown = [];
  const record = () => {
    for (const body of document.querySelectorAll('.message.assistant .answer-body')) {
      const busy = body.closest('.message').getAttribute('aria-busy') === 'true';
      const text = body.innerText;
      const last = window.__shown[window.__shown.length - 1];
      if (text && !(last && last.text === text && last.busy === busy)) window.__shown.push({ text, busy });
    }
  };
  new MutationObserver(record).observe(document.querySelector('#messages'), {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}"""
"""Records every text an answer's body ever shows (`window.__shown`: {text, busy}), for the whole stream: what a
reader could have seen, to compare with what the final answer marks unsupported."""


def shown_texts(page: Page) -> list[dict[str, Any]]:
    """What `CLAIM_WATCH` recorded."""
    shown: list[dict[str, Any]] = page.evaluate("window.__shown")
    return shown


class ModelStandIn(ScriptedChatServer):
    """The stand-in model of the UI tests: token by token (8 characters, 20 ms apart), repeating its sources
    unless a test scripts another reply."""

    def __init__(self, reply: Callable[[Messages], str] = repeat_sources) -> None:
        super().__init__(reply, model="standin", chunk_chars=8, delay=0.02)


@dataclass
class Site:
    """The platform served at `url`, with an API client acting as the bootstrap admin."""

    url: str
    settings: Settings
    app: Any
    admin_key: str
    api: httpx.Client = field(repr=False)

    def services(self) -> Any:
        return self.app.state.services


@contextmanager
def serve(settings: Settings) -> Iterator[Site]:
    """create_app(settings) served by uvicorn (lifespan on) on a free port, in a thread."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the platform did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    key = settings.bootstrap_key_file().read_text().strip()
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    try:
        yield Site(url=url, settings=settings, app=app, admin_key=key, api=client)
    finally:
        client.close()
        server.should_exit = True
        thread.join(30)


def create_datastore(api: httpx.Client, name: str) -> str:
    response = api.post("/v1/datastores", json={"name": name})
    assert response.status_code == 201, response.text
    datastore_id: str = response.json()["id"]
    return datastore_id


def upload(
    api: httpx.Client,
    datastore: str,
    filename: str,
    data: bytes,
    *,
    mime: str = "text/markdown",
    acl: Any = None,
    title: str | None = None,
    source_uri: str | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    form: dict[str, str] = {}
    if acl is not None:
        form["acl"] = json.dumps(acl)
    if title is not None:
        form["title"] = title
    if source_uri is not None:
        form["source_uri"] = source_uri
    response = api.post(f"/v1/datastores/{datastore}/documents", files={"file": (filename, data, mime)}, data=form)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    if wait:
        wait_job(api, accepted["job"]["id"])
    return accepted


def wait_job(api: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "completed_with_errors"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {job}"
        time.sleep(0.1)


def add_user(api: httpx.Client, name: str, role: str = "reader") -> str:
    """A user and a new API key of it (the key's token)."""
    response = api.post("/v1/admin/users", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    key = api.post("/v1/admin/api-keys", json={"user": name})
    assert key.status_code == 201, key.text
    token: str = key.json()["token"]
    return token


def sign_in(page: Page, key: str, *, remember: bool = False) -> None:
    page.goto("/")
    page.get_by_label("API key or identity token").fill(key)
    if remember:
        page.get_by_label("Remember me on this device").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator(".picker-label")).not_to_have_text("Datastores")


def ask(page: Page, question: str) -> None:
    """Type a question, send it with Enter, wait for the verified answer (or refusal)."""
    before = page.locator(".message.assistant").count()
    page.get_by_label("Ask a question").fill(question)
    page.get_by_label("Ask a question").press("Enter")
    answer = page.locator(".message.assistant").nth(before)
    expect(answer).to_have_attribute("aria-busy", "false", timeout=60_000)


def pick_datastores(page: Page, site: Site, names: set[str]) -> None:
    """Tick exactly the datastores named in the picker."""
    ids = {d["id"] for d in site.api.get("/v1/datastores").json()["items"] if d["name"] in names}
    page.locator("#picker summary").click()
    for box in page.locator(".picker-options input").all():
        box.set_checked(box.get_attribute("value") in ids)
    page.keyboard.press("Escape")
