"""The value types that cross the boundary between connectors and the core.

`Utterance` goes in, `Reply` comes out; skills answer with `Candidate`s. Every reply part can be
reduced to plain text (`fallback_text`), so a channel that cannot show a card still says something
useful.

    >>> reply = Reply(parts=[TextPart(text="안녕하세요!"), QuickRepliesPart(options=[
    ...     QuickReply(label="영업시간")])], route="smalltalk", confidence=0.9)
    >>> reply.plain_text()
    '안녕하세요!\\n- 영업시간'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- utterance -------------------------------------------------------------------------------


class AsrHypothesis(_Value):
    """One recognizer hypothesis; `confidence` is in [0, 1], or None when the engine gives none."""

    text: str
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


class DeviceContext(_Value):
    """What the device can do and what its user is doing, sent with every turn."""

    has_screen: bool = True
    has_voice: bool = False
    is_driving: bool = False
    max_text_length: int | None = Field(default=None, gt=0)
    supported_directives: tuple[str, ...] = ()
    timezone: str | None = None


class Utterance(_Value):
    """A user's turn as the core sees it, whatever channel it came from."""

    text: str
    session_id: str
    channel: str = "rest"
    locale: str | None = None
    alternatives: tuple[AsrHypothesis, ...] = ()
    device: DeviceContext = DeviceContext()
    message_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    #: How long the client waits for the answer: skills still working by then are left out.
    time_budget_ms: int | None = Field(default=None, gt=0)


# --- reply parts -----------------------------------------------------------------------------


class Button(_Value):
    """A card button: it sends `text` back as the user's message, or opens `url`."""

    label: str
    text: str | None = None
    url: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class QuickReply(_Value):
    """A suggested answer; `text` (default: the label) is what the user sends by pressing it."""

    label: str
    text: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.text if self.text is not None else self.label


class TextPart(_Value):
    type: Literal["text"] = "text"
    text: str

    def fallback_text(self) -> str:
        return self.text


class SpeechPart(_Value):
    """What a voice device says; `ssml` when the answer needs prosody, `text` always."""

    type: Literal["speech"] = "speech"
    text: str
    ssml: str | None = None

    def fallback_text(self) -> str:
        return self.text


class CardPart(_Value):
    type: Literal["card"] = "card"
    title: str
    description: str = ""
    image_url: str | None = None
    buttons: tuple[Button, ...] = ()

    def fallback_text(self) -> str:
        lines = [self.title]
        if self.description:
            lines.append(self.description)
        lines.extend(f"- {b.label}: {b.url}" if b.url else f"- {b.label}" for b in self.buttons)
        return "\n".join(lines)


class QuickRepliesPart(_Value):
    type: Literal["quick_replies"] = "quick_replies"
    options: tuple[QuickReply, ...]
    title: str = ""

    def fallback_text(self) -> str:
        lines = [self.title] if self.title else []
        lines.extend(f"- {o.label}" for o in self.options)
        return "\n".join(lines)


class ImagePart(_Value):
    type: Literal["image"] = "image"
    url: str
    alt_text: str = ""

    def fallback_text(self) -> str:
        return self.alt_text or self.url


class DirectivePart(_Value):
    """An instruction for the device (`navigation.set_destination`, `media.play`, ...).

    `text` says in words what the directive does, for devices that cannot execute it.
    """

    type: Literal["directive"] = "directive"
    name: str
    payload: dict[str, Any] = Field(default_factory=dict)
    text: str = ""

    def fallback_text(self) -> str:
        return self.text


class HandoffPart(_Value):
    """Hand the conversation to a human agent; `text` tells the user what happens next."""

    type: Literal["handoff"] = "handoff"
    text: str
    reason: str = ""

    def fallback_text(self) -> str:
        return self.text


ReplyPart = Annotated[
    TextPart | SpeechPart | CardPart | QuickRepliesPart | ImagePart | DirectivePart | HandoffPart,
    Field(discriminator="type"),
]


class Reply(_Value):
    """What the assistant answers: ordered parts plus how it decided.

    `route` is `smalltalk`, `faq:<id>`, `mrc:<doc>#<passage>`, `task:<intent>`, `clarify`,
    `handoff`, `repeat` or `fallback`; `expects_reply` tells voice clients to keep the microphone open. `understood` is
    the recognizer hypothesis the reply answers, when the utterance came with alternatives.
    """

    parts: tuple[ReplyPart, ...]
    route: str
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    expects_reply: bool = False
    understood: str | None = None

    def plain_text(self) -> str:
        """All parts as plain text, for channels that show nothing else."""
        return "\n".join(t for t in (p.fallback_text() for p in self.parts) if t)


# --- candidates ------------------------------------------------------------------------------


class NamedContext(_Value):
    """A context like Dialogflow's or Kakao's: alive for `lifespan` turns and `ttl` seconds."""

    name: str
    lifespan: int = Field(default=5, ge=0)
    ttl: float | None = Field(default=None, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)


class ContextUpdate(_Value):
    """Changes a candidate makes to the dialogue context when it is chosen.

    `topic` set to "" clears the active topic; None leaves it. A slot set to None is removed.
    """

    topic: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    activate: tuple[NamedContext, ...] = ()
    deactivate: tuple[str, ...] = ()


class Candidate(_Value):
    """A skill's proposal for this turn.

    `confidence` is calibrated: the probability that this reply is right. `holds_floor` marks
    a candidate that continues an exchange its skill started (an open form, a confirmation,
    a rule's expected follow-up); the policy prefers those. `suggestion` is the short question a
    clarification may offer for it ("혹시 이런 질문이신가요?").
    """

    reply: Reply
    confidence: float = Field(ge=0.0, le=1.0)
    skill: str
    update: ContextUpdate = ContextUpdate()
    holds_floor: bool = False
    suggestion: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    #: Not an answer to this turn but what to say after it: an open form's next prompt, added
    #: by the policy when another skill answered the turn (an interruption). Never chosen.
    resume: bool = False


__all__ = [
    "AsrHypothesis",
    "Button",
    "Candidate",
    "CardPart",
    "ContextUpdate",
    "DeviceContext",
    "DirectivePart",
    "HandoffPart",
    "ImagePart",
    "NamedContext",
    "QuickRepliesPart",
    "QuickReply",
    "Reply",
    "ReplyPart",
    "SpeechPart",
    "TextPart",
    "Utterance",
]
