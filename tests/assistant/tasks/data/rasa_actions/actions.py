"""A test-drive booking as a Rasa custom action: it reads the `date` slot, sets `booking_id`
and answers with a text and a button; `action_refuse` always refuses (HTTP 400)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection


class BookTestDrive(Action):
    def name(self) -> str:
        return "action_book_test_drive"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        day = tracker.get_slot("date")
        booking = "TD-" + str(day).replace("-", "")
        said = tracker.latest_message.get("text", "")
        dispatcher.utter_message(
            text=f"{day} 시승 예약을 마쳤어요. 예약 번호는 {booking}입니다.",
            buttons=[{"title": "예약 확인", "payload": "예약 확인"}],
        )
        return [SlotSet("booking_id", booking), SlotSet("heard", said)]


class Refuse(Action):
    def name(self) -> str:
        return "action_refuse"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise ActionExecutionRejection("action_refuse", "no slots for that day")
