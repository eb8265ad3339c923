"""Outbound webhooks: every reply of a channel or session POSTed, signed, to a registered URL.

A client registers a URL (`POST /connectors/webhooks`); after each turn the matching webhooks
get a delivery, kept in the store until the target answers 2xx. Failed attempts are retried
with exponential backoff (1 s, 2 s, 4 s, ... up to 10 minutes by default), `max_attempts` times
(20: about 1.6 hours); then the delivery is `dead`, kept in the dead-letter list with its last
error until someone sends it again. A target that is down for a while, or a restart of this
server, loses nothing. A target this server must not reach (`connectors.targets`: loopback,
private, link-local) is refused at once, and its delivery is dead with the reason, not with
anything the target said. Delivery is at least once; receivers drop repeats by the
`X-Assistant-Delivery` id.

Each POST is signed with the webhook's secret, over the timestamp and the body:

    X-Assistant-Timestamp: 1764400000
    X-Assistant-Signature: sha256=hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))

A receiver checks it with `verify_signature`:

    >>> body = b'{"event": "reply"}'
    >>> headers = sign("s3cret", body, timestamp=1764400000)
    >>> headers["X-Assistant-Signature"][:7]
    'sha256='
    >>> verify_signature("s3cret", body, headers, now=1764400100)
    True
    >>> verify_signature("wrong", body, headers, now=1764400100)
    False
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from assistant import metrics
from assistant.types import Reply, Utterance
from connectors.targets import TargetRefused
from connectors.webhook_store import Delivery, Webhook, WebhookStore

log = logging.getLogger("connector.webhooks")

SIGNATURE_HEADER = "X-Assistant-Signature"
TIMESTAMP_HEADER = "X-Assistant-Timestamp"
DELIVERY_HEADER = "X-Assistant-Delivery"
EVENT_HEADER = "X-Assistant-Event"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`sha256=<hex>`: HMAC-SHA256 with `secret` over `"<timestamp>.<body>"`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The timestamp and signature headers of one POST of `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, body, ts)}


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """True when `headers` sign `body` with `secret` and the timestamp is within tolerance
    (which stops a captured request from being replayed later)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ts = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not ts.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(ts)) > tolerance_s:
        return False
    return hmac.compare_digest(given, signature(secret, body, int(ts)))


