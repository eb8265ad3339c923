"""In-vehicle voice client: a recognizer's n-best list and the car's state in, speech, display
and directives out, shaped for a driver.

A request (`POST /connectors/car/turns`) carries what production car assistants send with
every turn: the recognizer's hypotheses with confidences (0–1, or -1/null
when the engine gives none), how the turn started, and the vehicle's state and capabilities:

    {"session_id": "car-KMH123", "locale": "ko-KR", "trigger": "wake_word",
     "hypotheses": [{"text": "서비스 센터 몇 시까지 해", "confidence": 0.82},
                    {"text": "서비스센터 몇 시까지 해요", "confidence": 0.11}],
     "vehicle": {"state": "moving", "speed_kmh": 62, "location": {"lat": 37.5, "lon": 127.0},
                 "capabilities": ["screen", "navigation", "climate", "media", "phone"]}}

The assistant reads every hypothesis (at most the bot's `limits.max_hypotheses`) and answers
the one it understands best, weighted by the recognizer's confidence (`Assistant` does this
with `Utterance.alternatives`; `understood` in the answer says which it was). The answer:

    {"session_id": ..., "understood": "서비스 센터 몇 시까지 해", "route": "faq:...",
     "confidence": 0.91, "speech": {"text": ..., "ssml": "<speak ...>...</speak>"},
     "display": {"text": ..., "cards": [...], "options": [...], "images": [...]} or null,
     "directives": [{"name": "navigation.set_destination", "payload": {...}, "text": ...}],
     "keep_listening": false, "restricted": true}

While the car moves (state `idling` or `moving`, or any speed above 0) the driver-distraction
rules apply (`restricted`): speech is the essential sentence only, no card or image, at most
`CarLimits.moving_items` options and a short display line. Parked, the whole answer is said and
shown. Directives the car lacks the capability for are not sent; the driver hears that the car
cannot do it. Skills still working when the car's time budget (`ASSISTANT_CAR_TIME_BUDGET`) is
spent are left out: the answer comes from those that were ready.

`voice_session` keeps one voice session open over a WebSocket (`/connectors/car/voice`) for
several turns; see its docstring.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.api.middleware import RateLimited
from assistant.errors import InputError
from assistant.namespaces import session_in
from assistant.packs.car.catalog import DIRECTIVES as CATALOG
from assistant.types import (
    AsrHypothesis,
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
from connectors.errors import PayloadError, error_event
from connectors.hub import Hub
from connectors.payload import JsonSocket, read_json, read_model
from connectors.text import sentences, shorten

log = logging.getLogger("connector.car")

CHANNEL = "car"
#: Where the core's field names are found in a car request, for error messages.
FIELDS = {"text": "hypotheses.0.text", "session_id": "session_id", "locale": "locale"}

Capability = Literal["screen", "navigation", "climate", "media", "phone", "messages"]
#: The directives each capability lets the car execute (the car directive catalog).
DIRECTIVES: Mapping[str, tuple[str, ...]] = CATALOG


@dataclass(frozen=True, slots=True)
class CarLimits:
    """How much a driver is given while the car moves (NHTSA's 2 s glances, Android
    Automotive's UX restrictions: no long text, no scrolling lists, few items)."""

    moving_speech: int = 100  # characters of the one sentence said
    moving_display: int = 60  # characters of the display line
    moving_items: int = 3  # options offered
    moving_label: int = 20  # characters of an option's label
    parked_display: int = 1000
    parked_items: int = 10


LIMITS = CarLimits()

# --- request ---------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CarHypothesis(_Strict):
    """One recognizer hypothesis; a confidence of -1 (Android's "unknown") or null is none."""

    text: str = Field(min_length=1, max_length=2000)
    confidence: float | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("confidence")
    @classmethod
    def _unit_interval(cls, value: float | None) -> float | None:
        if value is None or value == -1:
            return None
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"must be between 0 and 1, or -1 (or null) when the recognizer gives none; got {value}"
            )
        return value


