"""Prometheus metrics, served at `/metrics`.

Routes are counted by kind (`faq`, `mrc`, `task`, `smalltalk`, `clarify`, `fallback`), not by
entry, so the number of series stays bounded however large the FAQ grows. With several worker
processes (`assistant serve --workers N`) set `PROMETHEUS_MULTIPROC_DIR` (the CLI does) and every
process's figures are summed at scrape time.

    record_turn(channel="kakao", route="faq:hours", outcome="answer", seconds=0.012, handoff=False)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

TURNS = Counter("assistant_turns_total", "Turns answered.", ["channel", "route", "outcome"])
TURN_SECONDS = Histogram(
    "assistant_turn_seconds", "Time to answer a turn.", ["channel"], buckets=LATENCY_BUCKETS
)
SKILL_SECONDS = Histogram(
    "assistant_skill_seconds",
    "Time a skill took to propose, by how it ended (ok, error, timeout).",
    ["skill", "status"],
    buckets=LATENCY_BUCKETS,
)
FALLBACKS = Counter("assistant_fallbacks_total", "Turns that fell back.", ["channel"])
HANDOFFS = Counter(
    "assistant_handoffs_total", "Replies that offered a human hand-off.", ["channel"]
)
REFUSED = Counter(
    "assistant_requests_refused_total", "Requests refused before a turn ran.", ["reason"]
)
WEBHOOK_DELIVERIES = Counter(
    "assistant_webhook_deliveries_total",
    "Outbound webhook delivery attempts, by result (delivered, failed, gave_up).",
    ["result"],
)
INDEX_SIZE = Gauge(
    "assistant_index_size",
    "Entries in a skill's index (FAQ entries, passages, rules).",
    ["skill"],
    multiprocess_mode="max",
)


def route_kind(route: str) -> str:
    return route.split(":", 1)[0]


def record_turn(*, channel: str, route: str, outcome: str, seconds: float, handoff: bool) -> None:
    TURNS.labels(channel, route_kind(route), outcome).inc()
    TURN_SECONDS.labels(channel).observe(seconds)
    if outcome == "fallback":
        FALLBACKS.labels(channel).inc()
    if handoff:
        HANDOFFS.labels(channel).inc()


def record_skill(skill: str, status: str, seconds: float) -> None:
    SKILL_SECONDS.labels(skill, status).observe(seconds)


def index_size(skill: object) -> int | None:
    """Entries in a skill's index: its own length, or that of its FAQ, rule engine or passages."""
    for candidate in (
        skill,
        *(getattr(skill, a, None) for a in ("faq", "engine", "index", "passages")),
    ):
        if candidate is not None and hasattr(candidate, "__len__"):
            try:
                return len(candidate)
            except TypeError:
                continue
    return None


def record_index_sizes(skills: Iterable[tuple[str, object]]) -> None:
    for name, skill in skills:
        size = index_size(skill)
        if size is not None:
            INDEX_SIZE.labels(name).set(size)


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type; sums all workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
