"""Passages found through the shared similarity index."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mrc.documents import load_documents
from assistant.mrc.retrieval import PassageIndex
from assistant.mrc.splitting import split_documents
from faq_index.encoders import HashingEncoder
from faq_index.index import SimilarityIndex

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def index() -> PassageIndex:
    passages = PassageIndex(encoder=HashingEncoder())
    passages.add(split_documents(load_documents([DATA])))
    return passages


@pytest.mark.parametrize(
    ("question", "locale", "expected"),
    [
        ("타이어 공기압은 얼마로 맞춰야 하나요?", "ko", "data-manual#0"),
        ("타이어 교체 주기", "ko", "data-manual#1"),
        ("급속 충전 시간이 얼마나 걸려요?", "ko", "data-manual#2"),
        ("How much washer fluid does the reservoir hold?", "en", "data-wipers#1"),
        ("Where is the spare key?", "en", "data-notes#0"),
    ],
)
def test_retrieval_hits(index: PassageIndex, question: str, locale: str, expected: str) -> None:
    hits = index.search(question, k=2, locale=locale)
    assert hits[0].passage.id == expected
    assert all(0.0 <= h.confidence <= 1.0 for h in hits)


def test_section_titles_are_searched(index: PassageIndex) -> None:
    # "washer fluid" is the section title; the question has no other word of the passage
    assert index.search("washer fluid", k=1, locale="en")[0].passage.section[-1] == "Washer fluid"


def test_locale_filter(index: PassageIndex) -> None:
    assert all(h.passage.locale == "en" for h in index.search("충전 tyre", k=10, locale="en"))
    assert {h.passage.locale for h in index.search("충전 tyre", k=10)} == {"ko", "en"}


def test_it_is_the_shared_index_and_reset_replaces(index: PassageIndex) -> None:
    assert isinstance(index.index, SimilarityIndex)
    fresh = PassageIndex()
    fresh.add(index.passages()[:2])
    assert len(fresh) == 2
    fresh.reset(index.passages()[2:3])
    assert [p.id for p in fresh.passages()] == [index.passages()[2].id]
    assert fresh.get(index.passages()[0].id) is None
    assert fresh.search("   ") == []
