"""Server settings, read from the environment (secrets never come from files in the repository).

| variable | default | meaning |
|---|---|---|
| `ASSISTANT_DATABASE_URL` | `sqlite:///assistant.db` | session store: SQLite file or `postgresql://...` |
| `ASSISTANT_BOT` | (the demo bot) | bot directory holding `bot.yaml` |
| `ASSISTANT_MAX_BODY_BYTES` | `65536` | larger request bodies are refused with 413 |
| `ASSISTANT_SESSION_LOCKS` | `postgres` on PostgreSQL, else `local` | `local`, `postgres` or a `redis://` URL |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///assistant.db"
DEFAULT_MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    bot_dir: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    session_locks: str | None = None

    @classmethod
    def from_env(cls, **overrides: str | int | None) -> Settings:
        """Settings from the environment; non-None keyword arguments (CLI options) win."""
        values: dict[str, str | int | None] = {
            "database_url": os.environ.get("ASSISTANT_DATABASE_URL", DEFAULT_DATABASE_URL),
            "bot_dir": os.environ.get("ASSISTANT_BOT") or None,
            "max_body_bytes": int(
                os.environ.get("ASSISTANT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
            ),
        }
        values["session_locks"] = os.environ.get("ASSISTANT_SESSION_LOCKS") or None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
