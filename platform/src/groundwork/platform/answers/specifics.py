"""A supported claim must also carry the specifics its passage has: otherwise it is vacuous.

The verifier checks that a passage states a claim. "You can use the CORS middleware [1]" is stated by a
passage that says "configure it using the `CORSMiddleware` ... `allow_origins`", yet it tells the asker
nothing they can act on. A claim is kept as verified only if, when its best evidence sentence holds
specifics (code, identifiers, flags, commands, numbers, acronyms), the claim carries at least one of them;
else it is marked unsupported ("lacks the passage's specifics"), and the passage's own sentence, which has
them, is what the answer quotes instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from groundwork.platform.answers.citations import strip_markers
from groundwork.platform.answers.terms import PassageTerms, mentions
from groundwork.platform.answers.verification import ClaimVerdict

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_SPECIFIC = re.compile(
    r"--?[a-z][\w-]+"  # flags
    r"|\b[A-Za-z]+[a-z0-9]*[A-Z][\w]*\b"  # camelCase / PascalCase with an inner capital
    r"|\b[a-z0-9]+(?:[_./=][a-zA-Z0-9]+)+\b"  # snake_case, dotted.names, key=value, paths
    r"|\b[A-Z]{2,}[a-z]?s?\b"  # acronyms
    r"|\b\d+(?:\.\d+)*[a-zA-Z]{0,3}\b"  # numbers, versions, 3m, 600s
)


def specifics(sentence: str) -> list[str]:
    """The specific tokens of a sentence, in order, each once."""
    found: list[str] = []
    text = strip_markers(sentence)
    for match in _CODE_SPAN.finditer(text):
        found.append(match.group(1).strip())
    for match in _SPECIFIC.finditer(_CODE_SPAN.sub(" ", text)):
        token = match.group(0).strip(".")
        if len(token) > 1 and token not in found:
            found.append(token)
    return found


def lacks_specifics(claim: str, evidence: str, question: str = "") -> list[str]:
    """The evidence's specifics (those the question does not already name) when the claim carries none of
    them; [] when it carries one, or there are none."""
    asked = PassageTerms.of(question)
    wanted = [token for token in specifics(evidence) if not mentions(token, asked)]
    if not wanted:
        return []
    bare = " ".join(strip_markers(claim).split())
    if bare and bare in " ".join(evidence.split()):
        return []  # the passage's own words
    terms = PassageTerms.of(bare)
    lowered = bare.lower()
    if any(token.lower() in lowered or mentions(token, terms) for token in wanted):
        return []
    return wanted


def demote_vacuous(verdicts: Sequence[ClaimVerdict], question: str) -> list[ClaimVerdict]:
    """Supported verdicts whose claim lacks its evidence's specifics become unsupported, saying which."""
    out: list[ClaimVerdict] = []
    for verdict in verdicts:
        missing = lacks_specifics(verdict.claim.text, verdict.best_sentence, question) if verdict.supported else []
        if missing:
            reason = f"lacks the passage's specifics ({', '.join(missing[:4])})"
            verdict = replace(verdict, supported=False, reasons=(*verdict.reasons, reason))
        out.append(verdict)
    return out
