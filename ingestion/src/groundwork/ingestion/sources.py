"""Document sources: a local folder walked recursively with include/exclude globs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fnmatch import fnmatch
from pathlib import Path

DEFAULT_INCLUDE = ("*.md", "*.markdown", "*.txt", "*.html", "*.htm", "*.pdf", "*.docx")


def _matches(relative: str, patterns: Sequence[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch(relative, pattern) or fnmatch(name, pattern) for pattern in patterns)


def iter_folder(
    root: Path, *, include: Sequence[str] = DEFAULT_INCLUDE, exclude: Sequence[str] = ()
) -> Iterator[Path]:
    """Files under `root` (sorted, hidden entries skipped) whose relative path or name matches an include
    glob and no exclude glob. Globs use fnmatch: `*` also crosses `/`, e.g. `blog/*` or `*.md`."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        if not path.is_file():
            continue
        if _matches(relative, include) and not _matches(relative, exclude):
            yield path
