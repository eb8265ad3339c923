from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from assistant.types import (
    Button,
    CardPart,
    DirectivePart,
    HandoffPart,
    ImagePart,
    QuickRepliesPart,
    QuickReply,
    Reply,
    ReplyPart,
    SpeechPart,
    TextPart,
    Utterance,
)

ALL_PARTS = [
    TextPart(text="운영시간은 평일 9시부터 6시까지입니다."),
    SpeechPart(text="평일 아홉 시부터요.", ssml="<speak>평일 <say-as>9</say-as>시부터요.</speak>"),
    CardPart(
        title="보증 안내",
        description="일반 부품 3년 6만 km",
        buttons=(Button(label="자세히", url="https://example.com/w"), Button(label="상담")),
    ),
    QuickRepliesPart(
        title="더 알아보기", options=(QuickReply(label="충전"), QuickReply(label="보증"))
    ),
    ImagePart(url="https://example.com/map.png", alt_text="서비스센터 지도"),
    DirectivePart(
        name="navigation.set_destination", payload={"q": "강남"}, text="강남으로 안내할게요."
    ),
    HandoffPart(text="상담원을 연결해 드릴게요.", reason="user_request"),
]


@pytest.mark.parametrize("part", ALL_PARTS, ids=lambda p: p.type)
def test_every_part_has_a_plain_text_fallback(part: ReplyPart) -> None:
    text = part.fallback_text()
    assert text.strip()


def test_card_fallback_keeps_title_description_and_links() -> None:
    card = ALL_PARTS[2]
    assert (
        card.fallback_text()
        == "보증 안내\n일반 부품 3년 6만 km\n- 자세히: https://example.com/w\n- 상담"
    )


def test_reply_round_trips_through_json_with_its_part_types() -> None:
    reply = Reply(parts=tuple(ALL_PARTS), route="faq:hours", confidence=0.8, expects_reply=True)
    again = Reply.model_validate_json(reply.model_dump_json())
    assert again == reply
    assert [p.type for p in again.parts] == [p.type for p in ALL_PARTS]


def test_unknown_part_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="type"):
        TypeAdapter(ReplyPart).validate_python({"type": "hologram", "text": "x"})


def test_quick_reply_sends_its_label_unless_told_otherwise() -> None:
    assert QuickReply(label="충전").message == "충전"
    assert QuickReply(label="1번", text="충전 요금 알려줘").message == "충전 요금 알려줘"


def test_confidence_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValidationError, match="confidence"):
        Reply(parts=(), route="x", confidence=1.5)


def test_utterance_is_immutable() -> None:
    u = Utterance(text="hi", session_id="s")
    with pytest.raises(ValidationError):
        u.text = "changed"  # type: ignore[misc]
