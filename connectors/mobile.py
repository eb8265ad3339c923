"""Mobile apps: device registration, rich replies, streaming, and push when the app is away.

An app registers its device once (and again whenever its push token or locale changes):

    POST /connectors/mobile/devices
    {"device_id": "d-7f3a", "platform": "ios", "locale": "ko-KR", "timezone": "Asia/Seoul",
     "push": {"provider": "apns", "token": "…"}, "app_version": "2.4.0"}

The first registration answers 201 with a `device_token`, shown once: the app keeps it and
sends it as `X-Device-Token` with every later request about the device (registering it again,
messages, history, removal; `?device_token=` on the WebSocket). Without it, knowing a device id
gets nothing: no conversation, no pushes. With API keys required, the device also belongs to
the key that registered it.

Its conversation is the session `mobile:<device id>`. A message, `{"device_id", "text",
"message_id"?, "locale"?, "metadata"?}`, is answered in one of three ways:

- `POST /connectors/mobile/messages`: the reply as JSON, `{"session_id", "message_id",
  "route", "confidence", "expects_reply", "messages": [...]}`.
- `POST /connectors/mobile/messages/stream`: server-sent events: `typing` at once, then one
  `part` event per message, then `done` (route, confidence, expects_reply). A comment line
  keeps the connection alive while a slow turn runs.
- WebSocket `/connectors/mobile/socket?device_id=…`: `{"type": "message", "text", ...}` in;
  `{"type": "typing"}`, `{"type": "part", "part"}`..., `{"type": "done", ...}` out, for as many
  messages as the app sends; a bad one gets `{"type": "error", ...}` and the socket stays open.

When the app goes away before its reply is out (the stream or socket closed mid-turn, the phone
went into a tunnel), the turn still finishes and the reply goes out through the outbound
webhooks registered for the channel `mobile.push` (`POST /connectors/webhooks` with
`"channel": "mobile.push"`): the operator's push relay receives the signed, retried delivery
(event `mobile.push`) with the device's push target and the rendered messages, and sends the
notification. The app can also read what it missed: `GET /connectors/mobile/devices/{id}/messages`.

Messages (`render`) are rich: `text`, `card` (title, description, image, buttons), `carousel`
(neighbouring cards), `quick_replies`, `image`, `action` (a directive), `handoff`. A button's
`action` is `message` (send `value` as the user's text), `open_url` (http/https), `deep_link`
(an app's own scheme, `hanbit://service/booking`) or `call` (`tel:`).

    >>> from assistant.types import Button
    >>> reply = Reply(parts=(CardPart(title="정비 예약", buttons=(
    ...     Button(label="앱에서 예약", url="hanbit://service/booking"),)),), route="faq:booking")
    >>> render(reply)[0]["buttons"]
    [{'label': '앱에서 예약', 'action': 'deep_link', 'value': 'hanbit://service/booking'}]
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from assistant.api.auth import Caller
from assistant.api.middleware import RateLimited
from assistant.errors import InputError
from assistant.types import (
    Button,
    CardPart,
    DeviceContext,
    DirectivePart,
    HandoffPart,
    ImagePart,
    QuickRepliesPart,
    Reply,
    SpeechPart,
    TextPart,
    Utterance,
)
from connectors.device_store import Device, DeviceStore
from connectors.errors import PayloadError, Unauthorized, error_body, error_event
from connectors.hub import Hub
from connectors.payload import JsonSocket, read_json, read_model

log = logging.getLogger("connector.mobile")

CHANNEL = "mobile"
#: The channel that the push relay's webhook is registered for.
PUSH_CHANNEL = "mobile.push"
#: The header that carries the device token (issued at registration) on later requests.
DEVICE_TOKEN_HEADER = "X-Device-Token"
#: Where the core's field names are found in a message, for error messages.
FIELDS = {"text": "text", "session_id": "device_id", "locale": "locale", "message_id": "message_id"}

# --- registration ----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PushTarget(_Strict):
    """Where the device's notifications go: the push service and the app's token there."""

    provider: Literal["apns", "fcm", "web"]
    token: str = Field(min_length=1, max_length=4096)


class Registration(_Strict):
    device_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    platform: Literal["ios", "android", "web"]
    locale: str = Field(pattern=r"^[a-zA-Z]{2,3}([-_][A-Za-z0-9]{2,8})*$", max_length=16)
    timezone: str = Field(min_length=1, max_length=64)
    push: PushTarget | None = None
    app_version: str | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"{value!r} is not an IANA time zone (like 'Asia/Seoul')") from e
        return value


async def register(
    hub: Hub, payload: Any, *, token: str | None, caller: Caller
) -> tuple[Device, bool, str | None]:
    """Store the device of a registration: the device, whether it is new, and its device token
    when one was issued (shown to the app once). Updating a known device takes its token, and
    the key that registered it; `PayloadError` names a bad field, `Unauthorized` a refusal."""
    body = read_model(Registration, payload)
    store = devices(hub)
    known = await store.get(body.device_id)
    if known is not None and known.token_sha256 is not None:
        authorize(known, token=token, caller=caller)
    return await store.register(
        id=body.device_id,
        platform=body.platform,
        locale=body.locale,
        timezone=body.timezone,
        push_provider=body.push.provider if body.push else None,
        push_token=body.push.token if body.push else None,
        app_version=body.app_version,
        owner_key=caller.key.id if caller.key is not None else None,
    )


def authorize(device: Device, *, token: str | None, caller: Caller) -> None:
    """`Unauthorized` unless `caller` may use `device`: it sends the device's token, and uses
    the API key that registered it (when one did). An admin key may look at any device."""
    if caller.admin:
        return
    if device.owner_key is not None and (caller.key is None or caller.key.id != device.owner_key):
        raise Unauthorized(
            "Authorization", "this device was registered with another API key", status=403,
            code="forbidden",
        )  # fmt: skip
    if not token:
        problem = (
            "is required: send the device token this device got when it registered"
            if device.token_sha256 is not None
            else "is required: register this device again to get its device token"
        )
        raise Unauthorized(DEVICE_TOKEN_HEADER, problem)
    if not device.token_matches(token):
        raise Unauthorized(
            DEVICE_TOKEN_HEADER, "does not match this device's token", status=403,
            code="forbidden",
        )  # fmt: skip


async def device_for(hub: Hub, device_id: str, *, token: str | None, caller: Caller) -> Device:
    """The registered device `device_id`, if `caller` may use it: `PayloadError` when it is
    unknown, `Unauthorized` (`authorize`) when it may not."""
    device = await devices(hub).get(device_id)
    if device is None:
        raise PayloadError(
            "device_id", f"{device_id!r} is not registered; POST /connectors/mobile/devices first"
        )
    authorize(device, token=token, caller=caller)
    return device


def devices(hub: Hub) -> DeviceStore:
    """The device store, in the session store's database."""
    return DeviceStore(hub.assistant.store.engine)


