"""Passages keep their section path and point into the document text."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mrc.documents import load_document, parse_markdown
from assistant.mrc.splitting import split_document, split_documents

DATA = Path(__file__).parent / "data"


def test_sections_and_offsets() -> None:
    doc = load_document(DATA / "manual.md")
    passages = split_document(doc)
    assert [p.section for p in passages] == [("타이어", "공기압"), ("타이어", "교체"), ("충전",)]
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.document == "manual" and p.locale == "ko" and p.title == doc.title
    assert [p.id for p in passages] == ["manual#0", "manual#1", "manual#2"]
    assert passages[2].text.startswith("급속 충전") and "충전 포트" in passages[2].text
    assert passages[0].indexed_text().startswith("타이어 > 공기압\n")


def test_long_sections_are_packed_and_cut_at_sentences() -> None:
    sentence = "배터리는 서늘한 곳에 두세요. "
    paragraph = sentence * 10  # about 170 characters
    text = "# 배터리\n\n" + "\n\n".join([paragraph] * 3) + "\n\n" + sentence * 40
    doc = parse_markdown(text, id="b")
    passages = split_document(doc, max_chars=400)
    assert len(passages) > 3
    for p in passages:
        assert len(p.text) <= 400
        assert doc.text[p.start : p.end] == p.text
        assert p.section == ("배터리",)
        assert p.text.endswith(".")
    # nothing lost: every sentence start is in some passage
    covered = "".join(p.text for p in passages).count("배터리는")
    assert covered == text.count("배터리는")


def test_a_passage_never_spans_two_sections() -> None:
    doc = parse_markdown("# A\n\none.\n\n# B\n\ntwo.\n\n## B1\n\nthree.", id="d")
    assert [(p.section, p.text) for p in split_document(doc)] == [
        (("A",), "one."),
        (("B",), "two."),
        (("B", "B1"), "three."),
    ]


def test_text_without_headings_and_several_documents() -> None:
    docs = [load_document(DATA / "notes.txt"), load_document(DATA / "wipers.html")]
    passages = split_documents(docs)
    assert passages[0].section == () and passages[0].id == "notes#0"
    assert {p.section for p in passages[1:]} == {("Wipers",), ("Wipers", "Washer fluid")}


def test_refuses_tiny_passages() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_document(parse_markdown("x", id="x"), max_chars=10)
