"""Matching a question's terms to passages the way a search engine would: through normalisation.

People type "k8s", "cfg", "w/o", "CRDs", "selfheal", "payments-svc"; documents say "Kubernetes",
"configuration", "without", "CustomResourceDefinition", "selfHeal". A term matches a passage when one of
its forms occurs there:

- case-folded, stemmed (Snowball English, the lexical index's stemmer), plural and singular alike;
- split at camelCase, kebab-case, snake_case, dots and slashes (`selfHeal` = `self heal` = `self-heal`), and
  joined back (`self heal` matches `selfheal`);
- expanded through a general list of engineering shorthand (`SHORTHAND`, not learned from any test set);
- an acronym matches the words whose initials spell it when a passage defines it ("Horizontal Pod
  Autoscaling (HPA)") or simply uses those words in a row ("persistent volume" for "PV"): abbreviations are
  learned from the corpus text, not listed.

`context_terms` tells the subject of a question from its context: the asker's own team, service and
environment names ("our payments-svc", "team-falcon", "in prod") are where they work, not what they ask
about, and no document is expected to mention them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[-_./:=]+")

SHORTHAND: dict[str, tuple[str, ...]] = {
    "w/o": ("without",),
    "w/": ("with",),
    "b4": ("before",),
    "bc": ("because",),
    "b/c": ("because",),
    "1st": ("first",),
    "2nd": ("second",),
    "3rd": ("third", "third-party"),
    "k8s": ("kubernetes",),
    "cfg": ("config", "configuration"),
    "conf": ("config", "configuration"),
    "config": ("configuration",),
    "env": ("environment",),
    "envs": ("environments",),
    "var": ("variable",),
    "vars": ("variables",),
    "repo": ("repository",),
    "repos": ("repositories",),
    "db": ("database",),
    "dbs": ("databases",),
    "pw": ("password",),
    "pwd": ("password",),
    "passwd": ("password",),
    "creds": ("credentials",),
    "cred": ("credential",),
    "auth": ("authentication", "authorization"),
    "authn": ("authentication",),
    "authz": ("authorization",),
    "ns": ("namespace",),
    "cm": ("configmap",),
    "bg": ("background",),
    "notif": ("notification",),
    "notifs": ("notifications",),
    "addtl": ("additional",),
    "addl": ("additional",),
    "prev": ("previous",),
    "fwd": ("forward",),
    "perf": ("performance",),
    "attr": ("attribute",),
    "attrs": ("attributes",),
    "arg": ("argument",),
    "args": ("arguments",),
    "param": ("parameter",),
    "params": ("parameters",),
    "fn": ("function",),
    "fns": ("functions",),
    "func": ("function",),
    "dep": ("dependency",),
    "deps": ("dependencies",),
    "min": ("minimum",),
    "max": ("maximum",),
    "msg": ("message",),
    "msgs": ("messages",),
    "app": ("application",),
    "apps": ("applications",),
    "svc": ("service",),
    "svcs": ("services",),
    "sa": ("serviceaccount", "service account"),
    "pat": ("personal access token", "access token"),
    "ws": ("websocket",),
    "op": ("operation",),
    "ops": ("operations",),
    "req": ("request",),
    "reqs": ("requests",),
    "resp": ("response",),
    "img": ("image",),
    "dir": ("directory",),
    "dirs": ("directories",),
    "docs": ("documentation",),
    "doc": ("documentation",),
    "info": ("information",),
    "impl": ("implementation",),
    "init": ("initial", "initialize"),
    "pkg": ("package",),
    "pkgs": ("packages",),
    "lib": ("library",),
    "libs": ("libraries",),
    "dev": ("development",),
    "prod": ("production",),
    "ci": ("continuous integration",),
    "cd": ("continuous delivery",),
    "pr": ("pull request",),
    "prs": ("pull requests",),
    "dr": ("disaster recovery",),
    "ha": ("high availability",),
    "ui": ("user interface", "web ui"),
    "cli": ("command line", "command-line"),
    "cmd": ("command",),
    "cmds": ("commands",),
    "ver": ("version",),
    "num": ("number",),
    "tmp": ("temporary",),
    "ttl": ("time to live",),
    "ml": ("machine learning",),
    "async": ("asynchronous",),
    "sync": ("synchronization", "synchronize"),
    "msvc": ("microservice",),
    "k8": ("kubernetes",),
    "kube": ("kubernetes",),
    "gh": ("github",),
    "pwds": ("passwords",),
    "mgmt": ("management",),
    "ssl": ("tls",),
    "tls": ("ssl",),
    "selfheal": ("self heal",),
    "bytes": ("byte",),
    "smth": ("something",),
    "sth": ("something",),
    "sb": ("somebody",),
    "upsert": ("update", "insert"),
    "upserts": ("update", "insert"),
    "e.g.": ("for example",),
    "eg": ("for example",),
    "i.e.": ("that is",),
    "etc": ("and so on",),
    "etc.": ("and so on",),
    "vs": ("versus",),
    "vs.": ("versus",),
    "thx": ("thanks",),
    "pls": ("please",),
    "plz": ("please",),
    "asap": ("soon",),
    "afaik": ("as far as i know",),
    "iirc": ("if i remember",),
    "tbh": ("to be honest",),
}
"""Common engineering chat shorthand and its spelled-out forms (a general list, written from usage)."""

_OWNER = r"(?:our|my|ur|team|squad)"
_CONTEXT_SUFFIX = r"(?:svc|service|api|app|team|squad|prod|staging|stg|dev|cluster|ns|env)"
_CONTEXT = re.compile(
    rf"\b{_OWNER}\s+(?P<own>[\w.-]*[-_][\w.-]+)"  # "our payments-svc", "team falcon-api"
    rf"|\b{_OWNER}\s+(?P<kind>[\w-]+)(?=\s+(?:app|service|svc|api|team|cluster|repo|project)s?\b)"  # "our payments app"
    rf"|\b(?P<named>[a-z0-9]+(?:[-_][a-z0-9]+)*[-_]{_CONTEXT_SUFFIX})\b"  # "orders-svc", "team-falcon"
    rf"|\bteam[-_ ](?P<team>[a-z0-9]+)\b",
    re.IGNORECASE,
)


def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word.lower()))


def split_identifier(token: str) -> list[str]:
    """`selfHeal` -> [self, heal]; `allow_origins` -> [allow, origins]; `payments-svc` -> [payments, svc]."""
    parts: list[str] = []
    for piece in _SEPARATORS.split(token.strip("`'\"")):
        if re.fullmatch(r"[A-Z0-9]{2,}s", piece):  # an acronym's plural: CRDs, PVs
            piece = piece[:-1]
        parts.extend(p for p in _CAMEL.split(piece) if p)
    return [p.lower() for p in parts if p]


@lru_cache(maxsize=4096)
def forms(term: str) -> tuple[tuple[str, ...], ...]:
    """The alternative stem sequences a term may appear as: the term, its parts, and its shorthand expansions."""
    raw = term.strip("`'\"").lower()
    variants: list[str] = [raw, *SHORTHAND.get(raw, ())]
    if raw.endswith("s") and len(raw) > 3 and raw[:-1] in SHORTHAND:
        variants.extend(SHORTHAND[raw[:-1]])
    parts = split_identifier(term)
    variants.append(" ".join(parts))
    expanded = [" ".join(SHORTHAND.get(p, (p,))[0] for p in parts)]
    variants.extend(expanded)
    out: list[tuple[str, ...]] = []
    for variant in variants:
        stems = tuple(stem(w) for w in _WORD.findall(variant))
        if stems and stems not in out:
            out.append(stems)
        joined = ("".join(stems),) if len(stems) > 1 else ()
        if joined and joined not in out:
            out.append(joined)
    return tuple(out)


@dataclass(frozen=True)
class PassageTerms:
    """A passage's text prepared for matching: its stem sequence, the stems of its joined identifiers,
    and the acronyms it defines or spells out."""

    stems: tuple[str, ...]
    stem_set: frozenset[str]
    text: str
    initials: frozenset[str]

    @classmethod
    def of(cls, text: str) -> PassageTerms:
        words: list[str] = []
        initials: set[str] = set()
        for token in re.findall(r"[A-Za-z0-9][\w.-]*", text):
            parts = split_identifier(token)
            words.extend(parts)
            if len(parts) > 1:
                words.append("".join(parts))
                initials.add("".join(p[0] for p in parts))
        stems = tuple(stem(w) for w in words)
        return cls(stems=stems, stem_set=frozenset(stems), text=text.lower(), initials=frozenset(initials))

    def contains(self, sequence: tuple[str, ...]) -> bool:
        if len(sequence) == 1:
            return sequence[0] in self.stem_set
        if not all(s in self.stem_set for s in sequence):
            return False
        n = len(sequence)
        return any(self.stems[i : i + n] == sequence for i in range(len(self.stems) - n + 1))

    def spells(self, acronym: str) -> bool:
        """Whether words in a row here have the acronym's letters as initials ("pv" -> "persistent volume")."""
        letters = acronym.lower().rstrip("s") if acronym.lower().endswith("s") and len(acronym) > 2 else acronym.lower()
        if not 2 <= len(letters) <= 5 or not letters.isalpha():
            return False
        if letters in self.initials:  # CustomResourceDefinition for CRD
            return True
        pattern = r"\b" + r"[a-z]*[\s-]+".join(re.escape(c) for c in letters) + r"[a-z]*"
        return re.search(pattern, self.text) is not None