def backoff(attempts: int, *, base_s: float, max_s: float, jitter: float = 0.1) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: doubling, capped, jittered.

    >>> backoff(1, base_s=1.0, max_s=600.0, jitter=0.0), backoff(4, base_s=1.0, max_s=600.0, jitter=0.0)
    (1.0, 8.0)
    """
    wait = min(max_s, base_s * 2.0 ** max(0, attempts - 1))
    return float(wait * (1 + random.uniform(-jitter, jitter)))


class WebhookDispatcher:
    """Keeps a delivery per matching webhook for every reply, and sends them in the background.

        dispatcher = WebhookDispatcher(store=WebhookStore(engine), client=httpx.AsyncClient())
        dispatcher.start()                       # sends what is pending, now and later
        await dispatcher.publish(utterance, reply)
        await dispatcher.stop()

    `clock` is the wall clock (epoch seconds) used for due times.
    """

    def __init__(
        self,
        *,
        store: WebhookStore,
        client: httpx.AsyncClient,
        retry_base_s: float = 1.0,
        retry_max_s: float = 600.0,
        timeout_s: float = 10.0,
        poll_s: float = 5.0,
        max_attempts: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.client = client
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._claimed: Delivery | None = None

    # --- producing -----------------------------------------------------------------------------

    async def publish(
        self,
        utterance: Utterance,
        reply: Reply,
        *,
        hooks: Sequence[Webhook] | None = None,
        event: str = "reply",
        extra: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Keep a delivery of this turn for every matching webhook (or for `hooks`); their ids.

        `event` names the delivery (`X-Assistant-Event` and the body's `event`); `extra` adds
        keys to the body (the mobile connector's device and rendered messages)."""
        if hooks is None:
            hooks = await self.store.matching(
                channel=utterance.channel, session_id=utterance.session_id
            )
        if not hooks:
            return []
        items: list[tuple[str, Webhook, str]] = []
        for hook in hooks:
            delivery_id = uuid.uuid4().hex
            body = {
                "event": event,
                "delivery_id": delivery_id,
                "webhook_id": hook.id,
                "session_id": utterance.session_id,
                "channel": utterance.channel,
                "message_id": utterance.message_id,
                "user": {"text": utterance.text},
                "reply": reply.model_dump(mode="json"),
                "text": reply.plain_text(),
                "created_at": datetime.now(UTC).isoformat(),
                **(extra or {}),
            }
            items.append((delivery_id, hook, json.dumps(body, ensure_ascii=False)))
        await self.store.enqueue(items, event=event, now=self.clock())
        self._wake.set()
        return [delivery_id for delivery_id, _, _ in items]

    # --- sending -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start sending in the background (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop sending; pending deliveries stay in the store for the next start."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        claimed, self._claimed = self._claimed, None
        if claimed is not None:  # stopped mid-attempt: due again at once, not after the lease
            await self.store.release(claimed, at=self.clock())

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.send_due()
                if sent:
                    continue
                next_due = await self.store.next_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store may be briefly unreachable: keep going
                log.exception("connector.webhooks.worker_failed")
                next_due = None
            wait = self.poll_s
            if next_due is not None:
                wait = max(0.0, min(wait, next_due - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def send_due(self) -> int:
        """Attempt every delivery that is due now; how many were attempted."""
        due = await self.store.due(now=self.clock())
        attempted = 0
        for delivery in due:
            # While an attempt runs, nobody else may start one: lease it past the POST timeout.
            if await self.store.claim(delivery, until=self.clock() + self.timeout_s * 3):
                attempted += 1
                self._claimed = delivery  # left set when a stop cuts the attempt short
                await self._attempt(delivery)
                self._claimed = None
        return attempted

    async def _attempt(self, delivery: Delivery) -> None:
        body = delivery.body.encode()
        headers = {
            "content-type": "application/json",
            DELIVERY_HEADER: delivery.id,
            EVENT_HEADER: delivery.event,
            **sign(delivery.secret, body, timestamp=int(self.clock())),
        }
        attempts = delivery.attempts + 1
        error: str
        try:
            response = await self.client.post(
                delivery.url, content=body, headers=headers, timeout=self.timeout_s
            )
        except TargetRefused as e:
            await self._give_up(delivery, attempts, f"refused: {e}")
            return
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        else:
            if 200 <= response.status_code < 300:
                await self.store.mark_delivered(delivery.id, attempts=attempts)
                metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
                log.info(
                    "connector.webhooks.delivered",
                    extra={"delivery": delivery.id, "attempts": attempts},
                )
                return
            error = f"HTTP {response.status_code}"
        metrics.WEBHOOK_DELIVERIES.labels("failed").inc()
        if attempts >= self.max_attempts:
            await self._give_up(delivery, attempts, f"{error} (after {attempts} attempts)")
            return
        wait = backoff(attempts, base_s=self.retry_base_s, max_s=self.retry_max_s)
        await self.store.mark_failed(
            delivery.id, attempts=attempts, retry_at=self.clock() + wait, error=error
        )
        log.warning(
            "connector.webhooks.retry",
            extra={
                "delivery": delivery.id,
                "url": delivery.url,
                "attempts": attempts,
                "retry_in_s": round(wait, 3),
                "problem": error,
            },
        )

    async def _give_up(self, delivery: Delivery, attempts: int, error: str) -> None:
        await self.store.mark_dead(delivery.id, attempts=attempts, error=error)
        metrics.WEBHOOK_DELIVERIES.labels("gave_up").inc()
        log.error(
            "connector.webhooks.dead",
            extra={"delivery": delivery.id, "webhook": delivery.webhook_id, "problem": error},
        )


__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookDispatcher",
    "backoff",
    "sign",
    "signature",
    "verify_signature",
]
