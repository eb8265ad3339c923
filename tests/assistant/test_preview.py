"""`Assistant.preview`: the skills and the policy of a turn, with nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.dialogue import Assistant
from assistant.errors import InputError
from assistant.store import SqlStore
from assistant.types import Utterance

from .fakes import EchoSkill, KeywordSkill, make_bot, pairs


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    skills = [EchoSkill(), KeywordSkill("faq", "충전", "충전 요금은 kWh당 300원이에요.", 0.95)]
    bot = make_bot(tmp_path, skills)  # type: ignore[arg-type]
    store = SqlStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    await store.open()
    a = Assistant(bot, store, pairs(bot, skills))  # type: ignore[arg-type]
    yield a
    await a.close()


async def test_preview_decides_like_a_turn_and_stores_nothing(assistant: Assistant) -> None:
    proposal = await assistant.preview(Utterance(text="충전 요금", session_id="preview"))
    assert proposal.decision.reply.route == "faq:충전"
    assert proposal.decision.outcome == "answer"
    assert proposal.locale == "ko"
    logged = {(c["skill"], c["chosen"]) for c in proposal.candidate_log()}
    assert logged == {("echo", False), ("faq", True)}
    assert [s["status"] for s in proposal.skill_log()] == ["ok", "ok"]
    assert await assistant.store.get_session("preview") is None
    # the real turn gives the same route
    reply = await assistant.handle(Utterance(text="충전 요금", session_id="real"))
    assert reply.route == proposal.decision.reply.route


async def test_preview_reads_a_given_context_without_changing_it(assistant: Assistant) -> None:
    await assistant.handle(Utterance(text="하나", session_id="s1"))
    context = await assistant.store.load_context("s1")
    assert context is not None
    proposal = await assistant.preview(Utterance(text="둘", session_id="s1"), context=context)
    assert proposal.decision.reply.plain_text() == "둘 (after 하나)"
    again = await assistant.store.load_context("s1")
    assert again is not None and again.model_dump() == context.model_dump()


async def test_preview_refuses_bad_input_like_a_turn(assistant: Assistant) -> None:
    with pytest.raises(InputError) as caught:
        await assistant.preview(Utterance(text="   ", session_id="p"))
    assert caught.value.field == "text"
