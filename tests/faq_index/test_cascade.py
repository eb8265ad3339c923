"""The cascade: answer from BM25 and character n-grams alone when they are sure, else embed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from faq_index.encoders import HashingEncoder, Kind, Vectors
from faq_index.entry import FaqEntry
from faq_index.errors import CalibrationError
from faq_index.faq import FaqIndex
from faq_index.index import rank
from faq_index.training import fit_lexical, self_examples

TOPICS = {
    "hours": ["서비스센터 영업시간이 어떻게 되나요", "몇 시까지 해요", "주말에도 문을 여나요"],
    "warranty": ["보증 기간이 얼마인가요", "무상 보증은 몇 년인가요", "엔진 보증 범위가 궁금해요"],
    "charging": ["충전소는 어디에 있나요", "충전 요금은 얼마인가요", "급속 충전 시간은요"],
    "bluetooth": [
        "블루투스 연결 방법을 알려주세요",
        "휴대폰 페어링은 어떻게 하나요",
        "블루투스가 자꾸 끊겨요",
    ],
    "roadside": ["긴급출동을 불러주세요", "견인 서비스를 받고 싶어요", "배터리가 방전됐어요"],
    "payment": ["결제 방법은 무엇이 있나요", "카드 할부가 되나요", "영수증을 발급받고 싶어요"],
    "app": ["앱 로그인이 안돼요", "비밀번호를 잊어버렸어요", "앱은 어떻게 설치하나요"],
    "recall": ["리콜 대상인지 확인하고 싶어요", "리콜 수리는 무료인가요", "리콜 통지서를 받았어요"],
}
ENTRIES = [
    FaqEntry(id=k, question=t[0], alternatives=tuple(t[1:]), answer=f"{k} 안내입니다")
    for k, t in TOPICS.items()
]
CLEAR = "블루투스 연결 방법 알려주세요"  # nearly the words of one question, of no other entry
VAGUE = "그거 어떻게 해요"  # words every entry could have
SKIP_AT = 0.55  # between the two queries' lexical confidences on this FAQ (checked below)


class RecordingEncoder:
    """The hashing encoder, recording every text it is asked to embed as a query."""

    def __init__(self) -> None:
        self.inner_encoder = HashingEncoder()
        self.name = self.inner_encoder.name
        self.queries: list[str] = []

    def encode(self, texts: Sequence[str], *, kind: Kind) -> Vectors:
        if kind == "query":
            self.queries.extend(texts)
        return self.inner_encoder.encode(texts, kind=kind)


def faq(skip_dense_at: float | None) -> tuple[FaqIndex, RecordingEncoder]:
    encoder = RecordingEncoder()
    built = FaqIndex(ENTRIES, encoder=encoder, skip_dense_at=skip_dense_at)
    built.calibrate()
    encoder.queries.clear()  # what calibrating embedded is not a search
    return built, encoder


def lexical_confidence(built: FaqIndex, query: str) -> tuple[str, float]:
    model = built.index.lexical_fusion
    assert model is not None
    found = built.index.features(query, signals=built.index.lexical_signals)
    top = rank(found, model, 1)[0]
    return top.key, top.confidence


def test_the_queries_fall_on_both_sides_of_the_threshold() -> None:
    built, _ = faq(SKIP_AT)
    # 0.617 since the answers' columns weigh nothing ("<id> 안내입니다" shares no word with
    # its question: field_separation 0); 0.672 when they counted
    assert lexical_confidence(built, CLEAR) == ("bluetooth", pytest.approx(0.617, abs=0.05))
    assert lexical_confidence(built, VAGUE)[1] < SKIP_AT - 0.2


def test_clear_lexical_match_is_answered_without_the_encoder() -> None:
    built, encoder = faq(SKIP_AT)
    hits = built.search(CLEAR)
    assert hits[0].entry.id == "bluetooth"
    assert hits[0].confidence >= SKIP_AT
    assert encoder.queries == []


def test_ambiguous_query_is_embedded_and_fused() -> None:
    built, encoder = faq(SKIP_AT)
    off, _ = faq(None)
    hits = built.search(VAGUE)
    assert encoder.queries == [VAGUE]
    assert [(h.entry.id, h.confidence) for h in hits] == [
        (h.entry.id, h.confidence) for h in off.search(VAGUE)
    ]


def test_off_embeds_every_query_and_fits_no_lexical_model() -> None:
    built, encoder = faq(None)
    built.search(CLEAR)
    assert encoder.queries == [CLEAR]
    assert built.index.lexical_fusion is None


@pytest.mark.parametrize("skip_at", [None, 1.01])
def test_off_or_never_sure_gives_the_results_of_an_index_without_a_cascade(
    skip_at: float | None,
) -> None:
    reference = FaqIndex(ENTRIES, encoder=HashingEncoder(), skip_dense_at=None)
    reference.calibrate()
    built, _ = faq(skip_at)
    assert built.index.fusion.to_dict() == reference.index.fusion.to_dict()
    for query in (CLEAR, VAGUE, "충전 요금", "recall", "오늘 날씨 어때"):
        got = [(h.entry.id, h.score, h.confidence) for h in built.search(query)]
        assert got == [(h.entry.id, h.score, h.confidence) for h in reference.search(query)]


def test_lexical_model_reads_only_the_lexical_signals() -> None:
    built, _ = faq(SKIP_AT)
    model = fit_lexical(built.index, self_examples(built.index, seed=1), name="test")
    assert {name.split(".")[0] for name in model.rank_features} == {"bm25", "char"}
    assert "raw.dense" not in model.calibration_features
    with pytest.raises(CalibrationError, match="fitted for"):
        built.index.lexical_fusion = built.index.fusion


def test_cascade_needs_the_dense_signal() -> None:
    lexical_only = FaqIndex(ENTRIES, skip_dense_at=SKIP_AT)
    lexical_only.calibrate()
    assert lexical_only.index.lexical_fusion is None
    with pytest.raises(CalibrationError, match="needs lexical signals"):
        fit_lexical(lexical_only.index, self_examples(lexical_only.index))


def test_lexical_model_is_cached_beside_the_fusion_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = FaqIndex(ENTRIES, encoder=HashingEncoder(), skip_dense_at=SKIP_AT)
    first.calibrate(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("cascade-*.json"))) == 1
    again = FaqIndex(ENTRIES, encoder=HashingEncoder(), skip_dense_at=SKIP_AT)
    again.calibrate(cache_dir=tmp_path)
    assert first.index.lexical_fusion is not None and again.index.lexical_fusion is not None
    assert again.index.lexical_fusion.to_dict() == first.index.lexical_fusion.to_dict()
