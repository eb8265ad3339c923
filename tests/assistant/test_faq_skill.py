from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

import pytest

from assistant.config import Bot, BotConfig, PolicyConfig, SkillSpec, load_bot
from assistant.context import DialogueContext
from assistant.errors import BotConfigError
from assistant.moves import Move
from assistant.skill import TurnInput
from assistant.skills import SKILL_TYPES, build_skills
from assistant.skills.faq import (
    FaqOptions,
    FaqRule,
    FaqSkill,
    build_faq_skill,
    decide_hits,
    entry_reply,
)
from assistant.types import CardPart, QuickRepliesPart, TextPart, Utterance
from faq_index.cache import CachedEncoder
from faq_index.encoders import HashingEncoder
from faq_index.entry import FaqEntry, FaqLink
from faq_index.faq import FaqIndex
from faq_index.formats import load_entries

DATA = Path(__file__).parents[1] / "faq_index" / "data"


def turn(text: str, locale: str = "ko") -> TurnInput:
    return TurnInput(
        utterance=Utterance(text=text, session_id="s"),
        text=text,
        locale=locale,
        context=DialogueContext(),
        now=0.0,
    )


@pytest.fixture(scope="module")
def faq() -> FaqIndex:
    index = FaqIndex(load_entries(DATA / "mini.yaml"), encoder=HashingEncoder())
    index.calibrate()
    return index


def skill(faq: FaqIndex, answer: float, suggest: float) -> FaqSkill:
    return FaqSkill(faq, answer_threshold=answer, suggest_threshold=suggest)


async def test_answers_above_the_answer_threshold(faq: FaqIndex) -> None:
    [candidate] = await skill(faq, 0.0, 0.0).propose(turn("블루투스 페어링 어떻게 해요?"))
    assert candidate.reply.route == "faq:bluetooth"
    assert candidate.update.topic == "faq:bluetooth"
    assert candidate.skill == "faq"
    assert candidate.details["decision"] == "answer"
    assert isinstance(candidate.reply.parts[0], TextPart)


async def test_grey_zone_offers_three_questions_below_the_answer_threshold(faq: FaqIndex) -> None:
    candidates = await skill(faq, 1.0, 0.0).propose(turn("블루투스 페어링 어떻게 해요?"))
    assert len(candidates) == 3
    assert candidates[0].suggestion == "블루투스 연결은 어떻게 하나요?"
    assert all(c.confidence < 1.0 for c in candidates)
    assert {c.details["decision"] for c in candidates} == {"suggest"}


async def test_declines_below_the_suggest_threshold(faq: FaqIndex) -> None:
    assert await skill(faq, 1.0, 1.0).propose(turn("블루투스 페어링 어떻게 해요?")) == []


async def test_searches_only_entries_of_the_turn_locale(faq: FaqIndex) -> None:
    [candidate] = await skill(faq, 0.0, 0.0).propose(turn("How long is the warranty?", "en"))
    assert candidate.reply.route == "faq:en-warranty"


async def test_concurrent_turns_while_entries_change(faq: FaqIndex) -> None:
    local = FaqIndex(faq.entries, encoder=HashingEncoder(), fusion=faq.index.fusion)
    asking = skill(local, 0.0, 0.0)
    new = FaqEntry(id="wash", question="세차는 어디서 하나요?", answer="지점에서 합니다.")

    async def writer() -> None:
        for _ in range(10):
            await asyncio.to_thread(local.upsert, new)
            await asyncio.to_thread(local.delete, "wash")

    results = await asyncio.gather(
        writer(), *(asking.propose(turn("서비스센터 몇 시까지 해요?")) for _ in range(20))
    )
    for candidates in results[1:]:
        assert candidates and candidates[0].reply.route == "faq:hours"  # type: ignore[index]


def test_entry_reply_has_rich_parts_with_text_fallback() -> None:
    entry = FaqEntry(
        id="w",
        question="보증 기간?",
        answer="3년입니다.",
        link=FaqLink(url="https://example.com/w", label="보증 안내"),
        quick_replies=("엔진 보증은요?",),
    )
    reply = entry_reply(entry, 0.9)
    assert [type(p) for p in reply.parts] == [TextPart, CardPart, QuickRepliesPart]
    assert "https://example.com/w" in reply.plain_text()


def make_bot(tmp_path: Path, **options: object) -> Bot:
    shutil.copy(DATA / "mini.yaml", tmp_path / "faq.yaml")
    spec = SkillSpec(type="faq", options={"entries": "faq.yaml", "encoder": "hashing", **options})
    config = BotConfig(
        name="t",
        skills=[spec],
        policy=PolicyConfig(thresholds={"faq": 0.7}, clarify_threshold=0.2),
    )
    return Bot(config, tmp_path)


def test_registered_and_built_from_bot_yaml(tmp_path: Path) -> None:
    assert SKILL_TYPES["faq"] == "assistant.skills.faq:SKILL"
    bot = make_bot(tmp_path, cache_dir="cache")
    [(_spec, built)] = build_skills(bot)
    assert isinstance(built, FaqSkill)
    assert (built.answer_threshold, built.suggest_threshold) == (0.7, 0.2)
    assert (tmp_path / "cache" / "embeddings" / "embeddings.sqlite3").is_file()
    assert len(built.faq) == 8


