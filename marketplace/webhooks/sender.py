"""One HTTP POST of a delivery: bounded in time and in what is read back, no redirects, pinned to checked addresses.

urllib3 is used directly (rather than requests) so that the connection can go to the address the SSRF check
approved while TLS still verifies the certificate for the URL's host name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

SNIPPET_BYTES = 1000
USER_AGENT = "DatasetMarketplace-Webhooks/1.0"


@dataclass(frozen=True)
class SendResult:
    """What one attempt got: a status code (None when no HTTP answer came), the start of the body, or an error."""

    status_code: int | None
    response_snippet: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, connect_to: str | None = None
) -> SendResult:
    """POST ``body`` to ``url``; never raises for network trouble (it becomes ``SendResult.error``).

    ``connect_to`` is the IP address to open the connection to instead of resolving the host again.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host_header = f"[{host}]" if ":" in host else host
    if parts.port:
        host_header += f":{parts.port}"
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": host_header,
        **headers,
    }
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(
            connect_to or host,
            port,
            timeout=limits,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=host,
            assert_hostname=host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(connect_to or host, port, timeout=limits, retries=False, maxsize=1)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", target, body=body, headers=all_headers, redirect=False, retries=False, preload_content=False
        )
        try:
            raw = response.read(SNIPPET_BYTES, decode_content=False)
        finally:
            response.release_conn()
        snippet = raw.decode("utf-8", errors="replace")[:SNIPPET_BYTES]
        return SendResult(response.status, snippet, "", _ms(started))
    except urllib3.exceptions.HTTPError as error:
        return SendResult(None, "", _describe(error)[:500], _ms(started))
    except OSError as error:
        return SendResult(None, "", f"connection failed: {error}"[:500], _ms(started))
    finally:
        pool.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(error: Exception) -> str:
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2, so it must be looked at first.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return f"connection failed: {error}"
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(error, urllib3.exceptions.SSLError):
        return f"TLS error: {error}"
    reason = getattr(error, "reason", None)
    return f"connection failed: {reason or error}"
