"""Fixtures of the Delta Sharing tests: the live server (the browser tests' one, without a browser)."""

from tests.e2e.conftest import live_server

__all__ = ["live_server"]
