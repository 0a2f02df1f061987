"""How the platform serves the UI: where it finds it, what it serves (and refuses), and the headers that make
the page safe to render answers in (a strict Content-Security-Policy with Trusted Types)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from groundwork.platform.api.app import create_app
from groundwork.platform.api.routers.ui import ui_directory
from groundwork.platform.config import Settings, UiConfig

from ..conftest import REPO, make_settings

UI = REPO / "ui"


def client(settings: Settings) -> TestClient:
    """The app without its lifespan: serving the UI needs the settings only."""
    return TestClient(create_app(settings))


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    yield client(make_settings(tmp_path / "data"))


def policy(header: str) -> dict[str, str]:
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (p.strip() for p in header.split(";")) if d}


def test_the_ui_is_found_in_the_checkout_the_package_is_installed_from(tmp_path: Path) -> None:
    assert ui_directory(make_settings(tmp_path)) == UI.resolve()
    assert ui_directory(make_settings(tmp_path, ui=UiConfig(directory=tmp_path))) == tmp_path.resolve()


def test_the_page_carries_a_strict_content_security_policy(http: TestClient) -> None:
    response = http.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/src/main.js">' in response.text
    csp = policy(response.headers["content-security-policy"])
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["require-trusted-types-for"] == "'script'" and csp["trusted-types"] == "dompurify"
    assert all("unsafe" not in value for value in csp.values())
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/ui/src/main.js", "text/javascript"),
        ("/ui/styles/theme.css", "text/css"),
        ("/ui/assets/icon.svg", "image/svg+xml"),
        ("/ui/node_modules/dompurify/dist/purify.es.mjs", "text/javascript"),
        ("/ui/node_modules/@highlightjs/cdn-assets/es/highlight.min.js", "text/javascript"),
    ],
)
def test_the_ui_files_are_served_with_their_types(http: TestClient, path: str, media_type: str) -> None:
    response = http.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/ui/package.json",  # not an asset folder
        "/ui/index.html",  # only at /, with its policy
        "/ui/node_modules/axe-core/axe.min.js",  # a dev dependency (the tests' accessibility engine)
        "/ui/node_modules/.groundwork-installed-lock",
        "/ui/node_modules/marked/package.json",  # not a served file type
        "/ui/src/%2e%2e/package.json",
        "/ui/src/..%2f..%2fREADME.md",
        "/ui/src/%2e%2e/%2e%2e/platform/pyproject.toml",
        "/ui/src/does-not-exist.js",
    ],
)
def test_nothing_else_on_disk_is_served(http: TestClient, path: str) -> None:
    assert http.get(path).status_code == 404, path


def test_a_disabled_or_missing_ui_says_so(tmp_path: Path) -> None:
    assert client(make_settings(tmp_path, ui=UiConfig(enabled=False))).get("/").status_code == 404
    missing = client(make_settings(tmp_path, ui=UiConfig(directory=tmp_path / "nowhere"))).get("/")
    assert missing.status_code == 404 and "GROUNDWORK_UI__DIRECTORY" in missing.text
    copy = tmp_path / "ui"
    shutil.copytree(UI, copy, ignore=shutil.ignore_patterns("node_modules"))
    unbuilt = client(make_settings(tmp_path, ui=UiConfig(directory=copy))).get("/")
    assert unbuilt.status_code == 503 and "npm ci" in unbuilt.text and "dompurify" in unbuilt.text


def test_every_module_the_ui_imports_is_served(http: TestClient) -> None:
    """Imports are relative paths (no build step, no import map): each must resolve to a served file."""
    seen: set[str] = set()
    pending = ["/ui/src/main.js"]
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = http.get(url)
        assert response.status_code == 200, url
        if url.startswith("/ui/src/"):
            for target in re.findall(r"""^(?:import|export)\b[^;]*?from\s+["']([^"']+)["']""", response.text, re.M):
                base = url.rsplit("/", 1)[0]
                resolved = (Path(base) / target).resolve().as_posix()
                pending.append(resolved)
    assert "/ui/src/vendor.js" in seen and len([u for u in seen if "node_modules" in u]) == 3


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style" or "style" in names:
            self.problems.append(f"inline style on <{tag}>")
        self.problems += [f"{name} handler on <{tag}>" for name in names if name.startswith("on")]

    def handle_data(self, data: str) -> None:
        return


def test_the_ui_has_no_inline_code_and_parses_html_only_through_dompurify() -> None:
    markup = _Markup()
    markup.feed((UI / "index.html").read_text())
    assert markup.problems == []
    sinks = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\(|srcdoc")
    for module in sorted((UI / "src").glob("*.js")):
        assert not sinks.search(module.read_text()), f"{module.name} uses an HTML or code sink"
