"""Thumbs up or down on a turn, sent by a channel (`POST /v1/feedback`).

One rating per turn: a second vote on the same turn replaces the first (people change their
minds). A turn is named by its number in the session (`turn`, as `GET /v1/sessions/{id}`
shows it) or by the `message_id` the channel sent with it.

    feedback = FeedbackStore(store.engine)
    saved = await feedback.record("kakao:u1", rating=-1, message_id="m-7", channel="kakao")
    ratings = await feedback.of_session("kakao:u1")        # {turn number: Feedback}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.errors import AssistantError
from assistant.store.models import Base, TurnRow
from assistant.store.sql import as_utc

__all__ = ["Feedback", "FeedbackRow", "FeedbackStore", "UnknownTurn"]


class FeedbackRow(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ux_feedback_turn", "session_id", "turn_seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("sessions.id", ondelete="CASCADE")
    )
    turn_seq: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(SmallInteger)  # +1 thumbs up, -1 thumbs down
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UnknownTurn(AssistantError):
    """The feedback names a session or turn that is not stored; `field` says which."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Feedback:
    session_id: str
    turn: int
    rating: int
    comment: str | None
    channel: str
    at: datetime


class FeedbackStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _turn(self, session_id: str, turn: int | None, message_id: str | None) -> int:
        query = select(TurnRow.seq).where(TurnRow.session_id == session_id)
        if turn is not None:
            query = query.where(TurnRow.seq == turn)
        else:
            query = query.where(TurnRow.message_id == message_id)
        async with self._engine.connect() as conn:
            seq = await conn.scalar(query)
            if seq is not None:
                return int(seq)
            known = await conn.scalar(
                select(TurnRow.seq).where(TurnRow.session_id == session_id).limit(1)
            )
        if known is None:
            raise UnknownTurn("session_id", f"no conversation {session_id!r} is stored")
        if turn is not None:
            raise UnknownTurn("turn", f"session {session_id!r} has no turn {turn}")
        raise UnknownTurn(
            "message_id", f"session {session_id!r} has no turn with message id {message_id!r}"
        )

    async def record(
        self,
        session_id: str,
        *,
        rating: int,
        turn: int | None = None,
        message_id: str | None = None,
        comment: str | None = None,
        channel: str = "rest",
    ) -> Feedback:
        """Store (or replace) the rating of one turn; raises `UnknownTurn` when it is not there."""
        if rating not in (1, -1):
            raise ValueError("rating must be 1 (up) or -1 (down)")
        if (turn is None) == (message_id is None):
            raise ValueError("name the turn by exactly one of turn or message_id")
        seq = await self._turn(session_id, turn, message_id)
        now = datetime.now(UTC)
        values = {"rating": rating, "comment": comment, "channel": channel, "updated_at": now}
        for _ in range(2):  # a concurrent first vote on the same turn: retry as an update
            try:
                async with self._engine.begin() as conn:
                    changed = await conn.execute(
                        sql_update(FeedbackRow)
                        .where(FeedbackRow.session_id == session_id, FeedbackRow.turn_seq == seq)
                        .values(**values)
                    )
                    if not getattr(changed, "rowcount", 0):
                        await conn.execute(
                            FeedbackRow.__table__.insert().values(  # type: ignore[attr-defined]
                                session_id=session_id, turn_seq=seq, created_at=now, **values
                            )
                        )
                break
            except IntegrityError:
                continue
        return Feedback(session_id, seq, rating, comment, channel, now)

    async def of_session(self, session_id: str) -> dict[int, Feedback]:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(FeedbackRow).where(FeedbackRow.session_id == session_id))
            ).all()
        return {
            r.turn_seq: Feedback(
                r.session_id, r.turn_seq, r.rating, r.comment, r.channel, as_utc(r.updated_at)
            )
            for r in rows
        }
