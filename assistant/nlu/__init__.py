"""NLU helpers of the task skill: entities (numbers, dates and times, temperatures, phone
numbers, lookups), intent recognition and NLU training data (the bot's own and Rasa's).

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> now = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    >>> [(e.type, e.value) for e in EntityExtractor().extract("내일 오후 3시", now=now)]
    [('datetime', '2026-12-02T15:00:00+09:00')]
"""

from assistant.nlu.data import NluData, NluDataError, parse_rasa_nlu
from assistant.nlu.dates import find_datetimes
from assistant.nlu.entities import EntityExtractor, EntitySpec, parse_annotations
from assistant.nlu.entity import Entity
from assistant.nlu.intents import IntentClassifier, IntentPrediction, IntentScore
from assistant.nlu.numbers import find_numbers, korean_number

__all__ = [
    "Entity",
    "EntityExtractor",
    "EntitySpec",
    "IntentClassifier",
    "IntentPrediction",
    "IntentScore",
    "NluData",
    "NluDataError",
    "find_datetimes",
    "find_numbers",
    "korean_number",
    "parse_annotations",
    "parse_rasa_nlu",
]
