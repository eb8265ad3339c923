from __future__ import annotations

import pytest

from faq_index.encoders import HashingEncoder
from faq_index.errors import CalibrationError
from faq_index.index import Row, SimilarityIndex
from faq_index.training import Example, fit_fusion, self_examples

TOPICS = {
    "hours": ["영업시간이 어떻게 되나요", "몇 시까지 해요", "주말에도 하나요"],
    "warranty": ["보증 기간이 얼마인가요", "무상 보증 몇 년", "엔진 보증 범위"],
    "charging": ["충전소 어디 있어요", "충전 요금 얼마", "급속 충전 시간"],
    "bluetooth": ["블루투스 연결 방법", "휴대폰 페어링", "블루투스가 끊겨요"],
    "roadside": ["긴급출동 불러주세요", "견인 서비스", "배터리 방전됐어요"],
    "payment": ["결제 방법", "카드 할부 되나요", "영수증 발급"],
    "app": ["앱 로그인이 안돼요", "비밀번호 찾기", "앱 설치 방법"],
}


def index() -> SimilarityIndex:
    built = SimilarityIndex(encoder=HashingEncoder())
    built.add(Row(k, t) for k, texts in TOPICS.items() for t in texts)
    return built


def test_self_examples_cover_leave_one_out_and_out_of_scope() -> None:
    examples = self_examples(index(), seed=1)
    in_scope = [e for e in examples if e.expected is not None]
    out = [e for e in examples if e.expected is None]
    assert len(in_scope) == 21
    assert all(e.exclude_texts == ((e.expected, e.text),) for e in in_scope)
    assert out and all(e.exclude_keys and e.text for e in out)


def test_fit_fusion_gives_higher_confidence_to_answerable_queries() -> None:
    built = index()
    built.fusion = fit_fusion(built, self_examples(built, seed=1), name="test")
    inside = built.search("블루투스 연결이 안 돼요")[0]
    outside = built.search("오늘 날씨 어때", exclude_keys=())[0]
    assert inside.key == "bluetooth"
    assert inside.confidence > outside.confidence
    assert built.fusion.trained_on == "test"


def test_fit_fusion_refuses_examples_of_one_kind() -> None:
    built = index()
    with pytest.raises(CalibrationError, match="both kinds"):
        fit_fusion(built, [Example("영업시간", "hours")])


def test_self_fitted_model_is_cached_by_content(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from faq_index.entry import FaqEntry
    from faq_index.faq import FaqIndex

    entries = [
        FaqEntry(id=k, question=texts[0], alternatives=tuple(texts[1:]), answer=f"{k} 답변")
        for k, texts in TOPICS.items()
    ]
    first = FaqIndex(entries, encoder=HashingEncoder())
    fitted = first.calibrate(cache_dir=tmp_path)
    [saved] = tmp_path.glob("fusion-*.json")
    again = FaqIndex(entries, encoder=HashingEncoder())
    assert again.calibrate(cache_dir=tmp_path).to_dict() == fitted.to_dict()
    changed = FaqIndex([*entries[:-1]], encoder=HashingEncoder())
    changed.calibrate(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("fusion-*.json"))) == 2
    assert saved.is_file()


def test_calibrator_reads_dense_cosines_not_raw_lexical_scores() -> None:
    # BM25 is unbounded and lexical scores reward copying an entry's words: fitted on an FAQ's
    # own questions, a calibrator that read them doubted every real paraphrase.
    built = index()
    assert built.fusion.calibration_features == ("fused", "margin", "raw.dense")
    built.fusion = fit_fusion(built, self_examples(built, seed=1), name="test")
    assert built.fusion.calibration_features == ("fused", "margin", "raw.dense")
    hit = built.search("블루투스 연결 방법")[0]
    assert set(hit.signals) == {"bm25", "char", "dense"}  # every signal is still reported


def test_model_fitted_with_raw_lexical_features_still_loads_and_ranks() -> None:
    from faq_index.fusion import FusionModel

    built = index()
    old = built.fusion.to_dict()
    old["calibration_features"] = ["fused", "margin", "raw.bm25", "raw.char", "raw.dense"]
    old.update(calib_mean=[0.0] * 5, calib_scale=[1.0] * 5, calib_coef=[0.0, 1.5, 0.1, 0.1, 0.1])
    built.fusion = FusionModel.from_dict(old)
    hit = built.search("충전 요금 얼마예요")[0]
    assert hit.key == "charging" and 0.0 < hit.confidence < 1.0


