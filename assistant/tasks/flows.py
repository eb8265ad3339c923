"""The flows file: the bot's tasks as data (intents with examples, entities, slots, actions).

    intents:
      navigate:
        examples:
          ko: ["[서울역](place)으로 안내해 줘", "[집](place)에 가자"]
          en: ["take me to [Seoul Station](place)"]
    entities:
      place: {free: true, values: {집: [우리 집, home]}}
    out_of_scope:
      ko: [오늘 주식 어때?]
    flows:
      navigate:                       # the flow's name; its route is task:navigate
        intent: navigate              # default: the flow's name
        title: {ko: 길 안내, en: Navigation}
        slots:
          destination:
            type: place               # a built-in type or an entity's name
            prompt: {ko: 어디로 안내할까요?, en: Where to?}
        confirm: {ko: "{destination}(으)로 안내할까요?", en: "Navigate to {destination}?"}
        action:
          directive: navigation.set_destination
          payload: {destination: "{destination}"}
          say: {ko: "{destination}(으)로 안내를 시작할게요.", en: "Starting navigation to {destination}."}

`load_flows` reads flows files and Rasa NLU files into one `TaskModel`, refusing a wrong key
with the file and the key's path, every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.config import Localized, format_validation_error
from assistant.nlu.data import NluData, NluDataError, parse_rasa_nlu, read_examples
from assistant.nlu.entities import BUILTIN_TYPES, EntitySpec
from assistant.tasks.slots import BUILTIN_SLOT_TYPES

__all__ = [
    "ActionSpec",
    "FlowSpec",
    "FlowsFile",
    "SlotSpec",
    "TaskModel",
    "load_flows",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SlotSpec(_Strict):
    """One piece of information a flow collects."""

    type: str = "text"
    #: entity types that fill it (default: by its type; see `assistant.tasks.slots`)
    entities: list[str] = Field(default_factory=list)
    required: bool = True
    #: not needed when one of these slots has a value (a contact, or a phone number)
    unless: list[str] = Field(default_factory=list)
    prompt: Localized = Localized()
    reprompt: Localized | None = None
    #: bounds for numbers and temperatures; "HH:MM" for times, "YYYY-MM-DD" for dates
    min: float | str | None = None
    max: float | str | None = None
    values: list[str] = Field(default_factory=list, description="allowed values")
    pattern: str | None = None
    weekdays: list[int] | None = Field(default=None, description="allowed days, 0 = Monday")
    future: bool = Field(default=False, description="dates and times not in the past")
    #: the bot's opening hours (bot.yaml `hours`) a date, time or datetime must fall within
    hours: str | None = None
    invalid: Localized | None = None
    default: Any = None

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 0 <= d <= 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from e
        return value


class ActionSpec(_Strict):
    """What to do when a flow has its slots: a directive for the device, an HTTP webhook, a
    Rasa custom action; `say` is said when it succeeded, `failed` when it did not."""

    directive: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    payload: dict[str, Any] = Field(default_factory=dict)
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    rasa: str | None = Field(default=None, min_length=1)
    timeout_ms: int = Field(default=3000, gt=0, le=30_000)
    say: Localized = Localized()
    failed: Localized = Localized(
        ko="죄송해요, 지금은 처리하지 못했어요. 잠시 후 다시 시도해 주세요.",
        en="Sorry, I couldn't do that right now. Please try again in a moment.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ActionSpec:
        if self.webhook and self.rasa:
            raise ValueError("an action calls a webhook or a Rasa action, not both")
        return self


class FlowSpec(_Strict):
    intent: str | None = None
    title: Localized = Localized()
    slots: dict[str, SlotSpec] = Field(default_factory=dict)
    confirm: Localized | None = None
    action: ActionSpec = ActionSpec()
    cancelled: Localized = Localized(ko="알겠어요, 취소했어요.", en="Okay, I've cancelled that.")
    declined: Localized = Localized(ko="알겠어요, 진행하지 않을게요.", en="Okay, I won't do that.")


class EntityEntry(_Strict):
    values: dict[str, list[str]] | list[str] = Field(default_factory=dict)
    free: bool = False
    patterns: list[str] = Field(default_factory=list)


class IntentEntry(_Strict):
    examples: dict[str, Any] | list[str] | str = Field(default_factory=list)


class FlowsFile(_Strict):
    intents: dict[str, IntentEntry] = Field(default_factory=dict)
    entities: dict[str, EntityEntry] = Field(default_factory=dict)
    out_of_scope: dict[str, Any] | list[str] = Field(default_factory=list)
    flows: dict[str, FlowSpec] = Field(default_factory=dict)


@dataclass
class TaskModel:
    """Everything the task skill knows: NLU data, flows by name, intents to flows."""

    nlu: NluData = field(default_factory=NluData)
    flows: dict[str, FlowSpec] = field(default_factory=dict)

    def flow_of(self, intent: str) -> str | None:
        for name, flow in self.flows.items():
            if (flow.intent or name) == intent:
                return name
        return None


def _examples(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [x for per_locale in value.values() for x in read_examples(per_locale)]
    return read_examples(value)


def _check(model: TaskModel) -> list[str]:
    problems = []
    known = set(BUILTIN_TYPES) | set(model.nlu.entities)
    for name, flow in model.flows.items():
        intent = flow.intent or name
        if intent not in model.nlu.intents:
            problems.append(f"flows.{name}.intent: no examples for intent {intent!r}")
        for slot_name, slot in flow.slots.items():
            if slot.type not in BUILTIN_SLOT_TYPES and slot.type not in model.nlu.entities:
                problems.append(
                    f"flows.{name}.slots.{slot_name}.type: {slot.type!r} is neither a built-in "
                    f"type {list(BUILTIN_SLOT_TYPES)} nor an entity of the data"
                )
            others = [u for u in slot.unless if u not in flow.slots]
            if others:
                problems.append(f"flows.{name}.slots.{slot_name}.unless: no slots {others}")
            unknown = [e for e in slot.entities if e not in known]
            if unknown:
                problems.append(f"flows.{name}.slots.{slot_name}.entities: unknown {unknown}")
            if slot.required and not (slot.prompt.ko or slot.prompt.en):
                problems.append(f"flows.{name}.slots.{slot_name}.prompt: a required slot needs one")
    return problems


def load_flows(flows: Sequence[Path], nlu: Sequence[Path] = ()) -> TaskModel:
    """Read flows files and Rasa NLU files into one model; `ValueError` lists every problem."""
    model = TaskModel()
    problems: list[str] = []
    for path in nlu:
        try:
            model.nlu.extend(parse_rasa_nlu(path.read_text(encoding="utf-8"), str(path)))
        except (OSError, NluDataError) as e:
            problems.append(str(e))
    for path in flows:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            parsed = FlowsFile.model_validate(raw)
        except OSError as e:
            problems.append(f"{path}: cannot read: {e}")
            continue
        except yaml.YAMLError as e:
            problems.append(f"{path}: not valid YAML: {e}")
            continue
        except ValidationError as e:
            problems.append(format_validation_error(str(path), e))
            continue
        data = NluData()
        for name, declared in parsed.entities.items():  # declared first: they say if free
            values = (
                {v: [] for v in declared.values}
                if isinstance(declared.values, list)
                else declared.values
            )
            data.entities[name] = EntitySpec(
                name=name,
                values={k: list(v) for k, v in values.items()},
                patterns=list(declared.patterns),
                free=declared.free,
            )
        try:
            for intent, entry in parsed.intents.items():
                data.add_examples(intent, _examples(entry.examples), str(path))
        except NluDataError as e:
            problems.append(str(e))
        data.out_of_scope.extend(_examples(parsed.out_of_scope))
        model.nlu.extend(data)
        for name, flow in parsed.flows.items():
            if name in model.flows:
                problems.append(f"{path}: flows.{name}: defined twice")
            model.flows[name] = flow
    if not problems:
        problems = [f"flows: {p}" for p in _check(model)]
    if problems:
        raise ValueError("task data refused:\n" + "\n".join(problems))
    return model
