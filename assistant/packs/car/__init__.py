"""The car pack: a driver's commands for climate, media, navigation, phone and messages, in
Korean and English, ending in the directives of the car directive catalog (`catalog`).

Switch it on in a task skill (`packs: [car]`). Its examples and lookups are in `car.yaml`;
`values` reads what a command says beyond its intent (on or off, absolute or relative
values, °F, seats and zones, quoted message text) and builds the payloads.
"""

from assistant.packs.car.catalog import CAPABILITIES, DIRECTIVES, capability_of
from assistant.packs.car.values import PACK, CarPack

__all__ = ["CAPABILITIES", "DIRECTIVES", "PACK", "CarPack", "capability_of"]
