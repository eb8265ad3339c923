"""Small talk never suggests what the bot cannot do: every command the bundled rule replies
quote ("'에어컨 켜 줘'라고 말씀해 주세요", "say 'turn on the AC'") is sent through the demo bot
and must be understood, not answered with the fallback or a clarification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rules
from assistant.dialogue import Assistant
from assistant.types import Utterance

DATA = Path(rules.__file__).parent / "data"
_QUOTED = {
    "ko": re.compile(r"['‘\"“]([^'’\"”]{2,40})['’\"”]\s?(?:이?라고|하고|라구)"),
    "en": re.compile(r"\b(?:say|ask|try)\s+['‘\"“]([^'’\"”]{2,40})['’\"”]", re.IGNORECASE),
}


def quoted_commands() -> list[tuple[str, str]]:
    """(locale, command) for every command quoted in a reply of the bundled rules; a name
    left open ("○○") is given one."""
    found: dict[tuple[str, str], None] = {}
    for locale, pattern in _QUOTED.items():
        for path in sorted((DATA / locale).glob("*.yaml")):
            for command in pattern.findall(path.read_text(encoding="utf-8")):
                found[(locale, command.replace("○○", "민수").replace("...", "Alex"))] = None
    return list(found)


def test_the_rules_quote_commands() -> None:
    commands = quoted_commands()
    assert ("ko", "에어컨 켜 줘") in commands and len(commands) >= 10


@pytest.mark.slow
async def test_every_command_quoted_by_small_talk_is_understood(tmp_path: Path) -> None:
    assistant = await Assistant.create(database_url=f"sqlite:///{tmp_path / 'quoted.db'}")
    try:
        missed = []
        for i, (locale, command) in enumerate(quoted_commands()):
            reply = await assistant.handle(
                Utterance(text=command, session_id=f"quoted-{i}", locale=locale)
            )
            if reply.route in ("fallback", "clarify", None):
                missed.append(f"{locale}: {command!r} -> {reply.route}")
    finally:
        await assistant.close()
    assert not missed, "\n".join(missed)
