"""The entity value type: what was found in an utterance, where, and its normalized value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Entity"]


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity found in a text.

    `type` is the entity's name (`number`, `temperature`, `datetime`, a lookup table's name...),
    `value` its normalized, JSON-ready value, `text` the words it was read from and
    `start`/`end` their character offsets. `role` tells apart two entities of one type in an
    utterance (Rasa's roles).
    """

    type: str
    value: Any
    text: str
    start: int
    end: int
    extractor: str = "builtin"
    role: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As Rasa's `latest_message.entities[]` items."""
        found: dict[str, Any] = {
            "entity": self.type,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "extractor": self.extractor,
            "text": self.text,
        }
        if self.role is not None:
            found["role"] = self.role
        return found
