"""The axe-core checker itself: it finds known violations on pages reached by a form post, a click and ``goto``,
its teardown check fails the test, and ``assert_accessible`` raises. Pages are served by a Playwright route on a
made-up origin, so nothing leaves the machine."""

from __future__ import annotations

import pytest

from tests.e2e.a11y import assert_accessible

pytestmark = pytest.mark.e2e

ORIGIN = "http://a11y.invalid"


def _html(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


PAGES = {
    ("GET", "/start"): _html(
        "Start", '<form method="post" action="/posted"><button type="submit">Send</button></form>'
    ),
    # An image with no text alternative and a text box with no label: both critical in axe-core.
    ("POST", "/posted"): _html(
        "Posted", '<img src="/pixel.png"><input type="text" name="nickname"> <a href="/end">Onwards</a>'
    ),
    ("GET", "/end"): _html("End", '<a href="/bad-again">Again</a>'),
    ("GET", "/bad-again"): _html("Bad again", '<button type="button"></button>'),
}


def _serve(page) -> None:  # type: ignore[no-untyped-def]
    def fulfil(route) -> None:  # type: ignore[no-untyped-def]
        request = route.request
        path = request.url.removeprefix(ORIGIN)
        body = PAGES.get((request.method, path))
        if body is None:
            route.fulfill(status=404, content_type="text/plain", body="")
        else:
            route.fulfill(status=200, content_type="text/html", body=body)

    page.route(ORIGIN + "/**", fulfil)


def test_pages_reached_by_post_click_and_goto_are_checked(page, a11y) -> None:  # type: ignore[no-untyped-def]
    _serve(page)
    page.goto(ORIGIN + "/start")
    page.get_by_role("button", name="Send").click()  # a form post: the start page is checked before it is left
    page.get_by_role("heading", name="Posted").wait_for()
    page.get_by_role("link", name="Onwards").click()  # the posted page is checked before the click
    page.get_by_role("heading", name="End").wait_for()
    page.get_by_role("link", name="Again").click()
    page.get_by_role("heading", name="Bad again").wait_for()
    page.goto(ORIGIN + "/start")  # the last page is checked before goto leaves it

    assert a11y.checked == [f"{ORIGIN}/start", f"{ORIGIN}/posted", f"{ORIGIN}/end", f"{ORIGIN}/bad-again"]
    found = a11y.take()
    assert {(v.url, v.rule) for v in found} == {
        (f"{ORIGIN}/posted", "image-alt"),
        (f"{ORIGIN}/posted", "label"),
        (f"{ORIGIN}/bad-again", "button-name"),
    }
    image = next(v for v in found if v.rule == "image-alt")
    assert image.impact == "critical" and image.targets == ("img",) and image.help_url.startswith("https://")
    assert "nickname" not in image.describe() and "image-alt" in image.describe()


def test_the_teardown_check_fails_on_the_last_page(page, a11y) -> None:  # type: ignore[no-untyped-def]
    page.set_content(_html("Inline", '<label><input type="checkbox" name="a"> Agree</label>'))
    page.set_content(_html("Unlabelled", '<select name="size"><option>S</option></select>'))
    with pytest.raises(AssertionError, match=r"\[critical\] select-name"):
        a11y.finish()  # what the fixture's teardown runs: the page still open is checked
    assert [v.rule for v in a11y.take()] == ["select-name"]  # the first page was checked and had none
    assert a11y.checked == ["about:blank", "about:blank"]


def test_assert_accessible_raises_with_the_rule_and_element(page) -> None:  # type: ignore[no-untyped-def]
    page.set_content(_html("Fine", "<p>Plain text.</p>"))
    assert_accessible(page)
    page.set_content(_html("Low contrast", '<p class="faint" style="color:#ccc;background:#fff">Faint text</p>'))
    with pytest.raises(AssertionError, match=r"color-contrast(.|\n)*elements: p\n(.|\n)*contrast of 1.6"):
        assert_accessible(page)
