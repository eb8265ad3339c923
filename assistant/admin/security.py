"""Who may use the admin console: a login with the admin API key, a signed session cookie, and
a CSRF token on every change.

- The console is on only when the server has an admin key (`ASSISTANT_ADMIN_API_KEY`); without
  one every console URL answers 403: disabled, never open.
- People log in with that key or with a stored key that has the admin scope
  (`assistant keys create NAME --scope admin`). The session cookie (`assistant_admin`:
  HttpOnly, SameSite=Strict, Path=/admin, Secure over https) reads
  `v1.<expires>.<nonce>.<signature>`, signed with HMAC-SHA256 under a secret derived from the
  admin key, so every process that shares the key accepts it and changing the key logs
  everyone out.
- A change (POST, PUT, DELETE) made with the cookie carries the session's CSRF token in the
  `X-CSRF-Token` header or a `csrf_token` form field. The token is an HMAC of the session's
  nonce: one session's token is worthless in another. API clients may send
  `Authorization: Bearer <admin key>` instead of the cookie (and no token: a browser never
  sends that header on its own).
- The login form has its own double-submit token (a cookie and a form field that must agree),
  so another site cannot log a browser in under its own key; failed logins are rate limited.

    >>> sessions = ConsoleSessions("an-admin-key", lifetime_s=60)
    >>> cookie = sessions.issue(now=1000.0)
    >>> session = sessions.verify(cookie, now=1030.0)
    >>> session is not None and sessions.verify(cookie, now=1100.0) is None
    True
    >>> sessions.csrf_ok(session, sessions.csrf_token(session))
    True
    >>> sessions.verify(cookie[:-1] + "x", now=1030.0) is None
    True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

__all__ = ["CSRF_HEADER", "LOGIN_CSRF_COOKIE", "SESSION_COOKIE", "ConsoleSessions", "Session"]

SESSION_COOKIE = "assistant_admin"
LOGIN_CSRF_COOKIE = "assistant_admin_login"
CSRF_HEADER = "x-csrf-token"
_VERSION = "v1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    expires: int


class ConsoleSessions:
    """Signed, stateless console sessions and their CSRF tokens."""

    def __init__(self, admin_key: str, *, lifetime_s: float = 8 * 3600) -> None:
        if not admin_key:
            raise ValueError("the console needs an admin key")
        self._secret = hmac.new(
            admin_key.encode(), b"assistant admin console sessions v1", hashlib.sha256
        ).digest()
        self.lifetime_s = lifetime_s

    def _sign(self, message: str) -> str:
        return _b64(hmac.new(self._secret, message.encode(), hashlib.sha256).digest())

    def issue(self, *, now: float | None = None) -> str:
        """A new session cookie's value."""
        expires = int((time.time() if now is None else now) + self.lifetime_s)
        body = f"{_VERSION}.{expires}.{_b64(secrets.token_bytes(18))}"
        return f"{body}.{self._sign(body)}"

    def verify(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session of a cookie that is well formed, signed by us and not expired."""
        if not cookie:
            return None
        parts = cookie.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(self._sign(body), parts[3]):
            return None
        expires = int(parts[1])
        if expires <= (time.time() if now is None else now):
            return None
        return Session(nonce=parts[2], expires=expires)

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf.{session.nonce}")

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")

    @staticmethod
    def login_token() -> str:
        return _b64(secrets.token_bytes(18))
