"""What was done with the questions that active learning offered (added to an entry as an
alternative question, made into a new entry, or dismissed), so they are not offered again.

Questions are keyed by their text, case-folded with white space collapsed:

    >>> text_key("  충전 요금이   얼마예요? ") == text_key("충전 요금이 얼마예요?")
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import DateTime, Integer, String, Text, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models import Base

__all__ = ["Action", "LearningActionRow", "LearningStore", "text_key"]

Action = Literal["alternative", "new_entry", "dismissed"]


class LearningActionRow(Base):
    __tablename__ = "learning_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text_key: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def text_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.casefold().split()).encode()).hexdigest()


class LearningStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, texts: Iterable[str], action: Action, entry_id: str | None) -> int:
        now = datetime.now(UTC)
        rows = [
            {"text_key": text_key(t), "text": t, "action": action, "entry_id": entry_id}
            for t in dict.fromkeys(texts)
        ]
        if not rows:
            return 0
        async with self._engine.begin() as conn:
            await conn.execute(insert(LearningActionRow), [{**r, "created_at": now} for r in rows])
        return len(rows)

    async def handled(self) -> set[str]:
        """Keys of every question something was done with."""
        async with self._engine.connect() as conn:
            return set((await conn.scalars(select(LearningActionRow.text_key))).all())
