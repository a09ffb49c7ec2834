"""Structured logs: one JSON object per line, a request id taken from a sane ``X-Request-ID`` or made fresh and
echoed back, the user and organisation of the request on every line, one access line per request, and no secret
(query-string tokens, link signatures, Authorization headers) in any of them."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from marketplace.accounts.models import OrgKind, Role
from marketplace.apikeys import services as keys
from marketplace.db import UnitOfWork
from marketplace.logs import PLACEHOLDER, make_formatter
from tests.factories import PASSWORD, OrganisationFactory, member
from tests.helpers import log_in

TOKEN = "IjQyIg.ZmFrZQ.Xk3pQ9vR2sT8uW1yZ0aB4cD6eF"
SIGNATURE = "q8Zr2Lm4Nx7Vb1Kc5Jh9Gf3Ds6Ap0Wo"


class Lines:
    """What the JSON renderer wrote, one parsed object per line."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def access(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("logger") == "marketplace.access"]


@pytest.fixture()
def lines(app) -> Iterator[Lines]:  # type: ignore[no-untyped-def]
    """The process's log records rendered as production renders them (``LOG_FORMAT=json``) into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in ("", "marketplace")}
    root.setLevel(logging.INFO)
    logging.getLogger("marketplace").setLevel(logging.INFO)
    yield Lines(stream)
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_every_line_is_one_json_object_and_each_request_ends_with_an_access_line(client, lines) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "req-42.a_b"})
    assert response.headers["X-Request-ID"] == "req-42.a_b"
    [line] = lines.access()
    assert line["event"] == "request" and line["level"] == "info"
    assert line["request_id"] == "req-42.a_b"
    assert (line["method"], line["route"], line["path"], line["status"]) == ("GET", "health.healthz", "/healthz", 200)
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])
    assert "user_id" not in line  # nobody logged in


def test_an_unmatched_path_has_no_route(client, lines) -> None:
    client.get("/no/such/page")
    [line] = lines.access()
    assert (line["route"], line["status"]) == (None, 404)


@pytest.mark.parametrize(
    "given",
    [None, "", "x" * 129, "has space", "semi;colon", "tab\there", "ünïcode", "<script>"],
)
def test_a_missing_or_insane_request_id_is_replaced_by_a_fresh_one(client, lines, given) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    response = client.get("/healthz", headers=headers)
    made = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert lines.access()[0]["request_id"] == made
    assert client.get("/healthz").headers["X-Request-ID"] != made  # fresh for every request


def test_the_longest_sane_request_id_is_kept(client) -> None:
    given = "A1._-" * 25 + "abc"
    assert len(given) == 128
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given


def test_records_logged_during_a_request_carry_its_id(app, client, lines) -> None:
    @app.get("/__log_something")
    def _log_something() -> str:
        logging.getLogger("marketplace.test").warning("something happened on %s", "the way")
        return "ok"

    client.get("/__log_something", headers={"X-Request-ID": "abc123"})
    [record] = [r for r in lines.records() if r.get("logger") == "marketplace.test"]
    assert record["event"] == "something happened on the way"
    assert record["request_id"] == "abc123" and record["level"] == "warning"
    logging.getLogger("marketplace.test").warning("after the request")
    assert "request_id" not in lines.records()[-1]  # the request's fields end with it


def test_a_logged_in_member_is_named(client, db_session, lines) -> None:
    org = OrganisationFactory(slug="buy", kind=OrgKind.BUYER)
    user = member(org, Role.MEMBER, email="buyer@example.org")
    db_session.flush()
    log_in(client, "buyer@example.org", PASSWORD)
    client.get("/settings")
    line = [r for r in lines.access() if r["path"] == "/settings"][-1]
    assert line["user_id"] == user.id and line["status"] == 200


def test_an_api_caller_is_named_with_its_organisation_and_its_key_is_never_logged(app, client, db_session, lines):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(slug="buy", kind=OrgKind.BUYER)
    user = member(org, Role.OWNER, email="owner@example.org")
    db_session.flush()
    _row, secret = keys.create_key(
        UnitOfWork(db_session, app.extensions["marketplace.context"]),
        user,
        name="robot",
        scopes=["licenses:read"],
        organisation=org,
    )
    db_session.flush()
    response = client.get("/api/v1/licenses", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    [line] = lines.access()
    assert (line["user_id"], line["organisation_id"], line["route"]) == (user.id, org.id, "api.licenses_list_licenses")
    assert secret not in lines.text and "Bearer" not in lines.text and "Authorization" not in lines.text


@pytest.mark.parametrize(
    "path",
    [
        f"/password/reset?token={TOKEN}",
        f"/invitations/{TOKEN}",
        f"/storage/o/datasets/1/versions/2/data/train.csv?op=get&exp=1700000000&fn=train.csv&sig={SIGNATURE}",
    ],
)
def test_no_secret_reaches_a_line(app, client, lines, path) -> None:
    @app.get("/__fail")
    def _fail() -> str:
        raise RuntimeError(f"boom while serving {path}")

    client.get(path, headers={"Referer": f"http://site/password/reset?token={TOKEN}"})
    client.get("/__fail")
    assert lines.access(), lines.text
    assert TOKEN not in lines.text and SIGNATURE not in lines.text
    failure = [r for r in lines.records() if r.get("logger") == "marketplace.handlers"][-1]
    assert PLACEHOLDER in failure["exception"] and "RuntimeError" in failure["exception"]


def test_the_console_format_is_text(app) -> None:
    record = logging.LogRecord("marketplace.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    text = make_formatter("console").format(record)
    assert "hello there" in text and not text.lstrip().startswith("{")
