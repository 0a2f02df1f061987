"""API key format: `gw_<key id>_<secret>`. The id is public (it names the key in lists and logs); only the
SHA-256 of the secret is stored, and secrets are compared in constant time. A secret is 256 random bits, so a
fast hash is enough: there is nothing to brute-force that a slow one would protect."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "gw"


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    secret: str


def new_key() -> tuple[str, str, str]:
    """(key id, the full key to hand out once, the secret's SHA-256 to store)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}_{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(token: str) -> ParsedKey | None:
    """The parts of a well-formed key; None for anything else (then it is not an API key)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16 or not parts[2]:
        return None
    if any(ch not in "0123456789abcdef" for ch in parts[1]):
        return None
    return ParsedKey(parts[1], parts[2])


def secret_matches(secret: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_sha256)
