"""Reading a channel's JSON payload into a typed model, refusing it with the field's path.

>>> from pydantic import BaseModel
>>> class Message(BaseModel):
...     sender: str
>>> read_model(Message, {"sender": "u1"}).sender
'u1'
>>> try:
...     read_model(Message, {})
... except PayloadError as e:
...     print(e.field, "-", e.problem)
sender - is required
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from assistant import json_input
from connectors.errors import PayloadError

M = TypeVar("M", bound=BaseModel)


class JsonSocket(Protocol):
    """What a connector's WebSocket session needs of its socket (Starlette's has it)."""

    async def receive_text(self) -> str: ...

    async def send_json(self, data: Any, mode: str = "text") -> None: ...


def read_json(body: bytes | str) -> Any:
    """The JSON value of a request body or socket message, or `PayloadError("body", ...)`;
    what JSON allows but the server cannot carry (deep nesting, huge numbers, unpaired
    surrogates) is refused too (`assistant.json_input`)."""
    if not body.strip():
        raise PayloadError("body", "is empty; send a JSON object")
    try:
        return json_input.loads(body)
    except json_input.JsonInputError as e:
        raise PayloadError("body", e.problem) from e


def read_model(model: type[M], data: Any) -> M:
    """`data` validated as `model`; the first problem becomes a `PayloadError` naming its field."""
    if not isinstance(data, dict):
        raise PayloadError("body", f"must be a JSON object, not {_json_type(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        if first["type"] == "missing":
            problem = "is required"
        elif first["type"] == "value_error" and "error" in first.get("ctx", {}):
            problem = str(first["ctx"]["error"])  # our validator's words, without "Value error, "
        else:
            problem = str(first["msg"])
        raise PayloadError(field, problem[:1].lower() + problem[1:]) from e


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, int | float) else type(value).__name__


__all__ = ["JsonSocket", "read_json", "read_model"]
