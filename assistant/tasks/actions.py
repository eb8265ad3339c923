"""Carrying out a flow's action: a directive for the device, an HTTP webhook, a Rasa action.

Built-in directives (the device executes them; the payload is the flow's `payload` with slot
values filled in, `text` says in words what happens, for devices that cannot):

| directive | payload |
|---|---|
| `navigation.set_destination` | `{"destination": str}` |
| `climate.set_temperature` | `{"celsius": number, "zone"?: "all" \\| "driver" \\| "passenger"}` |
| `media.play` | `{"query": str \\| null, "kind"?: "music" \\| "radio" \\| "podcast"}` |
| `phone.call` | `{"contact": str \\| null, "number": str \\| null}` (digits) |

A device that lists its `supported_directives` and not this one gets the text alone.

**Webhook** (`action.webhook: https://...`): POST JSON `{"flow", "intent", "slots", "session_id",
"locale", "text", "entities"}`; a 2xx answer may be JSON `{"text"?: str, "slots"?: {name:
value}, "directives"?: [{"name", "payload", "text"?}]}` (slots set to null are cleared).

**Rasa action server** (`action.rasa: action_name`, `action_endpoint` of the skill): the rasa-sdk
protocol: POST `{next_action, sender_id, tracker, domain, version}` to `/webhook`; the answer's
`slot` events set slots and its `responses` become reply parts (`text`, `buttons` as quick
replies, `image`, and `custom: {"directive": {"name", "payload"}}` as a directive). 404: the
server has no such action; 400 `{error, action_name}`: the action refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from assistant.nlu.entity import Entity
from assistant.types import (
    DirectivePart,
    ImagePart,
    QuickRepliesPart,
    QuickReply,
    ReplyPart,
    TextPart,
)

__all__ = ["DIRECTIVES", "ActionCall", "ActionError", "ActionResult", "call_rasa", "call_webhook"]

logger = logging.getLogger(__name__)

#: The built-in directives and what their payloads hold (see the module docstring).
DIRECTIVES = {
    "navigation.set_destination": ("destination",),
    "climate.set_temperature": ("celsius", "zone"),
    "media.play": ("query", "kind"),
    "phone.call": ("contact", "number"),
}

#: The Rasa version we speak the action protocol of.
RASA_VERSION = "3.6.0"


class ActionError(Exception):
    """An action could not be carried out; the message says why (for the log)."""


@dataclass(frozen=True)
class ActionCall:
    """Everything an action may need to know about the turn."""

    flow: str
    intent: str
    slots: dict[str, Any]
    session_id: str
    locale: str
    text: str
    entities: tuple[Entity, ...] = ()
    intent_confidence: float = 1.0


@dataclass
class ActionResult:
    """What an action answered: reply parts and slot changes (None clears a slot)."""

    parts: list[ReplyPart] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)


async def call_webhook(url: str, call: ActionCall, *, timeout_s: float) -> ActionResult:
    """POST the call to a webhook; `ActionError` when it fails or answers what we cannot use."""
    body = {
        "flow": call.flow,
        "intent": call.intent,
        "slots": call.slots,
        "session_id": call.session_id,
        "locale": call.locale,
        "text": call.text,
        "entities": [e.to_dict() for e in call.entities],
    }
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(url, json=body)
    except httpx.HTTPError as e:
        raise ActionError(f"webhook {url}: {type(e).__name__}: {e}") from e
    if not response.is_success:
        raise ActionError(f"webhook {url} answered {response.status_code}")
    if not response.content.strip():
        return ActionResult()
    try:
        data = response.json()
    except ValueError as e:
        raise ActionError(f"webhook {url}: the answer is not JSON") from e
    if not isinstance(data, dict):
        raise ActionError(f"webhook {url}: expected a JSON object")
    result = ActionResult()
    if isinstance(data.get("text"), str) and data["text"]:
        result.parts.append(TextPart(text=data["text"]))
    for directive in data.get("directives") or []:
        if isinstance(directive, dict) and isinstance(directive.get("name"), str):
            result.parts.append(
                DirectivePart(
                    name=directive["name"],
                    payload=dict(directive.get("payload") or {}),
                    text=str(directive.get("text") or ""),
                )
            )
    slots = data.get("slots") or {}
    if not isinstance(slots, dict):
        raise ActionError(f"webhook {url}: slots must be an object")
    result.slots.update(slots)
    return result


def rasa_request(call: ActionCall, action: str, slot_names: list[str]) -> dict[str, Any]:
    """The body rasa-sdk's `/webhook` expects for running `action` on this turn."""
    latest = {
        "text": call.text,
        "intent": {"name": call.intent, "confidence": call.intent_confidence},
        "entities": [e.to_dict() for e in call.entities],
    }
    slots = {name: call.slots.get(name) for name in slot_names}
    slots.update(call.slots)
    return {
        "next_action": action,
        "sender_id": call.session_id,
        "tracker": {
            "sender_id": call.session_id,
            "slots": slots,
            "latest_message": latest,
            "latest_event_time": None,
            "followup_action": None,
            "paused": False,
            "events": [{"event": "user", "text": call.text, "parse_data": latest}],
            "latest_input_channel": None,
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": {
            "version": "3.1",
            "intents": [call.intent],
            "entities": sorted({e.type for e in call.entities}),
            "slots": {name: {"type": "any", "mappings": []} for name in slots},
            "responses": {},
            "actions": [action],
            "forms": {},
        },
        "version": RASA_VERSION,
    }


