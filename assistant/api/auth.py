"""API keys on the native API: `Authorization: Bearer ak_<id>_<secret>`, with scopes.

- `chat` (every endpoint that runs turns or reads conversations: `/v1/chat`, `/v1/sessions`,
  `/v1/feedback`, the car and mobile connectors, and the Rasa channels in place of their
  token): required only when the server runs with `ASSISTANT_REQUIRE_API_KEY=1`; the demo
  answers anyone on loopback.
- `admin` (management endpoints): always required. A stored key with the admin scope, or the
  key in `ASSISTANT_ADMIN_API_KEY` (compared in constant time).

Every request has a `Caller`: the key it proved, or its address. Rate limits count by it, so a
made-up key is counted under the address that sent it, not in a bucket of its own.

Verified keys are remembered for `cache_s` seconds, so a revoked key stops working within that
(the admin console checks its sessions against the store on every request instead).

    @router.get("/things", dependencies=[requires("admin")])
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from assistant import namespaces
from assistant.api.errors import FieldProblem, error_response
from assistant.errors import InputError
from assistant.store.keys import ApiKey, ApiKeyStore

__all__ = [
    "Auth",
    "AuthError",
    "Caller",
    "address_of",
    "bearer",
    "may_read",
    "own_session",
    "requires",
]


class AuthError(Exception):
    """Refusal of a request's credentials; the server turns it into a 401 or 403 JSON error."""

    def __init__(
        self, status: int, code: str, problem: str, *, field: str = "Authorization"
    ) -> None:
        super().__init__(problem)
        self.status = status
        self.code = code
        self.problem = problem
        self.field = field

    def response(self) -> Any:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        problems = [FieldProblem(field=self.field, problem=self.problem)]
        return error_response(self.status, self.code, problems, headers=headers)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the API key it proved (None: none, or the server's admin key when
    `admin`), and the address it came from.

    >>> Caller(None, address="10.0.0.7").bucket
    'addr:10.0.0.7'
    """

    key: ApiKey | None = None
    admin: bool = False
    address: str = "unknown"

    @property
    def bucket(self) -> str:
        """What rate limits count this caller as."""
        if self.key is not None:
            return f"key:{self.key.id}"
        return "admin-key" if self.admin else f"addr:{self.address}"


def bearer(authorization: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def address_of(scope: Any) -> str:
    """The client's address in an ASGI scope (as the server was told to believe it)."""
    client = scope.get("client") if isinstance(scope, dict) else None
    return str(client[0]) if client else "unknown"


class Auth:
    def __init__(
        self,
        keys: ApiKeyStore | None,
        *,
        require_chat_key: bool = False,
        admin_key: str | None = None,
        cache_s: float = 30.0,
    ) -> None:
        self.keys = keys
        self.require_chat_key = require_chat_key
        self.admin_key = admin_key or None
        self.cache_s = cache_s
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    def required(self, scope: str) -> bool:
        """Whether `scope` needs a key: admin always, chat when the server requires keys."""
        return scope != "chat" or self.require_chat_key

    async def check(self, authorization: str | None, scope: str) -> ApiKey | None:
        """The key that grants `scope`, None when the scope is open; raises `AuthError`."""
        return (await self.caller(authorization, scope)).key

    async def caller(
        self, authorization: str | None, scope: str, *, address: str = "unknown"
    ) -> Caller:
        """Who is calling, when they may use `scope`; raises `AuthError` otherwise.

        On an open scope a key that is sent is still checked (it names the caller for rate
        limits), but a wrong one only makes the caller anonymous."""
        token = bearer(authorization)
        if token is not None and self.is_admin_key(token):
            return Caller(admin=True, address=address)
        key = await self._verify(token) if token is not None else None
        if not self.required(scope):
            return Caller(key, admin=key is not None and "admin" in key.scopes, address=address)
        if token is None:
            raise AuthError(401, "unauthorized", "missing: send 'Authorization: Bearer <API key>'")
        if key is None:
            raise AuthError(401, "unauthorized", "unknown or revoked API key")
        if scope not in key.scopes and "admin" not in key.scopes:
            raise AuthError(403, "forbidden", f"this key lacks the {scope!r} scope")
        return Caller(key, admin="admin" in key.scopes, address=address)

    def is_admin_key(self, token: str) -> bool:
        """True for the server's configured admin key (constant time)."""
        return self.admin_key is not None and hmac.compare_digest(
            token.encode(), self.admin_key.encode()
        )

    async def key_bucket(self, authorization: str | None) -> str | None:
        """The rate-limit bucket of the API key a request sends when the key is real (checked
        against the store, or remembered); None for no key or a wrong one, which is counted
        under the request's address."""
        token = bearer(authorization)
        if token is None:
            return None
        if self.is_admin_key(token):
            return "admin-key"
        key = await self._verify(token)
        return None if key is None else f"key:{key.id}"

    def forget(self) -> None:
        """Drop the remembered keys (after a revocation in this process)."""
        self._cache.clear()

    async def _verify(self, token: str) -> ApiKey | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        key = await self.keys.verify(token) if self.keys is not None else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (key, now + self.cache_s)
        return key


def own_session(session_id: str, *, turn: bool) -> None:
    """`InputError` when the native API would run a turn in a channel's session: those come
    through their channel only (`assistant.namespaces`)."""
    channel = namespaces.owner(session_id)
    if turn and channel is not None:
        raise InputError(
            "session_id",
            f"'{channel}:' is the namespace of {namespaces.CHANNELS[channel]}; its sessions "
            "take turns through that channel only",
        )


def may_read(caller: Caller, session_id: str) -> None:
    """`AuthError` (403) unless `caller` may read or rate `session_id` on the native API: its
    own sessions with a chat key (or none, when keys are not required), any channel's with an
    admin key."""
    channel = namespaces.owner(session_id)
    if channel is not None and not caller.admin:
        raise AuthError(
            403,
            "forbidden",
            f"belongs to {namespaces.CHANNELS[channel]}: reading it here takes an admin key",
            field="session_id",
        )


def requires(scope: str) -> Any:
    """A FastAPI dependency that refuses requests without a key granting `scope`; the request's
    `Caller` is left in `request.state.caller`."""

    async def check(request: Request) -> None:
        auth: Auth = request.app.state.auth
        request.state.caller = await auth.caller(
            request.headers.get("authorization"), scope, address=address_of(request.scope)
        )

    return Depends(check)
