"""A webhook receiver on a free loopback port, a clock tests can move, and the README's verification recipe."""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import Clock

README = Path(__file__).resolve().parents[3] / "README.md"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers each path with its queued statuses (then 200), after ``delay`` seconds."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    statuses: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    delay: float = 0.0
    arrived: threading.Event = field(default_factory=threading.Event)

    def answer(self, path: str, *statuses: int) -> None:
        self.statuses[path].extend(statuses)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            self.arrived.wait(0.05)
            self.arrived.clear()
        assert len(self.requests) >= count, f"expected {count} deliveries, got {len(self.requests)}"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.delay:
                time.sleep(state.delay)
            state.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            queue = state.statuses[self.path]
            status = queue.popleft() if queue else 200
            payload = b'{"ok": true}' if status < 300 else b"receiver says no"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)
            state.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture()
def clock(app: Any) -> Clock:
    clock = Clock()
    app.extensions["marketplace.context"].clock = clock
    return clock


def readme_recipe() -> Callable[..., dict[str, Any]]:
    """``verify_webhook`` exactly as the README's "Receiving webhooks" section writes it (its first code block)."""
    text = README.read_text()
    section = text[text.index("### Receiving webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "the README's Receiving webhooks section has no Python code block"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "README.md#receiving-webhooks", "exec"), namespace)
    return namespace["verify_webhook"]  # type: ignore[no-any-return]
