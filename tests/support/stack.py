"""The marketplace as operators run it, started as separate OS processes on this machine, without Docker.

:class:`Stack` starts, each in its own process group with its own log file:

* an S3-compatible server: moto's standalone server (default; it implements ListParts, which the app needs to
  complete a multipart upload) or the ``s3rver`` npm package (no ListParts: purchases and downloads only);
* gunicorn with ``infra/gunicorn.conf.py`` and two workers on a free loopback port;
* the job worker, ``marketplace worker``, when this checkout has it;

against a scratch PostgreSQL database it creates (and drops on :meth:`Stack.stop`) on 127.0.0.1:5432 and Redis
db 13 on 127.0.0.1:6379, which it empties first. The schema and the demo data are made with the CLI
(``marketplace db upgrade``, ``marketplace seed``) in the stack's environment. Storage is S3.

Shared by the stack test (``tests/stack``) and the load benchmark (``bench/bench_load.py``). Every process is
ended by its own process-group id; nothing else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
S3RVER_BIN = REPO_ROOT / "node_modules" / ".bin" / "s3rver"
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 13
BUCKET = "stack-datasets"
S3_KEY = S3_SECRET = "S3RVER"  # s3rver's fixed credentials (moto takes any)
PART_SIZE = 5 * 1024 * 1024
# Stacks on one machine share Redis db 13 (emptied at start, and the job broker's queues live there): one at a time.
LOCK_PATH = Path(tempfile.gettempdir()) / f"marketplace-stack-redis-{REDIS_DB}.lock"
LOCK_WAIT_SECONDS = 600
# Application and SDK variables a stack must never inherit from the caller (mirrors tests/conftest.py).
SDK_PREFIXES = ("AWS_", "STRIPE_", "S3_", "REDIS_", "MARKETPLACE_", "JOB_", "GUNICORN_")


class StackUnavailable(RuntimeError):
    """A backing service (PostgreSQL, Redis, node for s3rver) is not there: the caller skips, naming it."""


class StackFailed(RuntimeError):
    """A process of the stack did not start or died; the message ends with every process's log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def require_services(*, s3_server: str = "moto") -> None:
    """Raise :class:`StackUnavailable` naming the first missing backing service."""
    if not _reachable(PG_HOST, PG_PORT):
        raise StackUnavailable(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    if not _reachable(REDIS_HOST, REDIS_PORT):
        raise StackUnavailable(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT}")
    if s3_server == "s3rver" and (not S3RVER_BIN.exists() or shutil.which("node") is None):
        raise StackUnavailable("s3rver is not installed (run `npm ci`) or node is missing")
    if s3_server == "moto":
        try:
            import flask_cors  # noqa: F401  moto's standalone server needs it
            import moto.server  # noqa: F401
        except ImportError as error:
            raise StackUnavailable(f"moto's server cannot start: {error}") from error


def clean_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` without any application setting or SDK variable, with this checkout importable."""
    from marketplace.config import SETTINGS

    names = {setting.name for setting in SETTINGS}
    env = {
        key: value
        for key, value in (os.environ if environ is None else environ).items()
        if key not in names and not key.startswith(SDK_PREFIXES)
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class Process:
    """One started process (its own process group) and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    #: What asks it to stop: gunicorn's SIGTERM waits for idle keep-alive connections; SIGINT does not.
    stop_signal: int = signal.SIGTERM

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def ask_to_stop(self) -> None:
        if self.alive:
            self.signal_group(self.stop_signal)

    def stop(self, timeout: float = 10) -> None:
        """Signal the process group to stop, then SIGKILL what is left after ``timeout`` seconds."""
        self.ask_to_stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)  # children that outlived their parent, if any
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a machine or container dying would."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def log_tail(self, chars: int = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-chars:]


@dataclass
class Stack:
    """A running marketplace: web, job worker, S3, over a scratch PostgreSQL database and Redis db 13."""

    workdir: Path
    web_workers: int = 2
    s3_server: str = "moto"
    job_lease_seconds: int = 5
    extra_env: dict[str, str] = field(default_factory=dict)
    with_worker: bool = True
    processes: dict[str, Process] = field(default_factory=dict)
    database_name: str = ""
    base_url: str = ""
    s3_endpoint: str = ""
    env: dict[str, str] = field(default_factory=dict)
    command_logs: list[Path] = field(default_factory=list)
    #: Seconds each start-up step took (CLI commands, web, worker), for the benchmark's report.
    timings: dict[str, float] = field(default_factory=dict)
    _lock: IO[bytes] | None = None

    # --- life cycle -------------------------------------------------------------------------------------------

    def start(self) -> Stack:
        """Start everything and return once the site answers ``/readyz``; on failure, stop what started."""
        require_services(s3_server=self.s3_server)
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._take_lock()
            self._create_database()
            self._flush_redis()
            self._start_s3()
            port = free_port()
            self.base_url = f"http://127.0.0.1:{port}"
            self.env = self._environment(port)
            self.run_cli("db", "upgrade")
            web = self._start_web()  # gunicorn boots while the demo data is written: it needs only the schema
            self.run_cli("seed")
            started = time.monotonic()
            self._wait_for(lambda: self._get_status("/readyz") == 200, web, "gunicorn answers /readyz with 200",
                           timeout=60)  # fmt: skip
            self.timings["web ready after seed"] = round(time.monotonic() - started, 1)
            if self.with_worker and self.has_worker_command():
                self.start_worker()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process (asked all at once, each given 10 s), then drop the scratch database."""
        processes = list(self.processes.values())
        for process in processes:
            process.ask_to_stop()
        for process in processes:
            process.stop()
        self.processes.clear()
        if self.database_name:
            self._drop_database()
            self.database_name = ""
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    def _take_lock(self) -> None:
        """Wait until no other stack on this machine runs (the lock dies with its process, whatever ends it)."""
        started = time.monotonic()
        self._lock = LOCK_PATH.open("ab")
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > LOCK_WAIT_SECONDS:
                    raise StackFailed(f"another stack held {LOCK_PATH} for {LOCK_WAIT_SECONDS} s") from None
                time.sleep(0.5)
        self.timings["waited for another stack"] = round(time.monotonic() - started, 1)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the processes ----------------------------------------------------------------------------------------

    def _spawn(
        self, name: str, argv: list[str], env: Mapping[str, str] | None = None, stop_signal: int = signal.SIGTERM
    ) -> Process:
        log_path = self.workdir / f"{name}-{len(self.command_logs)}.log"
        self.command_logs.append(log_path)
        log: IO[bytes]
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                env=dict(env if env is not None else self.env),
                start_new_session=True,  # its own process group: stopped and killed as one
            )
        process = Process(name, popen, log_path, stop_signal)
        self.processes[name] = process
        return process

    def run_cli(self, *args: str, timeout: float = 120) -> str:
        """Run ``marketplace ARGS`` in the stack's environment; its output, or :class:`StackFailed` with the logs."""
        argv = [str(BIN / "marketplace"), *args]
        started = time.monotonic()
        result = subprocess.run(
            argv, cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        self.timings[" ".join(args)] = round(time.monotonic() - started, 1)
        if result.returncode != 0:
            raise StackFailed(f"`marketplace {' '.join(args)}` exited {result.returncode}:\n"
                              f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}")  # fmt: skip
        return result.stdout

    @staticmethod
    def has_worker_command() -> bool:
        """Whether this checkout has the job queue (``marketplace worker``); without it jobs run in the web."""
        return (REPO_ROOT / "marketplace" / "jobs" / "__init__.py").exists()

    def _start_s3(self) -> None:
        port = free_port()
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        env = clean_environment()
        if self.s3_server == "moto":
            argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        elif self.s3_server == "s3rver":
            data = self.workdir / "s3rver-data"
            data.mkdir(exist_ok=True)
            argv = [str(S3RVER_BIN), "-d", str(data), "-a", "127.0.0.1", "-p", str(port), "--configure-bucket", BUCKET]
        else:
            raise ValueError(f"unknown S3 server {self.s3_server!r}: moto or s3rver")
        process = self._spawn("s3", argv, env)
        self._wait_for(lambda: _reachable("127.0.0.1", port), process, "the S3 server accepts connections")
        if self.s3_server == "moto":
            self.s3_client().create_bucket(Bucket=BUCKET)

    def s3_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def _start_web(self) -> Process:
        # Its own control socket: the default one in the home folder is shared by every gunicorn on the machine.
        argv = [str(BIN / "gunicorn"), "-c", "infra/gunicorn.conf.py", "--control-socket",
                str(self.workdir / "gunicorn.ctl"), "marketplace.wsgi:app"]  # fmt: skip
        return self._spawn("web", argv, stop_signal=signal.SIGINT)

    def start_worker(self) -> Process:
        """Start ``marketplace worker`` (again, after :meth:`kill_worker`)."""
        old = self.processes.get("worker")
        if old is not None and old.alive:
            raise StackFailed("the job worker is already running")
        process = self._spawn("worker", [str(BIN / "marketplace"), "worker"])
        time.sleep(0.5)
        if not process.alive:
            raise StackFailed(f"`marketplace worker` exited {process.popen.returncode} at start\n{self.logs()}")
        return process

    def kill_worker(self) -> None:
        """SIGKILL the job worker's whole process group (the worker and every child it forked)."""
        self.processes["worker"].kill()

    def _get_status(self, path: str) -> int | None:
        import requests

        try:
            return requests.get(self.base_url + path, timeout=5).status_code
        except requests.RequestException:
            return None

    def _wait_for(self, ready: Callable[[], bool], process: Process, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if not process.alive:
                raise StackFailed(f"{process.name} exited {process.popen.returncode} before {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise StackFailed(f"{process.name}: not ready within {timeout:.0f} s ({what})\n{self.logs()}")
            time.sleep(0.1)

    def logs(self, chars: int = 6000) -> str:
        """The tail of every process's log, for an assertion message."""
        parts = []
        for path in self.command_logs:
            try:
                text = path.read_text(errors="replace")[-chars:]
            except OSError:
                text = "(no log)"
            parts.append(f"----- {path.name} -----\n{text}")
        return "\n".join(parts)

    # --- settings and backing services ------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{self.database_name}"

    @property
    def redis_url(self) -> str:
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"

    def _environment(self, port: int) -> dict[str, str]:
        from marketplace.catalog.vocab import StorageRegion
        from marketplace.crypto import new_encryption_key, new_pepper

        env = clean_environment()
        env.update(
            {
                "MARKETPLACE_ENV": "development",
                "INSTANCE_PATH": str(self.workdir / "instance"),
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                # Key material of its own, as production has (development would generate it in the instance folder).
                "ENCRYPTION_KEYS": new_encryption_key("stack1"),
                "API_KEY_PEPPERS": new_pepper("stack1"),
                "BASE_URL": f"http://127.0.0.1:{port}",
                "MAIL_BACKEND": "console",
                "STORAGE_BACKEND": "s3",
                "S3_BUCKET": BUCKET,
                # Every residency region a listing may name, all kept in the one local bucket.
                "S3_REGION_BUCKETS": ",".join(f"{region.value}={BUCKET}" for region in StorageRegion),
                "S3_REGION": "us-east-1",
                "S3_ENDPOINT_URL": self.s3_endpoint,
                "S3_ACCESS_KEY_ID": S3_KEY,
                "S3_SECRET_ACCESS_KEY": S3_SECRET,
                "STORAGE_PART_SIZE": str(PART_SIZE),
                "REDIS_URL": self.redis_url,
                "JOB_BROKER_URL": self.redis_url,
                "JOB_LEASE_SECONDS": str(self.job_lease_seconds),
                "JOB_NAMESPACE": f"stack-{self.database_name}",
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": str(self.web_workers),
                "GUNICORN_THREADS": "2",
                "LOG_LEVEL": "INFO",
            }
        )
        env.update(self.extra_env)
        return env

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)

    def _create_database(self) -> None:
        self.database_name = f"test_stack_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.database_name}"')

    def _drop_database(self) -> None:
        with contextlib.suppress(Exception), self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def _flush_redis(self) -> None:
        """Empty Redis db 13 (this stack's; never another db): no message of an earlier run is left queued."""
        import redis

        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a read-only query against the stack's database (for checks the API does not expose)."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return list(conn.execute(query, params).fetchall())


@contextlib.contextmanager
def running_stack(workdir: Path, **options: Any) -> Iterator[Stack]:
    """A started :class:`Stack`, stopped (and its database dropped) on exit."""
    stack = Stack(workdir, **options)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
