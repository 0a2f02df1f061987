"""The platform served over real HTTP with a real OIDC provider on loopback, shared by the sign-in, SCIM and
browser tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from groundwork.platform.config import AccessConfig, OidcProviderConfig

from ..conftest import make_settings
from ..ui.harness import Site, serve
from .oidc_support import Provider, run_provider

CLIENT_ID = "groundwork-ui"


@dataclass
class SsoSite:
    site: Site
    provider: Provider


@pytest.fixture(scope="session")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoSite]:
    with run_provider() as provider:
        oidc = OidcProviderConfig(
            id="mock",
            display_name="Mock IdP",
            issuer=provider.url,
            client_id=CLIENT_ID,
            client_secret="not-so-secret",
        )
        settings = make_settings(
            tmp_path_factory.mktemp("sso") / "data",
            access=AccessConfig(rate_limit_per_minute=0, oidc_providers=[oidc]),
        )
        with serve(settings) as site:
            yield SsoSite(site, provider)
