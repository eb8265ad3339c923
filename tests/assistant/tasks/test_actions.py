"""The Rasa action protocol against a real rasa-sdk server, and its refusals."""

from __future__ import annotations

import pytest

from assistant.nlu.entity import Entity
from assistant.tasks.actions import ActionCall, ActionError, call_rasa, rasa_request
from assistant.types import QuickRepliesPart, TextPart

CALL = ActionCall(
    flow="rasa_book",
    intent="rasa_book",
    slots={"date": "2026-12-11"},
    session_id="s-1",
    locale="ko",
    text="다음 주 금요일",
    entities=(Entity("date", "2026-12-11", "다음 주 금요일", 0, 8),),
)


def test_the_request_is_what_rasa_sdk_reads() -> None:
    body = rasa_request(CALL, "action_book_test_drive", ["date", "booking_id"])
    tracker = body["tracker"]
    assert body["next_action"] == "action_book_test_drive" and body["sender_id"] == "s-1"
    assert tracker["slots"] == {"date": "2026-12-11", "booking_id": None}
    assert tracker["latest_message"]["intent"] == {"name": "rasa_book", "confidence": 1.0}
    assert tracker["latest_message"]["entities"][0]["entity"] == "date"


async def test_slot_events_and_responses_are_read(rasa_action_server: str) -> None:
    result = await call_rasa(
        rasa_action_server, "action_book_test_drive", CALL, slot_names=["date"], timeout_s=10
    )
    assert result.slots == {"booking_id": "TD-20261211", "heard": "다음 주 금요일"}
    text, buttons = result.parts
    assert isinstance(text, TextPart) and "TD-20261211" in text.text
    assert isinstance(buttons, QuickRepliesPart) and buttons.options[0].label == "예약 확인"


async def test_an_unknown_action_and_a_refusal_are_errors(rasa_action_server: str) -> None:
    with pytest.raises(ActionError, match="has no action 'action_nothing'"):
        await call_rasa(rasa_action_server, "action_nothing", CALL, slot_names=[], timeout_s=10)
    with pytest.raises(ActionError, match="refused"):
        await call_rasa(rasa_action_server, "action_refuse", CALL, slot_names=[], timeout_s=10)


async def test_an_unreachable_server_is_an_error() -> None:
    with pytest.raises(ActionError, match="action server"):
        await call_rasa("http://127.0.0.1:9/webhook", "a", CALL, slot_names=[], timeout_s=2)
