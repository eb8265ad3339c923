"""Conversation tests as data: YAML conversations run against a bot, checked turn by turn.

    locale: ko                           # defaults for every conversation (all optional)
    now: "2026-12-01T10:00:00+09:00"     # the clock: dates like 내일 resolve against it
    device: {timezone: Asia/Seoul}
    conversations:
      - name: 길 안내, 그리고 후속 질문
        turns:
          - user: 서울역으로 안내해 줘
            route: task:navigate         # the reply's route; "faq:*" any FAQ entry; a list: any
            reply: 서울역                # fragment(s) the reply's text must hold (str or list)
            directive: navigation.set_destination   # or {name: ..., payload: {...}}
          - user: 그럼 부산역으로
            slots: {destination: 부산역} # slot values after the turn
          - user: 상담원 연결
            handoff: true                # the reply hands off to a person

Each conversation is a new session; every turn's checks are reported, so a bot author sees
all that fails at once. `assistant test [--bot DIR] FILE...` runs files and exits non-zero
when a check fails.
"""

from __future__ import annotations

import fnmatch
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.config import Bot, format_validation_error
from assistant.dialogue import Assistant
from assistant.errors import AssistantError, InputError
from assistant.skills import build_skills
from assistant.store import SqlStore
from assistant.types import DeviceContext, DirectivePart, HandoffPart, Reply, Utterance

__all__ = [
    "ConversationFile",
    "ConversationTestError",
    "TurnResult",
    "load_conversations",
    "run_conversations",
]


class ConversationTestError(AssistantError):
    """A conversation test file cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DirectiveCheck(_Strict):
    name: str
    payload: dict[str, Any] = Field(default_factory=dict)


class TurnSpec(_Strict):
    user: str = Field(min_length=1)
    route: list[str] = Field(default_factory=list)  # any of these (fnmatch patterns)
    reply: list[str] = Field(default_factory=list)
    not_reply: list[str] = Field(default_factory=list)
    slots: dict[str, Any] = Field(default_factory=dict)
    directive: DirectiveCheck | None = None
    handoff: bool | None = None
    locale: str | None = None

    @field_validator("route", "reply", "not_reply", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("directive", mode="before")
    @classmethod
    def _name_alone(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value


class ConversationSpec(_Strict):
    name: str = Field(min_length=1)
    locale: str | None = None
    now: datetime | None = None
    device: DeviceContext | None = None
    turns: list[TurnSpec] = Field(min_length=1)


class ConversationFile(_Strict):
    locale: str | None = None
    now: datetime | None = None
    device: DeviceContext | None = None
    conversations: list[ConversationSpec] = Field(min_length=1)


@dataclass(frozen=True)
class TurnResult:
    """One turn of a conversation test: what was said and answered, and what failed."""

    file: str
    conversation: str
    index: int
    user: str
    route: str
    reply: str
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Report:
    results: list[TurnResult] = field(default_factory=list)

    @property
    def failed(self) -> list[TurnResult]:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> bool:
        return bool(self.results) and not self.failed


def load_conversations(path: Path) -> ConversationFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConversationTestError(f"{path}: cannot read: {e}") from e
    except yaml.YAMLError as e:
        raise ConversationTestError(f"{path}: not valid YAML: {e}") from e
    try:
        return ConversationFile.model_validate(raw)
    except ValidationError as e:
        raise ConversationTestError(
            "conversation tests refused:\n" + format_validation_error(str(path), e)
        ) from e


def check_turn(spec: TurnSpec, reply: Reply, slots: dict[str, Any]) -> list[str]:
    """What the reply does not do that the turn expects (empty: the turn passed)."""
    failures: list[str] = []
    text = reply.plain_text()
    if spec.route and not any(fnmatch.fnmatchcase(reply.route, r) for r in spec.route):
        expected = spec.route[0] if len(spec.route) == 1 else spec.route
        failures.append(f"route is {reply.route!r}, expected {expected!r}")
    for fragment in spec.reply:
        if fragment.lower() not in text.lower():
            failures.append(f"reply does not contain {fragment!r}")
    for fragment in spec.not_reply:
        if fragment.lower() in text.lower():
            failures.append(f"reply contains {fragment!r}")
    for name, expected in spec.slots.items():
        if slots.get(name) != expected:
            failures.append(f"slot {name} is {slots.get(name)!r}, expected {expected!r}")
    if spec.directive is not None:
        directives = [p for p in reply.parts if isinstance(p, DirectivePart)]
        match = next((d for d in directives if d.name == spec.directive.name), None)
        if match is None:
            names = [d.name for d in directives]
            failures.append(f"no directive {spec.directive.name!r} (got {names})")
        else:
            for key, value in spec.directive.payload.items():
                if match.payload.get(key) != value:
                    failures.append(
                        f"directive payload {key} is {match.payload.get(key)!r}, expected {value!r}"
                    )
    if spec.handoff is not None:
        handed = any(isinstance(p, HandoffPart) for p in reply.parts) and reply.route == "handoff"
        if handed != spec.handoff:
            failures.append(
                "the reply does not hand off" if spec.handoff else "the reply hands off"
            )
    return failures


async def run_conversations(bot: Bot, files: Sequence[Path]) -> Report:
    """Run every conversation of the files against the bot (skills built once), on a
    throw-away SQLite store; `ConversationTestError` for a file that cannot be used."""
    loaded = [(path, load_conversations(path)) for path in files]
    import asyncio

    skills = await asyncio.to_thread(build_skills, bot)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="assistant-test-") as directory:
        store = SqlStore(f"sqlite:///{Path(directory) / 'conversations.db'}")
        await store.open()
        clock = [0.0]
        assistant = Assistant(bot, store, skills, clock=lambda: clock[0])
        try:
            for path, document in loaded:
                for conversation in document.conversations:
                    now = conversation.now or document.now or datetime.now().astimezone()
                    clock[0] = now.timestamp()
                    session = f"test-{uuid.uuid4().hex[:12]}"
                    device = conversation.device or document.device or DeviceContext()
                    for index, turn in enumerate(conversation.turns, start=1):
                        locale = turn.locale or conversation.locale or document.locale
                        utterance = Utterance(
                            text=turn.user,
                            session_id=session,
                            channel="test",
                            locale=locale,
                            device=device,
                        )
                        try:
                            reply = await assistant.handle(utterance)
                        except InputError as e:
                            report.results.append(
                                TurnResult(
                                    str(path),
                                    conversation.name,
                                    index,
                                    turn.user,
                                    "-",
                                    "",
                                    (str(e),),
                                )
                            )
                            break
                        context = await store.load_context(session)
                        slots = dict(context.slots) if context is not None else {}
                        report.results.append(
                            TurnResult(
                                str(path),
                                conversation.name,
                                index,
                                turn.user,
                                reply.route,
                                reply.plain_text(),
                                tuple(check_turn(turn, reply, slots)),
                            )
                        )
                        clock[0] += 5.0
        finally:
            await assistant.close()
    return report
