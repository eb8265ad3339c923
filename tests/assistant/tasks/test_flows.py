from __future__ import annotations

from pathlib import Path

import pytest

from assistant.tasks.flows import load_flows
from assistant.tasks.slots import fill_template, josa, say_value

from .conftest import DATA


def test_the_test_bots_flows_load() -> None:
    model = load_flows([DATA / "bot" / "flows.yaml"])
    assert set(model.flows) == {"navigate", "climate", "call", "book", "rasa_book"}
    assert model.flow_of("book") == "book"
    assert model.nlu.entities["place"].free and not model.nlu.entities["contact"].free
    assert "엔진 오일" in model.nlu.entities["service"].values["엔진오일 교체"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flows:\n  go:\n    slots: {}\n", "flows.go.intent: no examples for intent 'go'"),
        (
            "intents: {go: {examples: [가자]}}\nflows:\n  go:\n    slots:\n      x: {type: colour, prompt: {ko: 뭐요}}\n",
            "flows.go.slots.x.type: 'colour' is neither a built-in type",
        ),
        (
            "intents: {go: {examples: [가자]}}\nflows:\n  go:\n    slots:\n      x: {type: text}\n",
            "flows.go.slots.x.prompt: a required slot needs one",
        ),
        (
            "intents: {go: {examples: [가자]}}\nflows:\n  go:\n    action: {directive: Navigate}\n",
            "flows.go.action.directive",
        ),
        ("flows:\n  go:\n    colour: red\n", "flows.go.colour: Extra inputs are not permitted"),
        ("intents: {go: {examples: ['[x]()']}}\n", "names no entity"),
    ],
)
def test_wrong_flows_are_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match="task data refused") as refused:
        load_flows([write(tmp_path, text)])
    assert message in str(refused.value)


def test_rasa_nlu_files_feed_the_same_model(tmp_path: Path) -> None:
    nlu = Path(__file__).parents[1] / "nlu" / "data" / "car_nlu.yml"
    flows = write(
        tmp_path,
        "flows:\n  call:\n    slots:\n      contact: {type: contact, prompt: {ko: 누구에게요}}\n",
    )
    model = load_flows([flows], [nlu])
    assert model.flow_of("call") == "call"
    assert model.nlu.entities["contact"].values["아빠"] == ["아버지", "dad"]
    assert "what is the meaning of life" in model.nlu.out_of_scope


@pytest.mark.parametrize(
    ("word", "marker", "particle"),
    [
        ("서울역", "(으)로", "으로"),
        ("부산", "(으)로", "으로"),
        ("집", "(으)로", "으로"),
        ("서울", "(으)로", "로"),  # ㄹ takes 로
        ("강남", "(이)가", "이"),
        ("민수", "(이)가", "가"),
        ("22도", "(을)를", "를"),
        ("30", "(은)는", "은"),
    ],
)
def test_korean_particles_fit_the_word(word: str, marker: str, particle: str) -> None:
    assert josa(word, marker) == particle


def test_templates_and_spoken_values() -> None:
    assert fill_template("{a}(으)로 {b}", {"a": "서울", "b": "가요"}) == "서울로 가요"
    assert say_value("datetime", "2026-12-02T15:00:00+09:00", "ko") == "12월 2일 수요일 오후 3시"
    assert say_value("datetime", "2026-12-02T09:30:00+09:00", "en") == (
        "Wednesday, December 2 at 9:30 AM"
    )
    assert say_value("temperature", 22.0, "ko") == "22도"
    assert say_value("phone", "01012345678", "ko") == "010-1234-5678"
