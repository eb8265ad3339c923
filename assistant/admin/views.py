"""What each console screen shows and does, as plain data: the JSON API returns it and the
pages render it, so both always agree.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.admin.console import ConsoleError, FaqHandle
from assistant.admin.learning import Cluster, Question, cluster_questions
from assistant.api.errors import FieldProblem
from assistant.dialogue import Assistant
from assistant.errors import InputError
from assistant.skills.smalltalk import SmalltalkOptions, SmalltalkSkill, rule_paths
from assistant.store.eval_runs import EvalRun
from assistant.store.feedback import FeedbackStore
from assistant.store.insights import Insights, SessionFilter
from assistant.store.learning import LearningStore, text_key
from assistant.types import Utterance
from faq_index.entry import FaqEntry
from faq_index.errors import DuplicateEntryError, UnknownEntryError
from rules.loader import check_rules, read_specs

#: How the confusion view names "no entry": an out-of-scope query, or a declined one.
NONE = "-"
RATES = ("answered", "clarified", "fallbacks", "handoffs")


# --- FAQ -------------------------------------------------------------------------------------


class EntryForm(BaseModel):
    """An FAQ entry as the console's form sends it: lists as lists, the link and image flat."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str
    question: str
    answer: str
    alternatives: list[str] = Field(default_factory=list)
    category: str = ""
    tags: list[str] = Field(default_factory=list)
    locale: str = ""
    link_url: str = ""
    link_label: str = ""
    image_url: str = ""
    image_alt: str = ""
    quick_replies: list[str] = Field(default_factory=list)

    def entry(self, extra_alternatives: list[str] | None = None) -> FaqEntry:
        """The entry, or a 422 `ConsoleError` naming each wrong field."""
        alternatives = _distinct([*self.alternatives, *(extra_alternatives or [])], self.question)
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "alternatives": alternatives,
            "category": self.category,
            "tags": [t for t in self.tags if t],
            "locale": self.locale or None,
            "quick_replies": [q for q in self.quick_replies if q],
        }
        if self.link_url:
            data["link"] = {"url": self.link_url, "label": self.link_label}
        if self.image_url:
            data["image"] = {"url": self.image_url, "alt_text": self.image_alt}
        try:
            return FaqEntry.model_validate(data)
        except ValidationError as e:
            problems = [
                FieldProblem(
                    field=".".join(str(p) for p in item["loc"]) or "entry", problem=item["msg"]
                )
                for item in e.errors()
            ]
            raise ConsoleError.of(422, "invalid_request", problems) from e

    @classmethod
    def of(cls, entry: FaqEntry) -> EntryForm:
        return cls(
            id=entry.id,
            question=entry.question,
            answer=entry.answer,
            alternatives=list(entry.alternatives),
            category=entry.category,
            tags=list(entry.tags),
            locale=entry.locale or "",
            link_url=entry.link.url if entry.link else "",
            link_label=entry.link.label if entry.link else "",
            image_url=entry.image.url if entry.image else "",
            image_alt=entry.image.alt_text if entry.image else "",
            quick_replies=list(entry.quick_replies),
        )


def _distinct(texts: list[str], question: str = "") -> list[str]:
    """Texts without blanks, repeats (ignoring case and spacing) or the question itself."""
    seen = {text_key(question)} if question else set()
    kept = []
    for text in texts:
        key = text_key(text)
        if text.strip() and key not in seen:
            seen.add(key)
            kept.append(text.strip())
    return kept


