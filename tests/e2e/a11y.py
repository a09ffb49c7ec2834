"""axe-core in the Chromium tests: every page a test uses is checked, and serious or critical violations fail it.

axe-core is vendored (``vendor/axe-core``) and evaluated into the page through the DevTools protocol, which the
site's Content-Security-Policy does not apply to; nothing is downloaded.

How every page gets checked: while a test runs (``watching()``), each Playwright call that can act on a page or
leave it (``goto``, ``click``, ``fill``, ``press``, ``check``, ``select_option``, ``set_content``, ``close``, a
key press, …) first makes sure the page's current document was checked, and at the end of the test the documents
still open are checked. So a page reached by a link, a form post, a redirect or ``goto`` is checked before the
test does anything on it or leaves it, and the last page of each tab at the end. Each document is checked once
(a marker on its ``window`` remembers the ``<html>`` element that was checked, so ``set_content`` counts as a new
document). Only HTML documents are checked: JSON, PDF, CSV and text responses opened in a tab are not pages.

``assert_accessible(page)`` checks the current document on demand and raises at once.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

AXE_PATH = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
FAILING_IMPACTS = ("serious", "critical")

_STATE_JS = """() => {
  if (window.__a11yChecked === document.documentElement) return "checked";
  const blank = location.href === "about:blank" && !(document.body && document.body.childElementCount);
  if (document.contentType !== "text/html" || blank) return "skip";
  return typeof window.axe === "undefined" ? "inject" : "ready";
}"""

_RUN_JS = """async ([tags, impacts]) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
  });
  window.__a11yChecked = document.documentElement;
  return result.violations.filter((v) => impacts.includes(v.impact)).map((v) => ({
    rule: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.slice(0, 8).map((n) => n.target.join(" ")),
    summary: (v.nodes[0] && v.nodes[0].failureSummary) || "",
  }));
}"""


@dataclass(frozen=True)
class Violation:
    """One serious or critical axe-core violation on one page."""

    url: str
    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]
    summary: str

    def describe(self) -> str:
        summary = " ".join(self.summary.split())[:300]
        return (
            f"{self.url}\n    [{self.impact}] {self.rule}: {self.help} ({self.help_url})\n"
            f"    elements: {', '.join(self.targets)}\n    {summary}"
        )


def describe(violations: list[Violation]) -> str:
    return f"{len(violations)} serious/critical accessibility violation(s):\n" + "\n".join(
        v.describe() for v in violations
    )


@functools.cache
def _axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def _settle(page: Page) -> None:
    with contextlib.suppress(PlaywrightError):  # a page that never finishes loading is checked as it stands
        page.wait_for_load_state("load", timeout=10_000)


def _check_document(page: Page, *, force: bool = False) -> list[Violation] | None:
    """Run axe on the page's current document; None when it was already checked (unless ``force``) or is not an
    HTML page. Retries when a navigation replaces the document under the check."""
    for attempt in range(4):
        _settle(page)
        try:
            state = page.evaluate(_STATE_JS)
            if state == "skip" or (state == "checked" and not force):
                return None
            if state == "inject":
                page.evaluate(_axe_source())
            url = page.url
            found = page.evaluate(_RUN_JS, [list(AXE_TAGS), list(FAILING_IMPACTS)])
        except PlaywrightError as error:
            if page.is_closed():
                return None
            if attempt == 3 or not _is_navigation_error(error):
                raise
            continue
        return [
            Violation(url, v["rule"], v["impact"], v["help"], v["helpUrl"], tuple(v["targets"]), v["summary"])
            for v in found
        ]
    return None


def _is_navigation_error(error: PlaywrightError) -> bool:
    text = str(error)
    return any(s in text for s in ("Execution context was destroyed", "navigat", "Cannot find context"))


def check_page(page: Page) -> list[Violation]:
    """Run axe-core on the page's current document now (checked before or not): its serious or critical
    violations, none for a document that is not HTML."""
    return _check_document(page, force=True) or []


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page's current document now and fail with the list of serious or critical
    violations (rule, elements, help) if there is any."""
    violations = check_page(page)
    assert not violations, describe(violations)


