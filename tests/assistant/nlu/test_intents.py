from __future__ import annotations

import pytest

from assistant.nlu.intents import IntentClassifier
from faq_index.encoders import HashingEncoder

EXAMPLES = (
    [
        ("navigate", t)
        for t in [
            "서울역으로 안내해 줘",
            "강남역까지 길 안내",
            "집으로 가자",
            "부산까지 가는 길 알려줘",
            "take me to the airport",
            "navigate to seoul station",
            "drive me home",
        ]
    ]
    + [
        ("call", t)
        for t in [
            "엄마한테 전화해 줘",
            "회사에 전화 걸어 줘",
            "김민수에게 전화",
            "아빠 전화 연결해",
            "call mom",
            "phone the office",
            "dial 010 1234 5678",
        ]
    ]
    + [
        ("climate", t)
        for t in [
            "에어컨 22도로 맞춰 줘",
            "온도 좀 올려 줘",
            "히터 켜 줘",
            "너무 더워 온도 낮춰",
            "set the temperature to 21",
            "turn on the heater",
            "make it cooler",
        ]
    ]
)
OUT = [
    "오늘 주식 시장 어때?",
    "what is the meaning of life",
    "점심 메뉴 추천해 줘",
    "tell me a joke",
]


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier(encoder=HashingEncoder(), out_of_scope_threshold=0.4).fit(
        EXAMPLES, out_of_scope=OUT
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("대전역으로 안내해 줘", "navigate"),
        ("take me to busan", "navigate"),
        ("아빠한테 전화 걸어 줘", "call"),
        ("call dad", "call"),
        ("에어컨 온도 20도로", "climate"),
        ("set temperature to 19", "climate"),
    ],
)
def test_in_scope(classifier: IntentClassifier, text: str, intent: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.intent == intent
    assert prediction.ranking[0].classifier > 0 and prediction.ranking[0].index > 0


@pytest.mark.parametrize("text", ["주식 시장 전망 어때?", "what is the meaning of it all"])
def test_out_of_scope(classifier: IntentClassifier, text: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.out_of_scope and prediction.intent is None


def test_scores_are_probabilities_ranked_best_first(classifier: IntentClassifier) -> None:
    ranking = classifier.predict("엄마한테 전화해 줘", k=3).ranking
    assert ranking[0].intent == "call"
    assert all(0.0 <= s.score <= 1.0 for s in ranking)
    assert ranking == tuple(sorted(ranking, key=lambda s: -s.score))


def test_a_single_intent_is_decided_by_the_index_alone() -> None:
    one = IntentClassifier(out_of_scope_threshold=0.0, calibrate=False).fit(EXAMPLES[:7])
    assert one.predict("서울역 안내").intent == "navigate"


def test_no_examples_is_refused() -> None:
    with pytest.raises(ValueError, match="no intent examples"):
        IntentClassifier().fit([])