def faq_listing(
    handle: FaqHandle,
    *,
    q: str = "",
    category: str = "",
    locale: str = "",
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    entries = handle.faq.entries
    categories = sorted({e.category for e in entries if e.category})
    locales = sorted({e.locale for e in entries if e.locale})
    if category:
        entries = [e for e in entries if e.category == category]
    if locale:
        entries = [e for e in entries if (e.locale or "") == locale]
    if q:
        needle = q.casefold()
        entries = [
            e
            for e in entries
            if needle in e.id.casefold()
            or needle in e.answer.casefold()
            or any(needle in t.casefold() for t in e.questions)
        ]
    return {
        "skill": handle.name,
        "total": len(entries),
        "offset": offset,
        "limit": limit,
        "entries": [e.model_dump(mode="json") for e in entries[offset : offset + limit]],
        "categories": categories,
        "locales": locales,
    }


def get_entry(handle: FaqHandle, entry_id: str) -> FaqEntry:
    try:
        return handle.faq.get(entry_id)
    except UnknownEntryError:
        raise ConsoleError(404, "not_found", "id", f"no FAQ entry has id {entry_id!r}") from None


async def create_entry(handle: FaqHandle, entry: FaqEntry) -> FaqEntry:
    try:
        await asyncio.to_thread(handle.writer.add, entry)
    except DuplicateEntryError as e:
        raise ConsoleError(409, "conflict", "id", str(e)) from e
    return entry


async def save_entry(handle: FaqHandle, entry_id: str, entry: FaqEntry) -> bool:
    """Replace (or create) an entry; True when it was new."""
    if entry.id != entry_id:
        raise ConsoleError(422, "invalid_request", "id", f"{entry.id!r} is not {entry_id!r}")
    return bool(await asyncio.to_thread(handle.writer.upsert, entry))


async def delete_entry(handle: FaqHandle, entry_id: str) -> None:
    try:
        await asyncio.to_thread(handle.writer.delete, entry_id)
    except UnknownEntryError:
        raise ConsoleError(404, "not_found", "id", f"no FAQ entry has id {entry_id!r}") from None


# --- preview ---------------------------------------------------------------------------------


async def preview(
    assistant: Assistant, handle: FaqHandle | None, text: str, locale: str | None
) -> dict[str, Any]:
    """How the assistant would answer `text` now: a turn's skills and policy, nothing stored."""
    utterance = Utterance(
        text=text, session_id="admin-console-preview", channel="admin", locale=locale or None
    )
    try:
        proposal = await assistant.preview(utterance)
    except InputError as e:
        raise ConsoleError(422, "invalid_request", e.field, e.problem) from e
    policy = assistant.bot.config.policy
    decision = proposal.decision
    candidates = sorted(proposal.candidate_log(), key=lambda c: -c["confidence"])
    for candidate in candidates:
        candidate["threshold"] = policy.threshold(candidate["skill"])
        candidate["passes"] = candidate["confidence"] >= candidate["threshold"]
    hits: list[dict[str, Any]] = []
    if handle is not None:
        found = await asyncio.to_thread(handle.faq.search, proposal.text, 5, locale=proposal.locale)
        hits = [
            {"id": h.entry.id, "question": h.entry.question, "confidence": round(h.confidence, 4)}
            for h in found
        ]
    return {
        "text": text,
        "locale": proposal.locale,
        "outcome": decision.outcome,
        "route": decision.reply.route,
        "confidence": round(decision.reply.confidence, 4),
        "reply": [p.model_dump(mode="json") for p in decision.reply.parts],
        "reply_text": decision.reply.plain_text(),
        "candidates": candidates,
        "skills": proposal.skill_log(),
        "faq_hits": hits,
    }


# --- rules -----------------------------------------------------------------------------------

_RULE_SUFFIXES = (".yaml", ".yml", ".aiml")


def rule_sources(assistant: Assistant) -> list[tuple[str, Path]]:
    """(skill name, file or directory) of every small-talk skill's rules."""
    found: list[tuple[str, Path]] = []
    for spec, skill in assistant.skills:
        if isinstance(skill, SmalltalkSkill):
            options = SmalltalkOptions.model_validate(spec.options)
            found.extend((spec.name, p) for p in rule_paths(options, assistant.bot))
    return found


def rule_files(assistant: Assistant) -> list[dict[str, Any]]:
    """Every rule file with its rule count (read, not compiled: `check_rule_files` compiles)."""
    import importlib.resources

    bundled = Path(str(importlib.resources.files("rules")))
    rows: list[dict[str, Any]] = []
    for skill, source in rule_sources(assistant):
        files = (
            sorted(p for p in source.rglob("*") if p.suffix in _RULE_SUFFIXES and p.is_file())
            if source.is_dir()
            else [source]
        )
        for path in files:
            problems: list[Any] = []
            count = len(read_specs([path], problems)) if path.exists() else 0
            origin = "bundled" if path.is_relative_to(bundled) else "bot"
            shown = path
            for base in (bundled, assistant.bot.directory):
                if path.is_relative_to(base):
                    shown = path.relative_to(base)
                    break
            rows.append(
                {
                    "skill": skill,
                    "file": str(shown),
                    "path": str(path),
                    "origin": origin,
                    "rules": count,
                    "bytes": path.stat().st_size if path.exists() else 0,
                    "read_problems": len(problems),
                }
            )
    return rows


def _problems(found: list[Any]) -> list[dict[str, str]]:
    return [{"file": p.source, "rule": p.rule_id, "problem": p.message} for p in found]


def check_rule_files(assistant: Assistant) -> dict[str, Any]:
    """Compile every skill's rules as the skill would: every problem, with file and rule id."""
    by_skill: dict[str, list[Path]] = {}
    for skill, source in rule_sources(assistant):
        by_skill.setdefault(skill, []).append(source)
    problems: list[dict[str, str]] = []
    for paths in by_skill.values():
        problems.extend(_problems(check_rules(paths)))
    return {"checked": sum(len(p) for p in by_skill.values()), "problems": problems}


def check_rule_text(filename: str, text: str) -> dict[str, Any]:
    """Check a rule file before it is deployed (YAML or AIML, by its name)."""
    name = Path(filename.replace("\\", "/")).name or "rules.yaml"
    if Path(name).suffix not in _RULE_SUFFIXES:
        raise ConsoleError(422, "invalid_request", "filename", "use a .yaml, .yml or .aiml file")
    with tempfile.TemporaryDirectory(prefix="rules-") as directory:
        path = Path(directory) / name
        path.write_text(text, encoding="utf-8")
        read: list[Any] = []
        count = len(read_specs([path], read))
        found = check_rules([path])
    problems = [{**p, "file": name} for p in _problems(found)]
    return {"file": name, "rules": count, "problems": problems, "ok": not problems}


# --- conversations ---------------------------------------------------------------------------


FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9999, 12, 30)
#: Pages past this hold nothing anyone looks for, and their offset would overflow SQL integers.
MAX_PAGE = 1_000_000


