"""The demo bot's owner's manual: enough sections in both languages, and answers read from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Bot, BotConfig, SkillSpec, demo_bot_dir
from assistant.context import DialogueContext
from assistant.mrc.documents import load_document
from assistant.mrc.splitting import split_document
from assistant.skill import TurnInput
from assistant.skills import build_skills
from assistant.skills.mrc import MrcSkill
from assistant.types import CardPart, Utterance

MANUAL = demo_bot_dir() / "manual"


@pytest.mark.parametrize("name", ["ko.md", "en.md"])
def test_manual_has_thirty_sections_or_more(name: str) -> None:
    document = load_document(MANUAL / name)
    passages = split_document(document)
    assert document.locale == name[:2]
    assert len({p.section for p in passages if len(p.section) == 2}) >= 30
    for p in passages:
        assert document.text[p.start : p.end] == p.text


@pytest.fixture(scope="module")
def skill(tmp_path_factory: pytest.TempPathFactory) -> MrcSkill:
    cache = tmp_path_factory.mktemp("cache")
    spec = SkillSpec(
        type="mrc",
        options={"documents": ["manual"], "encoder": "hashing", "cache_dir": str(cache)},
    )
    [(_spec, built)] = build_skills(Bot(BotConfig(name="demo", skills=[spec]), demo_bot_dir()))
    assert isinstance(built, MrcSkill)
    return built


def _turn(text: str, locale: str) -> TurnInput:
    return TurnInput(Utterance(text=text, session_id="s"), text, locale, DialogueContext(), 0.0)


@pytest.mark.parametrize(
    ("question", "locale", "section", "answer"),
    [
        ("워셔액 탱크에는 몇 리터가 들어가나요?", "ko", "워셔액 보충", "4리터"),
        ("급속 충전으로 80%까지 몇 분 걸려?", "ko", "급속 충전", "18분"),
        ("타이어 홈 깊이가 몇 mm 이하면 교체해야 해?", "ko", "타이어 교체와 위치 교환", "1.6mm"),
        (
            "How many devices can be registered for Bluetooth?",
            "en",
            "Bluetooth connection problems",
            "5",
        ),
        ("Where is the charging port?", "en", "Opening the charging port", "left rear"),
    ],
)
async def test_answers_from_the_manual(
    skill: MrcSkill, question: str, locale: str, section: str, answer: str
) -> None:
    [candidate] = await skill.propose(_turn(question, locale))
    assert candidate.details["section"][-1] == section
    card = candidate.reply.parts[-1]
    assert isinstance(card, CardPart) and answer in card.title
    assert candidate.reply.route.startswith(f"mrc:manual-{locale}#")


def test_manual_files_are_the_demo_bots(tmp_path: Path) -> None:
    assert sorted(p.name for p in MANUAL.iterdir()) == ["en.md", "ko.md"]
