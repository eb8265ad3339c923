"""The demo bot's conversation tests (assistant/demo_bot/conversations/*.yaml), in both
languages: follow-ups, forms with an interruption and a correction, cancellation, hand-off."""

from __future__ import annotations

import pytest

from assistant.config import demo_bot_dir, load_bot
from assistant.conversations import run_conversations

FILES = sorted((demo_bot_dir() / "conversations").glob("*.yaml"))


def test_both_languages_have_conversations() -> None:
    assert [f.name for f in FILES] == ["en.yaml", "ko.yaml"]


@pytest.mark.slow
async def test_demo_conversations() -> None:
    report = await run_conversations(load_bot(None), FILES)
    failed = [
        f"{r.file} / {r.conversation} #{r.index} {r.user!r} -> {r.route} {r.reply!r}: "
        f"{'; '.join(r.failures)}"
        for r in report.failed
    ]
    assert not failed, "\n".join(failed)
    assert len(report.results) >= 40
