"""The small-talk skill: answers from rules (`rules/`), bundled or the bot's own.

It proposes at most one candidate per turn, with route `smalltalk`. Its confidence says how
well the rule fit: an exact match (the utterance is the pattern, word for word) gets
`exact_confidence`; a wildcard match gets between `min_confidence` and `max_confidence`,
higher the more of the utterance its literal words cover. A rule's `when` conditions see the
session's slots (`slots.<name>`), topic (`topic`), active named contexts (`contexts.<name>`),
the device (`device.is_driving`, `device.has_screen`, ...), `channel` and `locale`. A rule's
`set` becomes the candidate's context update. When a rule has `next` follow-ups, the skill
leaves a named context `<skill name>.next` for one turn; on that turn a matching follow-up
*holds the floor* (the policy prefers it), so short exchanges like a quiz work.

    skills:
      - type: smalltalk
        options:
          bundled: [ko, en]        # the rule sets that ship with the package (default: the bot's locales)
          rules: [smalltalk/]      # the bot's own rule files or directories (YAML or AIML)

Matching (Kiwi analysis and the index lookup) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.config import Bot, SkillSpec
from assistant.errors import SkillLoadError
from assistant.skill import TurnInput
from assistant.skills import SkillType
from assistant.types import Candidate, ContextUpdate, NamedContext, Reply, TextPart
from rules import RuleEngine, RuleLoadError, RuleMatch, bundled_paths, load_rules

__all__ = [
    "SKILL",
    "SmalltalkOptions",
    "SmalltalkSkill",
    "build_smalltalk_skill",
    "is_question",
    "rule_paths",
    "turn_facts",
]

ROUTE = "smalltalk"


class SmalltalkOptions(BaseModel):
    """`options` of a `type: smalltalk` skill in bot.yaml."""

    model_config = ConfigDict(extra="forbid")

    bundled: list[Literal["ko", "en"]] | None = Field(
        default=None, description="bundled rule sets to load; default: the bot's locales"
    )
    rules: list[str] = Field(
        default_factory=list, description="rule files or directories, relative to the bot"
    )
    exact_confidence: float = Field(default=0.95, ge=0.0, le=1.0)
    max_confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    min_confidence: float = Field(default=0.35, ge=0.0, le=1.0)
    follow_up_confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    question_penalty: float = Field(
        default=0.15, ge=0.0, le=1.0, description="taken off partial matches of questions"
    )
    seed: int | None = Field(
        default=None, description="seed for picking random responses (tests, demos)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> SmalltalkOptions:
        if not self.min_confidence <= self.max_confidence:
            raise ValueError("min_confidence must not be above max_confidence")
        if self.bundled == [] and not self.rules:
            raise ValueError("no rules: list bundled rule sets, rule files, or both")
        return self


_QUESTION = re.compile(r"(\?|까|니|냐|나요|가요|어떡해|어떻게 해|어떡하지|하지|되지)[\s.!~]*$")


def is_question(text: str) -> bool:
    """Whether the utterance asks something: a question mark or a Korean question ending.

    >>> is_question("썸남한테 뭐라고 카톡하지"), is_question("헤어졌어"), is_question("why?")
    (True, False, True)
    """
    return _QUESTION.search(text.strip()) is not None


def turn_facts(turn: TurnInput) -> dict[str, Any]:
    """The context values rules can test (`when`) and quote (`{slots.x}`), by dotted name."""
    facts: dict[str, Any] = {
        "topic": turn.context.topic,
        "channel": turn.utterance.channel,
        "locale": turn.locale,
    }
    facts.update({f"device.{k}": v for k, v in turn.utterance.device.model_dump().items()})
    facts.update({f"slots.{k}": v for k, v in turn.context.slots.items()})
    facts.update({f"contexts.{c.name}": True for c in turn.context.active_contexts(now=turn.now)})
    return facts


class SmalltalkSkill:
    """Proposes the best rule's response; see the module docstring.

    >>> from rules import RuleEngine, RuleSpec
    >>> engine = RuleEngine.from_specs([RuleSpec(id="hi", patterns=("안녕",), responses=("안녕하세요!",))])
    >>> skill = SmalltalkSkill(name="smalltalk", engine=engine)
    >>> match = engine.match("안녕")
    >>> skill.confidence_of(match), skill.candidate(match).reply.plain_text()
    (0.95, '안녕하세요!')
    """

    def __init__(
        self,
        *,
        name: str,
        engine: RuleEngine,
        exact_confidence: float = 0.95,
        max_confidence: float = 0.9,
        min_confidence: float = 0.35,
        follow_up_confidence: float = 0.9,
        question_penalty: float = 0.15,
    ) -> None:
        self.name = name
        self.engine = engine
        self.exact_confidence = exact_confidence
        self.max_confidence = max_confidence
        self.min_confidence = min_confidence
        self.follow_up_confidence = follow_up_confidence
        self.question_penalty = question_penalty

    @property
    def next_context(self) -> str:
        """The named context that carries the rule whose follow-ups apply to the next turn."""
        return f"{self.name}.next"

    async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
        expecting = turn.context.active_context(self.next_context, now=turn.now)
        last = turn.context.last_turn
        match = await asyncio.to_thread(
            self.engine.match,
            turn.text,
            facts=turn_facts(turn),
            locale=turn.locale,
            expecting=None if expecting is None else str(expecting.params.get("rule", "")),
            previous_reply=None if last is None else last.reply,
        )
        if match is None or not match.response:
            return []
        return [self.candidate(match, question=is_question(turn.text))]

    def confidence_of(self, match: RuleMatch, *, question: bool = False) -> float:
        """Exact > follow-up > wildcard; a wildcard match by the share of literal words.

        The square root is lenient with a few extra words ("아 진짜 심심해 죽겠다" covers a
        quarter of its tokens literally and gets half of the range). A question that a rule
        covers only in part loses `question_penalty`: "썸남한테 뭐라고 카톡하지?" asks for
        more than the 썸 rule's cheering says, and FAQ or MRC may know the answer.
        """
        if match.exact:
            return self.exact_confidence
        if match.follow_up:
            return self.follow_up_confidence
        span = self.max_confidence - self.min_confidence
        confidence = self.min_confidence + span * math.sqrt(match.coverage)
        if question and match.coverage < 1.0:
            confidence = max(0.0, confidence - self.question_penalty)
        return round(confidence, 4)

    def candidate(self, match: RuleMatch, *, question: bool = False) -> Candidate:
        confidence = self.confidence_of(match, question=question)
        activate: tuple[NamedContext, ...] = ()
        if match.expects_follow_up:
            activate = (
                NamedContext(name=self.next_context, lifespan=1, params={"rule": match.rule_id}),
            )
        update = ContextUpdate(
            topic=match.topic,
            slots=dict(match.slots),
            activate=activate,
            deactivate=() if activate else (self.next_context,),
        )
        reply = Reply(
            parts=(TextPart(text=match.response),),
            route=ROUTE,
            confidence=confidence,
            expects_reply=match.expects_follow_up,
        )
        return Candidate(
            reply=reply,
            confidence=confidence,
            skill=self.name,
            update=update,
            holds_floor=match.follow_up,
            details={
                "rule_id": match.rule_id,
                "pattern": match.pattern,
                "exact": match.exact,
                "coverage": round(match.coverage, 4),
                "captures": dict(match.captures),
            },
        )


def rule_paths(options: SmalltalkOptions, bot: Bot) -> list[Path]:
    """The rule files and directories a skill with these options loads, bundled ones first."""
    locales = options.bundled if options.bundled is not None else bot.config.locales
    paths: list[Path] = []
    for locale in locales:
        paths.extend(bundled_paths(locale))
    for relative in options.rules:
        paths.append(bot.path(relative))
    return paths


def build_smalltalk_skill(options: SmalltalkOptions, spec: SkillSpec, bot: Bot) -> SmalltalkSkill:
    """Load the rule sets named in `options` (every problem at once) into a skill."""
    paths = rule_paths(options, bot)
    rng = random.Random(options.seed) if options.seed is not None else None
    try:
        engine = load_rules(paths, rng=rng)
    except RuleLoadError as e:
        raise SkillLoadError(str(e)) from e
    return SmalltalkSkill(
        name=spec.name,
        engine=engine,
        exact_confidence=options.exact_confidence,
        max_confidence=options.max_confidence,
        min_confidence=options.min_confidence,
        follow_up_confidence=options.follow_up_confidence,
        question_penalty=options.question_penalty,
    )


SKILL = SkillType(options=SmalltalkOptions, build=build_smalltalk_skill)
