"""Signals that the retrieved passages cannot answer a question, beyond topical similarity.

Embedding similarity says a passage is about the same subject; it cannot tell that the passage lacks the
specific thing asked about. Two checks that can (measured on the Dapr question set, docs/evaluation.md):
- the question names something (a product, an acronym, a version, an identifier) that no passage mentions;
- the question asks for a quantity (how many, how much, what percentage, which year, ...) and no supported
  sentence of the answer contains a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"`[^`]+`|[A-Za-z0-9][\w./:-]*[\w]|[A-Za-z0-9]")
_QUANTITY = re.compile(
    r"\bhow (many|much|long|often|big|large|fast)\b|\bwhat (percentage|percent|share|port|year|version|number)\b"
    r"|\bwhich (year|port|version)\b|^\W*when\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand)\b", re.I)


def named_terms(question: str) -> list[str]:
    """Terms a question names: words with a capital after their first letter or not at the sentence start,
    digits, or `/ . _` inside, and anything in backticks. Plain lower-case words are not names."""
    terms: list[str] = []
    for index, match in enumerate(_TOKEN.finditer(question)):
        raw = match.group(0)
        token = raw.strip("`")
        token = re.sub(r"'s$", "", token)
        is_code = raw.startswith("`")
        mixed_case = any(c.isupper() for c in token[1:])
        capitalised = token[:1].isupper() and index > 0
        marked = any(c.isdigit() for c in token) or any(c in token for c in "/._")
        if len(token) < 2:  # "I", "a"
            continue
        if (is_code or mixed_case or capitalised or marked) and token not in terms:
            terms.append(token)
    return terms


def missing_terms(question: str, passages: Iterable[str]) -> list[str]:
    """Named terms of the question that occur in none of the passages (case-insensitive)."""
    text = " ".join(passages).lower()
    return [term for term in named_terms(question) if term.lower() not in text]


def expects_quantity(question: str) -> bool:
    return _QUANTITY.search(question) is not None


_COST = re.compile(r"\b(cost|costs|price|pricing|pay|charge|charged)\b", re.IGNORECASE)
_CURRENCY = re.compile(r"[$€£¥]|\b(usd|eur|gbp|dollars?|euros?|cents?)\b", re.IGNORECASE)


def states_quantity(text: str, question: str = "") -> bool:
    """Whether `text` (citation markers aside) gives a number; for a question about cost, an amount of money."""
    plain = re.sub(r"\[\d+(?:[,\s\-–]+\d+)*\]", "", text)
    if _COST.search(question):
        return _CURRENCY.search(plain) is not None
    return _NUMBER.search(plain) is not None