# --- messages --------------------------------------------------------------------------------


class MobileMessage(_Strict):
    device_id: str = Field(min_length=1, max_length=100)
    text: str
    message_id: str | None = Field(default=None, min_length=1, max_length=128)
    locale: str | None = Field(default=None, min_length=2, max_length=16)
    metadata: dict[str, Any] = Field(default_factory=dict)


async def parse(
    hub: Hub, payload: Any, *, token: str | None, caller: Caller
) -> tuple[Device, Utterance]:
    """The registered device and the user's turn; `PayloadError` for an unknown device,
    `Unauthorized` for a wrong device token (`authorize`), `InputError` for text the assistant
    refuses and `RateLimited` over the limits (raised now, before any streaming starts)."""
    message = read_model(MobileMessage, payload)
    device = await device_for(hub, message.device_id, token=token, caller=caller)
    utterance = Utterance(
        text=message.text,
        session_id=device.session_id,
        channel=CHANNEL,
        locale=message.locale or device.locale,
        device=DeviceContext(has_screen=True, timezone=device.timezone),
        message_id=message.message_id,
        metadata={
            **message.metadata,
            "mobile": {
                "device_id": device.id,
                "platform": device.platform,
                "app_version": device.app_version,
            },
        },
    )
    hub.admit(utterance, caller.bucket)
    return device, utterance


def render(reply: Reply) -> list[dict[str, Any]]:
    """The app's messages for `reply` (see the module docstring); neighbouring cards form a
    carousel, speech is left out when text says the same."""
    messages: list[dict[str, Any]] = []
    has_text = any(isinstance(p, TextPart) for p in reply.parts)
    for part in reply.parts:
        if isinstance(part, TextPart):
            messages.append({"type": "text", "text": part.text})
        elif isinstance(part, SpeechPart):
            if not has_text:
                messages.append({"type": "text", "text": part.text})
        elif isinstance(part, CardPart):
            card = _card(part)
            last = messages[-1] if messages else None
            if last is not None and last["type"] == "carousel":
                last["cards"].append(card)
            elif last is not None and last["type"] == "card":
                del last["type"]
                messages[-1] = {"type": "carousel", "cards": [last, card]}
            else:
                messages.append({"type": "card", **card})
        elif isinstance(part, QuickRepliesPart):
            options = [{"label": o.label, "text": o.message} for o in part.options]
            messages.append({"type": "quick_replies", "title": part.title, "options": options})
        elif isinstance(part, ImagePart):
            messages.append({"type": "image", "url": part.url, "alt_text": part.alt_text})
        elif isinstance(part, DirectivePart):
            messages.append(
                {"type": "action", "name": part.name, "payload": part.payload, "text": part.text}
            )
        elif isinstance(part, HandoffPart):
            messages.append({"type": "handoff", "text": part.text, "reason": part.reason})
    return messages


