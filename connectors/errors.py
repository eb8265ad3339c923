"""Errors raised by the connectors.

ConnectorError
├── PayloadError          a channel payload lacks a field or has a wrong one (field, problem);
│                         becomes HTTP 400 or a socket.io `error` event
├── Unauthorized          a request did not carry its channel's credential (401), or may not
│                         use the channel (403)
└── DeliveryError         an outbound POST (callback, webhook) failed; retried, then logged
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, field: str, problem: str) -> dict[str, Any]:
    """A refusal as every channel sends it (HTTP body's `error`, socket `error` events).

    >>> error_body("invalid_payload", "hypotheses.0.text", "is required")["message"]
    'hypotheses.0.text: is required'
    """
    return {
        "code": code,
        "message": f"{field}: {problem}",
        "fields": [{"field": field, "problem": problem}],
    }


class ConnectorError(Exception):
    """Base class of the connectors' errors."""


class PayloadError(ConnectorError):
    """A channel payload is unacceptable. `field` is the dotted path of the offending field.

    >>> str(PayloadError("userRequest.utterance", "is required"))
    'userRequest.utterance: is required'
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Unauthorized(ConnectorError):
    """The request lacks the channel's credential or carries a wrong one (401), or may not use
    the channel at all (403: an unknown Kakao bot, a channel switched off)."""

    def __init__(
        self, field: str, problem: str, *, status: int = 401, code: str = "unauthorized"
    ) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.status = status
        self.code = code


class DeliveryError(ConnectorError):
    """An outbound POST was not accepted; the message says by whom and why."""


def error_event(code: str, field: str, problem: str) -> dict[str, Any]:
    """A refusal as a WebSocket message: `{"type": "error", "error": error_body(...)}`."""
    return {"type": "error", "error": error_body(code, field, problem)}


__all__ = [
    "ConnectorError",
    "DeliveryError",
    "PayloadError",
    "Unauthorized",
    "error_body",
    "error_event",
]
