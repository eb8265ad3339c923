"""FAQ evaluation on labelled queries, shared by `assistant eval faq` and the admin console.

Queries are JSON Lines `{"text": ..., "expected_id": ... | null}` (null: nothing in the FAQ
answers it; the right move is to decline). Each query searches the entries of its detected
locale (and those without one), as the FAQ skill does, and is decided as the skill decides:
answer at `answer_threshold` (or from `margin_answer_threshold` with a lead of `margin`),
suggest at `suggest_threshold`, else decline.

    >>> from faq_index import FaqEntry, FaqIndex
    >>> faq = FaqIndex([FaqEntry(id="hours", question="영업시간이 어떻게 되나요?", answer="9-18시"),
    ...                 FaqEntry(id="warranty", question="보증 기간은?", answer="3년")])
    >>> queries = read_queries('{"text": "영업시간 알려줘", "expected_id": "hours"}\\n')
    >>> result = evaluate_faq(faq, queries, answer_threshold=0.0, suggest_threshold=0.0)
    >>> result.metrics["accuracy_at_1"], result.rows[0]["predicted_id"]
    (1.0, 'hours')
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.normalize import detect_locale
from faq_index.faq import FaqIndex
from faq_index.metrics import accuracy_at_1, mrr_at_k, percentile_ms

__all__ = ["FaqEvaluation", "Query", "QueryFileError", "evaluate_faq", "read_queries"]


class QueryFileError(ValueError):
    """A query file line is not `{"text": ..., "expected_id": ...}`; the message names it."""


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    expected_id: str | None
    line: int = 0  #: its line in the query file (0: not from a file)


@dataclass(frozen=True)
class FaqEvaluation:
    """`metrics` (accuracy@1, MRR@10, end-to-end accuracy, answer precision, the share of
    answerable queries declined, decline precision and recall, decisions, p50/p99 ms) and one row per query: `text`, `expected_id`, `predicted_id` (None
    when declined), `top_id` (the best entry, even when declined), `confidence`, `decision`."""

    metrics: dict[str, Any]
    rows: list[dict[str, Any]]


def read_queries(text: str, source: str = "queries") -> list[Query]:
    queries: list[Query] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            value, expected = row["text"], row.get("expected_id")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise QueryFileError(
                f"{source}: line {number}: expected {{'text': ..., 'expected_id': ... | null}} "
                f"({e})"
            ) from e
        queries.append(Query(str(value), None if expected is None else str(expected), number))
    return queries


def evaluate_faq(
    faq: FaqIndex,
    queries: Sequence[Query],
    *,
    answer_threshold: float,
    suggest_threshold: float,
    margin_answer_threshold: float | None = None,
    margin: float = 0.4,
    progress: Callable[[int, int], None] | None = None,
) -> FaqEvaluation:
    """Search, decide and score every query (blocking; seconds for a few hundred queries);
    `progress(done, total)` is called every few queries. The decision is the FAQ skill's
    (`assistant.skills.faq.decide_hits`): with `margin_answer_threshold`, a best entry from
    there that leads the next by `margin` is answered too."""
    from assistant.skills.faq import FaqRule, decide_hits

    rule = FaqRule(
        answer_at=answer_threshold,
        suggest_at=suggest_threshold,
        margin_answer_at=margin_answer_threshold,
        margin=margin,
    )
    if queries:  # load lazily-built parts (Kiwi, the encoder) before timing
        faq.search(queries[0].text, 1)
    ranked: list[list[str]] = []
    rows: list[dict[str, Any]] = []
    times: list[float] = []
    for query in queries:
        start = time.perf_counter()
        hits = faq.search(query.text, 10, locale=detect_locale(query.text))
        times.append((time.perf_counter() - start) * 1000)
        ranked.append([h.entry.id for h in hits])
        confidence = hits[0].confidence if hits else 0.0
        decision, _ = decide_hits([h.confidence for h in hits], rule)
        rows.append(
            {
                "text": query.text,
                "expected_id": query.expected_id,
                "predicted_id": None if decision == "decline" else hits[0].entry.id,
                "top_id": hits[0].entry.id if hits else None,
                "confidence": round(confidence, 4),
                "decision": decision,
            }
        )
        if progress is not None and (len(rows) % 10 == 0 or len(rows) == len(queries)):
            progress(len(rows), len(queries))
    expected = [q.expected_id for q in queries]
    answerable = [i for i, e in enumerate(expected) if e is not None]
    declined = [r["decision"] == "decline" for r in rows]
    null = [e is None for e in expected]
    true_declines = sum(d and n for d, n in zip(declined, null, strict=True))
    metrics: dict[str, Any] = {
        "queries": len(queries),
        "answerable": len(answerable),
        "accuracy_at_1": accuracy_at_1(
            [ranked[i] for i in answerable], [expected[i] for i in answerable]
        ),
        "mrr_at_10": mrr_at_k([ranked[i] for i in answerable], [expected[i] for i in answerable]),
        "end_to_end_accuracy": (
            sum(r["predicted_id"] == e for r, e in zip(rows, expected, strict=True)) / len(queries)
            if queries
            else 0.0
        ),
        "answer_precision": (
            sum(
                r["decision"] == "answer" and r["predicted_id"] == e
                for r, e in zip(rows, expected, strict=True)
            )
            / answered
            if (answered := sum(r["decision"] == "answer" for r in rows))
            else None
        ),
        "answerable_declined": (
            sum(declined[i] for i in answerable) / len(answerable) if answerable else None
        ),
        "decline_precision": true_declines / sum(declined) if any(declined) else None,
        "decline_recall": true_declines / sum(null) if any(null) else None,
        "decisions": {
            d: sum(r["decision"] == d for r in rows) for d in ("answer", "suggest", "decline")
        },
        "p50_ms": percentile_ms(times, 50),
        "p99_ms": percentile_ms(times, 99),
    }
    return FaqEvaluation(metrics, rows)
