from __future__ import annotations

import threading

import numpy as np
import pytest

from faq_index.encoders import HashingEncoder
from faq_index.errors import CalibrationError
from faq_index.fusion import FusionModel
from faq_index.index import Row, SimilarityIndex


def make_index(**kwargs: object) -> SimilarityIndex:
    index = SimilarityIndex(encoder=HashingEncoder(), **kwargs)  # type: ignore[arg-type]
    index.add(
        [
            Row("hours", "서비스센터 영업시간이 어떻게 되나요?"),
            Row("hours", "주말에도 문 여나요?"),
            Row("hours", "평일 9시부터 18시까지 운영합니다.", "answer"),
            Row("warranty", "보증 기간은 얼마나 되나요?"),
            Row("warranty", "엔진은 5년 10만 km까지 보증합니다.", "answer"),
            Row("charging", "충전소는 어디에 있나요?"),
            Row("charging", "앱에서 가까운 충전소를 찾을 수 있습니다.", "answer"),
        ]
    )
    return index


class TestSimilarityIndex:
    def test_init_without_encoder_uses_lexical_signals(self) -> None:
        index = SimilarityIndex()
        assert index.signal_names == ("bm25", "char")
        assert len(index) == 0
        assert index.search("anything") == []

    def test_init_rejects_unknown_signal(self) -> None:
        with pytest.raises(ValueError, match="signals must be"):
            SimilarityIndex(signals=["tfidf"])

    def test_alternatives_count_as_the_entry(self) -> None:
        hits = make_index().search("주말에 문 열어요?")
        assert hits[0].key == "hours"

    def test_answers_are_searchable(self) -> None:
        assert make_index().search("엔진 보증 10만 km")[0].key == "warranty"

    def test_typo_and_spacing_found_by_char_ngrams(self) -> None:
        index = make_index(signals=["char"])
        assert index.search("서비스쎈터영업 시간")[0].key == "hours"

    def test_scores_are_sorted_and_confidences_are_probabilities(self) -> None:
        hits = make_index().search("충전소 위치", k=3)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert all(0.0 <= h.confidence <= 1.0 for h in hits)
        assert set(hits[0].signals) == {"bm25", "char", "dense"}

    def test_add_replace_delete(self) -> None:
        index = make_index()
        index.replace("charging", [Row("charging", "블루투스 연결 방법")])
        assert [r.text for r in index.texts("charging")] == ["블루투스 연결 방법"]
        assert index.search("블루투스 연결")[0].key == "charging"
        index.delete({"charging", "unknown"})
        assert "charging" not in index
        assert all(h.key != "charging" for h in index.search("블루투스 연결"))
        assert len(index) == 2

    def test_replace_refuses_rows_of_another_id(self) -> None:
        with pytest.raises(ValueError, match="given to replace"):
            make_index().replace("hours", [Row("warranty", "x")])

    def test_unknown_field_is_refused(self) -> None:
        with pytest.raises(ValueError, match="field 'title'"):
            make_index().add([Row("x", "t", "title")])

    def test_reindex_embeds_only_new_texts(self) -> None:
        encoder = HashingEncoder()
        index = SimilarityIndex(encoder=encoder)
        index.add([Row("a", "하나"), Row("b", "둘")])
        before = encoder.calls
        index.add([Row("c", "셋")])
        index.reset([Row("a", "하나"), Row("c", "셋")])
        assert encoder.calls == before + 1

    def test_exclusion_hides_ids_and_texts(self) -> None:
        index = make_index()
        hits = index.search("서비스센터 영업시간", exclude_keys={"hours"})
        assert all(h.key != "hours" for h in hits)
        hidden = ("hours", "서비스센터 영업시간이 어떻게 되나요?")
        features = index.features("서비스센터 영업시간이 어떻게 되나요?", exclude_texts=[hidden])
        assert features.alive.all()

    def test_fusion_model_must_match_signals(self) -> None:
        other = FusionModel.default(["bm25"], ["question"])
        with pytest.raises(CalibrationError, match="refit"):
            make_index().fusion = other

    def test_fusion_model_round_trips_through_json(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        model = make_index().fusion
        model.save(tmp_path / "fusion.json")
        loaded = FusionModel.load(tmp_path / "fusion.json")
        assert loaded.rank_features == model.rank_features
        assert list(loaded.weights) == list(model.weights)

    def test_searches_during_writes_see_a_whole_index(self) -> None:
        index = make_index()
        errors: list[BaseException] = []
        stop = threading.Event()

        def reader() -> None:
            try:
                while not stop.is_set():
                    hits = index.search("보증 기간", k=3)
                    assert hits and hits[0].key in {"warranty", "hours", "charging", "new"}
            except BaseException as e:  # collected for the assertion below
                errors.append(e)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        for i in range(30):
            index.replace("new", [Row("new", f"새 질문 {i}")])
            index.delete({"new"})
        stop.set()
        for t in threads:
            t.join()
        assert errors == []


def test_approximate_dense_index_finds_the_same_entries() -> None:
    pytest.importorskip("usearch")
    exact = make_index(signals=["dense"], dense_index="exact")
    approximate = make_index(signals=["dense"], dense_index="usearch")
    for query in ("서비스센터 몇 시", "보증 기간", "충전소 위치"):
        assert [h.key for h in approximate.search(query, 2)] == [
            h.key for h in exact.search(query, 2)
        ]


def test_hubness_penalty_lowers_texts_near_every_question_of_other_ids() -> None:
    from faq_index.signals import Hubness, hubness_penalty

    hub = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)  # about as near to every axis
    matrix = np.array([np.eye(3)[0], np.eye(3)[1], np.eye(3)[2], hub], dtype=np.float32)
    rows = [Row("a", "x"), Row("b", "y"), Row("c", "z"), Row("hub", "w")]
    penalty = hubness_penalty(matrix, rows, Hubness(k=2, weight=0.5, min_probes=2))
    assert penalty[3] > penalty[:3].max()  # the hub is near all three questions
    assert penalty[3] == pytest.approx(0.5 * hub[0], rel=1e-5)
    # a text's own id is not a neighbour: alone with its id, nothing to compare with
    alone = hubness_penalty(matrix[:2], [Row("a", "x"), Row("a", "y")], Hubness(k=2, min_probes=2))
    assert not alone.any()


