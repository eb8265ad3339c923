"""The session store on SQLAlchemy 2 (async): SQLite in WAL mode by default, PostgreSQL by URL.

    store = SqlStore("sqlite:///assistant.db")      # or postgresql://user@host/db
    await store.open()                               # creates or migrates the schema (Alembic)
    context = await store.load_context("s1")
    await store.save_turn(log, context)              # context and turn log in one transaction

URLs without an async driver get one: `sqlite://` uses aiosqlite, `postgresql://` psycopg 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from assistant.context import DialogueContext
from assistant.errors import StoreError
from assistant.store.models import Base, SessionRow, TurnRow
from assistant.types import Reply

log = logging.getLogger("assistant.store")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: Key of the PostgreSQL advisory lock that serializes schema migrations between processes.
_MIGRATION_LOCK = 7_301_962_001


SESSIONS = Base.metadata.tables["sessions"]
TURNS = Base.metadata.tables["turns"]


class DuplicateMessage(StoreError):
    """A turn with this session's message id is stored already."""


@dataclass(frozen=True, slots=True)
class TurnLog:
    """Everything logged about one turn."""

    session_id: str
    channel: str
    locale: str
    text: str
    reply: Reply
    outcome: str
    candidates: list[dict[str, Any]]
    skills: list[dict[str, Any]]
    latency_ms: float
    message_id: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class StoredTurn:
    seq: int
    text: str
    reply: Reply
    outcome: str
    candidates: list[dict[str, Any]]
    skills: list[dict[str, Any]]
    latency_ms: float
    message_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    channel: str
    context: DialogueContext
    turn_count: int
    created_at: datetime
    updated_at: datetime
    turns: list[StoredTurn]


def async_url(url: str) -> str:
    """The URL with an async driver: aiosqlite for SQLite, psycopg 3 for PostgreSQL."""
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "sqlite" and driver in ("", "pysqlite"):
        driver = "aiosqlite"
    elif backend == "postgresql" and driver in ("", "psycopg2"):
        driver = "psycopg"
    elif backend not in ("sqlite", "postgresql"):
        raise StoreError(f"database URL {url!r}: only sqlite:// and postgresql:// are supported")
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)


def describe_db_error(error: Exception) -> str:
    """What went wrong in the database, safe to log: the driver's first line only. The rest
    (PostgreSQL's DETAIL, "Failing row contains (...)") can hold what users said."""
    orig = getattr(error, "orig", None) or error
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first}"


