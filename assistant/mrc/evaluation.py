"""Evaluate a reader on a SQuAD-format file, in `reader` or `open` mode.

- `reader`: each question is read from its own paragraph (the standard SQuAD setting).
- `open`: every paragraph of the file goes into a `PassageIndex`; each question is answered
  from the passages retrieved for it (`passages` of them), read as the MRC skill reads them
  (`open_mode.read_retrieved`: with the e5 reader, spans scored by its open-mode
  calibration); passage recall at 1, 3 and 10 says how often the question's own paragraph
  was among those retrieved.

Reported: exact match and F1 (KorQuAD 1.0 metric for Korean, SQuAD v1.1 for English, chosen
per question by its paragraph's language), the share of questions whose answer sentence holds a
gold answer, how often the gold paragraph was retrieved (open mode), and milliseconds per
question. Predictions are the official `{id: text}` ("" for no answer).

    >>> from assistant.mrc.lexical import LexicalReader
    >>> q = SquadQuestion(id="q1", question="Who founded Hanbit Motors?",
    ...                   context="Hanbit Motors was founded by Kim Minho in 1998.",
    ...                   paragraph=0, article=0, answers=("Kim Minho",))
    >>> result = evaluate([q], LexicalReader())
    >>> result.predictions
    {'q1': 'Kim Minho'}
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.mrc.metrics import best_scores, language_of
from assistant.mrc.open_mode import read_retrieved
from assistant.mrc.passage import Passage
from assistant.mrc.reader import Reader
from assistant.mrc.retrieval import PassageIndex
from assistant.mrc.squad import SquadQuestion

__all__ = ["EvalResult", "Mode", "evaluate"]

Mode = Literal["reader", "open"]

#: Passage recall is reported at these depths in open mode.
RECALL_AT = (1, 3, 10)


@dataclass
class EvalResult:
    metrics: dict[str, Any]
    predictions: dict[str, str] = field(default_factory=dict)


def paragraph_passages(questions: Sequence[SquadQuestion]) -> dict[int, Passage]:
    """One passage per paragraph of the questions (id `p<paragraph>`), by paragraph number."""
    out: dict[int, Passage] = {}
    for q in questions:
        if q.paragraph not in out:
            out[q.paragraph] = Passage(
                id=f"p{q.paragraph}",
                document=f"a{q.article}",
                text=q.context,
                locale=language_of(q.context),
            )
    return out


def evaluate(
    questions: Sequence[SquadQuestion],
    reader: Reader,
    *,
    mode: Mode = "reader",
    index: PassageIndex | None = None,
    passages: int = 3,
    corpus: Sequence[SquadQuestion] | None = None,
) -> EvalResult:
    """Read every question and score the answers; see the module docstring. In open mode the
    index holds the paragraphs of `corpus` (all questions of the file; default `questions`)."""
    by_paragraph = paragraph_passages(questions)
    index = index if index is not None else PassageIndex()
    index_seconds = 0.0
    if mode == "open":
        started = time.perf_counter()
        everything = paragraph_passages(corpus) if corpus is not None else by_paragraph
        index.reset(everything.values())
        index_seconds = time.perf_counter() - started
    predictions: dict[str, str] = {}
    em = f1 = sentence_hits = retrieved = answered = 0.0
    times: list[float] = []
    recall = dict.fromkeys(RECALL_AT, 0)
    for q in questions:
        started = time.perf_counter()
        if mode == "open":
            hits = index.search(q.question, max(passages, *RECALL_AT))
            ranked = [h.passage.id for h in hits]
            gold = f"p{q.paragraph}"
            for k in RECALL_AT:
                recall[k] += gold in ranked[:k]
            candidates = [h.passage for h in hits[:passages]]
            retrieved += gold in ranked[:passages]
            answers = read_retrieved(reader, q.question, candidates)
        else:
            candidates = [by_paragraph[q.paragraph]]
            answers = reader.read(q.question, candidates)
        times.append(time.perf_counter() - started)
        text = answers[0].text if answers else ""
        predictions[q.id] = text
        e, f = best_scores(text, q.answers, language_of(q.context))
        em, f1 = em + e, f1 + f
        if answers:
            answered += 1
            sentence_hits += any(g in answers[0].sentence for g in q.answers)
    n = max(1, len(questions))
    metrics: dict[str, Any] = {
        "mode": mode,
        "reader": reader.name,
        "questions": len(questions),
        "exact_match": round(100 * em / n, 2),
        "f1": round(100 * f1 / n, 2),
        "answered": round(answered / n, 4),
        "sentence_hit": round(sentence_hits / n, 4),
        "ms_mean": round(1000 * statistics.fmean(times), 2) if times else 0.0,
        "ms_p50": round(1000 * statistics.median(times), 2) if times else 0.0,
        "ms_p99": round(1000 * sorted(times)[int(0.99 * (len(times) - 1))], 2) if times else 0.0,
    }
    if mode == "open":
        metrics["passages"] = len(everything)
        metrics["retrieved_at_k"] = round(retrieved / n, 4)
        for k in RECALL_AT:
            metrics[f"recall@{k}"] = round(recall[k] / n, 4)
        metrics["k"] = passages
        metrics["index_seconds"] = round(index_seconds, 2)
    return EvalResult(metrics, predictions)
