"""The skill protocol: one method that proposes candidates for a turn.

A skill never knows which channel it serves and never changes the context itself: it returns
`Candidate`s whose `update` the dialogue manager applies when one is chosen.

    >>> class Echo:
    ...     name = "echo"
    ...     async def propose(self, turn: TurnInput) -> list[Candidate]:
    ...         reply = Reply(parts=(TextPart(text=turn.text),), route="echo", confidence=1.0)
    ...         return [Candidate(reply=reply, confidence=1.0, skill=self.name)]

CPU-heavy skills should do their work in a thread (`asyncio.to_thread`), so that the time
budget of the turn can be enforced and other sessions keep moving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from assistant.context import DialogueContext
from assistant.moves import Move
from assistant.types import Candidate, Reply, TextPart, Utterance

__all__ = ["Actor", "Candidate", "Reply", "Skill", "TextPart", "TurnInput"]


@dataclass(frozen=True, slots=True)
class TurnInput:
    """What a skill sees of a turn.

    `text` is the normalized text, `locale` the resolved locale (given or detected). `context`
    is the session's context as loaded for this turn: read it, do not change it. `move` says
    how the turn relates to the ones before (a follow-up, a correction: `assistant.moves`);
    for a follow-up's rewritten reading, `text` is the rewritten text.
    """

    utterance: Utterance
    text: str
    locale: str
    context: DialogueContext
    now: float
    move: Move | None = None


@runtime_checkable
class Skill(Protocol):
    """Anything with a `name` and an async `propose` is a skill."""

    name: str

    async def propose(self, turn: TurnInput) -> Sequence[Candidate]: ...


@runtime_checkable
class Actor(Protocol):
    """A skill whose candidates may do something in the world (call a webhook, an action
    server): `act` runs only for the candidate the policy chose, after it was chosen, and
    returns the candidate as it turned out (the action's reply and slot changes). It must not
    raise for a failing action: its reply says what went wrong."""

    async def act(self, candidate: Candidate, turn: TurnInput) -> Candidate: ...