def test_thresholds_in_options_override_the_policy(tmp_path: Path) -> None:
    bot = make_bot(tmp_path)
    spec = bot.config.skills[0]
    options = FaqOptions.model_validate({**spec.options, "answer_threshold": 0.9, "cache_dir": "c"})
    built = build_faq_skill(options, spec, bot)
    assert built.answer_threshold == 0.9


def test_skip_dense_at_turns_on_the_cascade(tmp_path: Path) -> None:
    [(_spec, off)] = build_skills(make_bot(tmp_path, cache_dir="c"))
    [(_spec, on)] = build_skills(make_bot(tmp_path, cache_dir="c", skip_dense_at=0.9))
    assert isinstance(off, FaqSkill) and isinstance(on, FaqSkill)
    assert (off.faq.index.skip_dense_at, off.faq.index.lexical_fusion) == (None, None)
    assert on.faq.index.skip_dense_at == 0.9
    assert on.faq.index.lexical_fusion is not None


def test_bad_entries_file_is_refused_with_its_line(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, cache_dir="c")
    (tmp_path / "faq.yaml").write_text("entries:\n  - id: a\n    answer: x\n", encoding="utf-8")
    with pytest.raises(BotConfigError, match="line 2: question"):
        build_skills(bot)


def test_unknown_option_is_refused(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, colour="red")
    with pytest.raises(BotConfigError, match="colour"):
        build_skills(bot)


def test_demo_bot_faq_options_validate() -> None:
    bot = load_bot()
    for spec in bot.config.skills:
        if spec.type == "faq":
            FaqOptions.model_validate(spec.options)
            for path in FaqOptions.model_validate(spec.options).entries:
                assert len(load_entries(bot.path(path))) >= 60


def test_the_encoder_is_loaded_with_the_bot_not_in_the_first_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every entry already in the embedding cache, nothing else would load the model
    before the first user's question, which then waited for it past the skill's budget."""
    from assistant.skills import encoding

    made: list[HashingEncoder] = []  # `calls`: how many texts each one embedded

    def make(name: str) -> HashingEncoder:
        made.append(HashingEncoder())
        return made[-1]

    monkeypatch.setattr(encoding, "make_encoder", make)
    encoding.shared_encoder.cache_clear()
    first = encoding.skill_encoder("e5", tmp_path)
    assert first is not None and made[0].calls == 1  # loaded once the skill is built
    first.encode(["보증 기간"], kind="query")
    encoding.shared_encoder.cache_clear()  # a restart
    encoding.skill_encoder("e5", tmp_path).encode(["보증 기간"], kind="query")
    assert made[1].calls == 1  # the cache answered; only the warm-up reached the model
    assert encoding.skill_encoder("none", tmp_path) is None
    encoding.shared_encoder.cache_clear()  # the stand-in goes with this test


def test_skills_share_one_model_per_encoder(tmp_path: Path) -> None:
    """The FAQ, task and MRC skills of a bot embed with the same loaded model."""
    from assistant.skills import encoding

    faq = encoding.skill_encoder("hashing", tmp_path / "faq")
    mrc = encoding.skill_encoder("hashing", tmp_path / "mrc")
    task = encoding.skill_encoder("hashing", tmp_path / "task", cached=False)
    assert isinstance(faq, CachedEncoder) and isinstance(mrc, CachedEncoder)
    assert faq.inner is task and mrc.inner is task


def test_rule_answers_by_margin_offers_and_names_the_closest() -> None:
    rule = FaqRule(answer_at=0.5, suggest_at=0.2, margin_answer_at=0.4, margin=0.4, near_at=0.05)
    assert decide_hits([0.55, 0.3], rule) == ("answer", [0])
    assert decide_hits([0.45, 0.02], rule) == ("answer", [0])  # 0.4 and a lead of 0.4
    assert decide_hits([0.45, 0.2, 0.1], rule) == ("suggest", [0, 1, 2])
    assert decide_hits([0.1, 0.06, 0.01], rule) == ("decline", [0, 1])  # named for the fallback
    assert decide_hits([0.01], rule) == ("decline", [])
    assert decide_hits([], rule) == ("decline", [])
    with pytest.raises(ValueError, match="suggest_at"):
        FaqRule(answer_at=0.2, suggest_at=0.3)


async def test_a_corrected_answer_makes_room_for_the_next_entries(faq: FaqIndex) -> None:
    [first] = await skill(faq, 0.0, 0.0).propose(turn("블루투스 페어링 어떻게 해요?"))
    corrected = turn("블루투스 페어링 어떻게 해요?")
    move = Move("correction", corrected.text, exclude=(first.reply.route,))
    again = await skill(faq, 0.0, 0.0).propose(dataclasses.replace(corrected, move=move))
    assert again and all(c.reply.route != first.reply.route for c in again)


async def test_the_fallback_is_told_the_closest_questions(faq: FaqIndex) -> None:
    near = FaqSkill(faq, answer_threshold=1.0, suggest_threshold=1.0, near_threshold=0.0)
    candidates = await near.propose(turn("블루투스 페어링 어떻게 해요?"))
    assert candidates and {c.details["decision"] for c in candidates} == {"near"}
    assert all(c.suggestion for c in candidates)
