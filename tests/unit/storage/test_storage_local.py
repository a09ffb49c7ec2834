"""LocalStorage specifics: containment in the root (symlinks, traversal), atomic writes, staging, metadata."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import (
    MIN_PART_SIZE,
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    UploadError,
    UploadSession,
)

SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the storage root holding a file nobody may reach through storage."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("top secret")
    return directory


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "root", "http://files.test/storage", SECRET, part_size=MIN_PART_SIZE)


def _all_operations(storage: LocalStorage, key: str) -> list[Callable[[], object]]:
    return [
        lambda: storage.put(key, io.BytesIO(b"pwned")),
        lambda: storage.open(key),
        lambda: storage.stat(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.object_path(key),
        lambda: storage.create_upload(key, size=10),
    ]


def test_symlinked_directory_inside_root_cannot_be_used_to_escape(storage: LocalStorage, outside: Path) -> None:
    os.symlink(outside, storage.root / "objects" / "evil")
    for operation in _all_operations(storage, "evil/secret.txt"):
        with pytest.raises(InvalidKey, match="symbolic link"):
            operation()
    with pytest.raises(InvalidKey):
        storage.put("evil/new.txt", io.BytesIO(b"x"))
    assert (outside / "secret.txt").read_text() == "top secret"
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert list(storage.list("")) == []
    assert list(storage.list("evil/")) == []


def test_symlinked_file_is_never_followed(storage: LocalStorage, outside: Path) -> None:
    os.symlink(outside / "secret.txt", storage.root / "objects" / "link.txt")
    for operation in _all_operations(storage, "link.txt"):
        with pytest.raises(InvalidKey):
            operation()
    assert (outside / "secret.txt").read_text() == "top secret"


def test_symlink_to_a_file_inside_the_root_is_refused_too(storage: LocalStorage) -> None:
    storage.put("real.txt", io.BytesIO(b"real"))
    os.symlink(storage.root / "objects" / "real.txt", storage.root / "objects" / "alias.txt")
    with pytest.raises(InvalidKey):
        storage.read_bytes("alias.txt")
    assert [info.key for info in storage.list("")] == ["real.txt"]


def test_symlinked_metadata_directory_cannot_be_used_to_write_outside(storage: LocalStorage, outside: Path) -> None:
    (storage.root / "objects" / "d").mkdir()
    os.symlink(outside, storage.root / "meta" / "d")
    with pytest.raises(InvalidKey):
        storage.put("d/file.txt", io.BytesIO(b"x"))
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_storage_root_reached_through_a_symlink_works(tmp_path: Path) -> None:
    real = tmp_path / "real-root"
    real.mkdir()
    os.symlink(real, tmp_path / "link-root")
    storage = LocalStorage(tmp_path / "link-root", "/s", SECRET)
    storage.put("a/b.txt", io.BytesIO(b"ok"))
    assert storage.read_bytes("a/b.txt") == b"ok"
    assert (real / "objects" / "a" / "b.txt").exists()


@pytest.mark.parametrize("key", ["../outside/secret.txt", "../../etc/passwd", "/etc/passwd", "a/../../x", "a\\..\\x"])
def test_traversal_keys_never_touch_the_file_system(storage: LocalStorage, key: str, outside: Path) -> None:
    for operation in _all_operations(storage, key):
        with pytest.raises(InvalidKey):
            operation()
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_object_and_prefix_conflicts_are_clear_errors(storage: LocalStorage) -> None:
    storage.put("a", io.BytesIO(b"file"))
    with pytest.raises(InvalidKey, match="already an object"):
        storage.put("a/b", io.BytesIO(b"x"))
    storage.put("c/d", io.BytesIO(b"x"))
    with pytest.raises(InvalidKey, match="other objects are stored under"):
        storage.put("c", io.BytesIO(b"x"))
    with pytest.raises(ObjectNotFound):
        storage.stat("c")  # a directory is not an object
    assert storage.read_bytes("a") == b"file"
    assert _leftovers(storage) == []


class _Failing(io.RawIOBase):
    """A stream that yields some bytes and then fails, like a dropped client connection."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self._sent = False
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._sent:
            raise self._error
        self._sent = True
        buffer[:4] = b"part"
        return 4


def _leftovers(storage: LocalStorage) -> list[str]:
    return sorted(os.listdir(storage.root / "tmp"))


@pytest.mark.parametrize("error", [ConnectionResetError("peer went away"), ValueError("bad stream")])
def test_failed_put_leaves_the_previous_object_and_no_partial_file(storage: LocalStorage, error: BaseException) -> None:
    storage.put("k.bin", io.BytesIO(b"previous"))
    with pytest.raises((StorageError, ValueError)):
        storage.put("k.bin", io.BufferedReader(_Failing(error)))
    assert storage.read_bytes("k.bin") == b"previous"
    assert storage.stat("k.bin").sha256 == hashlib.sha256(b"previous").hexdigest()
    assert _leftovers(storage) == []
    with pytest.raises((StorageError, ValueError)):
        storage.put("new.bin", io.BufferedReader(_Failing(error)))
    assert not storage.exists("new.bin")


def test_metadata_of_a_file_changed_behind_our_back_is_ignored(storage: LocalStorage) -> None:
    storage.put("m.txt", io.BytesIO(b"original"), content_type="text/plain")
    path = storage.object_path("m.txt")
    path.write_bytes(b"changed by hand!")
    info = storage.stat("m.txt")
    assert info.sha256 is None and info.content_type is None
    assert info.etag  # still an ETag, from size and mtime
    recorded = storage.ensure_sha256("m.txt")
    assert recorded.sha256 == hashlib.sha256(b"changed by hand!").hexdigest()
    assert storage.stat("m.txt").sha256 == recorded.sha256


