"""Outbound webhooks and their pending deliveries in the SQL store (tables of migration 0002).

    store = WebhookStore(engine)                  # the session store's engine
    hook = await store.register(url="https://example.org/hook", channel="kakao")
    await store.enqueue([hook], event="reply", body='{"text": "..."}', now=time.time())
    for delivery in await store.due(now=time.time()):
        if await store.claim(delivery, until=time.time() + 30):
            ...                                   # POST it, then mark_delivered / mark_failed

A delivery stays `pending` until its target accepts it, so a restart loses nothing; after too
many failed attempts it is `dead` (the dead-letter list), kept until it is sent again. `claim`
moves a delivery's next attempt forward only if nobody else did first, so two processes that
share the database never send the same delivery at once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant.store.models import Base
from assistant.store.sql import as_utc

WEBHOOKS = Base.metadata.tables["webhooks"]
DELIVERIES = Base.metadata.tables["webhook_deliveries"]

PENDING = "pending"
DELIVERED = "delivered"
#: Given up (too many failed attempts, or a target this server must not reach): kept, with
#: its last error, until it is sent again (`retry`) or its webhook is removed.
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    channel: str | None
    session_id: str | None
    secret: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        """What the API shows of a webhook: everything but its secret."""
        return {
            "id": self.id,
            "url": self.url,
            "channel": self.channel,
            "session_id": self.session_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    body: str
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event": self.event,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
        }


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        channel=row.channel,
        session_id=row.session_id,
        secret=row.secret,
        created_at=as_utc(row.created_at),
    )


class WebhookStore:
    """Webhooks and deliveries on an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # --- webhooks ------------------------------------------------------------------------------

    async def register(
        self,
        *,
        url: str,
        channel: str | None = None,
        session_id: str | None = None,
        secret: str | None = None,
    ) -> Webhook:
        """A new webhook; a secret is made when none is given."""
        hook = Webhook(
            id=uuid.uuid4().hex,
            url=url,
            channel=channel,
            session_id=session_id,
            secret=secret or secrets.token_urlsafe(32),
            created_at=datetime.now(UTC),
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(WEBHOOKS).values(
                    id=hook.id,
                    url=hook.url,
                    channel=hook.channel,
                    session_id=hook.session_id,
                    secret=hook.secret,
                    created_at=hook.created_at,
                )
            )
        return hook

    async def webhooks(self) -> list[Webhook]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(WEBHOOKS).order_by(WEBHOOKS.c.created_at))
            return [_webhook(r) for r in rows]

    async def get(self, webhook_id: str) -> Webhook | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(WEBHOOKS).where(WEBHOOKS.c.id == webhook_id))).first()
        return None if row is None else _webhook(row)

    async def remove(self, webhook_id: str) -> bool:
        """Forget a webhook and whatever it still had to deliver; False when there was none."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(DELIVERIES).where(DELIVERIES.c.webhook_id == webhook_id))
            result = await conn.execute(delete(WEBHOOKS).where(WEBHOOKS.c.id == webhook_id))
        return bool(result.rowcount)

    async def matching(self, *, channel: str, session_id: str) -> list[Webhook]:
        """Webhooks that want replies of this channel and session (None matches any)."""
        query = select(WEBHOOKS).where(
            or_(WEBHOOKS.c.channel.is_(None), WEBHOOKS.c.channel == channel),
            or_(WEBHOOKS.c.session_id.is_(None), WEBHOOKS.c.session_id == session_id),
        )
        async with self.engine.connect() as conn:
            return [_webhook(r) for r in await conn.execute(query)]

    async def for_channel(self, channel: str) -> list[Webhook]:
        """Webhooks registered for exactly `channel` (catch-all webhooks are not among them)."""
        query = select(WEBHOOKS).where(WEBHOOKS.c.channel == channel)
        async with self.engine.connect() as conn:
            return [_webhook(r) for r in await conn.execute(query.order_by(WEBHOOKS.c.created_at))]

    # --- deliveries ----------------------------------------------------------------------------

    async def enqueue(
        self, items: list[tuple[str, Webhook, str]], *, event: str, now: float
    ) -> None:
        """Keep `(delivery id, webhook, body)` items as pending deliveries, due at once."""
        if not items:
            return
        created = datetime.now(UTC)
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(DELIVERIES),
                [
                    {
                        "id": delivery_id,
                        "webhook_id": hook.id,
                        "event": event,
                        "body": body,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "last_error": None,
                        "created_at": created,
                        "delivered_at": None,
                    }
                    for delivery_id, hook, body in items
                ],
            )

    def _joined(self) -> Any:
        return select(
            DELIVERIES,
            WEBHOOKS.c.url,
            WEBHOOKS.c.secret,
        ).join(WEBHOOKS, WEBHOOKS.c.id == DELIVERIES.c.webhook_id)

    async def due(self, *, now: float, limit: int = 20) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, oldest first."""
        query = (
            self._joined()
            .where(and_(DELIVERIES.c.status == PENDING, DELIVERIES.c.next_attempt_at <= now))
            .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.created_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_delivery(r) for r in await conn.execute(query)]

    async def next_due(self) -> float | None:
        """When the earliest pending delivery is due (epoch seconds), None when none is."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(func.min(DELIVERIES.c.next_attempt_at)).where(DELIVERIES.c.status == PENDING)
            )
        return None if value is None else float(value)

    async def claim(self, delivery: Delivery, *, until: float) -> bool:
        """Take `delivery` for an attempt, pushing its next attempt to `until`; False when
        another worker took it first."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(DELIVERIES)
                .where(
                    DELIVERIES.c.id == delivery.id,
                    DELIVERIES.c.status == PENDING,
                    DELIVERIES.c.next_attempt_at == delivery.next_attempt_at,
                )
                .values(next_attempt_at=until)
            )
        return bool(result.rowcount)

    async def release(self, delivery: Delivery, *, at: float) -> None:
        """Give back a claimed delivery whose attempt was cut short: due again `at`."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery.id, DELIVERIES.c.status == PENDING)
                .values(next_attempt_at=at)
            )

    async def mark_delivered(self, delivery_id: str, *, attempts: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id)
                .values(
                    status=DELIVERED,
                    attempts=attempts,
                    last_error=None,
                    delivered_at=datetime.now(UTC),
                )
            )

    async def mark_failed(
        self, delivery_id: str, *, attempts: int, retry_at: float, error: str
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id)
                .values(attempts=attempts, next_attempt_at=retry_at, last_error=error[:2000])
            )

    async def mark_dead(self, delivery_id: str, *, attempts: int, error: str) -> None:
        """Give a delivery up: it stays, `dead`, with its last error."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id)
                .values(status=DEAD, attempts=attempts, last_error=error[:2000])
            )

    async def retry(self, webhook_id: str, delivery_id: str, *, now: float) -> bool:
        """Send a dead delivery again from its first attempt; False when there is no dead
        delivery of that id for that webhook."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(DELIVERIES)
                .where(
                    DELIVERIES.c.id == delivery_id,
                    DELIVERIES.c.webhook_id == webhook_id,
                    DELIVERIES.c.status == DEAD,
                )
                .values(status=PENDING, attempts=0, next_attempt_at=now)
            )
        return bool(result.rowcount)

    async def deliveries(self, webhook_id: str, *, status: str | None = None) -> list[Delivery]:
        query = self._joined().where(DELIVERIES.c.webhook_id == webhook_id)
        if status is not None:
            query = query.where(DELIVERIES.c.status == status)
        async with self.engine.connect() as conn:
            rows = await conn.execute(query.order_by(DELIVERIES.c.created_at))
            return [_delivery(r) for r in rows]


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        url=row.url,
        secret=row.secret,
        event=row.event,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=float(row.next_attempt_at),
        last_error=row.last_error,
    )


__all__ = ["DEAD", "DELIVERED", "PENDING", "Delivery", "Webhook", "WebhookStore"]
