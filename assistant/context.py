"""Dialogue context: what the assistant remembers about one session between turns.

Named contexts live for a number of turns (`lifespan`) and, optionally, a number of seconds
(`ttl`), like Dialogflow's and Kakao's contexts: each completed turn uses up one unit of
lifespan, and a context whose lifespan reaches zero or whose deadline has passed is gone.

    >>> ctx = DialogueContext()
    >>> ctx.apply(ContextUpdate(activate=(NamedContext(name="faq_topic", lifespan=1),)), now=0.0)
    >>> ctx.end_turn(now=0.0)  # the turn that set it
    >>> ctx.active_context("faq_topic", now=1.0) is not None  # the next turn sees it
    True
    >>> ctx.end_turn(now=1.0)
    >>> ctx.active_context("faq_topic", now=2.0) is None
    True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.types import ContextUpdate, NamedContext

#: How many turns a context keeps for follow-ups and "repeat that".
DEFAULT_HISTORY = 10


class TurnRecord(BaseModel):
    """One past turn as the context keeps it: enough to read a follow-up in its light."""

    model_config = ConfigDict(extra="forbid")

    user: str
    reply: str
    route: str
    confidence: float
    at: float
    #: the text the answer was found for, when it was not what the user said (a follow-up
    #: read with the question before it, a correction's new question)
    reading: str | None = None


class ActiveContext(BaseModel):
    """A named context with what is left of its life."""

    model_config = ConfigDict(extra="forbid")

    name: str
    turns_left: int
    expires_at: float | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    def alive(self, now: float) -> bool:
        return self.turns_left > 0 and (self.expires_at is None or now < self.expires_at)


class DialogueContext(BaseModel):
    """History, active topic, slots and named contexts of one session.

    Skills read it; only the dialogue manager changes it, through `apply` and `end_turn`.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    history: list[TurnRecord] = Field(default_factory=list)
    topic: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    contexts: dict[str, ActiveContext] = Field(default_factory=dict)
    history_size: int = Field(default=DEFAULT_HISTORY, ge=1)
    #: the last reply in full (its parts), so that "다시 말해줘" can say it again
    last_reply: dict[str, Any] | None = None

    def active_context(self, name: str, *, now: float) -> ActiveContext | None:
        found = self.contexts.get(name)
        return found if found is not None and found.alive(now) else None

    def active_contexts(self, *, now: float) -> list[ActiveContext]:
        return [c for c in self.contexts.values() if c.alive(now)]

    @property
    def last_turn(self) -> TurnRecord | None:
        return self.history[-1] if self.history else None

    def failures(self) -> int:
        """How many turns in a row, counting back from the last, fell back."""
        count = 0
        for turn in reversed(self.history):
            if turn.route != "fallback":
                break
            count += 1
        return count

    def apply(self, update: ContextUpdate, *, now: float) -> None:
        """Apply the chosen candidate's changes."""
        if update.topic is not None:
            self.topic = update.topic or None
        for key, value in update.slots.items():
            if value is None:
                self.slots.pop(key, None)
            else:
                self.slots[key] = value
        for name in update.deactivate:
            self.contexts.pop(name, None)
        for named in update.activate:
            self._activate(named, now=now)

    def _activate(self, named: NamedContext, *, now: float) -> None:
        if named.lifespan == 0:  # lifespan 0 deletes, as in Kakao's context.values
            self.contexts.pop(named.name, None)
            return
        # A context set during this turn must survive its end: count this turn in.
        self.contexts[named.name] = ActiveContext(
            name=named.name,
            turns_left=named.lifespan + 1,
            expires_at=None if named.ttl is None else now + named.ttl,
            params=dict(named.params),
        )

    def record(self, turn: TurnRecord) -> None:
        self.history.append(turn)
        del self.history[: -self.history_size]

    def end_turn(self, *, now: float) -> None:
        """Use up one turn of every context and forget the ones that died."""
        for ctx in self.contexts.values():
            ctx.turns_left -= 1
        self.expire(now=now)

    def expire(self, *, now: float) -> None:
        self.contexts = {k: c for k, c in self.contexts.items() if c.alive(now)}
