from __future__ import annotations

from pathlib import Path

import pytest

from faq_index.entry import FaqEntry, FaqImage, FaqLink
from faq_index.errors import EntryImportError
from faq_index.formats import FORMATS, dump_entries, load_entries, parse_entries, save_entries

DATA = Path(__file__).parent / "data"


@pytest.fixture
def entries() -> list[FaqEntry]:
    return load_entries(DATA / "mini.yaml")


def test_yaml_fixture_loads(entries: list[FaqEntry]) -> None:
    assert [e.id for e in entries][:2] == ["hours", "warranty"]
    assert entries[1].link == FaqLink(url="https://example.com/warranty", label="보증 안내")
    assert entries[0].questions[1] == "서비스센터 몇 시까지 해요?"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "yaml"])
def test_round_trip_keeps_every_field(entries: list[FaqEntry], fmt: str) -> None:
    rich = entries[0].model_copy(update={"image": FaqImage(url="https://x/y.png", alt_text="지도")})
    original = [rich, *entries[1:]]
    assert parse_entries(dump_entries(original, fmt), fmt) == original  # type: ignore[arg-type]


def test_rasa_round_trip_keeps_questions_and_answers(entries: list[FaqEntry]) -> None:
    back = parse_entries(dump_entries(entries, "rasa"), "rasa")
    assert [(e.id, e.questions, e.answer) for e in back] == [
        (e.id, e.questions, e.answer) for e in entries
    ]
    assert back[2].quick_replies == ("충전 요금이 얼마예요?",)


def test_rasa_from_separate_nlu_and_domain_files(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n'
        "  - intent: faq/ask_hours\n    examples: |\n      - 영업시간은?\n      - 몇 시에 [열어요](v)?\n",
        encoding="utf-8",
    )
    (tmp_path / "domain.yml").write_text(
        "responses:\n  utter_greet:\n    - text: hello\n  utter_faq/ask_hours:\n"
        "    - text: 9시부터 6시까지\n      image: https://x/map.png\n",
        encoding="utf-8",
    )
    [entry] = load_entries([tmp_path / "nlu.yml", tmp_path / "domain.yml"])
    assert entry.id == "ask_hours"
    assert entry.alternatives == ("몇 시에 열어요?",)
    assert entry.image is not None and entry.image.url == "https://x/map.png"
    assert entry.category == "faq"


def test_rasa_intent_without_response_is_reported_with_its_line() -> None:
    text = "nlu:\n  - intent: faq/a\n    examples: |\n      - q\nresponses: {}\n"
    with pytest.raises(EntryImportError) as info:
        parse_entries(text, "rasa")
    assert info.value.problems[0].line == 2
    assert "utter_faq/a" in str(info.value)


def test_jsonl_reports_every_bad_line_and_imports_nothing() -> None:
    text = (
        '{"id": "a", "question": "q", "answer": "x"}\n'
        "not json\n"
        '{"id": "b", "question": "", "answer": "x"}\n'
        "\n"
        '{"id": "a", "question": "q2", "answer": "y"}\n'
        "[1, 2]\n"
    )
    with pytest.raises(EntryImportError) as info:
        parse_entries(text, "jsonl", "faq.jsonl")
    lines = [p.line for p in info.value.problems]
    assert lines == [2, 3, 5, 6]
    message = str(info.value)
    assert message.startswith("faq.jsonl: 4 problems, nothing imported")
    assert "repeats the entry of line 1" in message


def test_csv_line_numbers_count_multiline_cells() -> None:
    text = 'id,question,answer\na,"first\nline",x\nb,q,\nbad id!,q,x\n'
    with pytest.raises(EntryImportError) as info:
        parse_entries(text, "csv")
    assert [p.line for p in info.value.problems] == [4, 5]
    assert "answer" in str(info.value.problems[0])


def test_csv_unknown_column_is_refused() -> None:
    with pytest.raises(EntryImportError, match="unknown column"):
        parse_entries("id,question,answer,colour\na,q,x,red\n", "csv")


def test_csv_refuses_to_export_separator_in_list_items() -> None:
    entry = FaqEntry(id="a", question="q", answer="x", alternatives=("a|b",))
    with pytest.raises(ValueError, match="JSON Lines or YAML"):
        dump_entries([entry], "csv")


def test_yaml_reports_line_of_bad_item() -> None:
    text = "entries:\n  - id: a\n    question: q\n    answer: x\n  - id: b\n    answer: y\n"
    with pytest.raises(EntryImportError) as info:
        parse_entries(text, "yaml")
    assert info.value.problems[0].line == 5
    assert "question" in info.value.problems[0].message


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(EntryImportError) as info:
        parse_entries('entries:\n  - id: a\n    question: "unclosed\n', "yaml")
    assert info.value.problems[0].line == 4  # where the parser gave up


def test_ids_must_be_unique_across_files(tmp_path: Path, entries: list[FaqEntry]) -> None:
    save_entries(entries[:2], tmp_path / "a.jsonl")
    save_entries(entries[1:3], tmp_path / "b.csv")
    with pytest.raises(EntryImportError, match="more than one file"):
        load_entries([tmp_path / "a.jsonl", tmp_path / "b.csv"])


def test_unknown_suffix_says_what_to_use(tmp_path: Path) -> None:
    path = tmp_path / "faq.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(EntryImportError, match=r"\.jsonl, \.csv"):
        load_entries(path)


def test_every_format_is_known() -> None:
    assert set(FORMATS) == {"jsonl", "csv", "yaml", "rasa"}
