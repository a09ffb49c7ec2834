"""The withdrawal pages are tested on the API tests' small marketplace (provider, two licensees, one version)."""

from tests.functional.api.conftest import world  # noqa: F401 - the fixture, shared
