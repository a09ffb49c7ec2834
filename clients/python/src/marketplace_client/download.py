"""Downloading licensed files: resumable, in parallel, each checked against the manifest's size and SHA-256.

Each file is written to ``<dest>/<path>.part`` and renamed to ``<dest>/<path>`` only once its size and SHA-256
match the manifest. A ``.part`` left by an interrupted run is continued with an HTTP ``Range`` request (its bytes
are hashed first, so the final check covers the whole file); a server that ignores the range (answers 200) makes it
start over. A broken connection mid-file is resumed the same way, up to the client's ``max_retries``. A file that
does not match is deleted and raises :class:`~marketplace_client.errors.IntegrityError`. A file already present
with the right SHA-256 is not fetched again.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

import requests

from ._http import Transport
from .errors import IntegrityError, MarketplaceError, TransportError
from .models import DownloadedFile, DownloadLink

CHUNK = 1 << 16


class Progress(Protocol):
    """What the downloader reports to: bytes as they arrive, and the end."""

    def advance(self, count: int) -> None: ...

    def close(self) -> None: ...


class TextProgress:
    """A plain-text progress line on stderr (``\\r``-updated on a terminal, a line at most every few seconds
    otherwise)."""

    def __init__(self, total: int, files: int, *, stream: IO[str] | None = None, interval: float = 0.2) -> None:
        self.total, self.files, self.done = total, files, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if self.tty else 5.0
        self.last = 0.0
        self.lock = threading.Lock()

    def _line(self) -> str:
        percent = 100 * self.done / self.total if self.total else 100.0
        return f"{self.files} file(s): {_size(self.done)} of {_size(self.total)} ({percent:.0f}%)"

    def advance(self, count: int) -> None:
        with self.lock:
            self.done += count
            now = time.monotonic()
            if now - self.last >= self.interval:
                self.last = now
                self.stream.write(("\r" if self.tty else "") + self._line() + ("" if self.tty else "\n"))
                self.stream.flush()

    def close(self) -> None:
        with self.lock:
            self.stream.write(("\r" if self.tty else "") + self._line() + "\n")
            self.stream.flush()


class _Tqdm:
    def __init__(self, total: int, files: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"{files} file(s)", file=sys.stderr)
        self.lock = threading.Lock()

    def advance(self, count: int) -> None:
        with self.lock:
            self.bar.update(count)

    def close(self) -> None:
        self.bar.close()


def make_progress(total: int, files: int) -> Progress:
    """tqdm's bar when tqdm is installed (the ``progress`` extra), else :class:`TextProgress`."""
    try:
        return _Tqdm(total, files)
    except ImportError:
        return TextProgress(total, files)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def local_path(dest: Path, path: str) -> Path:
    """Where the manifest's ``path`` goes under ``dest``; a path that would leave ``dest`` is refused."""
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or any(p in ("..", "") for p in parts) or "\\" in path:
        raise MarketplaceError(f"refusing to write outside the destination: {path!r}")
    return dest.joinpath(*parts)


def _sha256_of(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


class Downloader:
    """Fetches :class:`DownloadLink` s into a directory (see the module documentation)."""

    def __init__(self, transport: Transport, dest: Path, *, parallel: int = 4, progress: Progress | None = None):
        self.transport, self.dest, self.parallel, self.progress = transport, dest, max(1, parallel), progress

    def run(self, links: Sequence[DownloadLink]) -> list[DownloadedFile]:
        """Download every link (``parallel`` at a time); the first failure is raised once the others ended."""
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="marketplace-download") as pool:
            futures = [pool.submit(self.fetch, link) for link in links]
            results, failure = [], None
            for future in futures:
                try:
                    results.append(future.result())
                except BaseException as error:  # re-raised below, once the pool has drained
                    failure = failure or error
        if self.progress is not None:
            self.progress.close()
        if failure is not None:
            raise failure
        return results

    def _advance(self, count: int) -> None:
        """Report ``count`` bytes to the progress (negative when a file starts over)."""
        if self.progress is not None and count:
            self.progress.advance(count)

    def fetch(self, link: DownloadLink) -> DownloadedFile:
        """One file: skip if already complete, else resume or start its ``.part``, check it, and rename it."""
        target = local_path(self.dest, link.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        complete = target.exists() and target.stat().st_size == link.size_bytes
        if complete and _sha256_of(target).hexdigest() == link.sha256:
            self._advance(link.size_bytes)
            return DownloadedFile(link.path, str(target), link.size_bytes, link.sha256, -1)
        part = target.with_name(target.name + ".part")
        resumed_from = part.stat().st_size if part.exists() else 0
        if resumed_from > link.size_bytes:
            part.unlink()
            resumed_from = 0
        digest = self._transfer(link, part)
        self._check(link, part, digest)
        os.replace(part, target)
        return DownloadedFile(link.path, str(target), link.size_bytes, link.sha256, resumed_from)

    def _transfer(self, link: DownloadLink, part: Path) -> hashlib._Hash:
        """Bring ``part`` to the file's full size, resuming after broken connections; returns its digest."""
        attempt = 0
        while True:
            have = part.stat().st_size if part.exists() else 0
            digest = _sha256_of(part) if have else hashlib.sha256()
            self._advance(have if attempt == 0 else 0)
            if have >= link.size_bytes and have:
                return digest
            try:
                return self._stream(link, part, have, digest)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
                if attempt >= self.transport.max_retries:
                    raise TransportError(f"{link.path}: the download kept breaking off ({error})") from error
                self.transport.sleep(self.transport.backoff(attempt))
                attempt += 1

    def _stream(self, link: DownloadLink, part: Path, have: int, digest: hashlib._Hash) -> hashlib._Hash:
        headers = {"Range": f"bytes={have}-"} if have else {}
        # Storage links carry their own authorisation: the API key is not sent to them.
        response = self.transport.send("GET", link.url, headers=headers, authenticated=False, stream=True)
        with response:
            if have and response.status_code != 206:
                self._advance(-have)  # the range was ignored: start over
                have, digest = 0, hashlib.sha256()
            with part.open("ab" if have else "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    self._advance(len(chunk))
        return digest

    @staticmethod
    def _check(link: DownloadLink, part: Path, digest: hashlib._Hash) -> None:
        size = part.stat().st_size
        actual = digest.hexdigest()
        if size != link.size_bytes or actual != link.sha256:
            part.unlink(missing_ok=True)
            if size != link.size_bytes:
                raise IntegrityError(link.path, str(link.size_bytes), str(size), what="size")
            raise IntegrityError(link.path, link.sha256, actual)


ProgressFactory = Callable[[int, int], Progress]
