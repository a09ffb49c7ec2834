"""HTTP transport: bearer authentication, retries with exponential backoff and jitter, ``Retry-After``,
``Idempotency-Key`` on every POST, and API errors turned into exceptions.

What is retried, at most ``max_retries`` times:

* a 429 or 503 answer, whatever the method (the server did no work, or rolled it back), after the ``Retry-After``
  it sent (seconds or an HTTP-date) or, without one, the backoff delay;
* a 409 ``idempotency_in_progress`` (the first request with the same key has not finished yet);
* a connection error or timeout, for idempotent requests only: GET, HEAD, PUT, DELETE, OPTIONS, and a POST, because
  every POST carries an ``Idempotency-Key`` (the server replays the first response instead of acting twice).

The backoff delay of attempt ``n`` (0-based) is ``uniform(0, min(backoff_max, backoff_factor * 2**n))`` ("full
jitter"). A ``Retry-After`` longer than ``max_retry_after`` seconds is not waited for: the error is raised at once.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .errors import ApiError, TransportError, error_for_status

RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST"})
USER_AGENT = "marketplace-client"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP-date; None if absent or
    unreadable. A date in the past gives 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Transport:
    """One ``requests.Session`` to one marketplace; thread-safe for concurrent requests of the download pool."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float,
        max_retries: int,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def url(self, path: str) -> str:
        """``path`` below the site (``/api/v1/...``), or an absolute URL unchanged."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    def backoff(self, attempt: int) -> float:
        """The jittered delay before retry number ``attempt + 1``."""
        return random.uniform(0, min(self.backoff_max, self.backoff_factor * 2**attempt))

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        idempotency_key: str | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one logical request (retrying as the module says) and return the successful response; raises an
        :class:`ApiError` subclass for an error answer and :class:`TransportError` when the server stays out of
        reach. A POST gets an ``Idempotency-Key`` (``idempotency_key`` or a new UUID), the same on every retry."""
        method = method.upper()
        sent = dict(headers or {})
        if authenticated and self.api_key:
            sent["Authorization"] = f"Bearer {self.api_key}"
        if method == "POST":
            sent["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        url = self.url(path)
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, params=params, json=json, headers=sent, timeout=self.timeout, stream=stream
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                if method not in IDEMPOTENT_METHODS or attempt >= self.max_retries:
                    raise TransportError(f"{method} {path}: {error}") from error
                self.sleep(self.backoff(attempt))
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            failure = self.error(response, method, path)
            if not self._retryable(failure) or attempt >= self.max_retries:
                raise failure
            wait = failure.retry_after if failure.retry_after is not None else self.backoff(attempt)
            if wait > self.max_retry_after:
                raise failure
            response.close()
            self.sleep(wait)
            attempt += 1

    @staticmethod
    def _retryable(failure: ApiError) -> bool:
        return failure.status in RETRY_STATUSES or failure.code == "idempotency_in_progress"

    @staticmethod
    def error(response: requests.Response, method: str, path: str) -> ApiError:
        """The exception for an error response: the API's ``{"error": {...}}`` when it sent one."""
        code, message, details = f"http_{response.status_code}", response.reason or "error", []
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
            details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return error_for_status(response.status_code)(
            response.status_code, code, message, details=details, method=method, path=path, retry_after=retry_after
        )

    def json(self, method: str, path: str, **options: Any) -> Any:
        """:meth:`send`, then the response's JSON (None for an empty body)."""
        response = self.send(method, path, **options)
        if not response.content:
            return None
        return response.json()
