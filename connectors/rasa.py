"""Rasa-compatible channels (parse and render): REST, callback and socket.io messages.

Clients written for Rasa talk to this assistant unchanged. A REST or callback message
`{"sender", "message", "metadata"?}` becomes an `Utterance`; a `Reply` becomes Rasa bot messages
(`render_rest`: `{"recipient_id", "text"?, "image"?, "buttons"?, "attachment"?, "custom"?}`) or the socket.io
`bot_uttered` events that the `rasa-webchat` widget shows (`render_socketio`: `{"text"}`,
`{"text", "quick_replies"}`, `{"attachment": {"type": "image", ...}}`, cards as a generic
template). `rasa-webchat` reads an event by its exact set of keys, so each event has only those.

    >>> message = read_model(RestMessage, {"sender": "u1", "message": "안녕"})
    >>> parse(message).session_id
    'rasa:u1'
    >>> from assistant.types import QuickReply
    >>> reply = Reply(parts=(TextPart(text="무엇을 도와드릴까요?"),
    ...     QuickRepliesPart(options=(QuickReply(label="영업시간"),))), route="smalltalk")
    >>> render_rest(reply, "u1")
    [{'recipient_id': 'u1', 'text': '무엇을 도와드릴까요?', 'buttons': [{'title': '영업시간', 'payload': '영업시간'}]}]
    >>> render_socketio(reply)
    [{'text': '무엇을 도와드릴까요?', 'quick_replies': [{'content_type': 'text', 'title': '영업시간', 'payload': '영업시간'}]}]
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.namespaces import session_in
from assistant.types import (
    CardPart,
    DirectivePart,
    HandoffPart,
    ImagePart,
    QuickRepliesPart,
    Reply,
    SpeechPart,
    TextPart,
    Utterance,
)
from connectors.payload import read_model

#: Where the core's field names are found in a REST message, for error messages.
FIELDS = {"text": "message", "session_id": "sender", "message_id": "message_id"}
#: ... and in a socket.io `user_uttered` event.
SOCKET_FIELDS = {"text": "message", "session_id": "session_id", "message_id": "message_id"}


class RestMessage(BaseModel):
    """A user message to the REST or callback channel."""

    model_config = ConfigDict(extra="ignore")

    sender: str = Field(min_length=1, max_length=128)
    message: str
    metadata: dict[str, Any] | None = None
    message_id: str | None = Field(default=None, min_length=1, max_length=128)


class UserUttered(BaseModel):
    """A socket.io `user_uttered` event; `session_id` defaults to the confirmed session."""

    model_config = ConfigDict(extra="ignore")

    message: str
    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    customData: dict[str, Any] | None = None
    message_id: str | None = Field(default=None, min_length=1, max_length=128)


def parse(message: RestMessage, *, channel: str = "rasa") -> Utterance:
    """The user's turn, in the session `<channel>:<sender>` (`rasa` or `callback`);
    `metadata` goes to the skills as it came."""
    metadata = dict(message.metadata or {})
    locale = metadata.get("locale") if isinstance(metadata.get("locale"), str) else None
    return Utterance(
        text=message.message,
        session_id=session_in(channel, message.sender),
        channel=channel,
        locale=locale,
        message_id=message.message_id,
        metadata=metadata,
    )


def parse_socket(event: UserUttered, *, session_id: str) -> Utterance:
    """The user's turn from a socket.io event, in the session `socketio:<session_id>` (the
    event's own `session_id` when it names one)."""
    metadata = dict(event.customData or {})
    locale = metadata.get("language") or metadata.get("locale")
    return Utterance(
        text=event.message,
        session_id=session_in("socketio", event.session_id or session_id),
        channel="socketio",
        locale=locale if isinstance(locale, str) else None,
        message_id=event.message_id,
        metadata=metadata,
    )


