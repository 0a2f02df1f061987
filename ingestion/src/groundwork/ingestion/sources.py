"""Document sources: a local folder walked recursively with include/exclude globs, and the selection rule
`gs://` sources share (`groundwork.platform.sync`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from fnmatch import fnmatch
from pathlib import Path

DEFAULT_INCLUDE = ("*.md", "*.markdown", "*.txt", "*.html", "*.htm", "*.pdf", "*.docx")


def _matches(relative: str, patterns: Sequence[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch(relative, pattern) or fnmatch(name, pattern) for pattern in patterns)


def is_selected(relative: str, *, include: Sequence[str] = DEFAULT_INCLUDE, exclude: Sequence[str] = ()) -> bool:
    """Whether the file at `relative` (`/`-separated, below a source's root) is taken: no hidden segment, its
    relative path or name matches an include glob and no exclude glob. Globs use fnmatch: `*` also crosses
    `/`, e.g. `blog/*` or `*.md`. Folder and `gs://` sources select alike."""
    if any(part.startswith(".") for part in relative.split("/")):
        return False
    return _matches(relative, include) and not _matches(relative, exclude)


def iter_folder(root: Path, *, include: Sequence[str] = DEFAULT_INCLUDE, exclude: Sequence[str] = ()) -> Iterator[Path]:
    """Files under `root` (sorted) that `is_selected`."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and is_selected(relative, include=include, exclude=exclude):
            yield path


_FRONT_MATTER = re.compile(rb"\A---\r?\n(.*?)\r?\n---\r?\n?", re.DOTALL)
_HTML_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_SOURCE_KEY = re.compile(rb"^source:\s*['\"]?(/[^'\"\s]+\.md)['\"]?\s*$", re.MULTILINE)


def read_with_shared_source(path: Path, root: Path) -> bytes:
    """A Markdown file's bytes, with Hugo's shared-content convention applied.

    Sites like InfluxData's keep a page's body in one shared file and point to it from several pages with
    `source: /shared/x.md` in the front matter (resolved against Hugo's `content/` folder). When such a page
    has no body of its own, its front matter is kept and the shared file's body is appended, so the page
    is indexed with the text a reader sees rather than failing as empty.
    """
    data = path.read_bytes()
    if path.suffix.lower() not in {".md", ".markdown"}:
        return data
    front = _FRONT_MATTER.match(data)
    if front is None:
        return data
    body = _HTML_COMMENT.sub(b"", data[front.end() :])
    if body.strip():
        return data
    source = _SOURCE_KEY.search(front.group(1))
    if source is None:
        return data
    relative = source.group(1).decode("utf-8", "replace").lstrip("/")
    for base in (*[p for p in path.parents if p.name == "content"], root):
        shared = base / relative
        if shared.is_file() and shared.resolve() != path.resolve():
            shared_data = shared.read_bytes()
            shared_front = _FRONT_MATTER.match(shared_data)
            body = shared_data[shared_front.end() :] if shared_front else shared_data
            return data[: front.end()] + b"\n" + body
    return data
