"""ASGI middleware that protects every endpoint: body size, time to answer, rate, request ids.

Each refuses with the JSON error body of `assistant.api.errors` (413, 504, 429) and counts the
refusal in `assistant_requests_refused_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from assistant import json_input, logs, metrics
from assistant.api.errors import FieldProblem, error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("assistant.server")


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, whether or not Content-Length is sent.

    `per_prefix` allows other limits under some paths (the admin console's uploads of
    documents and FAQ files: `{"/admin/api/": 8 << 20}`). The body is read here first (it is
    small by definition) and replayed to the app.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_prefix: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_prefix = dict(per_prefix or {})

    def limit(self, path: str) -> int:
        for prefix, limit in self.per_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, receive, send, max_bytes)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        metrics.REFUSED.labels("body_too_large").inc()
        problem = FieldProblem(field="body", problem=f"is larger than {max_bytes} bytes")
        await error_response(413, "body_too_large", [problem])(scope, receive, send)


class StrictJson:
    """Refuse a JSON body (`application/json` or `+json`) that `assistant.json_input` refuses
    with 400 `malformed_json`, before any endpoint parses it: nesting past its limit, numbers
    of dozens of digits, NaN, unpaired surrogates. Every endpoint gets the same answer in the
    same format. Place it inside `BodyLimit`, which has read the (small) body already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                json_input.loads(body)
            except json_input.JsonInputError as e:
                metrics.REFUSED.labels("malformed_json").inc()
                problem = FieldProblem(field="body", problem=e.problem)
                await error_response(400, "malformed_json", [problem])(scope, receive, send)
                return
        await self.app(scope, replaying(body, receive), send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` (already read) as the whole request first."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _is_json(scope: Scope) -> bool:
    content_type: bytes = dict(scope.get("headers") or []).get(b"content-type", b"")
    kind = content_type.split(b";")[0].strip().lower()
    return kind == b"application/json" or (
        kind.startswith(b"application/") and kind.endswith(b"+json")
    )


class RequestTimeout:
    """Answer 504 when the app has not started its response within `seconds`.

    Once the response has started (a stream, say), the limit no longer applies; socket.io's
    long-polling requests, which wait for messages on purpose, are left alone.
    """

    EXEMPT = ("/socket.io",)

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        started = False
        deadline = asyncio.timeout(self.seconds)

        async def send_and_watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                with contextlib.suppress(RuntimeError):  # already expiring: too late to lift
                    deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, send_and_watch)
        except TimeoutError:
            if started or not deadline.expired():
                raise
            metrics.REFUSED.labels("timeout").inc()
            log.warning(
                "request.timeout", extra={"path": scope.get("path"), "seconds": self.seconds}
            )
            problem = FieldProblem(field="request", problem=f"took longer than {self.seconds:g}s")
            await error_response(504, "timeout", [problem])(scope, receive, send)


class RequestId:
    """Give every request a turn id (the client's `X-Request-ID` when sane) for the logs, and
    echo it in the response's `X-Request-ID` header (with `X-Content-Type-Options: nosniff`, so
    no browser reads a JSON answer as a page). An exception nothing else handled is logged
    under that id and answered with a JSON 500 naming it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else logs.new_turn_id()
        token = logs.turn_id.set(request_id)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                if not any(name.lower() == b"x-content-type-options" for name, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Never an empty 500: log it under the request's id and say so in JSON.
            log.exception("request.failed", extra={"path": scope.get("path")})
            if started or scope["type"] != "http":
                raise
            problem = FieldProblem(
                field="request", problem=f"failed inside the server; logged as {request_id}"
            )
            await error_response(500, "internal_error", [problem])(scope, receive, send_with_id)
        finally:
            logs.turn_id.reset(token)


class RateLimiter:
    """Token buckets: `rate` requests a minute per key, bursts up to the same number.

    In-process: with several workers each enforces its own share. Keys not seen for a while are
    forgotten (at most `max_keys` are kept).
    """

    def __init__(self, per_minute: int, *, max_keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 when allowed, else the seconds to wait before the next request may pass."""
        now = time.monotonic() if now is None else now
        capacity = float(self.per_minute)
        tokens, last = self._buckets.pop(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self.per_minute / 60.0)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) * 60.0 / self.per_minute
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class RateLimited(Exception):
    """A turn refused by a rate limit: `field` says which (`session_id` or `client`), `wait`
    how many seconds until the next would pass."""

    def __init__(self, field: str, wait: float) -> None:
        super().__init__(f"{field}: too many requests; retry in {wait:.1f}s")
        self.field = field
        self.wait = wait

    @property
    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.wait)))

    def response(self) -> Any:
        """The 429 answer (counted in the metrics already)."""
        return _too_many(self.field, self.wait)


class TurnLimits:
    """Rate limits on turns, whatever channel runs them: per session and per caller (the
    `Caller.bucket` of an API key, a channel credential or an address). Counted per turn, so
    a WebSocket or socket.io connection cannot send past them either.

        limits = TurnLimits(per_session=120, per_client=6000)
        limits.take("kakao:bot:u1", "kakao:bot")      # raises RateLimited when over
    """

    def __init__(self, *, per_session: int, per_client: int) -> None:
        self.sessions = RateLimiter(per_session)
        self.clients = RateLimiter(per_client)

    def take(self, session_id: str, caller: str) -> None:
        wait = self.clients.take(caller)
        if wait > 0:
            metrics.REFUSED.labels("rate_client").inc()
            raise RateLimited("client", wait)
        wait = self.sessions.take(session_id)
        if wait > 0:
            metrics.REFUSED.labels("rate_session_id").inc()
            raise RateLimited("session_id", wait)


def rate_limited(what: str, wait: float) -> Any:
    """A 429 answer for a refusal by the limit on `what`, counted in the metrics."""
    metrics.REFUSED.labels(f"rate_{what}").inc()
    return _too_many(what, wait)


def _too_many(what: str, wait: float) -> Any:
    problem = FieldProblem(field=what, problem=f"too many requests; retry in {wait:.1f}s")
    return error_response(
        429, "rate_limited", [problem], headers={"Retry-After": str(max(1, math.ceil(wait)))}
    )


class ClientRateLimit:
    """Per-client rate limit on every endpoint but the probes and metrics. The client is the
    API key it sends when that key is real (`Auth.key_bucket`), else its address: a made-up
    `Authorization` header does not buy a bucket of its own."""

    EXEMPT = ("/healthz", "/readyz", "/metrics")

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        authorization = dict(scope.get("headers") or []).get(b"authorization", b"")
        auth = getattr(getattr(scope.get("app"), "state", None), "auth", None)
        key = None
        if authorization and auth is not None:
            key = await auth.key_bucket(authorization.decode("latin-1"))
        client = scope.get("client") or ("unknown", 0)
        wait = self.limiter.take(key or f"addr:{client[0]}")
        if wait > 0:
            await rate_limited("client", wait)(scope, receive, send)
            return
        await self.app(scope, receive, send)
