"""Fixtures of the Python client's tests: the scripted HTTP stub (``stub``) and the live server (``live_server``,
the same one the browser tests use, without a browser)."""

from tests.client.stub import stub
from tests.e2e.conftest import live_server

__all__ = ["live_server", "stub"]
