"""The MRC skill: built from bot.yaml, answers with evidence, gives up past its time budget."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.config import Bot, BotConfig, SkillSpec
from assistant.context import DialogueContext
from assistant.errors import BotConfigError
from assistant.mrc.lexical import LexicalReader
from assistant.mrc.reader import Answer, Passage
from assistant.mrc.retrieval import PassageIndex
from assistant.skill import TurnInput
from assistant.skills import SKILL_TYPES, build_skills
from assistant.skills.mrc import MrcSkill, plain
from assistant.types import CardPart, DeviceContext, SpeechPart, TextPart, Utterance

DATA = Path(__file__).parent / "data"


def turn(text: str, locale: str = "ko", *, voice: bool = False) -> TurnInput:
    device = DeviceContext(has_voice=voice)
    return TurnInput(
        utterance=Utterance(text=text, session_id="s", device=device),
        text=text,
        locale=locale,
        context=DialogueContext(),
        now=0.0,
    )


def make_bot(tmp_path: Path, **options: object) -> Bot:
    shutil.copytree(DATA, tmp_path / "docs")
    (tmp_path / "docs" / "mini_squad.json").unlink()
    spec = SkillSpec(type="mrc", options={"documents": ["docs"], "encoder": "hashing", **options})
    return Bot(BotConfig(name="t", skills=[spec]), tmp_path)


@pytest.fixture(scope="module")
def skill(tmp_path_factory: pytest.TempPathFactory) -> MrcSkill:
    [(_spec, built)] = build_skills(make_bot(tmp_path_factory.mktemp("bot"), cache_dir="cache"))
    assert isinstance(built, MrcSkill)
    return built


def test_registered(skill: MrcSkill) -> None:
    assert SKILL_TYPES["mrc"] == "assistant.skills.mrc:SKILL"
    assert skill.reader.name == "e5"  # the default when its span model is installed
    assert len(skill.index) == 6


def test_skills_share_one_loaded_reader(tmp_path: Path, skill: MrcSkill) -> None:
    """A second MRC skill (here another bot's) reads with the model already loaded."""
    [(_spec, other)] = build_skills(make_bot(tmp_path, cache_dir="cache"))
    assert isinstance(other, MrcSkill) and other.reader is skill.reader
    assert other.index is not skill.index  # each skill indexes its own documents


async def test_answers_with_span_sentence_and_source(skill: MrcSkill) -> None:
    [candidate] = await skill.propose(turn("권장 타이어 공기압은 얼마인가요?"))
    reply = candidate.reply
    assert reply.route == "mrc:docs-manual#0" and candidate.update.topic == "mrc:docs-manual#0"
    text, card = reply.parts
    assert isinstance(text, TextPart) and isinstance(card, CardPart)
    assert text.text == "권장 타이어 공기압은 앞뒤 모두 36 psi입니다."
    assert card.title == "36 psi"
    assert card.description == "출처: 오로라 EV 사용 설명서 > 타이어 > 공기압"
    assert 0.0 < candidate.confidence <= 1.0 and candidate.confidence == reply.confidence
    assert candidate.details["document"] == "docs-manual"
    assert candidate.details["answer"] == "36 psi"
    start = candidate.details["passage_start"] + candidate.details["start"]
    source = (DATA / "manual.md").read_text(encoding="utf-8")
    assert source[start : start + len("36 psi")] == "36 psi"


async def test_english_question_reads_english_documents_and_speaks(skill: MrcSkill) -> None:
    [candidate] = await skill.propose(
        turn("How much does the washer fluid reservoir hold?", "en", voice=True)
    )
    assert candidate.reply.route == "mrc:docs-wipers#1"
    assert [type(p) for p in candidate.reply.parts] == [TextPart, SpeechPart, CardPart]
    card = candidate.reply.parts[2]
    assert isinstance(card, CardPart)
    assert card.title == "4 litres"
    assert card.description == "Source: Aurora EV Manual > Wipers > Washer fluid"


async def test_nothing_when_the_documents_do_not_say(skill: MrcSkill) -> None:
    assert await skill.propose(turn("화성의 수도는 어디인가요?")) == []


class SlowReader:
    name = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def read(self, question: str, passages: Sequence[Passage], *, k: int = 1) -> list[Answer]:
        time.sleep(self.seconds)
        return LexicalReader().read(question, passages, k=k)


async def test_gives_up_cleanly_past_the_time_budget(
    skill: MrcSkill, caplog: pytest.LogCaptureFixture
) -> None:
    slow = MrcSkill(skill.index, SlowReader(2.0), time_budget=0.1)
    started = time.perf_counter()
    assert await slow.propose(turn("권장 타이어 공기압은 얼마인가요?")) == []
    assert time.perf_counter() - started < 1.5  # the reader takes 2 s; the budget is 0.1 s
    assert "mrc.time_budget_exceeded" in caplog.text
    patient = MrcSkill(skill.index, SlowReader(0.05), time_budget=5.0)
    assert await patient.propose(turn("권장 타이어 공기압은 얼마인가요?"))


def test_confidence_follows_the_reader_score(skill: MrcSkill) -> None:
    passage = Passage(id="x#0", document="x", text="공기압은 36 psi입니다.")
    scores = [0.2, 0.5, 0.9]
    confidences = [
        skill.candidate(Answer("36 psi", 5, 11, s, passage, 0, 16), [], turn("q")).confidence
        for s in scores
    ]
    assert confidences == sorted(confidences) and all(0 <= c <= 1 for c in confidences)


def test_markup_is_removed_from_replies() -> None:
    assert plain("**36 psi** (see [tyres](tyres.md)) `code`") == "36 psi (see tyres) code"


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BotConfigError, match="colour"):
        build_skills(make_bot(tmp_path / "a", colour="red"))
    with pytest.raises(BotConfigError, match="no such file"):
        build_skills(make_bot(tmp_path / "b", documents=["missing"]))
    with pytest.raises(BotConfigError, match="unknown reader"):
        build_skills(make_bot(tmp_path / "c", reader="magic"))


def test_skill_needs_no_encoder() -> None:
    index = PassageIndex()
    index.add([Passage(id="d#0", document="d", text="The spare key is in the glove box.")])
    assert MrcSkill(index, LexicalReader()).answer("Where is the spare key?", "en") is not None


async def test_regional_locales_read_their_language(skill: MrcSkill) -> None:
    [candidate] = await skill.propose(turn("권장 타이어 공기압은 얼마인가요?", "ko-KR"))
    assert candidate.reply.route == "mrc:docs-manual#0"
    assert candidate.suggestion is None


def test_an_e5_reader_that_cannot_load_degrades_to_lexical(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, cache_dir="cache", reader="e5:models/absent.npz")
    [(_spec, built)] = build_skills(bot)
    assert isinstance(built, MrcSkill) and built.reader.name == "lexical"


class FailingReader:
    name = "e5"

    def read(self, question: str, passages: Sequence[Passage], *, k: int = 1) -> list[Answer]:
        from assistant.mrc.errors import ReaderError

        raise ReaderError("broken")


async def test_a_reader_failing_on_a_turn_is_stood_in_for(skill: MrcSkill) -> None:
    standing_in = MrcSkill(skill.index, FailingReader(), fallback=LexicalReader())
    [candidate] = await standing_in.propose(turn("권장 타이어 공기압은 얼마인가요?"))
    assert "36" in candidate.reply.parts[-1].title  # type: ignore[union-attr]
    with pytest.raises(Exception, match="broken"):
        MrcSkill(skill.index, FailingReader()).answer("권장 타이어 공기압은 얼마인가요?")
