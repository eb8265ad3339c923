"""What the channels share: the assistant, one outbound HTTP client, the webhooks, and the
background tasks (callbacks) that must finish or be cancelled when the server stops.

    hub = Hub(assistant=lambda: app.state.assistant, config=ConnectorConfig())
    reply = await hub.turn(utterance)        # Assistant.handle, then the outbound webhooks
    ...
    await hub.aclose()

Everything is made on first use, so the hub works under a server's lifespan and in tests that
drive the ASGI app without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx

from assistant.api.auth import Auth
from assistant.api.middleware import TurnLimits
from assistant.dialogue import Assistant
from assistant.types import NamedContext, Reply, Utterance
from connectors.config import ConnectorConfig
from connectors.targets import GuardedTransport
from connectors.webhook_store import WebhookStore
from connectors.webhooks import WebhookDispatcher

log = logging.getLogger("connector.hub")

T = TypeVar("T")


class Hub:
    def __init__(
        self,
        *,
        assistant: Callable[[], Assistant],
        config: ConnectorConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: Callable[[], Auth | None] = lambda: None,
        limits: Callable[[], TurnLimits | None] = lambda: None,
    ) -> None:
        self._assistant = assistant
        self._auth = auth
        self._limits = limits
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._webhook_client: httpx.AsyncClient | None = None
        self._webhooks: WebhookDispatcher | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def assistant(self) -> Assistant:
        return self._assistant()

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client for callbacks and webhooks (made on first use)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self.config.outbound_timeout_s
            )
        return self._client

    @property
    def webhooks(self) -> WebhookDispatcher:
        """The webhook dispatcher, sending in the background from its first use on."""
        if self._webhooks is None:
            # The session store's engine: webhooks live in the same database (migration 0002).
            engine = self.assistant.store.engine
            # Webhook targets are checked at every connection (`connectors.targets`); the
            # callbacks' client is not: their hosts are Kakao's or the operator's own.
            self._webhook_client = httpx.AsyncClient(
                transport=GuardedTransport(self.config.webhook_targets, inner=self._transport),
                timeout=self.config.webhook_timeout_s,
            )
            self._webhooks = WebhookDispatcher(
                store=WebhookStore(engine),
                client=self._webhook_client,
                max_attempts=self.config.webhook_max_attempts,
                retry_base_s=self.config.webhook_retry_base_s,
                retry_max_s=self.config.webhook_retry_max_s,
                timeout_s=self.config.webhook_timeout_s,
                poll_s=self.config.webhook_poll_s,
            )
        if not self._webhooks.running:
            self._webhooks.start()
        return self._webhooks

    def start(self) -> None:
        """Start sending pending webhook deliveries (those left by an earlier run too)."""
        _ = self.webhooks

    async def turn(self, utterance: Utterance) -> Reply:
        """One turn: `Assistant.handle`, then a delivery for every matching webhook."""
        reply = await self.assistant.handle(utterance)
        try:
            await self.webhooks.publish(utterance, reply)
        except Exception:  # the user still gets the answer; the failure is logged loudly
            log.exception(
                "connector.webhooks.enqueue_failed", extra={"session_id": utterance.session_id}
            )
        return reply

    @property
    def auth(self) -> Auth | None:
        """The server's API keys (None in an app without them: everything is open)."""
        return self._auth()

    def admit(self, utterance: Utterance, caller: str) -> None:
        """Before a turn starts: `InputError` for input the assistant would refuse, and
        `RateLimited` when its session or `caller` (a `Caller.bucket`) is over its limit."""
        self.assistant.validate(utterance)
        limits = self._limits()
        if limits is not None:
            limits.take(utterance.session_id, caller)

    async def contexts(self, session_id: str) -> list[NamedContext]:
        """The session's live named contexts, with the turns and seconds they have left."""
        context = await self.assistant.store.load_context(session_id)
        if context is None:
            return []
        now = time.time()
        return [
            NamedContext(
                name=c.name,
                lifespan=c.turns_left,
                ttl=None if c.expires_at is None else max(1.0, c.expires_at - now),
                params=c.params,
            )
            for c in context.active_contexts(now=now)
        ]

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Run `coro` in the background, kept until it ends (and awaited at close)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for the background tasks (callbacks in flight) to finish."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    async def aclose(self, *, grace_s: float = 5.0) -> None:
        """Let callbacks in flight finish for `grace_s`, then stop everything."""
        await self.drain(grace_s)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._webhooks is not None:
            await self._webhooks.stop()
            self._webhooks = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._webhook_client is not None:
            await self._webhook_client.aclose()
            self._webhook_client = None


__all__ = ["Hub"]
