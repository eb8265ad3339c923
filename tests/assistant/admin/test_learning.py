"""Active learning: unanswered questions clustered, the likely entry suggested, one click adds
them as alternative questions (or starts an entry), and they are answered afterwards."""

from __future__ import annotations

from typing import Any

import numpy as np

from assistant.admin.learning import (
    Question,
    _Vectorizer,
    cluster_questions,
    same_question_similarity,
)
from faq_index import FaqEntry, FaqIndex, HashingEncoder

from .conftest import ConsoleClient

#: Asked in words the FAQ does not use (so not answered, whatever the calibration), about
#: the entry `defog`.
FOG = ["성에 제거 방법", "성에 제거하는 방법"]


async def clusters(console: ConsoleClient) -> list[dict[str, Any]]:
    r = await console.api("GET", "/admin/api/learning")
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["clusters"]
    return found


def holding(found: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return next(c for c in found if text in [q["text"] for q in c["questions"]])


async def test_unanswered_questions_become_alternatives_and_are_answered(
    console: ConsoleClient,
) -> None:
    for n, text in enumerate([*FOG, FOG[0], "오늘 점심 뭐 먹지"]):
        reply = await console.chat(text, f"s{n}")
        assert reply["route"] in ("clarify", "fallback"), reply
    found = await clusters(console)
    fog = holding(found, FOG[0])
    assert sorted(q["text"] for q in fog["questions"]) == sorted(FOG)
    assert fog["size"] == 3 and found[0] is not None and found[0]["id"] == fog["id"]
    assert len(fog["suggestions"]) == 3  # which is first depends on the FAQ's calibration
    assert {r for q in fog["questions"] for r in q["reasons"]} <= {"clarify", "fallback"}
    lunch = holding(found, "오늘 점심 뭐 먹지")
    assert lunch["questions"][0]["reasons"] == {"fallback": 1}

    r = await console.api(
        "POST", "/admin/api/learning/alternatives", json={"entry_id": "defog", "questions": FOG}
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2
    assert set(FOG) <= set(r.json()["entry"]["alternatives"])
    for text in FOG:  # the index updated: now they are answered
        assert (await console.chat(text, "after"))["route"] == "faq:defog"
    again = await clusters(console)
    assert all(FOG[0] not in [q["text"] for q in c["questions"]] for c in again)
    # adding the same questions twice adds nothing
    r = await console.api(
        "POST", "/admin/api/learning/alternatives", json={"entry_id": "defog", "questions": FOG}
    )
    assert r.json()["added"] == 0
    unknown = await console.api(
        "POST", "/admin/api/learning/alternatives", json={"entry_id": "nope", "questions": FOG}
    )
    assert unknown.status_code == 404


async def test_a_cluster_starts_a_new_entry_or_is_dismissed(console: ConsoleClient) -> None:
    for n, text in enumerate(["오늘 점심 뭐 먹지", "내일 점심 뭐 먹지", "주유 할인 카드 있나요"]):
        await console.chat(text, f"s{n}")
    entry = {
        "id": "lunch",
        "question": "오늘 점심 뭐 먹지",
        "answer": "근처 맛집은 앱의 주변 메뉴에서 찾을 수 있어요.",
        "locale": "ko",
    }
    r = await console.api(
        "POST",
        "/admin/api/learning/entry",
        json={"entry": entry, "questions": ["오늘 점심 뭐 먹지", "내일 점심 뭐 먹지"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["entry"]["alternatives"] == ["내일 점심 뭐 먹지"]
    assert (await console.chat("내일 점심 뭐 먹지", "x"))["route"] == "faq:lunch"
    duplicate = await console.api(
        "POST", "/admin/api/learning/entry", json={"entry": entry, "questions": []}
    )
    assert duplicate.status_code == 409
    r = await console.api(
        "POST", "/admin/api/learning/dismiss", json={"questions": ["주유 할인 카드 있나요"]}
    )
    assert r.json() == {"dismissed": 1}
    assert await clusters(console) == []


async def test_thumbs_down_questions_are_offered_too(console: ConsoleClient) -> None:
    reply = await console.chat("세차는 어디서 할 수 있나요?", "s1")
    assert reply["route"].startswith("faq:")
    await console.client.post(
        "/v1/feedback", json={"session_id": "s1", "turn": 1, "rating": "down"}
    )
    (found,) = await clusters(console)
    assert found["questions"][0]["reasons"] == {"negative": 1}


def faq(encoder: Any) -> FaqIndex:
    return FaqIndex(
        [
            FaqEntry(
                id="key",
                question="스마트키 배터리 교체",
                alternatives=("스마트키 건전지 교체 방법", "키 배터리 갈기"),
                answer="CR2032 전지로 바꾸세요.",
            ),
            FaqEntry(
                id="wash",
                question="세차는 어디서 하나요",
                alternatives=("세차장 위치", "세차 어디서 해요"),
                answer="서비스센터에서 합니다.",
            ),
            FaqEntry(
                id="fee",
                question="충전 요금은 얼마인가요",
                alternatives=("충전비 얼마예요", "급속 충전 요금"),
                answer="kWh당 347원입니다.",
            ),
        ],
        encoder=encoder,
    )


def test_the_same_question_threshold_is_learned_from_the_faq() -> None:
    for encoder in (HashingEncoder(), None):  # dense embeddings, or TF-IDF without them
        index = faq(encoder)
        vectorize = _Vectorizer(index, [])
        learned = same_question_similarity(index, vectorize)
        vectors = vectorize(
            ["스마트키 배터리 교체", "스마트키 건전지 교체 방법", "충전 요금은 얼마인가요"]
        )
        same, other = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
        assert other < learned <= same, (vectorize.kind, other, learned, same)
        groups = cluster_questions(
            index,
            [
                Question("스마트키 배터리 교체 방법", "ko", 2),
                Question("스마트키 배터리 교체는?", "ko"),
                Question("충전 요금 얼마", "ko"),
            ],
        )
        assert [len(g.questions) for g in groups] == [2, 1]
        assert groups[0].size == 3 and groups[0].suggestions[0].entry_id == "key"
        assert groups[1].suggestions[0].entry_id == "fee"
        assert np.isclose(np.linalg.norm(vectors, axis=1), 1.0).all()


def test_questions_of_different_locales_are_never_one_cluster() -> None:
    index = faq(HashingEncoder())
    groups = cluster_questions(
        index, [Question("charging fee", "en"), Question("charging fee", "ko")]
    )
    assert sorted(g.locale for g in groups) == ["en", "ko"]
    assert cluster_questions(index, []) == []
