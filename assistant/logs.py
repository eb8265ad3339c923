"""Structured logs: one JSON object a line, with the id of the turn being handled.

Library code logs events with dotted names and fields in `extra`:

    log.warning("skill.timeout", extra={"skill": "faq", "budget_ms": 800})

and `JsonFormatter` writes `{"ts": ..., "level": "WARNING", "logger": "assistant.dialogue",
"event": "skill.timeout", "turn_id": "3f2a...", "skill": "faq", "budget_ms": 800}`. The turn id
is set per request (from `X-Request-ID` when the client sends one) and follows the turn through
the skills and connectors. What users say is not logged unless `ASSISTANT_LOG_USER_TEXT=1`.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

turn_id: ContextVar[str | None] = ContextVar("turn_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def new_turn_id() -> str:
    return uuid.uuid4().hex[:16]


def log_user_text() -> bool:
    """Whether logs may contain what users said (off unless ASSISTANT_LOG_USER_TEXT=1)."""
    return os.environ.get("ASSISTANT_LOG_USER_TEXT") == "1"


class TurnIdFilter(logging.Filter):
    """Stamps each record with the current turn id when it is made (formatting may come later)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "turn_id", None) is None:
            record.turn_id = turn_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str = "info", fmt: str = "json") -> None:
    """Send the process's logs to stderr, as JSON lines (`json`) or plain text (`text`)."""
    handler = logging.StreamHandler()
    handler.addFilter(TurnIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
