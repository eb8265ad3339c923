"""The small-talk skill: options, building from bot.yaml, candidates, context and follow-ups."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import Bot, BotConfig
from assistant.context import DialogueContext, TurnRecord
from assistant.errors import BotConfigError
from assistant.skill import TurnInput
from assistant.skills import SKILL_TYPES, build_skills
from assistant.skills.smalltalk import SmalltalkOptions, SmalltalkSkill
from assistant.types import Candidate, DeviceContext, Utterance

OWN_RULES = """
locale: ko
rules:
  - id: own.tea
    patterns: ["[*] 녹차 [*]"]
    responses: ["{slots.user_name|손님}, 녹차는 따뜻할 때 드세요!"]
    set: {topic: tea}
  - id: own.riddle
    patterns: ["수수께끼 하나 내 봐"]
    responses: ["다리는 넷인데 못 걷는 것은?"]
    next:
      - patterns: ["[*] (의자|책상) [*]"]
        responses: ["정답이에요!"]
  - id: own.yes_after_tea
    patterns: ["(응|좋아)"]
    that: ["[*] 차 한잔 [*]"]
    responses: ["따뜻한 차를 준비할게요."]
    priority: 1
"""


def make_bot(directory: Path, options: dict[str, object]) -> Bot:
    config = BotConfig.model_validate(
        {"name": "t", "skills": [{"type": "smalltalk", "name": "chat", "options": options}]}
    )
    return Bot(config, directory)


@pytest.fixture(scope="module")
def skill(tmp_path_factory: pytest.TempPathFactory) -> SmalltalkSkill:
    directory = tmp_path_factory.mktemp("bot")
    (directory / "smalltalk").mkdir()
    (directory / "smalltalk" / "own.yaml").write_text(OWN_RULES, encoding="utf-8")
    [(spec, built)] = build_skills(make_bot(directory, {"rules": ["smalltalk"], "seed": 1}))
    assert spec.name == "chat" and isinstance(built, SmalltalkSkill)
    return built


def turn(
    text: str,
    *,
    context: DialogueContext | None = None,
    driving: bool = False,
    locale: str = "ko",
    now: float = 100.0,
) -> TurnInput:
    utterance = Utterance(text=text, session_id="s", device=DeviceContext(is_driving=driving))
    return TurnInput(
        utterance=utterance, text=text, locale=locale, context=context or DialogueContext(), now=now
    )


async def one(skill: SmalltalkSkill, t: TurnInput) -> Candidate:
    [candidate] = await skill.propose(t)
    return candidate


def test_registered_under_smalltalk() -> None:
    assert SKILL_TYPES["smalltalk"] == "assistant.skills.smalltalk:SKILL"


def test_options_defaults_and_validation() -> None:
    options = SmalltalkOptions()
    assert options.bundled is None and options.rules == []
    with pytest.raises(ValidationError, match="min_confidence must not be above"):
        SmalltalkOptions(min_confidence=0.9, max_confidence=0.5)
    with pytest.raises(ValidationError, match="no rules"):
        SmalltalkOptions(bundled=[])
    with pytest.raises(ValidationError):
        SmalltalkOptions.model_validate({"bundled": ["fr"]})


def test_bad_rule_files_refuse_the_bot_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "- id: a\n  patterns: ['(x']\n  responses: []\n", encoding="utf-8"
    )
    with pytest.raises(BotConfigError) as caught:
        build_skills(make_bot(tmp_path, {"bundled": [], "rules": ["bad.yaml"]}))
    message = str(caught.value)
    assert "skills.0 (chat)" in message and "bad.yaml: a: patterns[0]" in message
    assert "bad.yaml: a: responses: empty" in message


async def test_exact_match_is_confident_and_routed_to_smalltalk(skill: SmalltalkSkill) -> None:
    candidate = await one(skill, turn("안녕하세요"))
    assert candidate.skill == "chat"
    assert candidate.reply.route == "smalltalk"
    assert candidate.confidence == 0.95
    assert candidate.details["rule_id"] == "greet.hello" and candidate.details["exact"]


async def test_confidence_falls_with_wildcard_share(skill: SmalltalkSkill) -> None:
    full = await one(skill, turn("심심해"))
    chatty = await one(skill, turn("아 진짜 오늘 너무 심심해서 죽겠다"))
    assert full.details["rule_id"] == chatty.details["rule_id"] == "boredom.basic"
    assert full.confidence == 0.9
    assert 0.35 < chatty.confidence < full.confidence


async def test_questions_covered_in_part_lose_confidence(skill: SmalltalkSkill) -> None:
    statement = await one(skill, turn("썸 타는 중이야"))
    question = await one(skill, turn("썸 타는 중인데 먼저 연락해도 될까?"))
    assert statement.details["rule_id"] == question.details["rule_id"] == "love.some"
    assert question.confidence < statement.confidence
    fully = await one(skill, turn("너 누구야?"))  # the question is all the rule's words
    assert fully.confidence == 0.9


async def test_nothing_to_say_gives_no_candidate(skill: SmalltalkSkill) -> None:
    assert await skill.propose(turn("엔진오일 교체 주기가 어떻게 되나요")) == []


async def test_english_turn_uses_english_rules(skill: SmalltalkSkill) -> None:
    candidate = await one(skill, turn("Thank you!", locale="en"))
    assert candidate.details["rule_id"] == "en.thanks.basic"


async def test_conditions_see_the_device(skill: SmalltalkSkill) -> None:
    parked = await one(skill, turn("졸려"))
    driving = await one(skill, turn("졸려", driving=True))
    assert parked.details["rule_id"] == "feel.sleepy"
    assert driving.details["rule_id"] == "feel.tired_driving"
    assert "휴게소" in driving.reply.plain_text()


async def test_slots_fill_responses_and_set_becomes_the_update(skill: SmalltalkSkill) -> None:
    anonymous = await one(skill, turn("녹차 마시고 싶다"))
    assert anonymous.details["rule_id"] == "own.tea"
    assert anonymous.reply.plain_text() == "손님, 녹차는 따뜻할 때 드세요!"
    assert anonymous.update.topic == "tea"
    known = await one(
        skill, turn("녹차 마시고 싶다", context=DialogueContext(slots={"user_name": "지수"}))
    )
    assert known.reply.plain_text() == "지수, 녹차는 따뜻할 때 드세요!"


async def test_captured_name_is_stored_in_a_slot(skill: SmalltalkSkill) -> None:
    candidate = await one(skill, turn("내 이름은 김지수야"))
    assert candidate.update.slots == {"user_name": "김지수"}
    assert candidate.details["captures"] == {"name": "김지수"}


async def test_follow_up_holds_the_floor_on_the_next_turn_only(skill: SmalltalkSkill) -> None:
    context = DialogueContext()
    asked = await one(skill, turn("수수께끼 하나 내 봐", context=context, now=1.0))
    assert asked.reply.expects_reply and not asked.holds_floor
    assert [c.name for c in asked.update.activate] == ["chat.next"]
    context.apply(asked.update, now=1.0)
    context.end_turn(now=1.0)

    answered = await one(skill, turn("의자!", context=context, now=2.0))
    assert answered.holds_floor
    assert answered.reply.plain_text() == "정답이에요!"
    assert answered.update.deactivate == ("chat.next",)
    context.apply(answered.update, now=2.0)
    context.end_turn(now=2.0)

    later = await skill.propose(turn("의자!", context=context, now=3.0))
    assert all(not c.holds_floor for c in later)


async def test_that_reads_the_previous_reply_from_history(skill: SmalltalkSkill) -> None:
    context = DialogueContext()
    context.record(
        TurnRecord(user="x", reply="차 한잔 하실래요?", route="smalltalk", confidence=0.9, at=0.0)
    )
    after_tea = await one(skill, turn("응", context=context))
    assert after_tea.details["rule_id"] == "own.yes_after_tea"
    plain = await one(skill, turn("응"))
    assert plain.details["rule_id"] == "react.yes"


def test_docstring_examples() -> None:
    import doctest

    import assistant.skills.smalltalk as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


CONVERSATION_RULES = """
locale: ko
rules:
  - id: name.tell
    patterns: ["[*] 내 이름은 {name}"]
    responses: ["{name}님, 기억할게요."]
    set: {slots: {user_name: "{name}"}}
  - id: name.ask
    patterns: ["[*] 내 이름[이] 뭐야 [*]"]
    responses: ["{slots.user_name}님이잖아요.", "아직 모르겠어요."]
  - id: riddle
    patterns: ["수수께끼 내 줘"]
    responses: ["다리는 넷인데 못 걷는 것은?"]
    next:
      - patterns: ["[*] (의자|책상) [*]"]
        responses: ["정답이에요!"]
