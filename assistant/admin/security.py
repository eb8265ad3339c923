"""Who may use the admin console: a login with an admin API key, a session kept on the server,
and a CSRF token on every change.

- People log in with the server's admin key (`ASSISTANT_ADMIN_API_KEY`) or with a stored key
  that has the admin scope (`assistant keys create NAME --scope admin`). With neither, every
  console URL answers 403: disabled, never open.
- The session cookie (`assistant_admin`: HttpOnly, SameSite=Strict, Path=/admin, Secure over
  https) holds a random token; the store keeps its SHA-256 with the key it was opened with
  (`assistant.store.console_sessions`). Every request checks it there: logging out ends the
  session for good, and so does revoking the key (or changing the server's key) that opened
  it. A session lasts `ASSISTANT_ADMIN_SESSION_HOURS` at most.
- A change (POST, PUT, DELETE) made with the cookie carries the session's CSRF token in the
  `X-CSRF-Token` header or a `csrf_token` form field: an HMAC of the session's token, worthless
  in another session. API clients may send `Authorization: Bearer <admin key>` instead of the
  cookie (and no token: a browser never sends that header on its own).
- The login form has its own double-submit token (a cookie and a form field that must agree),
  so another site cannot log a browser in under its own key; failed logins are rate limited.

    sessions = ConsoleSessions(ConsoleSessionStore(engine), admin_key="...", lifetime_s=3600)
    cookie = await sessions.issue(key_id=None)        # logged in with the server's key
    session = await sessions.verify(cookie)           # None: ended, expired or revoked
    sessions.csrf_ok(session, sessions.csrf_token(session))   # True
    await sessions.end(cookie)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from assistant.store.console_sessions import ConsoleSessionStore, new_token

__all__ = ["CSRF_HEADER", "LOGIN_CSRF_COOKIE", "SESSION_COOKIE", "ConsoleSessions", "Session"]

SESSION_COOKIE = "assistant_admin"
LOGIN_CSRF_COOKIE = "assistant_admin_login"
CSRF_HEADER = "x-csrf-token"
_VERSION = "v2"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _mac(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A live console session: its cookie's token (kept in memory only) and the stored key
    it was opened with (None: the server's admin key)."""

    token: str
    key_id: str | None


class ConsoleSessions:
    """Console sessions in the store, and their CSRF tokens."""

    def __init__(
        self, store: ConsoleSessionStore, *, admin_key: str | None, lifetime_s: float = 8 * 3600
    ) -> None:
        self.store = store
        self.admin_key = admin_key or None
        self.lifetime_s = lifetime_s

    async def issue(self, *, key_id: str | None) -> str:
        """A new session's cookie value, opened with the stored key `key_id`, or with the
        server's admin key when None."""
        if key_id is None and self.admin_key is None:
            raise ValueError("a session needs the server's admin key or a stored key")
        # The server's key is checked under the token, which only the cookie holds.
        token = new_token()
        await self.store.create(
            token,
            key_id=key_id,
            key_check=None if key_id is not None else _mac(token, self.admin_key or ""),
            lifetime_s=self.lifetime_s,
        )
        return f"{_VERSION}.{token}"

    async def verify(self, cookie: str | None) -> Session | None:
        """The live session of a cookie: known to the store, not ended or expired, and its key
        still valid (a stored key unrevoked; the server's key unchanged)."""
        version, _, token = (cookie or "").partition(".")
        if version != _VERSION or not token:
            return None
        found = await self.store.find(token)
        if found is None:
            return None
        if found.key_id is None:
            if self.admin_key is None or found.key_check is None:
                return None
            if not hmac.compare_digest(found.key_check, _mac(token, self.admin_key)):
                return None  # the server's admin key changed since the login
        return Session(token=token, key_id=found.key_id)

    async def end(self, cookie: str | None) -> None:
        """Log out: the cookie's session is over on every process."""
        _, _, token = (cookie or "").partition(".")
        if token:
            await self.store.end(token)

    @staticmethod
    def csrf_token(session: Session) -> str:
        return _mac(session.token, "csrf")

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")

    @staticmethod
    def login_token() -> str:
        return _b64(secrets.token_bytes(18))