class ConversationQuery(BaseModel):
    """The filters of the conversation list (dates are days in the bot's timezone)."""

    channel: str = ""
    route: str = ""
    # Days this side of the calendar's ends: a day's bounds in the bot's timezone must exist.
    since: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)
    until: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)
    below: float | None = Field(default=None, ge=0.0, le=1.0)
    fallback: bool = False
    handoff: bool = False
    negative: bool = False
    page: int = Field(default=1, ge=1, le=MAX_PAGE)

    def where(self, timezone: str) -> SessionFilter:
        zone = ZoneInfo(timezone)

        def start_of(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

        return SessionFilter(
            channel=self.channel or None,
            route=self.route or None,
            since=start_of(self.since) if self.since else None,
            until=start_of(self.until + timedelta(days=1)) if self.until else None,
            below=self.below,
            fallback=self.fallback,
            handoff=self.handoff,
            negative=self.negative,
        )


PAGE = 50


async def conversations(assistant: Assistant, query: ConversationQuery) -> dict[str, Any]:
    insights = Insights(assistant.store.engine)
    total, sessions = await insights.sessions(
        query.where(assistant.bot.config.timezone), offset=(query.page - 1) * PAGE, limit=PAGE
    )
    return {
        "total": total,
        "page": query.page,
        "pages": max(1, -(-total // PAGE)),
        "sessions": [asdict(s) for s in sessions],
        "channels": await insights.channels(),
        "routes": await insights.routes(),
    }


async def session_detail(assistant: Assistant, session_id: str) -> dict[str, Any]:
    view = await assistant.store.get_session(session_id, last=1000)
    if view is None:
        raise ConsoleError(404, "not_found", "session_id", f"no session {session_id!r}")
    ratings = await FeedbackStore(assistant.store.engine).of_session(session_id)
    turns = []
    for t in view.turns:
        rated = ratings.get(t.seq)
        turns.append(
            {
                "seq": t.seq,
                "text": t.text,
                "reply": [p.model_dump(mode="json") for p in t.reply.parts],
                "reply_text": t.reply.plain_text(),
                "route": t.reply.route,
                "confidence": t.reply.confidence,
                "outcome": t.outcome,
                "handoff": any(p.type == "handoff" for p in t.reply.parts),
                "candidates": sorted(t.candidates, key=lambda c: -float(c.get("confidence", 0))),
                "skills": t.skills,
                "latency_ms": t.latency_ms,
                "message_id": t.message_id,
                "at": t.at.isoformat(),
                "feedback": None
                if rated is None
                else {"rating": "up" if rated.rating > 0 else "down", "comment": rated.comment},
            }
        )
    return {
        "session_id": view.session_id,
        "channel": view.channel,
        "turn_count": view.turn_count,
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
        "context": view.context.model_dump(mode="json"),
        "turns": turns,
    }


# --- active learning -------------------------------------------------------------------------


async def unanswered(assistant: Assistant, *, days: int) -> list[Question]:
    """The distinct questions of the last `days` days that fell back, were clarified or got a
    thumbs-down, without those something was done with already."""
    since = datetime.now(UTC) - timedelta(days=days)
    turns = await Insights(assistant.store.engine).learning_turns(since=since)
    handled = await LearningStore(assistant.store.engine).handled()
    found: dict[str, Question] = {}
    for turn in turns:
        key = text_key(turn.text)
        if key in handled:
            continue
        question = found.get(key)
        if question is None:
            question = found[key] = Question(turn.text.strip(), turn.locale, 0, Counter(), turn.at)
        question.count += 1
        question.reasons[turn.reason] += 1
        if len(question.turns) < 5:
            question.turns.append((turn.session_id, turn.seq))
        if len(found) >= 1000:
            break
    return list(found.values())


def cluster_view(cluster: Cluster) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "locale": cluster.locale,
        "size": cluster.size,
        "representative": cluster.representative,
        "questions": [
            {
                "text": q.text,
                "count": q.count,
                "reasons": dict(q.reasons),
                "last_at": q.last_at.isoformat() if q.last_at else None,
                "turns": [{"session_id": s, "seq": n} for s, n in q.turns],
            }
            for q in cluster.questions
        ],
        "suggestions": [asdict(s) for s in cluster.suggestions],
    }


async def learning(assistant: Assistant, handle: FaqHandle, *, days: int) -> dict[str, Any]:
    questions = await unanswered(assistant, days=days)
    clusters = await asyncio.to_thread(cluster_questions, handle.faq, questions)
    return {
        "skill": handle.name,
        "days": days,
        "questions": len(questions),
        "clusters": [cluster_view(c) for c in clusters],
    }


async def add_alternatives(
    assistant: Assistant, handle: FaqHandle, entry_id: str, questions: list[str]
) -> dict[str, Any]:
    """Add the questions to an entry as alternative questions; the index updates at once."""
    entry = get_entry(handle, entry_id)
    added = _distinct(questions)
    known = {text_key(q) for q in entry.questions}
    new = [q for q in added if text_key(q) not in known]
    updated = EntryForm.of(entry).entry(extra_alternatives=new)
    await asyncio.to_thread(handle.writer.upsert, updated)
    await LearningStore(assistant.store.engine).record(added, "alternative", entry_id)
    return {"entry": updated.model_dump(mode="json"), "added": len(new)}


async def new_entry_from(
    assistant: Assistant, handle: FaqHandle, form: EntryForm, questions: list[str]
) -> dict[str, Any]:
    """A new entry whose alternatives are the cluster's questions."""
    entry = form.entry(extra_alternatives=_distinct(questions))
    await create_entry(handle, entry)
    await LearningStore(assistant.store.engine).record(questions, "new_entry", entry.id)
    return {"entry": entry.model_dump(mode="json")}


async def dismiss(assistant: Assistant, questions: list[str]) -> dict[str, Any]:
    return {
        "dismissed": await LearningStore(assistant.store.engine).record(
            questions, "dismissed", None
        )
    }


# --- quality ---------------------------------------------------------------------------------


async def rates(
    assistant: Assistant, *, since: date, until: date, channel: str = ""
) -> dict[str, Any]:
    """Answer, clarification, fallback and hand-off rates by day, from `since` to `until`
    (days in the bot's timezone, both included)."""
    timezone = assistant.bot.config.timezone
    zone = ZoneInfo(timezone)
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    days = await Insights(assistant.store.engine).daily_rates(
        start, end, timezone=timezone, channel=channel or None
    )
    rows = [
        {
            "day": d.day.isoformat(),
            "turns": d.turns,
            **{name: getattr(d, name) for name in (*RATES, "negative")},
            **{f"{name}_rate": round(d.rate(name), 4) for name in RATES},
        }
        for d in days
    ]
    totals = {name: sum(r[name] for r in rows) for name in ("turns", *RATES, "negative")}
    return {"timezone": timezone, "channel": channel, "days": rows, "totals": totals}


def _right(row: dict[str, Any]) -> bool:
    return bool(row.get("predicted_id") == row.get("expected_id"))


def confusion(run: EvalRun, *, max_labels: int = 30) -> dict[str, Any]:
    """Counts of (expected, predicted) over a run's queries; `-` is no entry (out of scope
    when expected, declined when predicted). Labels are those with an error, most errors
    first, and the diagonal is kept for them."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in run.rows:
        counts[(row.get("expected_id") or NONE, row.get("predicted_id") or NONE)] += 1
    errors: Counter[str] = Counter()
    for (expected, predicted), n in counts.items():
        if expected != predicted:
            errors[expected] += n
            errors[predicted] += n
    labels = [label for label, _ in errors.most_common(max_labels)]
    labels.sort(key=lambda label: (label == NONE, label))
    matrix = [[counts.get((e, p), 0) for p in labels] for e in labels]
    pairs = [
        {"expected": e, "predicted": p, "count": n} for (e, p), n in counts.most_common() if e != p
    ]
    return {
        "labels": labels,
        "matrix": matrix,
        "pairs": pairs,
        "right": sum(n for (e, p), n in counts.items() if e == p),
        "wrong": sum(n for (e, p), n in counts.items() if e != p),
    }


def cell(run: EvalRun, expected: str, predicted: str) -> list[dict[str, Any]]:
    """The queries behind one cell of the confusion view."""
    return [
        row
        for row in run.rows
        if (row.get("expected_id") or NONE) == expected
        and (row.get("predicted_id") or NONE) == predicted
    ]


METRICS = (
    "accuracy_at_1",
    "mrr_at_10",
    "end_to_end_accuracy",
    "decline_precision",
    "decline_recall",
    "p50_ms",
    "p99_ms",
)


def compare(a: EvalRun, b: EvalRun) -> dict[str, Any]:
    """Two runs side by side: each metric and its change, and the queries whose prediction
    changed (fixed, broken, or wrong in another way), matched by text."""
    metrics = []
    for name in METRICS:
        before, after = a.metrics.get(name), b.metrics.get(name)
        delta = (
            after - before
            if isinstance(before, int | float) and isinstance(after, int | float)
            else None
        )
        metrics.append({"name": name, "a": before, "b": after, "delta": delta})
    earlier = {(r["text"], r.get("expected_id")): r for r in a.rows}
    changes: dict[str, list[dict[str, Any]]] = {"fixed": [], "broken": [], "changed": []}
    for row in b.rows:
        old = earlier.get((row["text"], row.get("expected_id")))
        if old is None or old.get("predicted_id") == row.get("predicted_id"):
            continue
        kind = "fixed" if _right(row) else "broken" if _right(old) else "changed"
        changes[kind].append(
            {
                "text": row["text"],
                "expected_id": row.get("expected_id"),
                "a": old.get("predicted_id"),
                "b": row.get("predicted_id"),
                "a_confidence": old.get("confidence"),
                "b_confidence": row.get("confidence"),
            }
        )
    shared = sum((r["text"], r.get("expected_id")) in earlier for r in b.rows)
    return {
        "a": run_summary(a),
        "b": run_summary(b),
        "metrics": metrics,
        "changes": changes,
        "shared": shared,
    }


def run_summary(run: EvalRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "source": run.source,
        "created_at": run.created_at.isoformat(),
        "settings": run.settings,
        "metrics": run.metrics,
    }
