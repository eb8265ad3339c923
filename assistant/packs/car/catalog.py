"""The car directive catalog: the directives a head unit executes, by capability.

The contract between the backend and a head unit (names and payload keys are fixed): a head
unit lists its capabilities and executes the directives they allow; the backend never sends a
directive the car lacks.

| capability | directive | payload |
|---|---|---|
| climate | `climate.power`, `climate.ac`, `climate.steering_heat`, `climate.recirculation` | `on` bool |
| climate | `climate.set_temperature` | `celsius` or `delta` (°C, + warmer), `zone`: all, driver, passenger, rear |
| climate | `climate.set_fan` | `level` 1–8 or `delta` |
| climate | `climate.defrost` | `window`: front or rear, `on` bool |
| climate | `climate.seat_heat`, `climate.seat_vent` | `seat`: driver, passenger, rear_left, rear_right; `level` 0–3 |
| media | `media.play` | `query` str (optional), `kind`: music, podcast, radio |
| media | `media.pause`, `media.resume`, `media.next`, `media.previous` | `{}` |
| media | `media.volume` | `level` 0–30, or `delta`, or `mute` bool |
| media | `media.radio` | `band`: FM or AM, `frequency` (MHz FM, kHz AM), optional |
| media | `media.source` | `source`: radio, bluetooth, usb, streaming |
| navigation | `navigation.set_destination` | `destination` str, as said |
| navigation | `navigation.search_nearby` | `category`: gas_station, ev_charger, parking, rest_area, restaurant, cafe, service_center |
| navigation | `navigation.cancel` | `{}` |
| phone | `phone.call` | `contact` str or `number` str (digits) |
| phone | `phone.redial`, `phone.hang_up` | `{}` |
| messages | `message.read` | `{}` |
| messages | `message.send` | `contact` str, `text` str |

`screen` is a capability without directives: the car has a display.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CAPABILITIES", "DIRECTIVES", "capability_of"]

#: The capabilities a car may list.
CAPABILITIES = ("climate", "media", "navigation", "phone", "messages", "screen")

#: The directives each capability lets the car execute.
DIRECTIVES: Mapping[str, tuple[str, ...]] = {
    "climate": (
        "climate.power",
        "climate.ac",
        "climate.set_temperature",
        "climate.set_fan",
        "climate.defrost",
        "climate.seat_heat",
        "climate.seat_vent",
        "climate.steering_heat",
        "climate.recirculation",
    ),
    "media": (
        "media.play",
        "media.pause",
        "media.resume",
        "media.next",
        "media.previous",
        "media.volume",
        "media.radio",
        "media.source",
    ),
    "navigation": (
        "navigation.set_destination",
        "navigation.search_nearby",
        "navigation.cancel",
    ),
    "phone": ("phone.call", "phone.redial", "phone.hang_up"),
    "messages": ("message.read", "message.send"),
    "screen": (),
}


def capability_of(directive: str) -> str | None:
    """The capability a directive needs: capability_of("media.volume") == "media"."""
    return next((c for c, names in DIRECTIVES.items() if directive in names), None)