def test_delete_prunes_empty_directories(storage: LocalStorage) -> None:
    storage.put("a/b/c/d.txt", io.BytesIO(b"x"))
    storage.put("a/keep.txt", io.BytesIO(b"x"))
    storage.delete("a/b/c/d.txt")
    assert not (storage.root / "objects" / "a" / "b").exists()
    assert not (storage.root / "meta" / "a" / "b").exists()
    assert (storage.root / "objects" / "a" / "keep.txt").exists()
    storage.delete("a/b")  # neither object nor directory any more: fine


def test_listing_skips_stray_files_whose_names_are_not_keys(storage: LocalStorage) -> None:
    storage.put("ok/a.txt", io.BytesIO(b"x"))
    (storage.root / "objects" / "ok" / "bad\nname").write_bytes(b"stray")
    assert [info.key for info in storage.list("ok/")] == ["ok/a.txt"]


def test_constructor_refuses_weak_secrets_and_bad_base_urls(tmp_path: Path) -> None:
    with pytest.raises(StorageConfigError, match="16 bytes"):
        LocalStorage(tmp_path, "/s", b"short")
    with pytest.raises(StorageConfigError):
        LocalStorage(tmp_path, "/s", "a string secret of enough length")  # type: ignore[arg-type]
    for base_url in ("", "/s?x=1", "/s#frag", "/s\r\nX: y"):
        with pytest.raises(StorageConfigError):
            LocalStorage(tmp_path, base_url, SECRET)


def test_forged_upload_sessions_are_refused(storage: LocalStorage) -> None:
    real = storage.create_upload("up/file.bin", size=MIN_PART_SIZE + 1)
    assert real.multipart
    forged_ids = ["../../objects", "..", "a" * 32 + "/..", "A" * 32, "0" * 31]
    for upload_id in forged_ids:
        forged = UploadSession(key="up/file.bin", size=real.size, part_size=real.part_size, upload_id=upload_id)
        for operation in (
            lambda s=forged: storage.list_uploaded_parts(s),
            lambda s=forged: storage.complete_upload(s, [(1, "a"), (2, "b")]),
            lambda s=forged: storage.presign_upload_part(s, 1),
            lambda s=forged: storage.abort_upload(s),
        ):
            with pytest.raises(UploadError):
                operation()
    other_key = UploadSession(key="up/other.bin", size=real.size, part_size=real.part_size, upload_id=real.upload_id)
    with pytest.raises(UploadError, match="does not match"):
        storage.list_uploaded_parts(other_key)
    other_size = UploadSession(key=real.key, size=real.size + 1, part_size=real.part_size, upload_id=real.upload_id)
    with pytest.raises(UploadError, match="does not match"):
        storage.complete_upload(other_size, [(1, "a"), (2, "b")])


def test_write_part_requires_the_exact_length_and_replaces_resent_parts(storage: LocalStorage) -> None:
    session = storage.create_upload("up/p.bin", size=MIN_PART_SIZE + 3, content_type="text/plain")
    with pytest.raises(UploadError, match="Expected 3 bytes"):
        storage.write_part(session, 2, io.BytesIO(b"ab"))
    assert storage.list_uploaded_parts(session) == []
    first = storage.write_part(session, 2, io.BytesIO(b"abc"))
    second = storage.write_part(session, 2, io.BytesIO(b"xyz"))
    assert first.etag != second.etag
    assert [(p.part_number, p.etag, p.size) for p in storage.list_uploaded_parts(session)] == [(2, second.etag, 3)]
    storage.write_part(session, 1, io.BytesIO(b"\0" * MIN_PART_SIZE))
    with pytest.raises(UploadError, match="does not match the stored part"):
        storage.complete_upload(session, [(1, storage.list_uploaded_parts(session)[0].etag), (2, first.etag)])
    info = storage.complete_upload(session, storage.list_uploaded_parts(session))
    assert info.sha256 == hashlib.sha256(b"\0" * MIN_PART_SIZE + b"xyz").hexdigest()
    assert info.content_type == "text/plain"
    assert os.listdir(storage.root / "uploads") == []
    assert _leftovers(storage) == []


def test_single_put_of_the_wrong_size_is_removed_at_completion(storage: LocalStorage) -> None:
    session = storage.create_upload("up/s.bin", size=10)
    storage.put_exact("up/s.bin", io.BytesIO(b"12345"), 5)
    with pytest.raises(UploadError, match="expected 10"):
        storage.complete_upload(session)
    assert not storage.exists("up/s.bin")
    with pytest.raises(UploadError, match="no parts"):
        storage.complete_upload(session, [(1, "x")])


def test_purge_stale_uploads(tmp_path: Path) -> None:
    now = [datetime.now(UTC)]
    storage = LocalStorage(tmp_path, "/s", SECRET, clock=lambda: now[0])
    storage.create_upload("a.bin", size=MIN_PART_SIZE * 4)
    assert storage.purge_stale_uploads(timedelta(days=1)) == 0
    now[0] += timedelta(days=2)
    assert storage.purge_stale_uploads(timedelta(days=1)) == 1
    assert os.listdir(tmp_path / "uploads") == []


def test_put_records_content_type_and_sha256(storage: LocalStorage) -> None:
    info = storage.put("t.csv", io.BytesIO(b"a,b\n"), content_type="text/csv")
    meta = (storage.root / "meta" / "t.csv").read_text()
    assert info.sha256 is not None and info.sha256 in meta and "text/csv" in meta
    assert info.etag == info.sha256[:32]
    assert info.last_modified is not None and info.last_modified.tzinfo == UTC
