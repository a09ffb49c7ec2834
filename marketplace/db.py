"""Database engine, sessions and the unit of work.

One :class:`UnitOfWork` per request (or CLI command): services stage their changes on its session, the
application commits it once when the request succeeded, and only then runs the side effects (mail, outbound
webhooks) that the services registered with :meth:`UnitOfWork.after_commit`. A failed request rolls back and
runs no side effect, so nothing half-written is left behind and no e-mail announces a change that did not happen.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel

if TYPE_CHECKING:  # the backends import this module (for the unit of work), so only their types are named here
    from licensing import KeyRing
    from marketplace.events import EventHandler
    from marketplace.jobs.queue import JobQueue
    from marketplace.mail import Mailer
    from marketplace.orders.payments import PaymentBackend
    from marketplace.webhooks.dispatcher import WebhookDispatcher
    from storage import RegionalStorage

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC and
    made aware again when read. Naive datetimes are refused on the way in: they are always a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> sa.Column[Any]:
    """A ``UTCDateTime`` column for a SQLModel field (``sa_column=utc_column()``)."""
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def enum_column(
    enum_cls: type[enum.StrEnum],
    *,
    nullable: bool = False,
    index: bool = False,
    name: str | None = None,
    primary_key: bool = False,
) -> sa.Column[Any]:
    """A column holding ``enum_cls`` members as their values, refused by a CHECK constraint otherwise.

    ``name`` names the constraint (``ck_<table>_<name>``; the enum's name by default): give one when a table
    has two columns of the same enum.

    Not a native enum, so SQLite and PostgreSQL store and check it alike, and adding a member needs no
    ``ALTER TYPE`` (only the CHECK constraint is replaced by a migration).
    """
    return sa.Column(
        sa.Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=32,
            name=name or enum_cls.__name__.lower(),
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=nullable,
        index=index,
        primary_key=primary_key,
    )


def _configure_sqlite(engine: Engine) -> None:
    """Make pysqlite transactional the way SQLAlchemy expects: real BEGIN, savepoints, foreign keys."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own implicit BEGIN breaks SAVEPOINT; SQLAlchemy emits BEGIN itself below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so concurrent writers wait (busy_timeout) instead of failing
        # with "database is locked" when a read transaction later tries to write. SQLite is the single-process
        # development default; production runs on PostgreSQL, where this does not apply.
        # A session marked read-only (:func:`read_only_on_sqlite`) begins a plain deferred transaction instead: it
        # takes no lock, so a slow search does not hold up every other request of every worker behind it (with
        # IMMEDIATE, two gunicorn workers served one request at a time, and waits past busy_timeout became 503s).
        deferred = conn.get_execution_options().get(READ_ONLY_OPTION)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` with the settings each supported database needs."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    else:
        # What a rolled-back transaction set is undone: see _apply_statement_timeout.
        event.listen(engine, "commit", _keep_statement_timeout)
        event.listen(engine, "rollback", _forget_statement_timeout)
        event.listen(engine, "rollback_savepoint", _forget_statement_timeout)
    return engine


class Database:
    """The engine and the session factory of one application."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self._factory: sessionmaker[Session] = sessionmaker(bind=self.engine, class_=Session, expire_on_commit=False)
        event.listen(self._factory, "after_begin", _apply_statement_timeout)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """A new session; the caller owns it and must close it."""
        return self._factory()

    def bind_to_connection(self, connection: Connection) -> None:
        """Make every new session join ``connection``'s open transaction through savepoints.

        Tests use this to run each test inside one transaction that is rolled back afterwards, while the
        application still commits as it would in production (the commit releases a savepoint).
        """
        self._factory = sessionmaker(
            bind=connection,
            class_=Session,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        event.listen(self._factory, "after_begin", _apply_statement_timeout)

    def dispose(self) -> None:
        self.engine.dispose()


READ_ONLY_OPTION = "marketplace_read_only"


def read_only_on_sqlite(session: Session) -> None:
    """Let ``session``'s transactions on SQLite begin deferred, taking no write lock (see ``_configure_sqlite``).

    Only for work that never writes: a deferred transaction that reads and then writes fails at once with
    "database is locked" when another writer committed in between. PostgreSQL is unaffected.
    """
    session.execution_options = session.execution_options.union({READ_ONLY_OPTION: True})


#: ``Session.info`` key: the ``statement_timeout`` (ms, 0 = none) the session's transactions run under (PostgreSQL).
STATEMENT_TIMEOUT = "marketplace.statement_timeout_ms"
#: ``Connection.info`` key (it lives as long as the pooled DBAPI connection): the ``statement_timeout`` in force on
#: that connection, when known; and whether the transaction that set it is still open (a rollback would undo it).
_CONNECTION_TIMEOUT = "marketplace.statement_timeout_ms"
_UNCOMMITTED = "marketplace.statement_timeout_uncommitted"


def limit_statement_time(session: Session, milliseconds: int) -> None:
    """Make every transaction ``session`` begins on PostgreSQL run under ``statement_timeout = milliseconds``.

    A statement that runs longer is cancelled by the server (SQLSTATE 57014), which
    :func:`marketplace.errors.translate` turns into :class:`~marketplace.errors.StatementTimedOut`. SQLite has no
    such setting: nothing is limited there. ``milliseconds`` of 0 or less sets no limit. Every other session of a
    :class:`Database` runs with no limit (the CLI, jobs): the setting is the session's, not the connection's.
    """
    session.info[STATEMENT_TIMEOUT] = max(0, int(milliseconds))


def _apply_statement_timeout(session: Session, _transaction: Any, connection: Connection) -> None:
    """At the start of each transaction on PostgreSQL, give the connection the session's ``statement_timeout``.

    The value is set for the connection (``SET SESSION``), not the transaction, and remembered in the pooled
    connection's ``info``: a web request then pays no round trip for it once its pooled connection has served
    another request, and a session that wants another value (none, for the CLI and jobs) sets it back at its own
    start. A ``SET`` made in a transaction that is rolled back is undone by the server, so that rollback forgets what
    the connection holds (:func:`_forget_statement_timeout`) and the next transaction sets it again.
    """
    if connection.dialect.name != "postgresql":
        return
    wanted = session.info.get(STATEMENT_TIMEOUT, 0)
    if connection.info.get(_CONNECTION_TIMEOUT) != wanted:
        connection.exec_driver_sql(f"SET SESSION statement_timeout = {int(wanted)}")
        connection.info[_CONNECTION_TIMEOUT] = wanted
        connection.info[_UNCOMMITTED] = True


def _keep_statement_timeout(connection: Connection) -> None:
    connection.info.pop(_UNCOMMITTED, None)


def _forget_statement_timeout(connection: Connection, *_args: Any) -> None:
    if connection.info.pop(_UNCOMMITTED, None):
        connection.info.pop(_CONNECTION_TIMEOUT, None)


class UnitOfWork:
    """One transaction and the side effects that may run only once it is committed.

    ``context`` carries what services need besides the session (settings, mailer, clock), so services
    do not reach into Flask and serve the website, the API and the CLI alike.
    """

    def __init__(self, session: Session, context: ServiceContext) -> None:
        self.session = session
        self.context = context
        self._after_commit: list[Callable[[], None]] = []
        self.committed = False
        #: The API credential this unit of work acts through (``api-key:12``, ``oauth-client:3``), set by the API
        #: once the caller is authenticated; ``None`` on the website, the CLI and in jobs. The audit log names it as
        #: the actor of what its user does.
        self.acting_credential: str | None = None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after a successful commit; never when the transaction rolls back."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        """Commit once, then run the registered side effects (a failing one is logged, not raised)."""
        self.session.commit()
        self.committed = True
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("side effect after commit failed")

    def rollback(self) -> None:
        """Discard the transaction and every side effect registered in it."""
        self._after_commit.clear()
        self.session.rollback()

    def close(self) -> None:
        self.session.close()

    @property
    def settings(self) -> dict[str, Any]:
        return self.context.settings

    def now(self) -> datetime:
        return self.context.clock()


@dataclass
class ServiceContext:
    """What services may use besides the database, each under its own name and interface.

    ``settings``, the mailer and the clock always exist. The backends chosen at start-up (payments, storage, the
    license-signing key ring, the webhook dispatcher, the job queue) are ``None`` until ``create_app`` sets
    them, so a service that needs one says so in its own words instead of failing on a missing key.
    ``event_handlers`` are the subscribers :func:`marketplace.events.emit` calls, in order.
    """

    settings: dict[str, Any]
    mailer: Mailer
    clock: Callable[[], datetime] = utcnow
    payments: PaymentBackend | None = None
    storage: RegionalStorage | None = None
    keyring: KeyRing | None = None
    webhooks: WebhookDispatcher | None = None
    queue: JobQueue | None = None
    event_handlers: list[EventHandler] = field(default_factory=list)

    def at(self, clock: Callable[[], datetime]) -> ServiceContext:
        """The same services (and the same subscribers) under another clock: for tests and replays."""
        return replace(self, clock=clock)


@contextmanager
def unit_of_work(database: Database, context: ServiceContext) -> Iterator[UnitOfWork]:
    """A unit of work for code outside a request (CLI, jobs): commits on success, rolls back on error."""
    uow = UnitOfWork(database.session(), context)
    try:
        yield uow
        uow.commit()
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()


#: Values per ``IN (...)`` list on databases without arrays (SQLite's limit on bound parameters is far above it).
IN_LIST_CHUNK = 500


def any_of(dialect: sa.Dialect, column: sa.ColumnElement[Any], values: Iterable[Any]) -> list[sa.ColumnElement[bool]]:
    """Conditions that together match the rows whose ``column`` is one of ``values``: run one statement per
    condition and combine the results.

    PostgreSQL gets a single ``column = ANY(:values)`` with the values as one array parameter: one statement whose
    text does not grow with the values (the driver and SQLAlchemy prepare it in the same time for 10 values or
    10,000). Other databases get ``IN`` lists of :data:`IN_LIST_CHUNK` values. No values, no condition.
    """
    items = list(values)
    if not items:
        return []
    if dialect.name == "postgresql":
        # Text without a length: a cast to VARCHAR(n) would cut a longer value short, and match another one.
        base = column.type.impl_instance if isinstance(column.type, sa.TypeDecorator) else column.type
        kind = sa.String() if isinstance(base, sa.String) else column.type
        array = sa.bindparam(None, items, type_=postgresql.ARRAY(kind))
        return [sa.type_coerce(column, kind) == sa.any_(array)]
    return [column.in_(items[start : start + IN_LIST_CHUNK]) for start in range(0, len(items), IN_LIST_CHUNK)]
