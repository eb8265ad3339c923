"""Reading Markdown, HTML and plain text into headings and paragraphs with offsets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.mrc.documents import (
    Block,
    document_id,
    load_document,
    load_documents,
    parse_html,
    parse_markdown,
    parse_text,
)
from assistant.mrc.errors import DocumentError

DATA = Path(__file__).parent / "data"


def _view(text: str, doc_blocks: Sequence[Block]) -> list[tuple[str, int, str]]:
    return [(b.kind, b.level, text[b.start : b.end]) for b in doc_blocks]


def test_markdown_headings_paragraphs_and_front_matter() -> None:
    doc = load_document(DATA / "manual.md")
    assert doc.id == "manual" and doc.format == "markdown"
    assert doc.title == "오로라 EV 사용 설명서" and doc.locale == "ko"
    blocks = _view(doc.text, doc.blocks)
    assert blocks[:3] == [
        ("heading", 1, "타이어"),
        ("heading", 2, "공기압"),
        (
            "paragraph",
            0,
            "권장 타이어 공기압은 앞뒤 모두 36 psi입니다. 공기압은 한 달에 한 번 점검하세요.",
        ),
    ]
    assert ("heading", 1, "충전") in blocks
    # the fenced block stays one paragraph, offsets point into the file as written
    assert blocks[-1][2].startswith("```") and blocks[-1][2].endswith("```")
    assert doc.text == (DATA / "manual.md").read_text(encoding="utf-8")


def test_setext_headings_and_closing_hashes() -> None:
    text = "Tyres\n=====\n\nCheck them.\n\nPressure ##\n--------\n36 psi.\n"
    doc = parse_markdown(text, id="t")
    assert _view(text, doc.blocks) == [
        ("heading", 1, "Tyres"),
        ("paragraph", 0, "Check them."),
        ("heading", 2, "Pressure ##"),
        ("paragraph", 0, "36 psi."),
    ]
    atx = parse_markdown("## Wipers ##\nLift.", id="w")
    assert _view(atx.text, atx.blocks)[0] == ("heading", 2, "Wipers")


def test_html_visible_text_only() -> None:
    doc = load_document(DATA / "wipers.html")
    assert doc.title == "Aurora EV Manual" and doc.locale == "en" and doc.format == "html"
    assert _view(doc.text, doc.blocks) == [
        ("heading", 1, "Wipers"),
        ("paragraph", 0, "Push the lever down once for a single wipe."),
        ("heading", 2, "Washer fluid"),
        (
            "paragraph",
            0,
            "The washer fluid reservoir holds 4 litres. Refill it with winter fluid in December.",
        ),
    ]
    assert "track" not in doc.text and "Home" not in doc.text and "©" not in doc.text


def test_html_entities_and_inline_tags() -> None:
    doc = parse_html("<p>Press <b>MODE</b> &amp; hold</p>", id="x")
    assert doc.text == "Press MODE & hold"


def test_plain_text_paragraphs() -> None:
    doc = parse_text("First para\nstill first.\n\n\nSecond.\n", id="n")
    assert _view(doc.text, doc.blocks) == [
        ("paragraph", 0, "First para\nstill first."),
        ("paragraph", 0, "Second."),
    ]


def test_directory_ids_locales_and_errors(tmp_path: Path) -> None:
    (tmp_path / "docs" / "ko").mkdir(parents=True)
    (tmp_path / "docs" / "ko" / "guide.md").write_text("# 안내\n\n내용입니다.", encoding="utf-8")
    (tmp_path / "docs" / "manual.en.md").write_text("# Guide\n\nText.", encoding="utf-8")
    (tmp_path / "docs" / "image.png").write_bytes(b"\x89PNG")
    documents = load_documents([tmp_path / "docs"])
    assert [(d.id, d.locale) for d in documents] == [
        ("docs-ko-guide", "ko"),
        ("docs-manual.en", "en"),
    ]
    assert load_documents([tmp_path / "docs" / "manual.en.md"])[0].id == "manual.en"
    with pytest.raises(DocumentError, match="two documents have the id"):
        load_documents([tmp_path / "docs", tmp_path / "docs"])
    assert document_id(tmp_path / "a b" / "c.md", tmp_path) == "a-b-c"
    with pytest.raises(DocumentError, match="unknown document format"):
        load_document(tmp_path / "docs" / "image.png")
    with pytest.raises(DocumentError, match="no such file"):
        load_documents([tmp_path / "missing"])
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DocumentError, match="UTF-8"):
        load_document(tmp_path / "bad.txt")
