"""API keys on the native API: `Authorization: Bearer ak_<id>_<secret>`, with scopes.

- `chat` (the `/v1/chat` and `/v1/sessions` endpoints): required only when the server runs with
  `ASSISTANT_REQUIRE_API_KEY=1`; the demo answers anyone on loopback.
- `admin` (management endpoints): always required. A stored key with the admin scope, or the
  key in `ASSISTANT_ADMIN_API_KEY` (compared in constant time).

Verified keys are remembered for `cache_s` seconds, so a revoked key stops working within that.

    @router.get("/things", dependencies=[requires("admin")])
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from fastapi import Depends, Request

from assistant.api.errors import FieldProblem, error_response
from assistant.store.keys import ApiKey, ApiKeyStore


class AuthError(Exception):
    """Refusal of a request's credentials; the server turns it into a 401 or 403 JSON error."""

    def __init__(self, status: int, code: str, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.code = code
        self.problem = problem

    def response(self) -> Any:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        problems = [FieldProblem(field="Authorization", problem=self.problem)]
        return error_response(self.status, self.code, problems, headers=headers)


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

    async def check(self, authorization: str | None, scope: str) -> ApiKey | None:
        """The key that grants `scope`, None when the scope is open; raises `AuthError`."""
        if scope == "chat" and not self.require_chat_key:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "unauthorized", "missing: send 'Authorization: Bearer <API key>'")
        token = token.strip()
        if (
            scope == "admin"
            and self.admin_key is not None
            and hmac.compare_digest(token.encode(), self.admin_key.encode())
        ):
            return None
        key = await self._verify(token)
        if key is None:
            raise AuthError(401, "unauthorized", "unknown or revoked API key")
        if scope not in key.scopes and "admin" not in key.scopes:
            raise AuthError(403, "forbidden", f"this key lacks the {scope!r} scope")
        return key

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


def requires(scope: str) -> Any:
    """A FastAPI dependency that refuses requests without a key granting `scope`."""

    async def check(request: Request) -> None:
        auth: Auth = request.app.state.auth
        await auth.check(request.headers.get("authorization"), scope)

    return Depends(check)