def _card(part: CardPart) -> dict[str, Any]:
    return {
        "title": part.title,
        "description": part.description,
        "image_url": part.image_url,
        "buttons": [_button(b) for b in part.buttons],
    }


def _button(button: Button) -> dict[str, Any]:
    phone = button.payload.get("phone")
    if button.url is not None:
        scheme = urlsplit(button.url).scheme.lower()
        if scheme in ("http", "https"):
            action = "open_url"
        elif scheme == "tel":
            action = "call"
        else:
            action = "deep_link"
        return {"label": button.label, "action": action, "value": button.url}
    if isinstance(phone, str):
        return {"label": button.label, "action": "call", "value": f"tel:{phone}"}
    return {"label": button.label, "action": "message", "value": button.text or button.label}


def summary(reply: Reply, utterance: Utterance) -> dict[str, Any]:
    """What a client needs besides the messages: which turn, how it was decided."""
    return {
        "session_id": utterance.session_id,
        "message_id": utterance.message_id,
        "route": reply.route,
        "confidence": reply.confidence,
        "expects_reply": reply.expects_reply,
    }


def answer(reply: Reply, utterance: Utterance) -> dict[str, Any]:
    """The JSON answer of `POST /connectors/mobile/messages`."""
    return {**summary(reply, utterance), "messages": render(reply)}


async def history(hub: Hub, device: Device, *, after: int = 0) -> list[dict[str, Any]]:
    """The device's recent turns numbered above `after`, each with its rendered messages."""
    view = await hub.assistant.store.get_session(device.session_id)
    if view is None:
        return []
    return [
        {
            "turn": t.seq,
            "message_id": t.message_id,
            "text": t.text,
            "at": t.at.isoformat(),
            "route": t.reply.route,
            "messages": render(t.reply),
        }
        for t in view.turns
        if t.seq > after
    ]


# --- delivery when the app is away -----------------------------------------------------------


async def push(hub: Hub, device: Device, utterance: Utterance, reply: Reply) -> list[str]:
    """Hand a reply the app did not receive to the push relay's webhooks; the delivery ids.
    With no webhook for `mobile.push` it is logged and stays readable in the conversation."""
    hooks = await hub.webhooks.store.for_channel(PUSH_CHANNEL)
    if not hooks:
        log.warning(
            "connector.mobile.push_unconfigured",
            extra={"device": device.id, "channel": PUSH_CHANNEL},
        )
        return []
    extra = {
        "device": {
            "device_id": device.id,
            "platform": device.platform,
            "push": device.push,
            "locale": device.locale,
            "timezone": device.timezone,
        },
        "messages": render(reply),
    }
    ids = await hub.webhooks.publish(utterance, reply, hooks=hooks, event=PUSH_CHANNEL, extra=extra)
    log.info("connector.mobile.pushed", extra={"device": device.id, "deliveries": len(ids)})
    return ids


def push_when_ready(
    hub: Hub, device: Device, utterance: Utterance, turn: asyncio.Task[Reply]
) -> None:
    """Once `turn` is answered, push its reply (the app is not there to receive it)."""

    async def later() -> None:
        try:
            reply = await turn
        except Exception:  # logged where the turn failed
            return
        try:
            await push(hub, device, utterance, reply)
        except Exception:
            log.exception("connector.mobile.push_failed", extra={"device": device.id})

    hub.spawn(later(), name=f"mobile-push-{device.id}")


def start_turn(hub: Hub, utterance: Utterance) -> asyncio.Task[Reply]:
    """Run the turn in the background: the app leaving does not cancel it."""

    async def run() -> Reply:
        try:
            return await hub.turn(utterance)
        except Exception:
            log.exception(
                "connector.mobile.turn_failed", extra={"session_id": utterance.session_id}
            )
            raise

    return hub.spawn(run(), name=f"mobile-turn-{utterance.session_id}")


# --- server-sent events ----------------------------------------------------------------------


