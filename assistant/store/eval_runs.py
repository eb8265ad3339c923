"""Stored FAQ evaluation runs: the metrics and every query's prediction, so the console can
show a confusion view whose cells open their queries, and compare two runs.

    runs = EvalRunStore(store.engine)
    run = await runs.save("after synonyms", source="eval_queries.jsonl", settings={...},
                          metrics={...}, rows=[{"text": ..., "expected_id": ..., ...}])
    listed = await runs.list()                  # newest first, without the rows
    again = await runs.get(run.id)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store.models import Base
from assistant.store.sql import as_utc

__all__ = ["EvalRun", "EvalRunRow", "EvalRunStore"]


class EvalRunRow(Base):
    __tablename__ = "eval_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    rows: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True, slots=True)
class EvalRun:
    id: str
    name: str
    source: str
    settings: dict[str, Any]
    metrics: dict[str, Any]
    created_at: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)  # empty in listings


class EvalRunStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(
        self,
        name: str,
        *,
        source: str,
        settings: dict[str, Any],
        metrics: dict[str, Any],
        rows: list[dict[str, Any]],
    ) -> EvalRun:
        run = EvalRun(
            id=secrets.token_hex(6),
            name=name[:200] or "run",
            source=source,
            settings=settings,
            metrics=metrics,
            created_at=datetime.now(UTC),
            rows=rows,
        )
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(EvalRunRow).values(
                    id=run.id,
                    name=run.name,
                    source=run.source,
                    settings=run.settings,
                    metrics=run.metrics,
                    rows=run.rows,
                    created_at=run.created_at,
                )
            )
        return run

    async def get(self, run_id: str) -> EvalRun | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(EvalRunRow).where(EvalRunRow.id == run_id))).first()
        if row is None:
            return None
        return EvalRun(
            row.id,
            row.name,
            row.source,
            row.settings,
            row.metrics,
            as_utc(row.created_at),
            list(row.rows),
        )

    async def list(self, limit: int = 100) -> list[EvalRun]:
        """The newest runs first, without their rows."""
        columns = (
            EvalRunRow.id,
            EvalRunRow.name,
            EvalRunRow.source,
            EvalRunRow.settings,
            EvalRunRow.metrics,
            EvalRunRow.created_at,
        )
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(*columns).order_by(EvalRunRow.created_at.desc()).limit(limit)
                )
            ).all()
        return [
            EvalRun(r.id, r.name, r.source, r.settings, r.metrics, as_utc(r.created_at))
            for r in rows
        ]

    async def delete(self, run_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(EvalRunRow).where(EvalRunRow.id == run_id))
        return bool(getattr(result, "rowcount", 0))
