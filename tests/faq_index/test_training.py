from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import numpy as np
import pytest

from faq_index.encoders import HashingEncoder, Kind
from faq_index.entry import FaqEntry
from faq_index.errors import CalibrationError
from faq_index.faq import FaqIndex
from faq_index.fusion import FAQ_SIGNAL_WEIGHT, FusionModel
from faq_index.index import Row, SimilarityIndex, rank
from faq_index.training import (
    Example,
    field_separation,
    fit_fusion,
    self_examples,
    separating_defaults,
)

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
    answerable = {
        "블루투스 연결이 안 돼요": "bluetooth",
        "충전소 위치 알려줘": "charging",
        "보증기간 알려주세요": "warranty",
        "앱 비밀번호 잊어버렸어": "app",
    }
    inside = [built.search(q)[0] for q in answerable]
    # one of them shares a word (어떻다) with an entry, as real out-of-scope queries do
    outside = [built.search(q)[0] for q in ("오늘 날씨 어때", "점심 뭐 먹지", "노래 틀어줘")]
    assert [h.key for h in inside] == list(answerable.values())
    mean = lambda hits: sum(h.confidence for h in hits) / len(hits)  # noqa: E731
    assert mean(inside) > mean(outside) + 0.3
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
    # 28 queries of 7 entries leave too few held back to check a fit: the ranking stays
    assert model.notes["ranking"].startswith("base weights: too few examples to check a fit")
    found = faq.index.features("주말에도 하나요")
    assert faq.search("주말에도 하나요")[0].confidence == rank(found, model, 1)[0].confidence
    with pytest.raises(CalibrationError, match=r"query 2: 'nope'"):
        faq.fit_queries([("영업시간", "hours"), ("뭐지", "nope")])
    assert faq.index.fusion is model  # a refused fit leaves the model in use


# --- safe by construction (issue 22) -----------------------------------------------------------


class NoiseEncoder:
    """A dense signal that knows nothing: every text its own random direction."""

    name = "noise"

    def encode(self, texts: Sequence[str], *, kind: Kind) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode()).digest()[:4], "little")
            out[i] = np.random.default_rng(seed).standard_normal(64)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def synthetic_faq(n: int = 60, seed: int = 0) -> tuple[list[FaqEntry], list[tuple[str, str]]]:
    """Entries each named by three words of their own; every question, alternative and query
    uses two of them with common filler words, so the lexical signals find the entry."""
    rng = random.Random(seed)
    syllables = [
        a + b + c
        for a in "가나다라마바사아자차카타파하"
        for b in "강넝돋룰뭄빕숫웅즉칙"
        for c in "민솔탄펑"
    ]
    rng.shuffle(syllables)
    filler = ["어떻게", "하나요", "알려줘", "문의", "방법", "궁금해요", "있나요"]
    entries, queries = [], []
    for i in range(n):
        words = syllables[3 * i : 3 * i + 3]

        def ask(a: int, b: int, words: list[str] = words) -> str:
            return f"{words[a]} {words[b]} {rng.choice(filler)} {rng.choice(filler)}"

        entries.append(
            FaqEntry(
                id=f"e{i}",
                question=ask(0, 1),
                alternatives=(ask(1, 2), ask(0, 2)),
                answer=f"{words[0]} {words[2]} 안내입니다",
            )
        )
        queries += [(ask(1, 0), f"e{i}"), (ask(2, 1), f"e{i}"), (ask(2, 0), f"e{i}")]
    return entries, queries


def accuracy(faq: FaqIndex, queries: Sequence[tuple[str, str]]) -> float:
    return sum(faq.search(q, 1)[0].entry.id == g for q, g in queries) / len(queries)


def test_an_faq_without_alternatives_keeps_the_default_ranking_weights() -> None:
    # One question an entry: no paraphrase evidence, so nothing to fit the ranking on.
    entries = [
        FaqEntry(id=k, question=texts[0], answer=f"{texts[1]}: {k} 안내입니다")
        for k, texts in TOPICS.items()
    ]
    faq = FaqIndex(entries, encoder=HashingEncoder())
    model = faq.calibrate()
    default = FusionModel.default(
        faq.index.signal_names, faq.index.fields, signal_weights=FAQ_SIGNAL_WEIGHT
    )
    questions = [i for i, n in enumerate(model.rank_features) if n.endswith(".question")]
    assert np.allclose(model.weights[questions], default.weights[questions])
    assert model.notes["ranking"].startswith("base weights: fewer than 20 ranking examples")
    assert faq.search("블루투스 연결 방법", 1)[0].entry.id == "bluetooth"


