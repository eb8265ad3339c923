"""The e5 reader's plumbing with logits a fake points where it wants: windows over long
passages, offsets back to characters, no-answer, headings, trimmed particles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.mrc.e5.span_model import SpanModel, save_span_model
from assistant.mrc.e5.windows import Window
from assistant.mrc.e5_reader import Calibration, E5Reader
from assistant.mrc.errors import ReaderError
from assistant.mrc.reader import Passage
from faq_index.e5.encoder import Encoder

FILLER = "차량 점검은 정기적으로 받는 것이 좋습니다. " * 12
CONTEXT = FILLER + "권장 타이어 공기압은 36 psi입니다. " + FILLER


class PointingReader(E5Reader):
    """The e5 reader's windows and span search with logits that point at given characters of
    the context (start and end), and at <s> in windows that do not hold them whole."""

    def __init__(self, path: Path, answer: tuple[int, int] | None, **kwargs: object) -> None:
        kwargs.setdefault("runtime", "numpy")  # no forward pass here: no graph to build
        super().__init__(path, **kwargs)  # type: ignore[arg-type]
        self.answer = answer
        self.seen: list[Window] = []
        self.batches: list[list[int]] = []

    def batch_logits(self, windows: Sequence[Window]) -> list[tuple[np.ndarray, np.ndarray]]:
        self.batches.append([len(w.ids) for w in windows])
        return [self.pointing(w) for w in windows]

    def pointing(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        self.seen.append(window)
        start = np.zeros(len(window.ids), dtype=np.float32)
        end = np.zeros(len(window.ids), dtype=np.float32)
        start[0] = end[0] = 6.0  # "no answer here" unless the answer is in this window
        if self.answer is not None:
            first = [i for i, (s, e) in enumerate(window.offsets) if s == self.answer[0]]
            last = [i for i, (s, e) in enumerate(window.offsets) if e == self.answer[1]]
            if first and last:
                start[window.context_start + first[0]] = 12.0
                end[window.context_start + last[0]] = 12.0
        return start, end


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A span model without trained layers (the fakes bring their own logits)."""
    path = tmp_path_factory.mktemp("span") / "plain.npz"
    head = np.zeros((2, 384), dtype=np.float32)
    save_span_model(path, SpanModel(head, np.zeros(2, np.float32), meta={"settings": {}}))
    return path


def test_stitches_windows_of_a_long_passage(untrained: Path) -> None:
    start = CONTEXT.index("36 psi")
    reader = PointingReader(untrained, (start, start + 6), max_length=64, stride=16)
    passage = Passage(id="m#0", document="m", text=CONTEXT)
    [answer] = reader.read("권장 공기압은?", [passage])
    windows = sorted(reader.seen, key=lambda w: w.first_token)  # read in batches by length
    assert len(windows) > 4  # far longer than one window
    holding = [w for w in windows if any(s == start for s, _ in w.offsets)]
    assert holding and holding[0] is not windows[0]  # found in a later window
    # consecutive windows overlap by the stride
    assert windows[1].first_token == windows[0].first_token + len(windows[0].offsets) - 16
    assert (answer.text, answer.start, answer.end) == ("36 psi", start, start + 6)
    assert passage.text[answer.start : answer.end] == answer.text
    assert answer.sentence == "권장 타이어 공기압은 36 psi입니다."
    assert 0.5 < answer.score <= 1.0


def test_windows_are_batched_by_length_without_much_padding(untrained: Path) -> None:
    reader = PointingReader(untrained, None, max_length=64, stride=16, batch_tokens=192)
    long = Passage(id="m#0", document="m", text=CONTEXT)
    short = Passage(id="m#1", document="m", text="권장 공기압은 36 psi입니다.")
    assert reader.read("권장 공기압은?", [long, short]) == []
    full = [n for n in (len(w.ids) for w in reader.seen) if n == 64]
    assert len(full) > 4 and len(reader.seen) > len(full) + 1  # full windows and two shorter
    for lengths in reader.batches:
        assert max(lengths) <= min(lengths) * 1.1  # at most 10 % padding
        assert max(lengths) * len(lengths) <= 192
    assert sorted(n for b in reader.batches for n in b) == sorted(len(w.ids) for w in reader.seen)
    assert [64, 64, 64] in reader.batches  # full windows go together


def test_a_span_in_two_overlapping_windows_is_one_answer(untrained: Path) -> None:
    text = FILLER[:150] + " 정답은 36 psi 입니다. " + FILLER[:150]
    start = text.index("36 psi")
    reader = PointingReader(untrained, (start, start + 6), max_length=64, stride=40)
    answers = reader.read("질문?", [Passage(id="p", document="d", text=text)], k=5)
    holding = [w for w in reader.seen if any(s == start for s, _ in w.offsets)]
    assert len(holding) >= 2
    assert [a.text for a in answers].count("36 psi") == 1


def test_no_answer_when_every_window_prefers_none(untrained: Path) -> None:
    reader = PointingReader(untrained, None, max_length=64, stride=16)
    passages = [
        Passage(id="m#0", document="m", text=CONTEXT),
        Passage(id="e", document="m", text=" "),
    ]
    assert reader.read("권장 공기압은?", passages) == []
    assert reader.read("   ", passages) == []