def sse(event: str, data: Any, *, id: str | None = None) -> str:
    """One server-sent event.

    >>> sse("part", {"type": "text", "text": "안녕"}, id="m-1:0")
    'id: m-1:0\\nevent: part\\ndata: {"type": "text", "text": "안녕"}\\n\\n'
    """
    head = f"id: {id}\n" if id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def event_stream(
    hub: Hub, device: Device, utterance: Utterance, *, keepalive_s: float = 15.0
) -> AsyncIterator[str]:
    """The events of one message: `typing`, a `part` per message, `done`. When the stream is
    closed before `done` went out, the reply is pushed once it is ready."""
    turn = start_turn(hub, utterance)
    delivered = False
    key = utterance.message_id or "m"
    try:
        yield sse("typing", {"session_id": utterance.session_id})
        while not turn.done():
            await asyncio.wait({turn}, timeout=keepalive_s)
            if not turn.done():
                yield ": keep-alive\n\n"
        try:
            reply = turn.result()
        except Exception:
            problem = "could not be answered because of an internal error; try again"
            yield sse("error", error_body("internal_error", "text", problem))
            delivered = True
            return
        for i, message in enumerate(render(reply)):
            yield sse("part", message, id=f"{key}:{i}")
        yield sse("done", summary(reply, utterance))
        delivered = True
    finally:
        if not delivered:
            log.info("connector.mobile.stream_closed_early", extra={"device": device.id})
            push_when_ready(hub, device, utterance, turn)


class EventStreamResponse(StreamingResponse):
    """A `text/event-stream` response that stops its stream as soon as the client goes away
    (whatever the server's ASGI version), so the stream's end is known and a reply that did not
    go out can be pushed."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[str]) -> None:
        super().__init__(content, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._events = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                try:
                    await self.stream_response(send)
                except OSError:  # the client went away while we wrote
                    pass
                finally:
                    group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()
        with anyio.CancelScope(shield=True):
            aclose: Callable[[], Any] | None = getattr(self._events, "aclose", None)
            if aclose is not None:
                await aclose()


# --- WebSocket ---------------------------------------------------------------------------------


async def socket_session(
    hub: Hub,
    socket: JsonSocket,
    device_id: str,
    *,
    token: str | None,
    caller: Caller,
    disconnect: type[BaseException],
) -> None:
    """Messages of one app over a WebSocket until it closes: each message gets `typing`, its
    `part`s and `done`; a reply that finds the socket closed is pushed. The device's token
    comes with the connection (`?device_token=` or the `X-Device-Token` header)."""
    try:
        device = await device_for(hub, device_id, token=token, caller=caller)
    except PayloadError as e:
        await socket.send_json(error_event("not_found", e.field, e.problem))
        return
    except Unauthorized as e:
        await socket.send_json(error_event(e.code, e.field, e.problem))
        return
    await socket.send_json({"type": "ready", "session_id": device.session_id})
    while True:
        try:
            raw = await socket.receive_text()
        except disconnect:
            return
        try:
            data = read_json(raw)
            if not isinstance(data, dict) or data.get("type") != "message":
                raise PayloadError("type", "must be 'message'")
            fields = {k: v for k, v in data.items() if k != "type"}
            device, utterance = await parse(
                hub, {**fields, "device_id": device.id}, token=token, caller=caller
            )
        except PayloadError as e:
            await socket.send_json(error_event("invalid_payload", e.field, e.problem))
            continue
        except Unauthorized as e:  # the device was registered again meanwhile
            await socket.send_json(error_event(e.code, e.field, e.problem))
            return
        except InputError as e:
            field = FIELDS.get(e.field, e.field)
            await socket.send_json(error_event("invalid_request", field, e.problem))
            continue
        except RateLimited as e:
            problem = f"too many messages; retry in {e.retry_after}s"
            await socket.send_json(error_event("rate_limited", e.field, problem))
            continue
        turn = start_turn(hub, utterance)
        try:
            await socket.send_json({"type": "typing"})
            try:
                reply = await asyncio.shield(turn)
            except Exception:
                problem = "could not be answered because of an internal error; try again"
                await socket.send_json(error_event("internal_error", "text", problem))
                continue
            for message in render(reply):
                await socket.send_json({"type": "part", "part": message})
            await socket.send_json({"type": "done", **summary(reply, utterance)})
        except (disconnect, OSError, RuntimeError, asyncio.CancelledError) as e:
            # the app went away mid-turn: its reply is pushed when ready
            log.info("connector.mobile.socket_closed_early", extra={"device": device.id})
            push_when_ready(hub, device, utterance, turn)
            if isinstance(e, asyncio.CancelledError):
                raise
            return


__all__ = [
    "CHANNEL",
    "DEVICE_TOKEN_HEADER",
    "FIELDS",
    "PUSH_CHANNEL",
    "EventStreamResponse",
    "MobileMessage",
    "PushTarget",
    "Registration",
    "answer",
    "authorize",
    "device_for",
    "devices",
    "event_stream",
    "history",
    "parse",
    "push",
    "register",
    "render",
    "socket_session",
    "sse",
]
