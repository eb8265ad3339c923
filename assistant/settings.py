"""Server settings, read from the environment (secrets never come from files in the repository).

| variable | default | meaning |
|---|---|---|
| `ASSISTANT_DATABASE_URL` | `sqlite:///assistant.db` | session store: SQLite file or `postgresql://...` |
| `ASSISTANT_BOT` | (the demo bot) | bot directory holding `bot.yaml` |
| `ASSISTANT_MAX_BODY_BYTES` | `65536` | larger request bodies are refused with 413 |
| `ASSISTANT_REQUEST_TIMEOUT` | `30` | seconds before a request that has not started answering gets 504 |
| `ASSISTANT_RATE_PER_SESSION` | `120` | turns a minute one session may take, on any channel (429 or an `error` event beyond) |
| `ASSISTANT_RATE_PER_CLIENT` | `6000` | requests, and turns, a minute per API key or channel credential, or per address without a valid one |
| `ASSISTANT_CORS_ORIGINS` | (none) | comma-separated origins allowed to call the API from a browser |
| `ASSISTANT_REQUIRE_API_KEY` | `0` | `1`: nothing runs a turn or reads a conversation without a credential: a chat-scope key on the native, car, mobile and Rasa channels (or the Rasa token), the bot's secret on Kakao |
| `ASSISTANT_ADMIN_API_KEY` | (none) | a key for the admin endpoints, besides stored admin keys |
| `ASSISTANT_CONTENT_POLL` | `2` | seconds between checks for FAQ changes made by other processes |
| `ASSISTANT_SESSION_LOCKS` | `postgres` on PostgreSQL, else `local` | `local`, `postgres` or a `redis://` URL |
| `ASSISTANT_ADMIN_MAX_BODY_BYTES` | `8388608` | body limit of the admin console's API (document and FAQ uploads) |
| `ASSISTANT_ADMIN_SESSION_HOURS` | `8` | how long an admin console login lasts |
| `ASSISTANT_TRUSTED_PROXIES` | (none) | comma-separated addresses or networks of reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed; from anyone else they are ignored |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///assistant.db"
DEFAULT_MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    bot_dir: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    session_locks: str | None = None
    request_timeout_s: float = 30.0
    rate_per_session: int = 120
    rate_per_client: int = 6000
    cors_origins: tuple[str, ...] = ()
    require_api_key: bool = False
    content_poll_s: float = 2.0
    admin_max_body_bytes: int = 8 * 1024 * 1024
    admin_session_hours: float = 8.0
    trusted_proxies: tuple[str, ...] = ()
    admin_api_key: str | None = field(default=None, repr=False)  # a secret: never printed

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from the environment; non-None keyword arguments (CLI options) win."""
        values: dict[str, object] = {
            "database_url": os.environ.get("ASSISTANT_DATABASE_URL", DEFAULT_DATABASE_URL),
            "bot_dir": os.environ.get("ASSISTANT_BOT") or None,
            "max_body_bytes": int(
                os.environ.get("ASSISTANT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
            ),
        }
        values["session_locks"] = os.environ.get("ASSISTANT_SESSION_LOCKS") or None
        env = os.environ.get
        values["request_timeout_s"] = float(env("ASSISTANT_REQUEST_TIMEOUT", "30"))
        values["rate_per_session"] = int(env("ASSISTANT_RATE_PER_SESSION", "120"))
        values["rate_per_client"] = int(env("ASSISTANT_RATE_PER_CLIENT", "6000"))
        origins = env("ASSISTANT_CORS_ORIGINS", "")
        values["cors_origins"] = tuple(o.strip() for o in origins.split(",") if o.strip())
        values["content_poll_s"] = float(env("ASSISTANT_CONTENT_POLL", "2"))
        values["require_api_key"] = env("ASSISTANT_REQUIRE_API_KEY", "0") == "1"
        values["admin_api_key"] = env("ASSISTANT_ADMIN_API_KEY") or None
        values["admin_max_body_bytes"] = int(env("ASSISTANT_ADMIN_MAX_BODY_BYTES", str(8 << 20)))
        values["admin_session_hours"] = float(env("ASSISTANT_ADMIN_SESSION_HOURS", "8"))
        proxies = env("ASSISTANT_TRUSTED_PROXIES", "")
        values["trusted_proxies"] = tuple(p.strip() for p in proxies.split(",") if p.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
