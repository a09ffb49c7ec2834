"""A local OpenID provider (Authlib server components) for the whole session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.oidc_provider import OidcProvider


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OidcProvider]:
    provider = OidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture()
def oidc(oidc_server: OidcProvider) -> OidcProvider:
    oidc_server.reset()
    return oidc_server
