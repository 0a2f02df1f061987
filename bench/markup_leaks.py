"""Count documentation markup that leaks into titles, heading paths and text after parsing.

    python bench/markup_leaks.py ../shared/data/engdocs/fastapi-docs-en ../shared/data/engdocs/argo-cd-docs \
        ../shared/data/engdocs/influxdata-docs-v2

For each corpus: how many parsed documents have a title or a heading path containing `{ #` or `{*` (the
issue #13 target: 0), and, more broadly, any leftover attribute list (`{#id}`, `{: .class}`), include
(`{* … *}`), shortcode (`{{< … >}}`, `{{% … %}}`) or admonition fence (`/// note`) in titles, heading paths
or text. Exits 1 when a title or heading path still has `{ #` or `{*`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from groundwork.ingestion.parsers.registry import parse_document
from groundwork.ingestion.sources import iter_folder, read_with_shared_source

TARGET = re.compile(r"\{ #|\{\*")
LEAK = re.compile(r"\{ ?#[\w-]|\{:|\{\* |\{\{[<%]|^/{3,}", re.MULTILINE)


def measure(root: Path) -> dict[str, int]:
    counts = {"documents": 0, "target_titles": 0, "target_headings": 0, "leaky_titles": 0, "leaky_headings": 0}
    counts["leaky_text"] = 0
    for path in iter_folder(root, include=["*.md"]):
        data = read_with_shared_source(path, root)
        if not data.strip():
            continue
        try:
            parsed = parse_document(data, filename=path.name)
        except Exception:  # noqa: BLE001 - a document that does not parse has no titles to leak
            continue
        counts["documents"] += 1
        headings = [" / ".join(b.heading_path) for b in parsed.blocks]
        title = parsed.title or ""
        counts["target_titles"] += bool(TARGET.search(title))
        counts["target_headings"] += any(TARGET.search(h) for h in headings)
        counts["leaky_titles"] += bool(LEAK.search(title))
        counts["leaky_headings"] += any(LEAK.search(h) for h in headings)
        counts["leaky_text"] += any(LEAK.search(b.text) for b in parsed.blocks if b.kind != "code")
    return counts


def main(roots: list[str]) -> int:
    failed = False
    for root in roots:
        counts = measure(Path(root))
        print(Path(root).name, " ".join(f"{k}={v}" for k, v in counts.items()))
        failed |= bool(counts["target_titles"] or counts["target_headings"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