def mentions(term: str, passage: PassageTerms) -> bool:
    """Whether the passage mentions the term in any of its forms (or spells out the acronym it is). Words
    joined by a slash ("startup/shutdown", "files/routers") are each mentioned somewhere; a slash or colon
    compound with a number ("http/2", "v1/v2", "localhost:3000") only as a whole."""
    if any(passage.contains(sequence) for sequence in forms(term)):
        return True
    bare = term.strip("`'\"")
    if re.fullmatch(r"[A-Za-z-]+(?:/[A-Za-z-]+)+", bare):
        return all(mentions(part, passage) for part in bare.split("/") if part)
    acronym = bare.isupper() or (bare[:-1].isupper() and bare.endswith("s"))
    return acronym and passage.spells(bare)


def context_terms(question: str) -> set[str]:
    """Words of the question that name the asker's own context (team, service, environment), lower-cased,
    with the parts of each name: "our payments-svc" -> {payments-svc, payments, svc}."""
    found: set[str] = set()
    for match in _CONTEXT.finditer(question):
        name = next(g for g in match.groups() if g)
        found.add(name.lower())
        found.update(p for p in split_identifier(name) if not re.fullmatch(_CONTEXT_SUFFIX, p))
    return found


def unmatched(terms: Iterable[str], passages: Iterable[str], question: str = "") -> list[str]:
    """The terms no passage mentions in any form, leaving out the asker's own context names."""
    prepared = [PassageTerms.of(p) for p in passages]
    context = context_terms(question)
    missing: list[str] = []
    for term in terms:
        if term.lower() in context or all(p in context for p in split_identifier(term)):
            continue
        if not any(mentions(term, p) for p in prepared):
            missing.append(term)
    return missing
