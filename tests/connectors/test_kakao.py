"""KakaoTalk parse and render: Open Builder's sample request, pressed quick replies, params, limits."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.types import (
    Button,
    CardPart,
    DirectivePart,
    HandoffPart,
    ImagePart,
    NamedContext,
    QuickRepliesPart,
    QuickReply,
    Reply,
    ReplyPart,
    SpeechPart,
    TextPart,
)
from connectors import kakao
from connectors.errors import PayloadError

DATA = Path(__file__).parent / "data"


def sample_request() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "kakao_sample_request.json").read_text())
    return data


def reply(*parts: ReplyPart, route: str = "faq", confidence: float = 0.91) -> Reply:
    return Reply(parts=parts, route=route, confidence=confidence)


def outputs(response: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = response["template"]["outputs"]
    return result


class TestParse:
    def test_the_sample_request(self) -> None:
        utterance = kakao.parse(kakao.read_model(kakao.KakaoRequest, sample_request()))
        assert utterance.text == "주문한 거 언제 와요?"
        assert utterance.session_id == "kakao:BOT1:u-botUserKey"
        assert utterance.channel == "kakao" and utterance.locale == "ko"
        assert utterance.device.timezone == "Asia/Seoul"
        assert utterance.device.max_text_length == 1000
        meta = utterance.metadata
        assert meta["params"] == {} and meta["client_extra"] == {}
        assert meta["kakao"]["bot"] == {"id": "BOT1", "name": "고객센터봇"}
        assert meta["kakao"]["intent"] == {"id": "BLK1", "name": "배송조회", "extra": {}}
        assert meta["kakao"]["user_properties"] == {"plusfriendUserKey": "pf-123"}

    def test_a_pressed_quick_reply_brings_its_extra(self) -> None:
        body = sample_request()
        body["userRequest"]["utterance"] = "주말 영업"
        body["action"]["clientExtra"] = {"faq_id": "weekend", "page": 2}
        utterance = kakao.parse(kakao.read_model(kakao.KakaoRequest, body))
        assert utterance.text == "주말 영업"
        assert utterance.metadata["client_extra"] == {"faq_id": "weekend", "page": 2}

    def test_action_params_and_detail_params_reach_the_dialogue(self) -> None:
        body = sample_request()
        body["action"]["params"] = {"branch": "강남", "date": "내일"}
        body["action"]["detailParams"] = {
            "branch": {"origin": "강남점", "value": "강남", "groupName": ""}
        }
        body["contexts"] = [{"name": "order", "lifeSpan": 2, "params": {"id": {"value": "7"}}}]
        utterance = kakao.parse(kakao.read_model(kakao.KakaoRequest, body))
        assert utterance.metadata["params"] == {"branch": "강남", "date": "내일"}
        assert utterance.metadata["kakao"]["detail_params"]["branch"]["origin"] == "강남점"
        assert utterance.metadata["kakao"]["contexts"][0]["name"] == "order"

    def test_knowledge_plus_answers_are_passed_on(self) -> None:
        body = sample_request()
        knowledge = {"matchedKnowledges": [{"question": "영업시간?", "answer": "9시"}]}
        body["intent"] = {"id": "K", "name": "지식+", "extra": {"knowledge": knowledge}}
        utterance = kakao.parse(kakao.read_model(kakao.KakaoRequest, body))
        assert utterance.metadata["kakao"]["intent"]["extra"]["knowledge"] == knowledge

    def test_unknown_keys_are_kept_and_optional_ones_may_be_absent(self) -> None:
        body = {"userRequest": {"utterance": "hi", "user": {"id": "x"}, "lang": "en"}, "new": 1}
        utterance = kakao.parse(kakao.read_model(kakao.KakaoRequest, body))
        assert utterance.locale == "en" and utterance.metadata["kakao"]["bot"]["id"] == ""

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (lambda b: b.pop("userRequest"), "userRequest"),
            (lambda b: b["userRequest"].pop("utterance"), "userRequest.utterance"),
            (lambda b: b["userRequest"]["user"].pop("id"), "userRequest.user.id"),
            (lambda b: b["userRequest"].update(utterance=3), "userRequest.utterance"),
            (lambda b: b["userRequest"]["user"].update(id=""), "userRequest.user.id"),
            (lambda b: b["action"].update(params=[]), "action.params"),
        ],
    )
    def test_a_missing_or_wrong_field_is_named(self, change: Any, field: str) -> None:
        body = copy.deepcopy(sample_request())
        change(body)
        with pytest.raises(PayloadError) as caught:
            kakao.read_model(kakao.KakaoRequest, body)
        assert caught.value.field == field


class TestRender:
    def test_the_sample_response(self) -> None:
        expected = json.loads((DATA / "kakao_sample_response.json").read_text())
        answer = reply(
            TextPart(text="평일 오전 9시부터 오후 6시까지 운영합니다."),
            QuickRepliesPart(options=(QuickReply(label="상담원 연결"),)),
        )
        contexts = [NamedContext(name="faq_topic", lifespan=3, params={"faq_id": "hours"})]
        rendered = kakao.render(answer, contexts=contexts)
        assert rendered["data"].pop("text") == answer.plain_text()
        assert rendered == expected

    def test_cards_images_and_handoff(self) -> None:
        rendered = kakao.render(
            reply(
                CardPart(
                    title="강남점",
                    description="서울 강남구",
                    image_url="https://img.example.org/a.png",
                    buttons=(
                        Button(label="길찾기", url="https://map.example.org"),
                        Button(label="전화번호", text="강남점 전화번호"),
                        Button(label="전화", payload={"phone": "02-000-0000"}),
                    ),
                ),
                ImagePart(url="https://img.example.org/b.png", alt_text="지도"),
                HandoffPart(text="상담원에게 연결해 드릴게요."),
            )
        )
        card, image, handoff = outputs(rendered)
        assert card["basicCard"]["thumbnail"] == {"imageUrl": "https://img.example.org/a.png"}
        assert card["basicCard"]["buttons"] == [
            {"action": "webLink", "label": "길찾기", "webLinkUrl": "https://map.example.org"},
            {"action": "message", "label": "전화번호", "messageText": "강남점 전화번호"},
            {"action": "phone", "label": "전화", "phoneNumber": "02-000-0000"},
        ]
        assert image == {
            "simpleImage": {"imageUrl": "https://img.example.org/b.png", "altText": "지도"}
        }
        assert handoff["textCard"]["buttons"] == [{"action": "operator", "label": "상담원 연결"}]

    def test_what_kakao_cannot_show_is_said_in_text(self) -> None:
        rendered = kakao.render(
            reply(
                SpeechPart(text="말로 하는 답"),
                ImagePart(url="http://insecure.example.org/a.png", alt_text="약도"),
                DirectivePart(name="navigation.set_destination", text="강남점으로 안내합니다."),
            )
        )
        assert outputs(rendered) == [
            {"simpleText": {"text": "말로 하는 답\n약도\n강남점으로 안내합니다."}}
        ]

    def test_speech_is_not_said_twice_next_to_text(self) -> None:
        rendered = kakao.render(reply(TextPart(text="답"), SpeechPart(text="답")))
        assert outputs(rendered) == [{"simpleText": {"text": "답"}}]

    def test_neighbouring_cards_form_a_carousel(self) -> None:
        cards = [CardPart(title=f"매장 {i}", description="설명") for i in range(4)]
        (carousel,) = outputs(kakao.render(reply(*cards)))
        assert carousel["carousel"]["type"] == "textCard"
        assert [i["title"] for i in carousel["carousel"]["items"]] == [
            f"매장 {i}" for i in range(4)
        ]

    def test_only_quick_replies_still_say_something(self) -> None:
        rendered = kakao.render(reply(QuickRepliesPart(options=(QuickReply(label="예"),))))
        assert outputs(rendered) == [{"simpleText": {"text": "아래에서 골라 주세요."}}]

    def test_block_quick_replies_and_extra(self) -> None:
        option = QuickReply(label="주문 조회", payload={"block_id": "BLK9", "order": "7"})
        (quick,) = kakao.render(
            reply(TextPart(text="무엇을"), QuickRepliesPart(options=(option,)))
        )["template"]["quickReplies"]
        assert quick == {
            "action": "block",
            "label": "주문 조회",
            "blockId": "BLK9",
            "messageText": "주문 조회",
            "extra": {"order": "7"},
        }


class TestLimits:
    def test_long_text_is_split_at_sentences_into_outputs(self) -> None:
        sentence = "배송은 주문 후 이틀 안에 시작됩니다. "
        text = sentence * 100  # about 2,100 characters
        parts = outputs(kakao.render(reply(TextPart(text=text))))
        texts = [p["simpleText"]["text"] for p in parts]
        assert len(texts) == 3 and all(len(t) <= 1000 for t in texts)
        assert all(t.endswith("시작됩니다.") for t in texts)
        assert "".join(texts).replace(" ", "") == text.replace(" ", "")

    def test_more_than_three_outputs_are_folded_into_the_last(self) -> None:
        images = [
            ImagePart(url=f"https://img.example.org/{i}.png", alt_text=f"사진 {i}")
            for i in range(5)
        ]
        parts = outputs(kakao.render(reply(*images)))
        assert len(parts) == 3
        assert "simpleImage" in parts[0] and "simpleImage" in parts[1]
        assert parts[2] == {"simpleText": {"text": "사진 2\n사진 3\n사진 4"}}

    def test_text_too_long_for_the_outputs_left_is_shortened(self) -> None:
        parts = outputs(kakao.render(reply(TextPart(text="가나다 " * 1000))))
        assert len(parts) == 3
        assert len(parts[2]["simpleText"]["text"]) <= 1000
        assert parts[2]["simpleText"]["text"].endswith("…")

    def test_quick_replies_labels_cards_and_contexts_are_cut_to_size(self) -> None:
        options = tuple(QuickReply(label=f"아주 긴 빠른 답장 라벨 번호 {i}") for i in range(12))
        card = CardPart(
            title="제" * 60,
            description="설" * 300,
            buttons=tuple(Button(label=f"버튼 {i}", text=f"버튼 {i}") for i in range(5)),
        )
        contexts = [NamedContext(name="long", lifespan=500, ttl=10**6, params={"n": 3})]
        rendered = kakao.render(
            reply(TextPart(text="골라 주세요"), card, QuickRepliesPart(options=options)),
            contexts=contexts,
        )
        quick = rendered["template"]["quickReplies"]
        assert len(quick) == 10
        assert all(len(q["label"]) <= 14 for q in quick)
        # two of the card's five buttons come first, as quick replies; the full text is sent
        assert [q["messageText"] for q in quick[:2]] == ["버튼 3", "버튼 4"]
        assert quick[2]["messageText"] == "아주 긴 빠른 답장 라벨 번호 0"
        text_card = outputs(rendered)[1]["textCard"]
        assert len(text_card["title"]) <= 50 and len(text_card["description"]) <= 230
        assert len(text_card["buttons"]) == 3
        assert rendered["context"]["values"] == [
            {"name": "long", "lifeSpan": 100, "ttl": 86400, "params": {"n": "3"}}
        ]

    def test_unlabelled_quick_replies_and_buttons_are_left_out(self) -> None:
        card = CardPart(title="카드", buttons=(Button(label=" "), Button(label="예")))
        options = (QuickReply(label=""), QuickReply(label="아니요"))
        rendered = kakao.render(reply(card, QuickRepliesPart(options=options)))
        assert [b["label"] for b in outputs(rendered)[0]["textCard"]["buttons"]] == ["예"]
        assert [q["label"] for q in rendered["template"]["quickReplies"]] == ["아니요"]

    def test_forgotten_contexts_are_deleted_with_lifespan_zero(self) -> None:
        rendered = kakao.render(reply(TextPart(text="네")), forget=["order"])
        assert rendered["context"]["values"] == [{"name": "order", "lifeSpan": 0, "params": {}}]


def test_callback_ack() -> None:
    assert kakao.callback_ack("잠시만요") == {
        "version": "2.0",
        "useCallback": True,
        "data": {"text": "잠시만요"},
    }
