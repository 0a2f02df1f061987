"""Documentation-site markup that is not text stays out of titles, heading paths and chunk text: checked on
real pages of the FastAPI (MkDocs + pymdownx), Argo CD (MkDocs, GitHub alerts) and InfluxData (Hugo) docs."""

from __future__ import annotations

import re

import pytest

from groundwork.ingestion.parsers.registry import parse_document

from ..conftest import shared_data

LEAK = re.compile(r"\{ ?#[\w-]|\{:|\{\* |\{\{[<%]|^/{3,}|\[!NOTE\]", re.MULTILINE)


def _parse(*parts: str):  # type: ignore[no-untyped-def]
    path = shared_data("engdocs", *parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return parse_document(path.read_bytes(), filename=path.name)


@pytest.mark.parametrize(
    ("parts", "title", "heading"),
    [
        (("fastapi-docs-en", "docs/en/docs/python-types.md"), "Python Types Intro", "Motivation"),
        (
            ("fastapi-docs-en", "docs/en/docs/deployment/server-workers.md"),
            "Server Workers - Uvicorn with Workers",
            None,
        ),
        (("fastapi-docs-en", "docs/en/docs/tutorial/cors.md"), "CORS (Cross-Origin Resource Sharing)", "Wildcards"),
        (("argo-cd-docs", "docs/user-guide/auto_sync.md"), "Automated Sync Policy", "Automatic Pruning"),
    ],
)
def test_titles_headings_and_text_carry_no_markup(parts: tuple[str, str], title: str, heading: str | None) -> None:
    document = _parse(*parts)
    assert document.title == title
    paths = [" / ".join(block.heading_path) for block in document.blocks]
    assert not any(LEAK.search(path) for path in paths)
    assert not any(LEAK.search(block.text) for block in document.blocks if block.kind != "code")
    if heading is not None:
        assert any(block.heading_path[-1:] == (heading,) for block in document.blocks)


def test_block_fences_keep_their_title_and_includes_go() -> None:
    document = _parse("fastapi-docs-en", "docs/en/docs/advanced/additional-status-codes.md")
    texts = [block.text for block in document.blocks]
    assert "Technical Details" in texts  # `/// note | Technical Details` -> its title, as a paragraph
    assert not any("docs_src" in text for text in texts)  # `{* ../../docs_src/... *}` includes are gone


def test_hugo_heading_attributes_and_shortcodes_are_stripped() -> None:
    raw = shared_data("engdocs", "influxdata-docs-v2", "content/shared/influxdb3-cli/config-options.md")
    if not raw.exists():
        pytest.skip("influxdata docs are not available")
    assert re.search(r"^#+ .*\{#[\w-]+", raw.read_text(), re.M), "the page has heading attributes to strip"
    document = _parse("influxdata-docs-v2", "content/shared/influxdb3-cli/config-options.md")
    assert any(block.kind == "heading" for block in document.blocks)
    assert not any(LEAK.search(" / ".join(block.heading_path)) for block in document.blocks)
    assert not LEAK.search(document.title or "")
