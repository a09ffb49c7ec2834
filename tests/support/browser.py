"""Browser-journey helpers shared by the Chromium tests."""

from __future__ import annotations

from typing import Any


def sign_out(page: Any) -> None:
    """Forget the browser's session once the page's requests have settled (see :func:`open_login_signed_out`)."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()


def open_login_signed_out(page: Any, base: str, *, attempts: int = 3) -> None:
    """Show the login form to a browser with no session.

    Clearing the cookies is not enough on its own: a response still in flight from the step before (a redirect
    after a form, a page's own requests) can set the session cookie again after it, and ``/login`` then redirects a
    signed-in browser away. So wait for the page's requests to settle, clear, and check the form is what loaded.
    """
    for _ in range(attempts):
        sign_out(page)
        page.goto(base + "/login")
        if page.url.split("?", 1)[0].endswith("/login"):
            return
    raise AssertionError(f"/login kept redirecting a browser whose cookies were cleared (now at {page.url})")
