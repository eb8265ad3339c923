"""Skill packs: a domain's intents, examples, entities and flows, ready for any bot.

A pack is switched on in a task skill's options (`packs: [car]`); its flows file is read
with the bot's own (the same format, `assistant.tasks.flows`), its examples train the same
intent classifier, and its Python part fills the values that take more than a lookup
(on or off, absolute or relative, units) and builds the directives' payloads.

    skills:
      - type: task
        options:
          packs: [car]                  # the car domain: climate, media, navigation, phone, messages
          flows: [tasks/service.yaml]   # the bot's own flows beside it
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.nlu.entity import Entity

__all__ = ["PACKS", "Directive", "Pack", "load_pack"]

#: pack name -> "module:attribute" of its `Pack`.
PACKS: dict[str, str] = {"car": "assistant.packs.car:PACK"}


@dataclass(frozen=True, slots=True)
class Directive:
    """A directive a flow of a pack ends in: its name, payload and what it says."""

    name: str
    payload: dict[str, Any] = field(default_factory=dict)


class Pack(Protocol):
    """What a pack gives the task skill."""

    name: str

    @property
    def flows_file(self) -> Path: ...

    def owns(self, flow: str) -> bool:
        """Whether the flow is one of the pack's."""
        ...

    def fill(self, flow: str, text: str, entities: Sequence[Entity], locale: str) -> dict[str, Any]:
        """Values the pack reads for the flow's slots from a turn (only those it found)."""
        ...

    def finish(self, flow: str, values: dict[str, Any], locale: str) -> tuple[list[Directive], str]:
        """The directives a done flow sends, and what the assistant says."""
        ...

    def missing(self, flow: str, title: str, directives: Sequence[str], locale: str) -> str:
        """What the device lacks to carry out the flow's directives, in words."""
        ...


def load_pack(name: str) -> Pack:
    """The registered pack `name`; `ValueError` naming the known ones when there is none."""
    if name not in PACKS:
        raise ValueError(f"unknown pack {name!r}; known: {sorted(PACKS)}")
    module_name, _, attribute = PACKS[name].partition(":")
    found: Pack = getattr(importlib.import_module(module_name), attribute)
    return found
