"""API keys, stored hashed: the secret is shown once, when the key is made, and never kept.

A key reads `ak_<id>_<secret>`. The id finds the row; the secret's SHA-256 is compared in
constant time. SHA-256 suits keys of 32 random bytes (nothing to brute-force); passwords would
need a slow hash.

    keys = ApiKeyStore(store.engine)
    made = await keys.create("kakao-channel", scopes=["chat"])   # made.token is shown once
    found = await keys.verify(made.token)                          # -> ApiKey with its scopes
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.errors import StoreError
from assistant.store.models import Base
from assistant.store.sql import as_utc

SCOPES = ("chat", "admin")


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked: bool


@dataclass(frozen=True, slots=True)
class NewKey:
    key: ApiKey
    token: str  # the whole key: give it to the client now, it cannot be shown again


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "ak" or not key_id or not secret:
        return None
    return key_id, secret


class ApiKeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._table = ApiKeyRow.__table__

    async def create(self, name: str, scopes: list[str]) -> NewKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise StoreError(f"scopes must be some of {list(SCOPES)}, got {scopes}")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = {
            "id": key_id,
            "name": name,
            "secret_sha256": _digest(secret),
            "scopes": sorted(set(scopes)),
            "created_at": now,
            "revoked_at": None,
        }
        async with self._engine.begin() as conn:
            await conn.execute(self._table.insert().values(**row))  # type: ignore[attr-defined]
        key = ApiKey(key_id, name, tuple(row["scopes"]), now, revoked=False)  # type: ignore[arg-type]
        return NewKey(key=key, token=f"ak_{key_id}_{secret}")

    async def verify(self, token: str) -> ApiKey | None:
        """The key a token stands for, when it is known, its secret matches and it is not revoked."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(ApiKeyRow).where(ApiKeyRow.id == key_id))).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            return None
        return _key(row)

    async def list(self) -> list[ApiKey]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at))).all()
        return [_key(r) for r in rows]

    async def has_scope(self, scope: str) -> bool:
        """Whether any unrevoked key has `scope` (the admin console is off without one)."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(ApiKeyRow.scopes).where(ApiKeyRow.revoked_at.is_(None)))
            ).all()
        return any(scope in row.scopes for row in rows)

    async def revoke(self, key_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(getattr(result, "rowcount", 0))


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id, row.name, tuple(row.scopes), as_utc(row.created_at), row.revoked_at is not None
    )
