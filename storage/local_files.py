"""File helpers of the local backend: spooling a stream to a temporary file, joining parts, reading a range.

They work on plain paths inside directories :class:`~storage.local.LocalStorage` has already validated.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Final

from storage.base import MiB
from storage.errors import StorageError, UploadError

__all__ = ["RangeReader", "concatenate", "part_files", "spool"]

_CHUNK: Final = MiB
_PART_FILE = re.compile(r"(\d{5})\.([0-9a-f]{32})")


class RangeReader(io.RawIOBase):
    """A raw stream over at most ``remaining`` bytes of a file object, closing the file with itself."""

    def __init__(self, file: BinaryIO, remaining: int) -> None:
        super().__init__()
        self._file = file
        self._remaining = remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._remaining <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        data = self._file.read(min(len(view), self._remaining))
        view[: len(data)] = data
        self._remaining -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def spool(stream: BinaryIO, directory: Path, *, exact: int | None = None) -> tuple[Path, int, str]:
    """Copy ``stream`` into a new temporary file in ``directory``; return its path, size and SHA-256.

    With ``exact``, reads exactly that many bytes and refuses a shorter stream.
    """
    fd, name = tempfile.mkstemp(dir=directory, prefix=".incoming-")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                want = _CHUNK if exact is None else min(_CHUNK, exact - size)
                if want == 0:
                    break
                chunk = stream.read(want)
                if not chunk:
                    break
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if exact is not None and size != exact:
            raise UploadError(f"Expected {exact} bytes, received {size}.")
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(f"Could not write to local storage: {exc.strerror or exc}") from exc
        raise
    return path, size, digest.hexdigest()


def part_files(directory: Path) -> dict[int, tuple[str, Path]]:
    """The parts staged in ``directory`` (``<number>.<etag>`` files): number -> (etag, path), newest per number."""
    parts: dict[int, tuple[str, Path, int]] = {}
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                match = _PART_FILE.fullmatch(entry.name)
                if match and entry.is_file(follow_symlinks=False):
                    number, mtime = int(match.group(1)), entry.stat(follow_symlinks=False).st_mtime_ns
                    if number not in parts or parts[number][2] < mtime:
                        parts[number] = (match.group(2), Path(entry.path), mtime)
    except FileNotFoundError:
        return {}
    return {number: (etag, path) for number, (etag, path, _mtime) in parts.items()}


def concatenate(sources: Sequence[Path], directory: Path) -> tuple[Path, int, str]:
    """Join ``sources`` into a new temporary file in ``directory``; return its path, size and SHA-256."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".complete-")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as part:
                    while chunk := part.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise UploadError(f"Could not assemble the upload: {exc.strerror or exc}") from exc
    return Path(name), size, digest.hexdigest()
