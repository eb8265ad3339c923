"""The task skill end to end: flows from data, slots, directives, a real webhook receiver and a
real rasa-sdk action server; conversations as data."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.config import load_bot
from assistant.context import DialogueContext
from assistant.conversations import run_conversations
from assistant.skill import TurnInput
from assistant.skills import build_skills
from assistant.skills.task import TaskSkill
from assistant.types import QuickRepliesPart, Utterance

from .conftest import DATA, Receiver

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()


async def test_conversations(task_bot: Path, webhook: Receiver) -> None:
    webhook.answer = {"text": "예약 번호 B-1번으로 접수했어요.", "slots": {"booking_id": "B-1"}}
    report = await run_conversations(load_bot(task_bot), [DATA / "conversations.yaml"])
    failed = [
        f"{r.conversation} #{r.index} {r.user!r} -> {r.route} {r.reply!r}: {r.failures}"
        for r in report.failed
    ]
    assert not failed, "\n".join(failed)
    (booking,) = webhook.requests  # only the confirmed booking called the webhook
    assert booking["flow"] == "book" and booking["locale"] == "ko"
    assert booking["slots"] == {"service": "엔진오일 교체", "date": "2026-12-02", "time": "16:00"}


@pytest.fixture
async def skill(task_bot: Path) -> TaskSkill:
    bot = load_bot(task_bot)
    built = await asyncio.to_thread(build_skills, bot)
    found = next(s for spec, s in built if spec.type == "task")
    assert isinstance(found, TaskSkill)
    return found


def turn(text: str, context: DialogueContext | None = None, **device: object) -> TurnInput:
    utterance = Utterance(text=text, session_id="s", device=device)  # type: ignore[arg-type]
    return TurnInput(utterance, text, "ko", context or DialogueContext(), NOW)


async def test_dates_are_read_in_the_devices_timezone(skill: TaskSkill) -> None:
    # 10:00 in Seoul is 20:00 the day before in New York: "내일" is 2 December there.
    (seoul,) = await skill.propose(turn("내일 오후 3시에 엔진오일 교체 예약해 줘"))
    (new_york,) = await skill.propose(
        turn("내일 오후 3시에 엔진오일 교체 예약해 줘", timezone="America/New_York")
    )
    assert seoul.details["slots"]["date"] == "2026-12-02"
    assert new_york.details["slots"]["date"] == "2026-12-01"


async def test_out_of_scope_proposes_nothing(skill: TaskSkill) -> None:
    assert await skill.propose(turn("오늘 주식 시장 전망 어때?")) == []


async def test_the_rasa_action_servers_buttons_become_quick_replies(task_bot: Path) -> None:
    report = await run_conversations(load_bot(task_bot), [DATA / "conversations.yaml"])
    del report
    from assistant.dialogue import Assistant
    from assistant.store import SqlStore

    bot = load_bot(task_bot)
    store = SqlStore(f"sqlite:///{task_bot / 's.db'}")
    await store.open()
    a = Assistant(bot, store, await asyncio.to_thread(build_skills, bot), clock=lambda: NOW)
    try:
        await a.handle(Utterance(text="시승 예약 해 줘", session_id="r", locale="ko"))
        reply = await a.handle(Utterance(text="다음 주 금요일", session_id="r", locale="ko"))
    finally:
        await a.close()
    options = [p for p in reply.parts if isinstance(p, QuickRepliesPart)]
    assert options and options[0].options[0].label == "예약 확인"


async def test_a_failing_webhook_degrades_the_answer(task_bot: Path, webhook: Receiver) -> None:
    webhook.status = 503
    from assistant.dialogue import Assistant
    from assistant.store import SqlStore

    bot = load_bot(task_bot)
    store = SqlStore(f"sqlite:///{task_bot / 'f.db'}")
    await store.open()
    a = Assistant(bot, store, await asyncio.to_thread(build_skills, bot), clock=lambda: NOW)
    try:
        for text in ("내일 오후 3시에 엔진오일 교체 예약해 줘", "네"):
            reply = await a.handle(Utterance(text=text, session_id="w", locale="ko"))
    finally:
        await a.close()
    assert reply.route == "task:book"
    assert "처리하지 못했어요" in reply.plain_text()
    assert len(webhook.requests) == 1


async def test_a_flow_picked_from_a_clarification_starts_with_the_unclear_turns_values(
    skill: TaskSkill,
) -> None:
    from assistant.context import TurnRecord
    from assistant.policy import CLARIFY_CONTEXT
    from assistant.types import ContextUpdate, NamedContext

    context = DialogueContext()
    context.record(
        TurnRecord(user="어머니 회사", reply="...", route="clarify", confidence=0.5, at=NOW)
    )
    offered = NamedContext(
        name=CLARIFY_CONTEXT,
        lifespan=1,
        params={"suggestions": ["길 안내", "전화 걸기"], "routes": ["task:navigate", "task:call"]},
    )
    context.apply(ContextUpdate(activate=(offered,)), now=NOW)
    (picked,) = await skill.propose(turn("전화 걸기", context))
    assert picked.holds_floor and picked.reply.route == "task:call"
    assert picked.details["slots"]["contact"] == "엄마"


async def test_an_unknown_device_timezone_falls_back_to_the_bots(skill: TaskSkill) -> None:
    (found,) = await skill.propose(
        turn("내일 오후 3시에 엔진오일 교체 예약해 줘", timezone="Mars/Olympus")
    )
    assert found.details["slots"]["date"] == "2026-12-02"
