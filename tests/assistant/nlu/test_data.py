from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.nlu.data import NluDataError, parse_rasa_nlu

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return parse_rasa_nlu((DATA / "car_nlu.yml").read_text(encoding="utf-8"), "car_nlu.yml")


def test_intents_and_their_examples(data) -> None:  # type: ignore[no-untyped-def]
    assert sorted(data.intents) == ["call", "navigate"]  # the retrieval intent is FAQ data
    assert ("navigate", "서울역으로 안내해 줘") in data.examples()
    assert ("navigate", "drive me home") in data.examples()  # markup removed


def test_out_of_scope_examples(data) -> None:  # type: ignore[no-untyped-def]
    assert data.out_of_scope == ["오늘 주식 시장 어때?", "what is the meaning of life"]


def test_lookups_synonyms_and_annotation_values(data) -> None:  # type: ignore[no-untyped-def]
    contact = data.entities["contact"]
    assert contact.values["엄마"] == ["어머니", "mom"]  # from [어머니](contact:엄마)
    assert contact.values["아빠"] == ["아버지", "dad"]  # from the synonym section
    assert contact.values["회사"] == ["office"]
    assert data.entities["place"].free  # annotated without a table: any value


def test_imported_data_drives_the_extractor(data) -> None:  # type: ignore[no-untyped-def]
    extractor = data.extractor()

    def values(text: str) -> list[tuple[str, object]]:
        return [(e.type, e.value) for e in extractor.extract(text, now=NOW)]

    assert values("아버지한테 전화해") == [("contact", "아빠")]
    assert values("서울 역으로 안내해 줘") == [("place", "서울역")]  # synonym of an annotated value
    assert values("seoul stn으로 가자") == [("place", "서울역")]
    assert values("부산역으로 안내해 줘") == [("place", "부산역")]  # learned template
    assert values("12가 3456") == [("plate", "12가 3456")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nlu: [1, 2]", r"nlu\[0\]: expected a mapping"),
        ("nlu:\n  - intent: x\n", r"nlu\[0\] \(intent: x\): no examples"),
        ("nlu:\n  - story: x\n", "expected one of intent, synonym, lookup, regex"),
        ("nlu:\n  - regex: r\n    examples: |\n      - '[a-'\n", "regex 'r'"),
        ("nlu: [", "not valid YAML"),
    ],
)
def test_bad_data_names_the_item(text: str, message: str) -> None:
    with pytest.raises(NluDataError, match=message):
        parse_rasa_nlu(text, "nlu.yml")