def render_rest(reply: Reply, recipient_id: str) -> list[dict[str, Any]]:
    """Rasa REST bot messages: text with buttons, images, and `custom` for the rest."""
    messages: list[dict[str, Any]] = []
    has_text = any(isinstance(p, TextPart) for p in reply.parts)

    def say(text: str, **extra: Any) -> None:
        message: dict[str, Any] = {"recipient_id": recipient_id}
        if text:
            message["text"] = text
        message.update(extra)
        messages.append(message)

    for part in reply.parts:
        if isinstance(part, TextPart):
            say(part.text)
        elif isinstance(part, SpeechPart):
            if not has_text:
                say(part.text)
        elif isinstance(part, QuickRepliesPart):
            buttons = [{"title": o.label, "payload": o.message} for o in part.options]
            last = messages[-1] if messages else None
            if not part.title and last is not None and "text" in last and "buttons" not in last:
                last["buttons"] = buttons  # buttons belong to the question just asked
            else:
                say(part.title, buttons=buttons)
        elif isinstance(part, CardPart):
            # text and buttons for text-only clients, the card as Rasa's generic template
            text, buttons = _card_text(part)
            extra: dict[str, Any] = {"attachment": generic_template([part])}
            if buttons:
                extra["buttons"] = buttons
            say(text, **extra)
        elif isinstance(part, ImagePart):
            say(part.alt_text, image=part.url)
        elif isinstance(part, DirectivePart):
            custom = {"type": "directive", "name": part.name, "payload": part.payload}
            say(part.text, custom=custom)
        elif isinstance(part, HandoffPart):
            say(part.text, custom={"type": "handoff", "reason": part.reason})
    return [m for m in messages if set(m) != {"recipient_id"}]


def render_socketio(reply: Reply) -> list[dict[str, Any]]:
    """`bot_uttered` payloads as the `rasa-webchat` widget reads them: neighbouring cards form
    one generic template (a carousel)."""
    events: list[dict[str, Any]] = []
    has_text = any(isinstance(p, TextPart) for p in reply.parts)
    for part in reply.parts:
        if isinstance(part, TextPart):
            events.append({"text": part.text})
        elif isinstance(part, SpeechPart):
            if not has_text:
                events.append({"text": part.text})
        elif isinstance(part, QuickRepliesPart):
            quick = [
                {"content_type": "text", "title": o.label, "payload": o.message}
                for o in part.options
            ]
            last = events[-1] if events else None
            if not part.title and last is not None and "text" in last and len(last) == 1:
                last["quick_replies"] = quick
            else:
                events.append({"text": part.title, "quick_replies": quick})
        elif isinstance(part, CardPart):
            last = events[-1] if events else None
            if last is not None and last.get("attachment", {}).get("type") == "template":
                last["attachment"]["payload"]["elements"].append(_element(part))  # a carousel
            else:
                events.append({"attachment": generic_template([part])})
        elif isinstance(part, ImagePart):
            image = {"type": "image", "payload": {"src": part.url, "title": part.alt_text}}
            events.append({"attachment": image})
        elif isinstance(part, DirectivePart | HandoffPart) and part.fallback_text():
            events.append({"text": part.fallback_text()})
    return events


def generic_template(cards: list[CardPart]) -> dict[str, Any]:
    """Cards as Rasa's (and Messenger's) generic template, which `rasa-webchat` shows as a
    carousel: `{"type": "template", "payload": {"template_type": "generic", "elements"}}`."""
    return {
        "type": "template",
        "payload": {"template_type": "generic", "elements": [_element(c) for c in cards]},
    }


def _element(card: CardPart) -> dict[str, Any]:
    element: dict[str, Any] = {"title": card.title, "subtitle": card.description}
    if card.image_url:
        element["image_url"] = card.image_url
    element["buttons"] = [
        {"type": "web_url", "title": b.label, "url": b.url}
        if b.url
        else {"type": "postback", "title": b.label, "payload": b.text or b.label}
        for b in card.buttons
    ]
    return element


def _card_text(part: CardPart) -> tuple[str, list[dict[str, str]]]:
    """A card as text (links included) and its message buttons as Rasa buttons."""
    lines = [part.title] + ([part.description] if part.description else [])
    lines += [f"{b.label}: {b.url}" for b in part.buttons if b.url]
    buttons = [{"title": b.label, "payload": b.text or b.label} for b in part.buttons if not b.url]
    return "\n".join(lines), buttons


__all__ = [
    "FIELDS",
    "SOCKET_FIELDS",
    "RestMessage",
    "UserUttered",
    "generic_template",
    "parse",
    "parse_socket",
    "read_model",
    "render_rest",
    "render_socketio",
]
