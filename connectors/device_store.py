"""Mobile devices registered with the mobile connector, in the SQL store (migration 0006).

    devices = DeviceStore(engine)                 # the session store's engine
    device, created, token = await devices.register(
        id="d-1", platform="ios", locale="ko-KR", timezone="Asia/Seoul",
        push_provider="apns", push_token="…", owner_key="3f2a…")
    device = await devices.get("d-1")
    device.token_matches(token)                   # True
    await devices.remove("d-1")

A new device gets a device token, shown once (only its SHA-256 is kept): the app sends it with
every later request about the device, so knowing a device id is not enough to read its
conversation or to take over its pushes. `owner_key` is the API key that registered it (None
without keys); no other key may use the device.

Registering a known device again updates it (a new push token, a changed locale); its
conversation, `mobile:<device id>`, goes on. A device registered before device tokens existed
has none: its next registration issues one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models import Base
from assistant.store.sql import as_utc

SESSION_PREFIX = "mobile:"


class MobileDeviceRow(Base):
    __tablename__ = "mobile_devices"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    push_provider: Mapped[str | None] = mapped_column(String(16))
    push_token: Mapped[str | None] = mapped_column(Text)
    app_version: Mapped[str | None] = mapped_column(String(32))
    token_sha256: Mapped[str | None] = mapped_column(String(64))
    owner_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


DEVICES = Base.metadata.tables["mobile_devices"]


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    platform: str
    locale: str
    timezone: str
    push_provider: str | None
    push_token: str | None
    app_version: str | None
    created_at: datetime
    updated_at: datetime
    token_sha256: str | None = None
    owner_key: str | None = None

    def token_matches(self, token: str | None) -> bool:
        """True when `token` is this device's token (constant time); False without one."""
        if not token or self.token_sha256 is None:
            return False
        return hmac.compare_digest(_digest(token), self.token_sha256)

    @property
    def session_id(self) -> str:
        """The device's conversation."""
        return SESSION_PREFIX + self.id

    @property
    def push(self) -> dict[str, str] | None:
        if self.push_provider is None or self.push_token is None:
            return None
        return {"provider": self.push_provider, "token": self.push_token}

    def public(self) -> dict[str, Any]:
        return {
            "device_id": self.id,
            "platform": self.platform,
            "locale": self.locale,
            "timezone": self.timezone,
            "push": self.push,
            "app_version": self.app_version,
            "session_id": self.session_id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _device(row: Any) -> Device:
    return Device(
        id=row.id,
        platform=row.platform,
        locale=row.locale,
        timezone=row.timezone,
        push_provider=row.push_provider,
        push_token=row.push_token,
        app_version=row.app_version,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        token_sha256=row.token_sha256,
        owner_key=row.owner_key,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeviceStore:
    """Registered devices on an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def register(
        self,
        *,
        id: str,
        platform: str,
        locale: str,
        timezone: str,
        push_provider: str | None = None,
        push_token: str | None = None,
        app_version: str | None = None,
        owner_key: str | None = None,
    ) -> tuple[Device, bool, str | None]:
        """Add the device, or update it when it is known: the device, whether it is new, and
        its device token when one was issued (a new device, or a known one without a token).
        Whether the caller may update a known device is the connector's to check first."""
        now = datetime.now(UTC)
        token = "dt_" + secrets.token_urlsafe(32)
        values = {
            "platform": platform,
            "locale": locale,
            "timezone": timezone,
            "push_provider": push_provider,
            "push_token": push_token,
            "app_version": app_version,
            "updated_at": now,
        }
        for attempt in range(2):
            try:
                async with self.engine.begin() as conn:
                    changed = await conn.execute(
                        update(DEVICES).where(DEVICES.c.id == id).values(**values)
                    )
                    created = not changed.rowcount
                    if created:
                        await conn.execute(
                            insert(DEVICES).values(
                                id=id,
                                created_at=now,
                                token_sha256=_digest(token),
                                owner_key=owner_key,
                                **values,
                            )
                        )
                        issued: str | None = token
                    else:  # a device from before device tokens: it gets one now
                        claimed = await conn.execute(
                            update(DEVICES)
                            .where(DEVICES.c.id == id, DEVICES.c.token_sha256.is_(None))
                            .values(token_sha256=_digest(token), owner_key=owner_key)
                        )
                        issued = token if claimed.rowcount else None
            except IntegrityError:  # registered by another request meanwhile: update it
                if attempt:
                    raise
                continue
            break
        found = await self.get(id)
        if found is None:  # removed by another request meanwhile
            raise LookupError(f"device {id!r} was removed while it was registered")
        return found, created, issued

    async def get(self, device_id: str) -> Device | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(DEVICES).where(DEVICES.c.id == device_id))).first()
        return None if row is None else _device(row)

    async def remove(self, device_id: str) -> bool:
        """Forget a device (its conversation stays in the session store); False when unknown."""
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(DEVICES).where(DEVICES.c.id == device_id))
        return bool(result.rowcount)


__all__ = ["SESSION_PREFIX", "Device", "DeviceStore", "MobileDeviceRow"]
