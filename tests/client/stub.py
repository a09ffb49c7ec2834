"""A local HTTP server whose answers a test scripts, and which records every request it got.

Each route (``"GET /path"``) has a queue of answers, taken in order (the last one repeats). An answer is a
:class:`Reply`, or a callable taking the request and returning one. ``Reply(drop=True)`` closes the connection
without answering (a connection error for the client); ``cut_after`` sends that many bytes of the body, then closes
(a download broken off mid-file).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    cut_after: int | None = None


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = Reply | Callable[[Seen], Reply]


def api_error(status: int, code: str, message: str, *, field: str | None = None, **headers: str) -> Reply:
    details = [{"field": field, "message": message}] if field else []
    return Reply(status, {"error": {"code": code, "message": message, "details": details}}, headers)


def file_server(content: bytes, *, honour_range: bool = True) -> Callable[[Seen], Reply]:
    """Answers a GET for ``content`` as storage does: the whole file, or a ``Range: bytes=N-`` with 206."""

    def answer(seen: Seen) -> Reply:
        wanted = seen.headers.get("range")
        if wanted and honour_range:
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            return Reply(206, content[start:], {"Content-Range": f"bytes {start}-{len(content) - 1}/{len(content)}"})
        return Reply(200, content)

    return answer


class Stub:
    def __init__(self) -> None:
        self.routes: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
                )
                reply = stub.take(seen)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                if not isinstance(reply.body, bytes):
                    self.send_header("Content-Type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                if reply.cut_after is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if reply.cut_after is not None:
                    self.wfile.write(body[: reply.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, key: str, *answers: Answer) -> None:
        self.routes[key] = list(answers)

    def take(self, seen: Seen) -> Reply:
        with self.lock:
            self.seen.append(seen)
            queue = self.routes.get(f"{seen.method} {seen.path.split('?')[0]}")
            if not queue:
                return api_error(404, "not_found", "No such API endpoint.")
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(seen) if callable(answer) else answer

    def requests_to(self, key: str) -> list[Seen]:
        method, path = key.split(" ", 1)
        return [s for s in self.seen if s.method == method and s.path.split("?")[0] == path]


@pytest.fixture()
def stub() -> Iterator[Stub]:
    server = Stub()
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