@dataclass
class Watch:
    """The pages and violations seen while one test runs."""

    violations: list[Violation] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    busy: bool = False

    def ensure_checked(self, page: Page) -> None:
        """Check the page's current document unless it was checked already (the hook before every action)."""
        if self.busy or page.is_closed():
            return
        if page not in self.pages:
            self.pages.append(page)
        self.busy = True
        try:
            found = _check_document(page)
        finally:
            self.busy = False
        if found is not None:
            self.checked.append(page.url)
            self.violations.extend(found)

    def take(self) -> list[Violation]:
        """The violations collected so far, which are then forgotten (for tests of the checker itself)."""
        taken, self.violations = self.violations, []
        return taken

    def finish(self) -> None:
        """Check the documents still open, then fail listing every violation the test's pages had."""
        for page in self.pages:
            if not page.is_closed():
                self.ensure_checked(page)
        assert not self.violations, describe(self.violations)


_active: Watch | None = None
_lock = threading.Lock()


def _hooked(method: Callable[..., Any], page_of: Callable[[Any], Page | None]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _active is not None:
            page = page_of(self)
            if page is not None:
                _active.ensure_checked(page)
        return method(self, *args, **kwargs)

    wrapper.__a11y_hook__ = True  # type: ignore[attr-defined]
    return wrapper


_PAGE_ACTIONS = ("goto", "reload", "go_back", "go_forward", "click", "dblclick", "tap", "fill", "type", "press",
                 "check", "uncheck", "set_checked", "select_option", "set_input_files", "dispatch_event",
                 "set_content", "close")  # fmt: skip
_LOCATOR_ACTIONS = ("click", "dblclick", "tap", "fill", "clear", "type", "press", "press_sequentially", "check",
                    "uncheck", "set_checked", "select_option", "set_input_files", "dispatch_event")  # fmt: skip
_KEYBOARD_ACTIONS = ("press", "type", "insert_text", "down")
_MOUSE_ACTIONS = ("click", "dblclick", "down")
_keyboards: dict[int, tuple[Any, Page]] = {}  # id of a page's keyboard or mouse -> (that device, the page)


def _page_of_input(device: Any) -> Page | None:
    known = _keyboards.get(id(device))
    return known[1] if known is not None and known[0] is device else None


def install_hooks() -> None:
    """Wrap Playwright's sync actions so that each first checks the document it acts on (idempotent)."""
    from playwright.sync_api import BrowserContext, Keyboard, Locator, Mouse

    with _lock:
        if getattr(Page.goto, "__a11y_hook__", False):
            return
        targets: list[tuple[type, tuple[str, ...], Callable[[Any], Page | None]]] = [
            (Page, _PAGE_ACTIONS, lambda page: page),
            (Locator, _LOCATOR_ACTIONS, lambda locator: locator.page),
            (Keyboard, _KEYBOARD_ACTIONS, _page_of_input),
            (Mouse, _MOUSE_ACTIONS, _page_of_input),
        ]
        for cls, names, page_of in targets:
            for name in names:
                setattr(cls, name, _hooked(getattr(cls, name), page_of))
        original_close = BrowserContext.close

        @functools.wraps(original_close)
        def close(self: BrowserContext, *args: Any, **kwargs: Any) -> None:
            if _active is not None:
                for page in self.pages:
                    _active.ensure_checked(page)
            original_close(self, *args, **kwargs)

        BrowserContext.close = close  # type: ignore[method-assign]
        original_keyboard, original_mouse = Page.keyboard, Page.mouse

        def keyboard(self: Page) -> Keyboard:
            device = original_keyboard.fget(self)  # type: ignore[attr-defined]
            _keyboards[id(device)] = (device, self)
            return device  # type: ignore[no-any-return]

        def mouse(self: Page) -> Mouse:
            device = original_mouse.fget(self)  # type: ignore[attr-defined]
            _keyboards[id(device)] = (device, self)
            return device  # type: ignore[no-any-return]

        Page.keyboard = property(keyboard)  # type: ignore[method-assign,assignment]
        Page.mouse = property(mouse)  # type: ignore[method-assign,assignment]


@contextmanager
def watching() -> Iterator[Watch]:
    """Check every page the enclosed code acts on; yields the ``Watch`` (``finish()`` is the caller's)."""
    global _active
    install_hooks()
    watch = Watch()
    _active = watch
    try:
        yield watch
    finally:
        _active = None
        _keyboards.clear()
