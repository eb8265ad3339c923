"""Small skills for testing the core: they answer from fixed data, and record what they saw."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from assistant.config import Bot, BotConfig, PolicyConfig, SkillSpec
from assistant.skill import Skill, TurnInput
from assistant.types import Candidate, ContextUpdate, Reply, TextPart


def text_reply(text: str, route: str, confidence: float) -> Reply:
    return Reply(parts=(TextPart(text=text),), route=route, confidence=confidence)


class KeywordSkill:
    """Proposes `answer` with `confidence` when `keyword` occurs in the text."""

    def __init__(
        self,
        name: str,
        keyword: str,
        answer: str,
        confidence: float,
        *,
        update: ContextUpdate | None = None,
        suggestion: str | None = None,
        holds_floor: bool = False,
    ) -> None:
        self.name = name
        self.keyword = keyword
        self.answer = answer
        self.confidence = confidence
        self.update = update or ContextUpdate()
        self.suggestion = suggestion
        self.holds_floor = holds_floor
        self.seen: list[TurnInput] = []

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        # the context is the live one the dialogue manager changes after the turn: keep a copy
        self.seen.append(dataclasses.replace(turn, context=turn.context.model_copy(deep=True)))
        if self.keyword not in turn.text:
            return []
        return [
            Candidate(
                reply=text_reply(self.answer, f"{self.name}:{self.keyword}", self.confidence),
                confidence=self.confidence,
                skill=self.name,
                update=self.update,
                suggestion=self.suggestion,
                holds_floor=self.holds_floor,
            )
        ]


class EchoSkill:
    """Answers every turn with its text and, after `delay`, with what it remembers."""

    def __init__(self, name: str = "echo", delay: Callable[[str], float] | None = None) -> None:
        self.name = name
        self.delay = delay

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        if self.delay is not None:
            await asyncio.sleep(self.delay(turn.text))
        previous = turn.context.slots.get("last", "")
        reply = text_reply(f"{turn.text} (after {previous})", "echo", 0.9)
        update = ContextUpdate(slots={"last": turn.text})
        return [Candidate(reply=reply, confidence=0.9, skill=self.name, update=update)]


class FailingSkill:
    name = "failing"

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        raise RuntimeError("index file vanished")


class SlowSkill:
    """Takes `seconds` before answering with full confidence."""

    def __init__(self, seconds: float, name: str = "slow") -> None:
        self.name = name
        self.seconds = seconds

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        await asyncio.sleep(self.seconds)
        return [Candidate(reply=text_reply("late", "slow", 1.0), confidence=1.0, skill=self.name)]


def make_bot(
    tmp_path: object, skills: list[Skill], *, timeout_ms: int = 1000, **policy: object
) -> Bot:
    config = BotConfig(
        name="test",
        skills=[SkillSpec(type="fake", name=s.name, timeout_ms=timeout_ms) for s in skills],
        policy=PolicyConfig.model_validate(policy),
    )
    from pathlib import Path

    return Bot(config, Path(str(tmp_path)))


def pairs(bot: Bot, skills: list[Skill]) -> list[tuple[SkillSpec, Skill]]:
    return list(zip(bot.config.skills, skills, strict=True))
