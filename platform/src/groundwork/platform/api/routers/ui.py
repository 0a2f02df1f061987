"""The chat web UI (`ui/`): `index.html` at `/`, its modules, styles and runtime libraries under `/ui/`.

The UI is plain ES modules with no build step; its libraries come from `npm ci` in `ui/` (`node_modules/`). Only
what the page needs is served: `src/`, `styles/`, `assets/`, and the packages named in `dependencies` of
`ui/package.json` (never its dev dependencies, its tests or anything else on disk), with a fixed set of file types.
Every response forbids content sniffing and referrers; the page itself carries a Content-Security-Policy that
allows scripts, styles, images and connections from this origin only, no plugins, no frames, no `<base>`, and HTML
sinks only through DOMPurify's Trusted Types policy.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

from groundwork.platform.api.deps import SettingsDep
from groundwork.platform.config import Settings

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "require-trusted-types-for 'script'",
        "trusted-types dompurify",
    ]
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
OWN_FOLDERS = ("src", "styles", "assets")


def _checkout_ui() -> Path | None:
    """`ui/` beside `platform/` in the source checkout this package is installed from (editable install)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "platform" / "pyproject.toml").is_file() and (folder / "ui" / "index.html").is_file():
            return folder / "ui"
    return None


def ui_directory(settings: Settings) -> Path | None:
    """Where the UI's files are: `ui.directory`, else the checkout's `ui/`; None when there is none."""
    if settings.ui.directory is not None:
        return settings.ui.directory.expanduser().resolve()
    return _checkout_ui()


@lru_cache(maxsize=8)
def _runtime_packages(package_json: Path, modified: float) -> frozenset[str]:
    """The `dependencies` of the UI's package.json: the only packages of node_modules/ that are served."""
    try:
        declared = json.loads(package_json.read_text()).get("dependencies", {})
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s: %s", package_json, exc)
        return frozenset()
    return frozenset(declared) if isinstance(declared, dict) else frozenset()


def runtime_packages(directory: Path) -> frozenset[str]:
    package_json = directory / "package.json"
    try:
        modified = package_json.stat().st_mtime
    except OSError:
        return frozenset()
    return _runtime_packages(package_json, modified)


def _servable(directory: Path, relative: str) -> Path | None:
    """The file `relative` names if the UI may serve it, else None."""
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    if parts[0] == "node_modules":
        package = "/".join(parts[1:3]) if len(parts) > 2 and parts[1].startswith("@") else parts[1]
        if len(parts) < 3 or package not in runtime_packages(directory):
            return None
    elif parts[0] not in OWN_FOLDERS:
        return None
    path = (directory / relative).resolve()
    if path.suffix not in MEDIA_TYPES or not path.is_file() or not path.is_relative_to(directory):
        return None
    return path


def _installed(settings: Settings) -> Path | Response:
    """The UI's folder, or why it cannot be served (plain text, for the person who opened the page)."""
    if not settings.ui.enabled:
        return PlainTextResponse("Not found", status_code=404, headers=SECURITY_HEADERS)
    directory = ui_directory(settings)
    if directory is None or not (directory / "index.html").is_file():
        return PlainTextResponse(
            "The chat UI is not installed here: no ui/ folder beside the platform package. Set "
            "GROUNDWORK_UI__DIRECTORY to the UI's folder, or use the API under /v1 (OpenAPI at /docs).",
            status_code=404,
            headers=SECURITY_HEADERS,
        )
    missing = sorted(p for p in runtime_packages(directory) if not (directory / "node_modules" / p).is_dir())
    if missing:
        return PlainTextResponse(
            f"The chat UI's libraries are not installed ({', '.join(missing)}): run scripts/setup.sh, which runs "
            f"`npm ci` in {directory}.",
            status_code=503,
            headers=SECURITY_HEADERS,
        )
    return directory


@router.get("/", response_class=Response)
def index(settings: SettingsDep) -> Response:
    directory = _installed(settings)
    if isinstance(directory, Response):
        return directory
    return FileResponse(
        directory / "index.html",
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


@router.get("/ui/{relative:path}", response_class=Response)
def asset(relative: str, settings: SettingsDep) -> Response:
    directory = _installed(settings)
    if isinstance(directory, Response):
        return directory
    path = _servable(directory, relative)
    if path is None:
        return PlainTextResponse("Not found", status_code=404, headers=SECURITY_HEADERS)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)