def test_the_best_passage_wins(untrained: Path) -> None:
    text = "권장 타이어 공기압은 36 psi입니다."
    start = text.index("36 psi")
    reader = PointingReader(untrained, (start, start + 6))
    passages = [
        Passage(id="a", document="m", text="와이퍼 레버를 아래로 내리세요."),
        Passage(id="b", document="m", text=text),
    ]
    [answer] = reader.read("권장 공기압은?", passages)
    assert answer.passage.id == "b" and answer.text == "36 psi"


def test_the_section_path_is_read_but_answers_come_from_the_text(untrained: Path) -> None:
    text = "권장 공기압은 36 psi입니다."
    passage = Passage(id="m#3", document="m", section=("타이어", "공기압"), text=text)
    shift = len("타이어 > 공기압\n")
    start = text.index("36 psi")
    reader = PointingReader(untrained, (shift + start, shift + start + 6))
    [answer] = reader.read("타이어 공기압은?", [passage])
    assert (answer.start, answer.text) == (start, "36 psi")
    assert reader.seen[0].offsets[0][0] == 0  # the heading is in the window
    in_heading = PointingReader(untrained, (0, 3))
    assert in_heading.read("타이어 공기압은?", [passage]) == []


def test_a_fused_particle_is_trimmed(untrained: Path) -> None:
    text = "김민호는 정육점을 운영했다."
    reader = PointingReader(untrained, None)
    reader.warm_up()
    reader.suffixes = ("을",)
    [window] = reader.windows("무엇을 운영했나?", text)
    token = next(i for i, (s, e) in enumerate(window.offsets) if text[s:e].endswith("을"))
    assert reader._characters(text, window, token, token)[1] == text.index("을")


def test_a_latin_word_is_never_cut(untrained: Path) -> None:
    text = "The reservoir holds 4 litres of fluid."
    reader = PointingReader(untrained, None)
    reader.warm_up()
    [window] = reader.windows("How much does it hold?", text)
    pieces = [i for i, (s, e) in enumerate(window.offsets) if "litres".startswith(text[s:e])]
    four = next(i for i, (s, e) in enumerate(window.offsets) if text[s:e] == "4")
    for last in [i for i in pieces if i > four]:  # "4 lit", "4 litre", ...: the whole word
        start, end = reader._characters(text, window, four, last)
        assert text[start:end] == "4 litres"
    start, end = reader._characters(text, window, four, four)
    assert text[start:end] == "4"  # a number before a space is a word of its own


def test_the_runtime_is_checked(untrained: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="runtime: 'gpu' is not one of auto, onnx, numpy"):
        E5Reader(untrained, runtime="gpu")
    monkeypatch.setattr("assistant.mrc.e5_reader.runtime_available", lambda: False)
    with pytest.raises(ReaderError, match="runtime onnx: onnxruntime and onnx are not installed"):
        E5Reader(untrained, runtime="onnx").warm_up()
    reader = E5Reader(untrained)  # auto falls back to numpy
    reader.warm_up()
    assert type(reader.encoder) is Encoder


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such span model"):
        E5Reader(tmp_path / "absent.npz").warm_up()
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ReaderError, match="not a span model"):
        E5Reader(tmp_path / "bad.npz").warm_up()


def test_a_calibration_beside_the_model_turns_the_score_into_a_probability(
    tmp_path: Path, untrained: Path
) -> None:
    text = "권장 타이어 공기압은 36 psi입니다."
    start = text.index("36 psi")
    passage = Passage(id="b", document="m", text=text)
    model = tmp_path / "mine.npz"
    model.write_bytes(untrained.read_bytes())
    [raw] = PointingReader(model, (start, start + 6)).read("권장 공기압은?", [passage])
    span = PointingReader(model, (start, start + 6)).spans("권장 공기압은?", [passage])[0]
    assert raw.score == pytest.approx(float(np.exp(span.log_score)))  # no calibration: p·p
    assert span.gap > 0  # the span beat its window's "no answer"

    Calibration((0.0, 1.0), -span.gap, {"data": "test"}).save(model)  # logit 0 at this gap
    assert (tmp_path / "mine.calibration.json").is_file()
    [calibrated] = PointingReader(model, (start, start + 6)).read("권장 공기압은?", [passage])
    assert calibrated.score == pytest.approx(0.5)
    assert calibrated.text == raw.text == "36 psi"
    Calibration((0.0, 1.0), 2.0 - span.gap, {}).save(model)  # a wider gap is surer
    [surer] = PointingReader(model, (start, start + 6)).read("권장 공기압은?", [passage])
    assert surer.score == pytest.approx(1 / (1 + np.exp(-2.0)))


def test_a_damaged_calibration_is_refused_naming_the_file(tmp_path: Path, untrained: Path) -> None:
    model = tmp_path / "mine.npz"
    model.write_bytes(untrained.read_bytes())
    (tmp_path / "mine.calibration.json").write_text('{"coef": [1.0]}', encoding="utf-8")
    with pytest.raises(ReaderError, match=r"mine\.calibration\.json: not a reader calibration"):
        E5Reader(model, runtime="numpy").warm_up()


def test_the_shipped_model_has_a_calibration() -> None:
    from assistant.mrc.e5.span_model import DEFAULT_MODEL

    calibration = Calibration.beside(DEFAULT_MODEL)
    assert calibration is not None
    assert calibration.coef[1] > 0  # a wider gap over "no answer" is surer
    assert calibration.meta["examples"] > 300
