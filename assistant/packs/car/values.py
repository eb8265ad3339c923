"""What a driver's command says beyond its intent, and the directives it ends in.

The intent comes from the classifier (the pack's examples); the lookups of `car.yaml` mark
words (on or off, up or down, seats, windows, categories...). This module reads them together
with the numbers of the turn (digits, Korean numerals, English words: `assistant.nlu.numbers`):

- a number with a direction is a relative change ("2도 내려", "turn the volume down by 5"),
  unless it is a target ("22도로 내려", "down to 20"); a direction alone is one step;
- a temperature without its unit is Fahrenheit in en-US (and in English when it is no
  plausible cabin temperature in Celsius, 50 and above), converted to the half degree;
- seats and zones: "뒷좌석" heats both rear seats; a zone of the whole car is `all`.

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from assistant.nlu.entities import EntityExtractor, EntitySpec
    >>> extractor = EntityExtractor([EntitySpec("direction", {"up": ["올려"], "down": ["내려"]})])
    >>> now = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    >>> PACK.fill("set_temperature", "온도 2도 내려", extractor.extract("온도 2도 내려", now=now), "ko")
    {'celsius': None, 'delta': -2}
    >>> PACK.fill("set_temperature", "set it to 72", extractor.extract("set it to 72", now=now), "en-US")
    {'celsius': 22.0, 'delta': None}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.nlu.entity import Entity
from assistant.packs import Directive
from assistant.packs.car.catalog import capability_of
from assistant.tasks.slots import fill_template, say_value

__all__ = ["PACK", "CarPack"]

_FLOWS_FILE = Path(__file__).with_name("car.yaml")

#: The directive each flow of car.yaml ends in.
FLOW_DIRECTIVES = {
    "navigate": "navigation.set_destination",
    "search_nearby": "navigation.search_nearby",
    "cancel_navigation": "navigation.cancel",
    "climate_power": "climate.power",
    "air_conditioner": "climate.ac",
    "set_temperature": "climate.set_temperature",
    "fan_speed": "climate.set_fan",
    "defrost": "climate.defrost",
    "seat_heater": "climate.seat_heat",
    "seat_ventilation": "climate.seat_vent",
    "steering_heater": "climate.steering_heat",
    "recirculation": "climate.recirculation",
    "play_music": "media.play",
    "pause_media": "media.pause",
    "resume_media": "media.resume",
    "next_track": "media.next",
    "previous_track": "media.previous",
    "volume": "media.volume",
    "radio": "media.radio",
    "media_source": "media.source",
    "call_contact": "phone.call",
    "redial": "phone.redial",
    "hang_up": "phone.hang_up",
    "read_messages": "message.read",
    "send_message": "message.send",
}

#: A relative change said without a number: this many steps.
STEP = {"set_temperature": 1, "fan_speed": 1, "volume": 2}
#: The level a seat's heating or ventilation is switched on at when none is said (the
#: first press of the button in most cars).
SEAT_ON_LEVEL = 3
SEATS = ("driver", "passenger", "rear_left", "rear_right")
_ZONE_OF_SEAT = {
    "driver": "driver",
    "passenger": "passenger",
    "rear": "rear",
    "rear_left": "rear",
    "rear_right": "rear",
    "all": "all",
}
_NUMERIC = ("number", "temperature", "percentage")
#: A number said as a target, not a change: "22도로", "20까지", "to 20".
_TARGET_AFTER = re.compile(r"^\s*(?:도|단계|단|칸|degrees?|°[CF]?)?\s*(?:으로|로|까지|에)")
_TARGET_BEFORE = re.compile(r"(?:\bto|\bat)\s*$", re.IGNORECASE)
_CELSIUS_SAID = re.compile(r"섭씨|celsius|°\s?c\b|℃|\bdegrees? c\b", re.IGNORECASE)
_FAHRENHEIT_SAID = re.compile(r"화씨|fahrenheit|°\s?f\b|\bdegrees? f\b|\bF\b")
# A quoted message in Korean: "[엄마]한테 [늦는다]고 문자 보내 줘".
_KO_MESSAGE = re.compile(
    r"(?P<contact>\S+?)\s?(?:한테|에게|께)\s*(?P<text>.+?)\s?(?:이?라고|고|라구)\s*"
    r"(?:문자|메시지|메세지|카톡|톡|보내|전해|남겨|말해)"
)
# ...and in English: "text mom I'm late", "send a message to John saying ...".
_EN_MESSAGE = re.compile(
    r"\b(?:text|message|msg|tell|sms|send\s+(?:a\s+)?(?:text|message|msg|sms)\s+to|send)\s+"
    r"(?P<contact>(?:my\s+)?[\w'-]+)\s*(?:,|:|\bsaying\b|\bthat\b|\bto say\b|\band say\b)?\s*"
    r"(?P<text>.+?)[.!]?$",
    re.IGNORECASE,
)

_CAPABILITY_NAMES = {
    "climate": ("공조(에어컨·히터)", "climate control"),
    "media": ("미디어", "media playback"),
    "navigation": ("내비게이션", "navigation"),
    "phone": ("전화", "a phone connection"),
    "messages": ("메시지", "messaging"),
}
_ZONE_NAMES = {
    "all": ("실내", "the cabin"),
    "driver": ("운전석", "the driver's side"),
    "passenger": ("조수석", "the passenger side"),
    "rear": ("뒷좌석", "the rear"),
}
_SEAT_NAMES = {
    "driver": ("운전석", "driver's seat"),
    "passenger": ("조수석", "passenger seat"),
    "rear_left": ("뒷좌석 왼쪽", "rear left seat"),
    "rear_right": ("뒷좌석 오른쪽", "rear right seat"),
}
_CATEGORY_NAMES = {
    "gas_station": ("주유소", "gas stations"),
    "ev_charger": ("전기차 충전소", "EV chargers"),
    "parking": ("주차장", "parking"),
    "rest_area": ("휴게소", "rest areas"),
    "restaurant": ("식당", "restaurants"),
    "cafe": ("카페", "cafes"),
    "service_center": ("서비스센터", "service centers"),
}
_SOURCE_NAMES = {
    "radio": ("라디오", "the radio"),
    "bluetooth": ("블루투스", "Bluetooth"),
    "usb": ("USB", "USB"),
    "streaming": ("스트리밍", "streaming"),
}


def _first(entities: Sequence[Entity], kind: str) -> Any:
    return next((e.value for e in entities if e.type == kind), None)


def _number(entities: Sequence[Entity]) -> Entity | None:
    return next((e for e in entities if e.type in _NUMERIC), None)


def _amount(entity: Entity) -> float | None:
    value = entity.value
    if isinstance(value, dict):
        value = value.get("value")
    return float(value) if isinstance(value, int | float) else None


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _is_target(text: str, entity: Entity) -> bool:
    """Whether a number is said as a target ("22도로", "to 20") rather than a change."""
    return bool(
        _TARGET_AFTER.match(text[entity.end :]) or _TARGET_BEFORE.search(text[: entity.start])
    )


def _relative(
    text: str, entities: Sequence[Entity], flow: str, *, largest_change: float
) -> tuple[float | None, float | None]:
    """(absolute, delta): a number said, a direction, or both; `largest_change` bounds what
    a number with a direction can be as a change."""
    direction = _first(entities, "direction")
    sign = {"up": 1, "down": -1}.get(str(direction), 0)
    found = _number(entities)
    amount = None if found is None else _amount(found)
    if amount is not None and found is not None:
        if sign and not _is_target(text, found) and amount <= largest_change:
            return None, sign * amount
        return amount, None
    if sign:
        return None, float(sign * STEP.get(flow, 1))
    return None, None


def _fahrenheit(text: str, value: float, locale: str) -> bool:
    """A temperature said in Fahrenheit: in so many words, or without a unit in en-US (and in
    English when 50 and above, which no cabin is set to in Celsius)."""
    if _FAHRENHEIT_SAID.search(text):
        return True
    if _CELSIUS_SAID.search(text):
        return False
    tag = locale.replace("_", "-").lower()
    return tag == "en-us" or (tag.startswith("en") and value >= 50)


def _to_celsius(fahrenheit: float) -> float:
    return round((fahrenheit - 32) * 5 / 9 * 2) / 2


class CarPack:
    """The car pack (see the package docstring)."""

    name = "car"

    @property
    def flows_file(self) -> Path:
        return _FLOWS_FILE

    def owns(self, flow: str) -> bool:
        return flow in FLOW_DIRECTIVES

    # --- reading a turn ----------------------------------------------------------------------

    def fill(self, flow: str, text: str, entities: Sequence[Entity], locale: str) -> dict[str, Any]:
        """The values of the flow's slots the turn says; a pair that excludes each other
        (`celsius` and `delta`) is given both, one None."""
        switch = _first(entities, "switch")
        found: dict[str, Any] = {}
        if flow in ("climate_power", "air_conditioner", "steering_heater", "defrost"):
            if switch is not None:
                found["on"] = switch == "on"
            if flow == "defrost" and _first(entities, "window") is not None:
                found["window"] = _first(entities, "window")
        elif flow == "recirculation":
            intake = _first(entities, "intake")
            if intake == "outside":
                found["on"] = False
            elif switch is not None:
                found["on"] = switch == "on"
        elif flow == "set_temperature":
            found.update(self._temperature(text, entities, locale))
        elif flow in ("seat_heater", "seat_ventilation"):
            found.update(self._seat(entities))
        elif flow == "fan_speed":
            found.update(self._level(text, entities, flow, low=1, high=8))
        elif flow == "volume":
            mute = _first(entities, "mute")
            if mute is not None:
                found.update(mute=mute == "on", level=None, delta=None)
            else:
                found.update(self._level(text, entities, flow, low=0, high=30))
        elif flow == "radio":
            found.update(self._radio(entities))
        elif flow == "play_music":
            kind = _first(entities, "kind")
            if kind is not None:
                found["kind"] = kind
        elif flow == "send_message":
            found.update(self._message(text))
        return found

    def _temperature(self, text: str, entities: Sequence[Entity], locale: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        seat = _first(entities, "seat")
        if seat is not None:
            found["zone"] = _ZONE_OF_SEAT.get(str(seat), "all")
        absolute, delta = _relative(text, entities, "set_temperature", largest_change=10)
        if absolute is not None:
            celsius = _to_celsius(absolute) if _fahrenheit(text, absolute, locale) else absolute
            found.update(celsius=float(celsius), delta=None)
        elif delta is not None:
            if _FAHRENHEIT_SAID.search(text):
                delta = round(delta * 5 / 9 * 2) / 2
            found.update(celsius=None, delta=_plain(delta))
        return found

    def _seat(self, entities: Sequence[Entity]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        seat = _first(entities, "seat")
        if seat is not None:
            found["seat"] = seat
        number = _number(entities)
        amount = None if number is None else _amount(number)
        switch, extreme = _first(entities, "switch"), _first(entities, "extreme")
        direction = _first(entities, "direction")
        if switch == "off":
            found["level"] = 0
        elif amount is not None and 0 <= amount <= 3:
            found["level"] = int(amount)
        elif extreme is not None:
            found["level"] = 3 if extreme == "max" else 1
        elif direction == "down":
            found["level"] = 1
        return found

    def _level(
        self, text: str, entities: Sequence[Entity], flow: str, *, low: int, high: int
    ) -> dict[str, Any]:
        extreme = _first(entities, "extreme")
        absolute, delta = _relative(text, entities, flow, largest_change=high)
        if absolute is not None:
            return {"level": int(min(max(absolute, low), high)), "delta": None}
        if extreme is not None:
            return {"level": high if extreme == "max" else low, "delta": None}
        if delta is not None:
            return {"level": None, "delta": int(delta)}
        return {}

    def _radio(self, entities: Sequence[Entity]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        band = _first(entities, "band")
        number = _number(entities)
        frequency = None if number is None else _amount(number)
        if frequency is not None:
            if band is None:
                band = "FM" if 87 <= frequency <= 108 else "AM" if frequency >= 500 else None
            found["frequency"] = _plain(frequency)
        if band is not None:
            found["band"] = band
        return found

    def _message(self, text: str) -> dict[str, Any]:
        m = _KO_MESSAGE.search(text) or _EN_MESSAGE.search(text)
        if m is None:
            return {}
        contact, said = m.group("contact").strip(), m.group("text").strip(" ,.'\"")
        if not contact or not said or said.lower() in ("to", "a text", "a message"):
            return {}
        return {"contact": contact, "text": said}

    # --- the directives ----------------------------------------------------------------------

    def finish(self, flow: str, values: dict[str, Any], locale: str) -> tuple[list[Directive], str]:
        """The directives of a done flow and what is said: payloads as the catalog has them."""
        name = FLOW_DIRECTIVES[flow]
        ko = locale.split("-")[0].lower() != "en"
        on = values.get("on") is not False
        payload: dict[str, Any]
        directives: list[Directive] = []
        if flow in ("climate_power", "air_conditioner", "steering_heater", "recirculation"):
            payload = {"on": on}
            what = {
                "climate_power": ("공조", "the climate control"),
                "air_conditioner": ("에어컨", "the AC"),
                "steering_heater": ("핸들 열선", "the steering wheel heating"),
                "recirculation": ("내기 순환", "recirculation"),
            }[flow]
            if flow == "recirculation" and ko:
                said = "내기 순환으로 바꿀게요." if on else "외기 유입으로 바꿀게요."
            elif ko:
                said = fill_template(
                    "{w}(을)를 " + ("켤게요." if on else "끌게요."), {"w": what[0]}
                )
            else:
                said = f"Turning {what[1]} {'on' if on else 'off'}."
        elif flow == "defrost":
            window = str(values.get("window") or "front")
            payload = {"window": window, "on": on}
            place = ("앞유리", "front") if window == "front" else ("뒷유리", "rear")
            said = (
                f"{place[0]} 김 서림 제거를 {'켤게요' if on else '끌게요'}."
                if ko
                else f"Turning the {place[1]} defroster {'on' if on else 'off'}."
            )
        elif flow == "set_temperature":
            zone = str(values.get("zone") or "all")
            zone_said = _ZONE_NAMES.get(zone, _ZONE_NAMES["all"])
            if values.get("celsius") is not None:
                celsius = float(values["celsius"])
                payload = {"celsius": celsius, "zone": zone}
                said = (
                    f"{zone_said[0]} 온도를 {say_value('temperature', celsius, 'ko')}로 맞출게요."
                    if ko
                    else f"Setting {zone_said[1]} to {say_value('temperature', celsius, 'en')}."
                )
            else:
                delta = _plain(float(values.get("delta") or 0))
                payload = {"delta": delta, "zone": zone}
                up = delta > 0
                said = (
                    f"{zone_said[0]} 온도를 {abs(delta)}도 {'올릴게요' if up else '내릴게요'}."
                    if ko
                    else f"Making {zone_said[1]} {abs(delta)}°C {'warmer' if up else 'cooler'}."
                )
        elif flow in ("fan_speed", "volume"):
            payload, said = self._level_said(flow, values, ko)
        elif flow in ("seat_heater", "seat_ventilation"):
            seat = str(values.get("seat") or "driver")
            seats = (
                list(SEATS)
                if seat == "all"
                else ["rear_left", "rear_right"]
                if seat == "rear"
                else [seat if seat in SEATS else "driver"]
            )
            level = values.get("level")
            level = SEAT_ON_LEVEL if level is None else int(level)
            directives = [Directive(name, {"seat": s, "level": level}) for s in seats]
            names = ", ".join(_SEAT_NAMES[s][0 if ko else 1] for s in seats)
            thing = ("열선", "heating") if flow == "seat_heater" else ("통풍", "ventilation")
            if ko:
                said = (
                    f"{names} {thing[0]}을 끌게요."
                    if level == 0
                    else f"{names} {thing[0]}을 {level}단계로 켤게요."
                )
            else:
                said = (
                    f"Turning off the {names} {thing[1]}."
                    if level == 0
                    else f"Setting the {names} {thing[1]} to level {level}."
                )
            return directives, said
        elif flow == "radio":
            payload = {"band": values.get("band") or "FM"}
            if values.get("frequency") is not None:
                payload["frequency"] = values["frequency"]
            station = " ".join(str(v) for v in payload.values())
            said = f"{station} 라디오를 틀게요." if ko else f"Tuning the radio to {station}."
        elif flow == "media_source":
            source = str(values.get("source"))
            payload = {"source": source}
            source_names = _SOURCE_NAMES.get(source, (source, source))
            said = (
                fill_template("음원을 {s}(으)로 바꿀게요.", {"s": source_names[0]})
                if ko
                else f"Switching to {source_names[1]}."
            )
        elif flow == "play_music":
            kind = str(values.get("kind") or "music")
            payload = {"kind": kind}
            query = values.get("query")
            if query:
                payload["query"] = str(query)
            what = {"podcast": ("팟캐스트", "podcast"), "radio": ("라디오", "radio")}.get(
                kind, ("음악", "music")
            )
            if ko:
                said = f"{query} {what[0]}을 틀게요." if query else f"{what[0]}을 틀게요."
                said = said.replace("라디오을", "라디오를")
            else:
                said = f"Playing {query}." if query else f"Playing {what[1]}."
        elif flow == "navigate":
            payload = {"destination": str(values.get("destination"))}
            said = (
                fill_template("{d}(으)로 안내를 시작할게요.", {"d": payload["destination"]})
                if ko
                else f"Starting navigation to {payload['destination']}."
            )
        elif flow == "search_nearby":
            category = str(values.get("category"))
            payload = {"category": category}
            category_names = _CATEGORY_NAMES.get(category, (category, category))
            said = (
                fill_template("근처 {c}(을)를 찾을게요.", {"c": category_names[0]})
                if ko
                else f"Looking for {category_names[1]} nearby."
            )
        elif flow == "call_contact":
            if values.get("number"):
                payload = {"number": str(values["number"])}
                who = say_value("phone", payload["number"], "ko")
                said = f"{who}로 전화를 걸게요." if ko else f"Calling {who}."
            else:
                payload = {"contact": str(values.get("contact"))}
                said = (
                    f"{payload['contact']}에게 전화를 걸게요."
                    if ko
                    else f"Calling {payload['contact']}."
                )
        elif flow == "send_message":
            payload = {"contact": str(values.get("contact")), "text": str(values.get("text"))}
            said = (
                f"{payload['contact']}에게 '{payload['text']}'라고 보낼게요."
                if ko
                else f'Sending {payload["contact"]}: "{payload["text"]}".'
            )
        else:
            payload = {}
            said = {
                "cancel_navigation": ("길 안내를 종료할게요.", "Ending navigation."),
                "pause_media": ("일시 정지할게요.", "Paused."),
                "resume_media": ("다시 재생할게요.", "Resuming."),
                "next_track": ("다음 곡을 틀게요.", "Next track."),
                "previous_track": ("이전 곡을 틀게요.", "Previous track."),
                "redial": ("마지막 번호로 다시 걸게요.", "Redialing the last number."),
                "hang_up": ("전화를 끊을게요.", "Hanging up."),
                "read_messages": ("새 메시지를 읽어 드릴게요.", "Here are your new messages."),
            }[flow][0 if ko else 1]
        return [Directive(name, payload)], said

    def _level_said(
        self, flow: str, values: dict[str, Any], ko: bool
    ) -> tuple[dict[str, Any], str]:
        if flow == "volume" and values.get("mute") is not None:
            mute = bool(values["mute"])
            said = (
                ("음소거할게요." if mute else "음소거를 해제할게요.")
                if ko
                else ("Muted." if mute else "Sound back on.")
            )
            return {"mute": mute}, said
        thing = ("볼륨", "the volume") if flow == "volume" else ("바람 세기", "the fan")
        if values.get("level") is not None:
            level = int(values["level"])
            return {"level": level}, (
                fill_template("{t}(을)를 {n}(으)로 맞출게요.", {"t": thing[0], "n": str(level)})
                if ko
                else f"Setting {thing[1]} to {level}."
            )
        delta = int(values.get("delta") or STEP.get(flow, 1))
        up = delta > 0
        if ko:
            verb = (
                ("올릴게요" if up else "줄일게요")
                if flow == "volume"
                else ("세게 할게요" if up else "약하게 할게요")
            )
            said = (
                f"볼륨을 {abs(delta)}만큼 {verb}."
                if flow == "volume"
                else (f"바람을 {abs(delta)}단계 {verb}.")
            )
        else:
            said = f"Turning {thing[1]} {'up' if up else 'down'} by {abs(delta)}."
        return {"delta": delta}, said

    def missing(self, flow: str, title: str, directives: Sequence[str], locale: str) -> str:
        """What the car lacks to carry out the directives, in words."""
        ko = locale.split("-")[0].lower() != "en"
        capabilities = [c for c in dict.fromkeys(capability_of(d) for d in directives) if c]
        names = [_CAPABILITY_NAMES.get(c, (c, c))[0 if ko else 1] for c in capabilities]
        if ko:
            return fill_template(
                "이 차량에는 {cap} 기능이 없어서 {title}(은)는 할 수 없어요.",
                {"cap": ", ".join(names), "title": title},
            )
        return f"This car doesn't have {' or '.join(names)}, so I can't do that ({title.lower()})."


PACK = CarPack()
