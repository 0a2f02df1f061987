"""The answer link policy and its streaming form: links and images only to allowed URIs, whatever the text."""

from __future__ import annotations

import random
import re

import pytest

from groundwork.platform.answers.safety import REMOVED_LINK, LinkPolicy, StreamSanitizer

ALLOWED = "https://docs.example.com/runbook"
POLICY = LinkPolicy([ALLOWED, "upload://guide.md"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See ![x](https://evil.example/?q=secret) now [1].", "See  now [1]."),
        (
            "[here](https://evil.example/x) or [docs](https://docs.example.com/runbook) [2][3].",
            "here or [docs](https://docs.example.com/runbook) [2][3].",
        ),
        (
            "Visit https://evil.example/steal?x=1. Then https://docs.example.com/runbook.",
            f"Visit {REMOVED_LINK}. Then https://docs.example.com/runbook.",
        ),
        (
            "<img src='https://evil.example/a.png'> and List<String> and <https://evil.example>",
            f" and List<String> and {REMOVED_LINK}",
        ),
        ("![a [b] c](//evil.example/x) and //evil.example/y", f" and {REMOVED_LINK}"),
        ("[ref]: https://evil.example/z\nuse ![ref] and [t][ref]", "\nuse ![ref] and [t][ref]"),
        ("[run](javascript:alert(1)) [d](data:text/html,x)", "run) d"),
        ("hidden\U000e0041\U000e0042 text\u200b\u202e!", "hidden text!"),
        ("www.evil.example/x?q=1 is gone", f"{REMOVED_LINK} is gone"),
        ('<a href="https://evil.example">click</a>', "click"),
        ("Backups run at 02:00 UTC [1]. Keep `x < y` as is.", "Backups run at 02:00 UTC [1]. Keep `x < y` as is."),
    ],
)
def test_the_policy_removes_what_could_fetch_or_link_outside_the_allowlist(text: str, expected: str) -> None:
    assert POLICY.sanitize(text) == expected


FRAGMENTS = [
    "Backups run nightly [1]. ",
    "![i](https://evil.example/p.png?d=1)",
    "[l](https://evil.example/l)",
    "[ok](https://docs.example.com/runbook)",
    "https://evil.example/bare?q=",
    " <img src=x onerror=alert(1)> ",
    "<https://evil.example/auto>",
    "\n[r]: https://evil.example/ref\n",
    " ![r] ",
    "www.evil.example ",
    "(",
    ")",
    "[",
    "]",
    "!",
    " ",
    "\n",
    "word ",
    "[2]",
]


LINKABLE = re.compile(r"//evil\.example|(?<![\w.])www\.evil\.example|<img|onerror|\]\(https://evil", re.IGNORECASE)
"""What a markdown renderer would fetch or make clickable (GFM autolinks `www.` only after a boundary)."""


def test_a_stream_never_shows_what_the_whole_answer_would_not() -> None:
    """Random answers cut into random deltas: the deltas shown, joined, equal the sanitized whole answer,
    and no shown prefix ever carries a forbidden link (checked as the reader would see it, delta by delta)."""
    rng = random.Random(7)
    for _ in range(400):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25)))
        sanitizer = StreamSanitizer(POLICY)
        shown = ""
        position = 0
        while position < len(text):
            step = rng.randint(1, 9)
            shown += sanitizer.feed(text[position : position + step])
            position += step
            assert not LINKABLE.search(shown), (text, shown)
        shown += sanitizer.finish()
        assert shown == POLICY.sanitize(text), text
