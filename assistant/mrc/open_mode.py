"""Reading retrieved passages: the answer the MRC skill gives, and `eval mrc --mode open`.

With the e5 reader and its open-mode calibration (`confidence.OpenCalibration`), every window
of the retrieved passages proposes its best spans (none is dropped by the span model's
"no answer" margin), each span is scored with the calibration over what the reader says and
how much of the question its sentence and section are about, and the most probable spans are
the answers (`Answer.score`: that probability). Other readers, or the e5 reader without the
calibration, read as in reader mode (`Reader.read`).

    >>> from assistant.mrc.lexical import LexicalReader
    >>> p = Passage(id="m#0", document="m", section=("타이어",), text="공기압은 36 psi입니다.")
    >>> [a.text for a in read_retrieved(LexicalReader(), "공기압은 얼마예요?", [p])]
    ['36 psi']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from assistant.mrc.confidence import OpenCalibration, overlap, question_terms
from assistant.mrc.passage import Passage
from assistant.mrc.reader import Answer, Reader
from assistant.mrc.sentences import sentence_at, split_sentences

__all__ = ["open_calibration", "read_retrieved", "span_features"]

#: Spans scored per question (the reader's best by its own score, over all windows).
MAX_SPANS = 20


def open_calibration(reader: Reader) -> OpenCalibration | None:
    """The reader's open-mode calibration (the e5 reader's, loaded with it), if any."""
    warm_up = getattr(reader, "warm_up", None)
    if callable(warm_up):
        warm_up()
    found = getattr(reader, "open_calibration", None)
    return found if isinstance(found, OpenCalibration) else None


def span_features(span: Any, terms: frozenset[str], rank: int) -> dict[str, float]:
    """The calibration's features of one e5 `Span` (see `confidence.FEATURES`)."""
    passage: Passage = span.passage
    s_start, s_end = sentence_at(split_sentences(passage.text), span.start)
    sentence = passage.text[min(s_start, span.start) : max(s_end, span.end)]
    return {
        "log_score": span.log_score,
        "gap": max(-20.0, span.gap),
        "sentence_overlap": overlap(terms, sentence, passage.heading),
        "passage_overlap": overlap(terms, passage.text, passage.heading),
        "rank": float(rank),
    }


def read_retrieved(
    reader: Reader, question: str, passages: Sequence[Passage], *, k: int = 1
) -> list[Answer]:
    """The best `k` answers to `question` out of `passages` (retrieved, best first)."""
    calibration = open_calibration(reader)
    spans_of = getattr(reader, "spans", None)
    if calibration is None or not callable(spans_of):
        return reader.read(question, passages, k=k)
    ranks = {p.id: i for i, p in enumerate(passages)}
    terms = question_terms(question)
    scored = []
    for span in spans_of(question, passages, null_margin=math.inf)[:MAX_SPANS]:
        features = span_features(span, terms, ranks.get(span.passage.id, len(passages)))
        scored.append((calibration.probability(features), span))
    scored.sort(key=lambda ps: -ps[0])
    answers: list[Answer] = []
    for probability, span in scored[:k]:
        passage = span.passage
        s_start, s_end = sentence_at(split_sentences(passage.text), span.start)
        answers.append(
            Answer(
                text=passage.text[span.start : span.end],
                start=span.start,
                end=span.end,
                score=probability,
                passage=passage,
                sentence_start=min(s_start, span.start),
                sentence_end=max(s_end, span.end),
            )
        )
    return answers