def test_hubness_correction_is_applied_to_dense_scores() -> None:
    from faq_index.signals import Hubness

    plain = SimilarityIndex(encoder=HashingEncoder(), signals=["dense"])
    corrected = SimilarityIndex(
        encoder=HashingEncoder(), signals=["dense"], hubness=Hubness(min_probes=2)
    )
    rows = [Row("hours", "영업시간 안내"), Row("warranty", "보증 기간 안내"), Row("app", "앱 안내")]
    plain.add(rows)
    corrected.add(rows)
    before = plain.row_scores("안내")["dense"]
    after = corrected.row_scores("안내")["dense"]
    assert (after < before).all()
    # a handful of questions is no neighbourhood: then nothing is corrected
    small = SimilarityIndex(encoder=HashingEncoder(), signals=["dense"], hubness=Hubness())
    small.add(rows)
    assert (small.row_scores("안내")["dense"] == before).all()


def test_approximate_dense_index_applies_the_hubness_correction_too() -> None:
    pytest.importorskip("usearch")
    from faq_index.signals import Hubness

    hubness = Hubness(min_probes=2)
    exact = make_index(signals=["dense"], dense_index="exact", hubness=hubness)
    approximate = make_index(signals=["dense"], dense_index="usearch", hubness=hubness)
    for query in ("서비스센터 몇 시", "보증 기간", "충전소 위치"):
        want = exact.search(query, 2)
        got = approximate.search(query, 2)
        assert [h.key for h in got] == [h.key for h in want]
        assert got[0].score == pytest.approx(want[0].score, abs=1e-2)


def test_identical_answers_get_identical_hubness_corrections() -> None:
    # An answer shared by every entry must score the same in each: z-scoring tiny differences
    # (from leaving each entry's own question out) turned it into a ranking of noise.
    from faq_index.signals import Hubness, hubness_penalty

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((12, 8)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    rows = []
    for i in range(6):
        rows += [Row(f"e{i}", f"question {i}"), Row(f"e{i}", "-", field="answer")]
        matrix[2 * i + 1] = matrix[1]
    penalty = hubness_penalty(matrix, rows, Hubness(k=3, min_probes=2))
    answers = penalty[1::2]
    assert np.all(answers == answers[0]) and answers[0] > 0
    assert len(set(penalty[0::2].tolist())) > 1  # the questions still get their own