def test_a_stock_answer_gets_no_weight_and_does_not_drown_the_questions() -> None:
    # The same answer for every entry tells them apart in no signal: its columns weigh
    # nothing, and the fused ranking is the questions' own.
    entries = [FaqEntry(id=k, question=texts[0], answer="-") for k, texts in TOPICS.items()]
    faq = FaqIndex(entries, encoder=HashingEncoder())
    separation = field_separation(faq.index)
    assert {n: v for n, v in separation.items() if n.endswith(".answer")} == {
        "bm25.answer": 0.0,
        "char.answer": 0.0,
        "dense.answer": 0.0,
    }
    model = faq.calibrate()
    answer = [i for i, n in enumerate(model.rank_features) if n.endswith(".answer")]
    assert not model.weights[answer].any()
    for key, texts in TOPICS.items():
        assert faq.search(texts[0], 1)[0].entry.id == key


def test_an_answer_that_separates_the_entries_keeps_its_weight() -> None:
    entries, _ = synthetic_faq(30)
    faq = FaqIndex(entries, encoder=HashingEncoder())
    model = separating_defaults(faq.index)
    assert model.notes["separation"]["bm25.answer"] > 0.9
    default = FusionModel.default(
        faq.index.signal_names, faq.index.fields, signal_weights=FAQ_SIGNAL_WEIGHT
    )
    measured = np.array([model.notes["separation"][n] for n in model.rank_features])
    assert np.allclose(model.weights, default.weights * np.minimum(1.0, measured / 0.5), atol=0.02)
    answer = [i for i, n in enumerate(model.rank_features) if n.endswith(".answer")]
    assert np.allclose(model.weights[answer], default.weights[answer])  # full weight


def test_self_fitting_does_not_follow_a_useless_signal() -> None:
    # The dense signal is noise; the default weights trust it most. With alternatives to
    # learn from, the fit must turn away from it and rank at least as well as the best signal.
    entries, queries = synthetic_faq()
    faq = FaqIndex(entries, encoder=NoiseEncoder())  # type: ignore[arg-type]
    untuned = accuracy(faq, queries)
    model = faq.calibrate()
    assert model.notes["ranking"].startswith("fitted")
    dense = [i for i, n in enumerate(model.rank_features) if n.startswith("dense.")]
    assert model.weights[dense].sum() < 0.1 * model.weights.sum()
    alone = {}
    for signal in ("bm25", "char", "dense"):
        single = FaqIndex(entries, encoder=NoiseEncoder(), signals=[signal])  # type: ignore[arg-type]
        alone[signal] = accuracy(single, queries)
    assert alone["dense"] < 0.2 < untuned + 0.2 < alone["bm25"]
    assert accuracy(faq, queries) >= max(alone.values())


def test_training_on_queries_does_not_follow_a_useless_signal() -> None:
    entries, queries = synthetic_faq(seed=1)
    faq = FaqIndex(entries, encoder=NoiseEncoder())  # type: ignore[arg-type]
    rng = random.Random(2)
    rng.shuffle(queries)
    fitting, reported = queries[: len(queries) // 2], queries[len(queries) // 2 :]
    model = faq.fit_queries(fitting, name="logs")
    assert model.notes["ranking"].startswith("fitted")
    dense = [i for i, n in enumerate(model.rank_features) if n.startswith("dense.")]
    assert model.weights[dense].sum() < 0.15 * model.weights.sum()
    bm25 = FaqIndex(entries, signals=["bm25"])
    assert accuracy(faq, reported) >= accuracy(bm25, reported)


def test_a_fit_that_loses_on_held_back_examples_is_not_trusted() -> None:
    # Examples whose "right" id is arbitrary: whatever weights fit them cannot rank the held
    # back ones better than the base weights, so those stay.
    entries, queries = synthetic_faq(seed=3)
    faq = FaqIndex(entries, encoder=HashingEncoder())
    ids = [e.id for e in entries]
    rng = random.Random(5)
    shuffled = [(q, rng.choice(ids)) for q, _ in queries]
    base = separating_defaults(faq.index)
    examples = [Example(q, g) for q, g in shuffled]
    model = fit_fusion(faq.index, examples, base=base, hold_out=1 / 3, seed=0)
    assert model.notes["ranking"].startswith("base weights: the fit lost on")
    assert np.array_equal(model.weights, base.weights)
    trusting = fit_fusion(faq.index, examples, base=base)  # no check: the fit is taken
    assert not np.array_equal(trusting.weights, base.weights)


def test_a_model_with_its_own_calibration_weights_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    entries, _ = synthetic_faq(20)
    faq = FaqIndex(entries, encoder=HashingEncoder())
    model = faq.calibrate()
    assert model.calib_weights is not None
    model.save(tmp_path / "fusion.json")
    again = FusionModel.load(tmp_path / "fusion.json")
    assert again.to_dict() == model.to_dict()
    assert np.array_equal(again.calib_weights, model.calib_weights)  # type: ignore[arg-type]
