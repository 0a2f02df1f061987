"""Signals that the retrieved passages cannot answer a question, beyond topical similarity.

Embedding similarity says a passage is about the same subject; it cannot tell that the passage lacks the
specific thing asked about. Three checks that can (measured on the Dapr question set, docs/evaluation.md):
- the question names something (a product, an acronym, a version, an identifier) that no passage mentions;
- the question uses a word that no document of the datastores contains at all (`content_words`, checked
  against the lexical index by the answer flow): documents that never use a word cannot state the fact asked;
- the question asks for a quantity (how many, how much, how long, in seconds, which year, ...) and no supported sentence
  gives a number next to what is counted ("how many messages per second" needs a number with "message"
  and "second" in the same sentence or the next).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import Stemmer

from groundwork.platform.answers.terms import SHORTHAND, context_terms, split_identifier, unmatched

_TOKEN = re.compile(r"`[^`]+`|[A-Za-z0-9][\w./:-]*[\w]|[A-Za-z0-9]")
_WORD = re.compile(r"[a-z0-9]+")
_QUANTITY = re.compile(
    r"\bhow (many|much|long|often|big|large|fast)\b|\bwhat (percentage|percent|share|port|year|version|number)\b"
    r"|\bwhich (year|port|version)\b|\bin (milli)?seconds\b|\bin (minutes|hours|days|bytes)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand)\b"
    r"|(?<!\bthe )(?<!\bno )(?<!\bany )(?<!\bthis )(?<!\bwhich )\bone\b(?! of\b)",  # "one year", not "the one"
    re.I,
)
_HOW_MANY = re.compile(
    r"\bhow many ((?:[a-z0-9/-]+ ){0,4}?)(?:do|does|did|can|could|is|are|was|were|will|would|"
    r"should|must|may|might|has|have|had|of|in|at|on|for|to|per|before|after|by|with)\b",
    re.I,
)
_PER_UNIT = re.compile(r"\b(?:per|a|each|every) (second|minute|hour|day)\b|\bin (seconds|minutes|hours|days)\b", re.I)
_UNITS = {
    "second": re.compile(r"\b(milli)?seconds?\b|\bsecs?\b|\d\s*m?s\b|/s\b"),
    "minute": re.compile(r"\bminutes?\b|\bmins?\b|\d\s*m\b|/min\b"),
    "hour": re.compile(r"\bhours?\b|\bhrs?\b|\d\s*h\b|/h\b"),
    "day": re.compile(r"\bdays?\b|\d\s*d\b"),
}

_STEMMER = Stemmer.Stemmer("english")

_STOP_TEXT = """a about above after again against all also am an and any are as at be because been before being below
    between both but by can cannot could did do does doing done down during each either else ever every few for
    from further get gets getting give given gives go goes had has have having he her here hers him his how i if
    in into is it its itself just let like make makes many may me might more most much must my need needs no nor
    not now of off on once one only or other our ours out over own per please same shall she should show so some
    such tell than that the their theirs them then there these they this those through to too under until up upon
    us use used uses using very via want was way we were what whatever when where whether which while who whom
    whose why will with within without would yes yet you your yours
    describe described explain detail details detailed whole entire overall list summarise summarize steps step
    procedure example examples exactly possible long often
    isnt arent wasnt werent dont doesnt didnt cant couldnt wont wouldnt shouldnt hasnt havent im ive id youre
    whats hows thats theres lets pls plz thx hey hi hello anyone someone somebody guys folks ok okay btw"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
"""Question and instruction words that say how to answer, not what about: never required to occur in documents."""


def named_terms(question: str) -> list[str]:
    """Terms a question names: words with a capital after their first letter or not at a sentence start
    (unless the whole question is in Title Case), digits, or `/ . _` inside, and anything in backticks.
    Plain lower-case words are not names."""
    terms: list[str] = []
    words = re.findall(r"[A-Za-z]{4,}", question)
    title_case = len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)
    previous_end = 0
    for index, match in enumerate(_TOKEN.finditer(question)):
        raw = match.group(0)
        token = raw.strip("`")
        token = re.sub(r"'s$", "", token)
        is_code = raw.startswith("`")
        mixed_case = any(c.isupper() for c in token[1:])
        sentence_start = index == 0 or bool(re.search(r"[:?!.]\s*$", question[previous_end : match.start()]))
        previous_end = match.end()
        # In a Title Case question (a paper's title, a heading) capitals say nothing about names.
        capitalised = token[:1].isupper() and not sentence_start and not title_case
        marked = any(c.isdigit() for c in token) or any(c in token for c in "/._")
        if len(token) < 2:  # "I", "a"
            continue
        if (is_code or mixed_case or capitalised or marked) and token not in terms:
            terms.append(token)
    return terms