"""

BOT_YAML = """
name: smalltalk-test
locales: [ko]
skills:
  - type: smalltalk
    options: {bundled: [], rules: [chat.yaml], seed: 1}
"""

# (user says, expected route, a fragment of the reply)
CONVERSATION = [
    ("내 이름은 지수야", "smalltalk", "지수님, 기억할게요."),
    ("내 이름이 뭐야?", "smalltalk", "지수님이잖아요."),
    ("수수께끼 내 줘", "smalltalk", "못 걷는 것은?"),
    ("의자!", "smalltalk", "정답이에요!"),
    ("의자!", "fallback", ""),  # the follow-up lived for one turn only
]


async def test_a_conversation_through_the_assistant(tmp_path: Path) -> None:
    from assistant.dialogue import Assistant

    (tmp_path / "bot.yaml").write_text(BOT_YAML, encoding="utf-8")
    (tmp_path / "chat.yaml").write_text(CONVERSATION_RULES, encoding="utf-8")
    assistant = await Assistant.create(
        bot_dir=str(tmp_path), database_url=f"sqlite:///{tmp_path / 'sessions.db'}"
    )
    try:
        for said, route, fragment in CONVERSATION:
            reply = await assistant.handle(Utterance(text=said, session_id="c1"))
            assert (said, reply.route) == (said, route)
            assert fragment in reply.plain_text()
    finally:
        await assistant.close()