class Location(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    heading: float | None = Field(default=None, ge=0, lt=360)
    accuracy_m: float | None = Field(default=None, ge=0)


class Vehicle(_Strict):
    """The car's state, sent with every turn."""

    state: Literal["parked", "idling", "moving"]
    speed_kmh: float = Field(default=0.0, ge=0, le=400)
    location: Location | None = None
    capabilities: list[Capability] = Field(default_factory=list)
    #: Android Automotive's driver distraction limit, when the car has its own.
    max_text_length: int | None = Field(default=None, gt=0, le=10_000)

    @property
    def restricted(self) -> bool:
        """Driver-distraction rules apply: the car is not parked, or it is rolling anyway."""
        return self.state != "parked" or self.speed_kmh > 0

    def supports(self, directive: str) -> bool:
        return any(directive in DIRECTIVES.get(c, ()) for c in self.capabilities)


class CarRequest(_Strict):
    """One turn of the in-vehicle voice client."""

    session_id: str = Field(min_length=1, max_length=128)
    hypotheses: list[CarHypothesis] = Field(min_length=1, max_length=10)
    vehicle: Vehicle
    trigger: Literal["wake_word", "push_to_talk", "follow_up", "touch"] = "push_to_talk"
    locale: str | None = Field(default=None, min_length=2, max_length=16)
    message_id: str | None = Field(default=None, min_length=1, max_length=128)
    time_budget_ms: int | None = Field(default=None, ge=100, le=30_000)


def parse(request: CarRequest, *, time_budget_ms: int | None = None) -> Utterance:
    """The turn as the core sees it, in the session `car:<session_id>`: the first hypothesis
    as text, all as alternatives, the car as the device (screen, voice, driving, the
    directives it can execute)."""
    vehicle = request.vehicle
    supported = tuple(d for c in vehicle.capabilities for d in DIRECTIVES.get(c, ()))
    device = DeviceContext(
        has_screen="screen" in vehicle.capabilities,
        has_voice=True,
        is_driving=vehicle.restricted,
        max_text_length=vehicle.max_text_length
        or (LIMITS.moving_display if vehicle.restricted else None),
        supported_directives=supported,
    )
    return Utterance(
        text=request.hypotheses[0].text,
        session_id=session_in(CHANNEL, request.session_id),
        channel=CHANNEL,
        locale=request.locale,
        alternatives=tuple(
            AsrHypothesis(text=h.text, confidence=h.confidence) for h in request.hypotheses
        ),
        device=device,
        message_id=request.message_id,
        metadata={"car": {"trigger": request.trigger, "vehicle": vehicle.model_dump()}},
        time_budget_ms=request.time_budget_ms or time_budget_ms,
    )


# --- response --------------------------------------------------------------------------------

_UNSUPPORTED = {
    "ko": "이 차량에서는 지원하지 않는 기능이에요.",
    "en": "This car can't do that.",
}
_OR = {"ko": "또는", "en": "or"}
_SSML_LANG = {"ko": "ko-KR", "en": "en-US"}
#: Phone numbers (02-123-4567, 080-700-0000, 1588-0000), read digit by digit in SSML.
_PHONE = re.compile(r"(?<![\d-])(\+?(?:\d{2,4}-)?\d{3,4}-\d{4})(?![\d-])")


def render(
    reply: Reply,
    vehicle: Vehicle,
    *,
    session_id: str,
    locale: str | None = None,
    limits: CarLimits = LIMITS,
) -> dict[str, Any]:
    """The car's answer to `reply`: speech, display (None without a screen), directives it can
    execute and whether to keep the microphone open, shaped by the driving rules."""
    lang = (locale or "ko").split("-")[0].split("_")[0].lower()
    restricted = vehicle.restricted
    said: list[str] = []  # what a voice says: speech parts win over the written text
    written: list[str] = []
    ssml: list[str] = []
    cards: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    options: list[dict[str, str]] = []
    directives: list[dict[str, Any]] = []
    unsupported = False
    for part in reply.parts:
        if isinstance(part, SpeechPart):
            said.append(part.text)
            if part.ssml:
                ssml.append(part.ssml)
        elif isinstance(part, TextPart):
            written.append(part.text)
        elif isinstance(part, HandoffPart):
            if not restricted:  # how to reach a person is no essential of a driver's answer
                written.append(part.text)
        elif isinstance(part, DirectivePart):
            if vehicle.supports(part.name):
                directives.append({"name": part.name, "payload": part.payload, "text": part.text})
            else:
                unsupported = True
        elif isinstance(part, QuickRepliesPart):
            if part.title:
                written.append(part.title)
            options.extend({"label": o.label, "text": o.message} for o in part.options)
        elif isinstance(part, CardPart):
            cards.append(_card(part))
        elif isinstance(part, ImagePart):
            images.append({"url": part.url, "alt_text": part.alt_text})
    if unsupported:
        written.append(_UNSUPPORTED.get(lang, _UNSUPPORTED["en"]))
    if not written and directives:  # a directive alone: say what it does
        written.extend(d["text"] for d in directives if d["text"])
    spoken = " ".join(said) if said else " ".join(written)
    shown = "\n".join(written)
    items = limits.moving_items if restricted else limits.parked_items
    options = options[:items]
    if restricted:
        spoken = essential(spoken, limits.moving_speech)
        shown = essential(shown, vehicle.max_text_length or limits.moving_display)
        options = [{**o, "label": shorten(o["label"], limits.moving_label)} for o in options]
        cards, images, ssml = [], [], []
    else:
        shown = shorten(shown, vehicle.max_text_length or limits.parked_display)
    if options:  # a voice offers its choices aloud
        spoken = _offer(spoken, [o["label"] for o in options], lang)
        ssml = []
    speech = {
        "text": spoken,
        "ssml": ssml[0] if len(ssml) == 1 and len(said) == 1 else to_ssml(spoken, lang),
    }
    display = None
    if "screen" in vehicle.capabilities:
        display = {"text": shown, "cards": cards, "options": options, "images": images}
    return {
        "session_id": session_id,
        "understood": reply.understood,
        "route": reply.route,
        "confidence": reply.confidence,
        "speech": speech,
        "display": display,
        "directives": directives,
        "keep_listening": reply.expects_reply or bool(options),
        "restricted": restricted,
    }


def essential(text: str, limit: int) -> str:
    """The first sentence of `text`, within `limit` characters: what a driver needs to hear.

    >>> essential("평일 9시부터 6시까지 운영합니다. 토요일은 오전만 엽니다.", 40)
    '평일 9시부터 6시까지 운영합니다.'
    """
    found = sentences(text)
    return shorten(found[0], limit) if found else ""


def to_ssml(text: str, lang: str = "ko") -> str:
    """`text` as SSML 1.0: a sentence per `<s>`, phone numbers read digit by digit.

    >>> to_ssml("고객센터는 1588-0000입니다.")
    '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="ko-KR"><s>고객센터는 <say-as interpret-as="telephone">1588-0000</say-as>입니다.</s></speak>'
    """
    body = "".join(
        "<s>" + _PHONE.sub(r'<say-as interpret-as="telephone">\1</say-as>', escape(s)) + "</s>"
        for s in sentences(text)
    )
    tag = _SSML_LANG.get(lang, "en-US")
    return (
        f'<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="{tag}">'
        f"{body}</speak>"
    )


def _offer(spoken: str, labels: Sequence[str], lang: str) -> str:
    if not labels:
        return spoken
    if len(labels) == 1:
        listed = labels[0]
    else:
        listed = f"{', '.join(labels[:-1])} {_OR.get(lang, _OR['en'])} {labels[-1]}"
    return f"{spoken} {listed}".strip()


def _card(part: CardPart) -> dict[str, Any]:
    return {
        "title": part.title,
        "description": part.description,
        "image_url": part.image_url,
        "buttons": [
            {"label": b.label, "text": b.text or (None if b.url else b.label), "url": b.url}
            for b in part.buttons
        ],
    }


# --- the turn --------------------------------------------------------------------------------


async def answer(hub: Hub, payload: Any, *, caller: str) -> dict[str, Any]:
    """One car turn: validate, answer through the hub, render for the car. Raises
    `PayloadError` or `InputError` (400) for a request with a missing or wrong field, and
    `RateLimited` when the session or `caller` (its rate-limit bucket) is over its limit."""
    request = read_model(CarRequest, payload)
    utterance = parse(request, time_budget_ms=hub.config.car_time_budget_ms)
    hub.admit(utterance, caller)
    reply = await hub.turn(utterance)
    return render(reply, request.vehicle, session_id=request.session_id, locale=request.locale)


# --- a voice session over a WebSocket --------------------------------------------------------


class _Disconnected(Exception):
    pass


async def voice_session(
    hub: Hub,
    socket: JsonSocket,
    *,
    caller: str,
    disconnect: type[BaseException] = _Disconnected,
) -> None:
    """One voice session, several turns, until the client ends it or goes away:

        client: {"type": "start", "session_id", "vehicle", "locale"?}
        server: {"type": "ready", "session_id"}
        client: {"type": "turn", "hypotheses": [...], "trigger"?, "message_id"?, "vehicle"?}
        server: {"type": "thinking"}, then {"type": "reply", ...the answer of POST /turns}
        client: {"type": "vehicle", "vehicle": {...}}     the car's state changed
        server: {"type": "vehicle", "restricted": bool}
        client: {"type": "end"}                           server: {"type": "ended"}

    A message that is not JSON, not a known type, or not a valid turn gets an `error` event
    (`{"type": "error", "error": {code, message, fields}}`) and the session stays open. A turn's
    `vehicle` replaces the session's. `disconnect` is the exception the socket raises when the
    client goes away (Starlette's `WebSocketDisconnect`); `caller` is the connection's rate-limit
    bucket, and a turn over the limits gets an `error` event too.
    """
    session: dict[str, Any] | None = None
    while True:
        try:
            raw = await socket.receive_text()
        except disconnect:
            return
        try:
            message = read_json(raw)
            if not isinstance(message, dict):
                raise PayloadError("body", "must be a JSON object with a 'type'")
            kind = message.get("type")
            if kind == "start":
                session = _start(message)
                await socket.send_json({"type": "ready", "session_id": session["session_id"]})
            elif kind == "end":
                await socket.send_json({"type": "ended"})
                return
            elif session is None:
                raise PayloadError("type", "the session has not started: send 'start' first")
            elif kind == "vehicle":
                session["vehicle"] = read_model(Vehicle, message.get("vehicle")).model_dump()
                restricted = Vehicle.model_validate(session["vehicle"]).restricted
                await socket.send_json({"type": "vehicle", "restricted": restricted})
            elif kind == "turn":
                fields = {k: v for k, v in message.items() if k != "type"}
                request = read_model(CarRequest, {**session, **fields})
                session["vehicle"] = request.vehicle.model_dump()
                await socket.send_json({"type": "thinking"})
                utterance = parse(request, time_budget_ms=hub.config.car_time_budget_ms)
                hub.admit(utterance, caller)
                reply = await hub.turn(utterance)
                rendered = render(
                    reply, request.vehicle, session_id=request.session_id, locale=request.locale
                )
                await socket.send_json({"type": "reply", **rendered})
            else:
                raise PayloadError("type", "must be one of start, turn, vehicle, end")
        except PayloadError as e:
            log.info("connector.car.voice.parse_failed", extra={"field": e.field})
            await socket.send_json(error_event("invalid_payload", e.field, e.problem))
        except InputError as e:
            field = FIELDS.get(e.field, e.field)
            log.info("connector.car.voice.input_refused", extra={"field": field})
            await socket.send_json(error_event("invalid_request", field, e.problem))
        except RateLimited as e:
            problem = f"too many turns; retry in {e.retry_after}s"
            await socket.send_json(error_event("rate_limited", e.field, problem))
        except disconnect:
            return
        except Exception:
            log.exception("connector.car.voice.turn_failed")
            problem = "could not be answered because of an internal error; try again"
            await socket.send_json(error_event("internal_error", "body", problem))


class _Start(_Strict):
    type: Literal["start"]
    session_id: str = Field(min_length=1, max_length=128)
    vehicle: Vehicle
    locale: str | None = Field(default=None, min_length=2, max_length=16)


def _start(message: dict[str, Any]) -> dict[str, Any]:
    start = read_model(_Start, message)
    session: dict[str, Any] = {
        "session_id": start.session_id,
        "vehicle": start.vehicle.model_dump(),
    }
    if start.locale is not None:
        session["locale"] = start.locale
    return session


__all__ = [
    "CHANNEL",
    "DIRECTIVES",
    "FIELDS",
    "LIMITS",
    "CarHypothesis",
    "CarLimits",
    "CarRequest",
    "Location",
    "Vehicle",
    "answer",
    "essential",
    "parse",
    "render",
    "to_ssml",
    "voice_session",
]