_HTTP_WORDS = frozenset(
    ["get", "post", "put", "patch", "delete", "head", "options", "trace", "connect", "http", "https"]
)


def subject_terms(question: str) -> list[str]:
    """The named terms a passage must mention to answer the question: `named_terms` without chat shorthand
    (w/o, 3rd, k8s), bare numbers and HTTP methods (a status code or a verb is what is asked about, not a
    name the page must repeat), and the asker's own team, service and environment names."""
    context = context_terms(question)
    kept: list[str] = []
    for term in named_terms(question):
        lower = term.lower()
        shorthand = lower in SHORTHAND or f"{lower}." in SHORTHAND or lower.rstrip("s") in SHORTHAND
        if shorthand or lower in _HTTP_WORDS or lower.isdigit():
            continue
        if lower in context or all(part in context for part in split_identifier(term)):
            continue
        kept.append(term)
    return kept


def missing_terms(question: str, passages: Iterable[str]) -> list[str]:
    """Subject terms of the question (`subject_terms`) that no passage mentions in any normalised form
    (`terms.mentions`: case, stems, identifier splits, shorthand, acronyms spelled out)."""
    return unmatched(subject_terms(question), list(passages), question)


def vocabulary_words(question: str) -> list[list[str]]:
    """The question's content words to look up in the corpus vocabulary, each with its alternatives (the
    word, its shorthand expansions, its identifier parts joined): a word is unknown only if none is found.
    The asker's context names and shorthand for question words are left out."""
    context = context_terms(question)
    groups: list[list[str]] = []
    for word in content_words(question):
        if word in context:
            continue
        alternatives = [word, *SHORTHAND.get(word, ()), *SHORTHAND.get(word.rstrip("s"), ())]
        groups.append(list(dict.fromkeys(alternatives)))
    return groups


def content_words(question: str) -> list[str]:
    """The question's words that say what it is about: lower-cased, without question, instruction and
    function words, numbers or one-letter tokens, in order, each once."""
    words: list[str] = []
    for word in _WORD.findall(question.lower()):
        if len(word) < 2 or word.isdigit() or word in STOP_WORDS or word in words:
            continue
        words.append(word)
    return words


def expects_quantity(question: str) -> bool:
    return _QUANTITY.search(question) is not None


def counted_things(question: str) -> list[str]:
    """What a quantity question counts or measures per, as word stems: "how many reentrant calls" ->
    [reentrant, call]; "messages per second" -> [..., second]; "in seconds" -> [second]."""
    stems: list[str] = []
    match = _HOW_MANY.search(question)
    if match:
        words = [w for w in _WORD.findall(match.group(1).lower()) if w not in STOP_WORDS]
        stems.extend(_STEMMER.stemWords(words))
    for unit in _PER_UNIT.finditer(question):
        name = (unit.group(1) or unit.group(2)).lower().rstrip("s")
        if name not in stems:
            stems.append(name)
    return stems


_COST = re.compile(r"\b(cost|costs|price|pricing|pay|charge|charged)\b", re.IGNORECASE)
_CURRENCY = re.compile(r"[$€£¥]|\b(usd|eur|gbp|dollars?|euros?|cents?)\b", re.IGNORECASE)
_MARKERS = re.compile(r"\[\d+(?:[,\s\-–]+\d+)*\]")


def gives_number(sentence: str, question: str = "") -> bool:
    """Whether `sentence` (citation markers aside) contains a number; for a question about cost, money."""
    number = _CURRENCY if _COST.search(question) else _NUMBER
    return number.search(_MARKERS.sub("", sentence)) is not None


def _mentions(sentence: str, stem: str) -> bool:
    if stem in _UNITS:
        return _UNITS[stem].search(sentence) is not None
    return stem in _STEMMER.stemWords(_WORD.findall(sentence))


def states_quantity(sentences: Iterable[str] | str, question: str = "") -> bool:
    """Whether the supported `sentences` (citation markers aside) give the quantity asked: a number — for a
    question about cost, an amount of money — with everything the question counts (`counted_things`) in the
    same or a neighbouring sentence."""
    texts = [sentences] if isinstance(sentences, str) else list(sentences)
    plain = [_MARKERS.sub("", text).lower() for text in texts]
    counted = counted_things(question)
    for index, sentence in enumerate(plain):
        if not gives_number(sentence, question):
            continue
        window = " ".join(plain[max(0, index - 1) : index + 2])
        if all(_mentions(window, stem) for stem in counted):
            return True
    return False