def _synthetic(n_queries: int, seed: int) -> tuple[list[Example], dict[str, object]]:
    """Queries over 30 ids and two signals: `good` lifts the right id,
    `noise` is only noise, and the right id also scores high on it for a few queries."""
    import numpy as np

    from faq_index.index import QueryFeatures

    rng = np.random.default_rng(seed)
    keys = tuple(f"k{i}" for i in range(30))
    examples, found = [], {}
    for q in range(n_queries):
        target = int(rng.integers(30))
        columns = rng.normal(size=(30, 2)).astype(np.float32)
        columns[target, 0] += 2.5
        if q % 10 == 0:
            columns[target, 1] += 2.0
        text = f"q{seed}-{q}"
        examples.append(Example(text, keys[target]))
        found[text] = QueryFeatures(
            keys, np.ones(30, dtype=bool), columns, np.zeros((30, 2), np.float32), ("good", "noise")
        )
    return examples, found


@pytest.mark.parametrize("ranker", ["listwise", "coordinate"])
def test_fitted_ranking_weights_follow_the_signal_that_finds_the_right_id(ranker: str) -> None:
    from faq_index.fusion import FusionModel
    from faq_index.index import rank

    base = FusionModel.default(["good", "noise"], ["question"])
    train, train_found = _synthetic(300, seed=1)
    test, test_found = _synthetic(300, seed=2)
    model = fit_fusion(
        index(),
        train,
        base=base,
        features=lambda e: train_found[e.text],
        ranker=ranker,  # type: ignore[arg-type]
    )
    assert (model.weights >= 0).all()
    assert model.weights[0] > 3 * model.weights[1]

    def accuracy(used: FusionModel) -> float:
        found = [rank(test_found[e.text], used, 1)[0].key == e.expected for e in test]  # type: ignore[arg-type]
        return sum(found) / len(found)

    assert accuracy(model) > accuracy(base) + 0.1


def test_an_unknown_ranker_is_refused_by_name() -> None:
    built = index()
    with pytest.raises(ValueError, match="ranker must be 'listwise' or 'coordinate'"):
        fit_fusion(built, self_examples(built, seed=1), ranker="gradient")  # type: ignore[arg-type]


def test_query_examples_hide_a_third_of_the_entries_as_out_of_scope() -> None:
    import random

    from faq_index.training import query_examples

    queries = [(f"{k} {n}", k) for k in "abcdef" for n in range(2)] + [("날씨 어때", None)]
    examples = query_examples(queries, rng=random.Random(4))
    hidden = {e.exclude_keys[0] for e in examples if e.exclude_keys}
    assert len(hidden) == 2  # a third of 6 labelled ids
    for example, (text, expected) in zip(examples, queries, strict=True):
        assert example.text == text
        if expected in hidden:  # every query of a hidden id: out of scope, its id hidden
            assert example.expected is None and example.exclude_keys == (expected,)
        else:
            assert example.expected == expected and not example.exclude_keys
    assert query_examples(queries, rng=random.Random(4)) == examples


def test_fit_queries_uses_the_fitted_model_and_refuses_unknown_ids() -> None:
    from faq_index.entry import FaqEntry
    from faq_index.faq import FaqIndex

    entries = [
        FaqEntry(id=k, question=texts[0], alternatives=tuple(texts[1:2]), answer=f"{k} 안내")
        for k, texts in TOPICS.items()
    ]
    faq = FaqIndex(entries, encoder=HashingEncoder())
    labelled = [(t, k) for k, texts in TOPICS.items() for t in texts[2:]] * 4
    model = faq.fit_queries([*labelled, ("오늘 날씨 어때", None)], name="logs")
    assert faq.index.fusion is model and model.trained_on == "logs"
    assert faq.search("주말에도 하나요")[0].entry.id == "hours"
    with pytest.raises(CalibrationError, match=r"query 2: 'nope'"):
        faq.fit_queries([("영업시간", "hours"), ("뭐지", "nope")])
    assert faq.index.fusion is model  # a refused fit leaves the model in use
