"""The first admin key: with access control on, a server whose operator tenant has no working admin key creates
the tenant's `admin` user and a key, and writes the key to a file only the server's user can read."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from groundwork.platform.access.identities import IdentityService

logger = logging.getLogger(__name__)


def bootstrap_admin_key(identities: IdentityService, tenant_id: str, key_file: Path) -> Path | None:
    """Create and write the first admin key if there is none; returns the file written, or None."""
    issued = identities.bootstrap_admin(tenant_id)
    if issued is None:
        return None
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(issued.token + "\n")
    key_file.chmod(0o600)
    logger.warning(
        "access control is on and tenant %r had no admin API key: wrote one to %s (send it as "
        "'Authorization: Bearer <key>'; create more with `groundwork admin key create`)",
        tenant_id,
        key_file,
    )
    return key_file
