"""Read-only questions about the stored conversations, for the admin console: sessions by
channel, route, date, confidence, fallback, hand-off and negative feedback; answer, fallback and
hand-off rates by day; the questions the bot could not answer.

A turn *handed off* when its reply holds a hand-off part (as the `assistant_handoffs_total`
metric counts it); the fallback's reply always does.

    insights = Insights(store.engine)
    total, sessions = await insights.sessions(SessionFilter(channel="kakao", fallback=True))
    days = await insights.daily_rates(since, until, timezone="Asia/Seoul")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from assistant.store.feedback import FeedbackRow
from assistant.store.models import SessionRow, TurnRow
from assistant.store.sql import as_utc

__all__ = [
    "DayRates",
    "Insights",
    "LearningTurn",
    "SessionFilter",
    "SessionSummary",
    "handed_off",
]

#: The JSON of a hand-off part as stored (json.dumps spacing on SQLite and PostgreSQL's json).
_HANDOFF = '%"type": "handoff"%'


def handed_off() -> ColumnElement[bool]:
    """Whether a turn's reply holds a hand-off part."""
    return cast(TurnRow.reply, Text).like(_HANDOFF)


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Sessions with a turn in [since, until) that matches each condition given.

    `route` is a turn's route, or a prefix when it ends with `*` (`faq:*`); `below` keeps
    sessions with a turn less confident than it; `fallback`, `handoff` and `negative` keep those
    with a fallback, a hand-off or a thumbs-down.
    """

    channel: str | None = None
    route: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    below: float | None = None
    fallback: bool = False
    handoff: bool = False
    negative: bool = False


@dataclass(frozen=True, slots=True)
class SessionSummary:
    session_id: str
    channel: str
    turns: int
    first_at: datetime
    last_at: datetime
    fallbacks: int
    handoffs: int
    min_confidence: float
    negative: int
    positive: int
    first_text: str


@dataclass(frozen=True, slots=True)
class DayRates:
    day: date
    turns: int = 0
    answered: int = 0
    clarified: int = 0
    fallbacks: int = 0
    handoffs: int = 0
    negative: int = 0

    def rate(self, what: str) -> float:
        value: int = getattr(self, what)
        return value / self.turns if self.turns else 0.0


@dataclass(frozen=True, slots=True)
class LearningTurn:
    """A question the bot could not answer well: why (`fallback`, `clarify`, `negative`)."""

    session_id: str
    seq: int
    text: str
    locale: str
    route: str
    reason: str
    at: datetime


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _route_matches(route: str) -> ColumnElement[bool]:
    if route.endswith("*"):
        prefix = route[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return TurnRow.route.like(prefix + "%", escape="\\")
    return TurnRow.route == route


class Insights:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def sessions(
        self, where: SessionFilter, *, offset: int = 0, limit: int = 50
    ) -> tuple[int, list[SessionSummary]]:
        """How many sessions match, and one page of them, the most recently active first."""
        votes = (
            select(
                FeedbackRow.session_id.label("session_id"),
                _count(FeedbackRow.rating < 0).label("negative"),
                _count(FeedbackRow.rating > 0).label("positive"),
            )
            .group_by(FeedbackRow.session_id)
            .subquery()
        )
        turn_filter: list[ColumnElement[bool]] = []
        if where.since is not None:
            turn_filter.append(TurnRow.created_at >= where.since)
        if where.until is not None:
            turn_filter.append(TurnRow.created_at < where.until)
        if where.channel:
            turn_filter.append(SessionRow.channel == where.channel)
        negative = func.coalesce(func.max(votes.c.negative), 0)
        query = (
            select(
                TurnRow.session_id,
                SessionRow.channel,
                func.count().label("turns"),
                func.min(TurnRow.created_at).label("first_at"),
                func.max(TurnRow.created_at).label("last_at"),
                _count(TurnRow.outcome == "fallback").label("fallbacks"),
                _count(handed_off()).label("handoffs"),
                func.min(TurnRow.confidence).label("min_confidence"),
                negative.label("negative"),
                func.coalesce(func.max(votes.c.positive), 0).label("positive"),
            )
            .join(SessionRow, SessionRow.id == TurnRow.session_id)
            .outerjoin(votes, votes.c.session_id == TurnRow.session_id)
            .where(and_(literal(True), *turn_filter))
            .group_by(TurnRow.session_id, SessionRow.channel)
        )
        having: list[ColumnElement[bool]] = []
        if where.route:
            having.append(_count(_route_matches(where.route)) > 0)
        if where.below is not None:
            having.append(func.min(TurnRow.confidence) < where.below)
        if where.fallback:
            having.append(_count(TurnRow.outcome == "fallback") > 0)
        if where.handoff:
            having.append(_count(handed_off()) > 0)
        if where.negative:
            having.append(negative > 0)
        if having:
            query = query.having(and_(*having))
        page = query.order_by(func.max(TurnRow.created_at).desc(), TurnRow.session_id)
        async with self._engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            rows = (await conn.execute(page.offset(offset).limit(limit))).all()
            ids = [r.session_id for r in rows]
            firsts: dict[str, str] = {}
            if ids:
                found = await conn.execute(
                    select(TurnRow.session_id, TurnRow.text).where(
                        TurnRow.session_id.in_(ids), TurnRow.seq == 1
                    )
                )
                firsts = {r.session_id: r.text for r in found}
        return int(total or 0), [
            SessionSummary(
                session_id=r.session_id,
                channel=r.channel,
                turns=int(r.turns),
                first_at=as_utc(r.first_at),
                last_at=as_utc(r.last_at),
                fallbacks=int(r.fallbacks),
                handoffs=int(r.handoffs),
                min_confidence=float(r.min_confidence),
                negative=int(r.negative),
                positive=int(r.positive),
                first_text=firsts.get(r.session_id, ""),
            )
            for r in rows
        ]

    async def channels(self) -> list[str]:
        async with self._engine.connect() as conn:
            found = await conn.scalars(
                select(SessionRow.channel).distinct().order_by(SessionRow.channel)
            )
            return list(found.all())

    async def routes(self, limit: int = 200) -> list[str]:
        """The routes turns took, the most frequent first."""
        async with self._engine.connect() as conn:
            found = await conn.scalars(
                select(TurnRow.route)
                .group_by(TurnRow.route)
                .order_by(func.count().desc(), TurnRow.route)
                .limit(limit)
            )
            return list(found.all())

    async def daily_rates(
        self,
        since: datetime,
        until: datetime,
        *,
        timezone: str = "UTC",
        channel: str | None = None,
    ) -> list[DayRates]:
        """Turns and their outcomes by day (in `timezone`), every day of the range included."""
        zone = ZoneInfo(timezone)
        conditions = [TurnRow.created_at >= since, TurnRow.created_at < until]
        if channel:
            conditions.append(TurnRow.channel == channel)
        query = select(
            TurnRow.created_at, TurnRow.outcome, case((handed_off(), 1), else_=0).label("handoff")
        ).where(*conditions)
        # thumbs-down counted on the day of the turn they rate
        votes = (
            select(TurnRow.created_at)
            .join(
                FeedbackRow,
                and_(
                    FeedbackRow.session_id == TurnRow.session_id,
                    FeedbackRow.turn_seq == TurnRow.seq,
                ),
            )
            .where(FeedbackRow.rating < 0, *conditions)
        )
        counts: dict[date, dict[str, int]] = {}

        def bump(moment: datetime, key: str) -> None:
            day = as_utc(moment).astimezone(zone).date()
            counts.setdefault(day, {}).setdefault(key, 0)
            counts[day][key] += 1

        async with self._engine.connect() as conn:
            for created_at, outcome, handoff in await conn.execute(query):
                bump(created_at, "turns")
                if outcome == "answer":
                    bump(created_at, "answered")
                elif outcome == "clarify":
                    bump(created_at, "clarified")
                elif outcome == "fallback":
                    bump(created_at, "fallbacks")
                if handoff:
                    bump(created_at, "handoffs")
            for (moment,) in await conn.execute(votes):
                bump(moment, "negative")
        first = as_utc(since).astimezone(zone).date()
        last = (as_utc(until) - timedelta(microseconds=1)).astimezone(zone).date()
        days = []
        day = first
        while day <= last:
            days.append(DayRates(day, **counts.get(day, {})))
            day += timedelta(days=1)
        return days

    async def learning_turns(
        self, *, since: datetime | None = None, limit: int = 2000
    ) -> list[LearningTurn]:
        """The newest turns that fell back, landed in the grey zone (a clarification) or got a
        thumbs-down, up to `limit`."""
        down = (
            select(FeedbackRow.session_id, FeedbackRow.turn_seq)
            .where(FeedbackRow.rating < 0)
            .subquery()
        )
        is_down = down.c.turn_seq.is_not(None)
        reason = case(
            (is_down, "negative"),
            (TurnRow.outcome == "fallback", "fallback"),
            else_="clarify",
        )
        query = (
            select(
                TurnRow.session_id,
                TurnRow.seq,
                TurnRow.text,
                TurnRow.locale,
                TurnRow.route,
                reason.label("reason"),
                TurnRow.created_at,
            )
            .outerjoin(
                down, and_(down.c.session_id == TurnRow.session_id, down.c.turn_seq == TurnRow.seq)
            )
            .where(or_(TurnRow.outcome.in_(("fallback", "clarify")), is_down))
        )
        if since is not None:
            query = query.where(TurnRow.created_at >= since)
        query = query.order_by(TurnRow.created_at.desc(), TurnRow.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            LearningTurn(
                r.session_id, r.seq, r.text, r.locale, r.route, r.reason, as_utc(r.created_at)
            )
            for r in rows
        ]