def _response_parts(response: dict[str, Any]) -> list[ReplyPart]:
    parts: list[ReplyPart] = []
    if isinstance(response.get("text"), str) and response["text"]:
        parts.append(TextPart(text=response["text"]))
    if response.get("image"):
        parts.append(ImagePart(url=str(response["image"])))
    buttons = [b for b in response.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
    if buttons:
        options = []
        for b in buttons:
            payload = str(b.get("payload") or b["title"])
            # "/intent{...}" payloads are Rasa's own shortcuts: the title is what a user says
            options.append(
                QuickReply(label=str(b["title"]), text=None if payload.startswith("/") else payload)
            )
        parts.append(QuickRepliesPart(options=tuple(options)))
    custom = response.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("directive"), dict):
        directive = custom["directive"]
        if isinstance(directive.get("name"), str):
            parts.append(
                DirectivePart(
                    name=directive["name"],
                    payload=dict(directive.get("payload") or {}),
                    text=str(directive.get("text") or ""),
                )
            )
    return parts


async def call_rasa(
    endpoint: str, action: str, call: ActionCall, *, slot_names: list[str], timeout_s: float
) -> ActionResult:
    """Run a custom action on a Rasa action server (rasa-sdk) and read its events and
    responses; `ActionError` when the server fails, does not know the action or refuses."""
    body = rasa_request(call, action, slot_names)
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(endpoint, json=body)
    except httpx.HTTPError as e:
        raise ActionError(f"action server {endpoint}: {type(e).__name__}: {e}") from e
    if response.status_code == 404:
        raise ActionError(f"action server {endpoint} has no action {action!r}")
    try:
        data = response.json()
    except ValueError as e:
        raise ActionError(
            f"action server {endpoint} answered {response.status_code}, not JSON"
        ) from e
    if response.status_code == 400:
        error = data.get("error") if isinstance(data, dict) else None
        raise ActionError(f"action {action!r} refused: {error}")
    if not response.is_success or not isinstance(data, dict):
        raise ActionError(f"action server {endpoint} answered {response.status_code}")
    result = ActionResult()
    for event in data.get("events") or []:
        if isinstance(event, dict) and event.get("event") == "slot" and event.get("name"):
            result.slots[str(event["name"])] = event.get("value")
    for item in data.get("responses") or []:
        if isinstance(item, dict):
            result.parts.extend(_response_parts(item))
    return result