def _ensure_parent_dir(database: str) -> None:
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class SqlStore:
    """Sessions, their contexts and turn logs in one SQL database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self._echo = echo
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[Any] | None = None
        # SQLite has one writer at a time; queueing writers here, rather than in SQLite's busy
        # handler (which sleeps and polls), keeps the slowest turns from waiting a second.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    def _writing(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

    # --- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and bring the schema to the newest migration."""
        if self._engine is not None:
            return
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                await asyncio.to_thread(_ensure_parent_dir, database)
        # SQLite files do not drop connections; a PostgreSQL server may restart under us.
        options: dict[str, Any] = {}
        if self.dialect == "postgresql":
            # a server may restart under us; each in-flight turn may hold a lock connection
            # 30 connections at most per process: several processes share the server's
            # max_connections (100 by default). Session locks take at most 16 of them
            # (PostgresSessionLocks), so queries always find one.
            options = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
        # hide_parameters: errors and logs never carry what users said (statement parameters)
        engine = create_async_engine(self.url, echo=self._echo, hide_parameters=True, **options)
        if self.dialect == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(self._migrate)
        except (SQLAlchemyError, OSError) as e:
            await engine.dispose()
            raise StoreError(
                f"cannot open the session store at {self.safe_url}: {describe_db_error(e)}"
            ) from e
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def _migrate(self, connection: Connection) -> None:
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._sessions = None

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine_or_fail()

    def _engine_or_fail(self) -> AsyncEngine:
        if self._engine is None:
            raise StoreError("the session store is not open; call open() first")
        return self._engine

    def _session_factory(self) -> async_sessionmaker[Any]:
        if self._sessions is None:
            raise StoreError("the session store is not open; call open() first")
        return self._sessions

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self._session_factory()() as db:
                await db.execute(text("SELECT 1"))
        except (SQLAlchemyError, StoreError, OSError):
            return False
        return True

    # --- turns ---------------------------------------------------------------------------------

    async def load_context(self, session_id: str) -> DialogueContext | None:
        async with self._engine_or_fail().connect() as conn:
            raw = await conn.scalar(select(SessionRow.context).where(SessionRow.id == session_id))
        return None if raw is None else DialogueContext.model_validate(raw)

    async def find_reply(self, session_id: str, message_id: str) -> Reply | None:
        """The stored reply of a message already answered in this session."""
        async with self._engine_or_fail().connect() as conn:
            reply = await conn.scalar(
                select(TurnRow.reply).where(
                    TurnRow.session_id == session_id, TurnRow.message_id == message_id
                )
            )
        return None if reply is None else Reply.model_validate(reply)

    async def save_turn(self, turn: TurnLog, context: DialogueContext) -> int:
        """Store the context and the turn log in one transaction; returns the turn's number.

        Raises `DuplicateMessage` when the session has a turn with the same message id.
        """
        state = context.model_dump(mode="json")
        try:
            async with self._writing(), self._engine_or_fail().begin() as conn:
                seq = await conn.scalar(
                    update(SESSIONS)
                    .where(SESSIONS.c.id == turn.session_id)
                    .values(turn_count=SESSIONS.c.turn_count + 1, context=state, updated_at=turn.at)
                    .returning(SESSIONS.c.turn_count)
                )
                if seq is None:
                    seq = 1
                    await conn.execute(
                        insert(SESSIONS).values(
                            id=turn.session_id,
                            channel=turn.channel,
                            context=state,
                            turn_count=seq,
                            created_at=turn.at,
                            updated_at=turn.at,
                        )
                    )
                await conn.execute(
                    insert(TURNS).values(
                        session_id=turn.session_id,
                        seq=seq,
                        message_id=turn.message_id,
                        channel=turn.channel,
                        locale=turn.locale,
                        text=turn.text,
                        reply=turn.reply.model_dump(mode="json"),
                        route=turn.reply.route,
                        outcome=turn.outcome,
                        confidence=turn.reply.confidence,
                        candidates=turn.candidates,
                        skills=turn.skills,
                        latency_ms=turn.latency_ms,
                        created_at=turn.at,
                    )
                )
        except IntegrityError as e:
            if turn.message_id is not None and "message" in str(e.orig).lower():
                raise DuplicateMessage(turn.message_id) from e
            raise StoreError(
                f"could not store the turn of session {turn.session_id!r}: {describe_db_error(e)}"
            ) from e
        return int(seq)

    # --- sessions ------------------------------------------------------------------------------

    async def get_session(self, session_id: str, *, last: int = 20) -> SessionView | None:
        async with self._session_factory()() as db:
            row = await db.get(SessionRow, session_id)
            if row is None:
                return None
            turns = (
                await db.scalars(
                    select(TurnRow)
                    .where(TurnRow.session_id == session_id)
                    .order_by(TurnRow.seq.desc())
                    .limit(last)
                )
            ).all()
            return SessionView(
                session_id=row.id,
                channel=row.channel,
                context=DialogueContext.model_validate(row.context),
                turn_count=row.turn_count,
                created_at=as_utc(row.created_at),
                updated_at=as_utc(row.updated_at),
                turns=[_stored(t) for t in reversed(turns)],
            )

    async def delete_session(self, session_id: str) -> bool:
        """Forget a session and its turns; False when there was none."""
        async with self._writing(), self._session_factory()() as db, db.begin():
            await db.execute(delete(TurnRow).where(TurnRow.session_id == session_id))
            result = await db.execute(delete(SessionRow).where(SessionRow.id == session_id))
            return bool(getattr(result, "rowcount", 0))


def _stored(row: TurnRow) -> StoredTurn:
    return StoredTurn(
        seq=row.seq,
        text=row.text,
        reply=Reply.model_validate(row.reply),
        outcome=row.outcome,
        candidates=row.candidates,
        skills=row.skills,
        latency_ms=row.latency_ms,
        message_id=row.message_id,
        at=as_utc(row.created_at),
    )


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
