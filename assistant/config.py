"""A bot is a directory: `bot.yaml` plus the data files its skills read.

`load_bot(path)` validates `bot.yaml` with the pydantic models below and refuses a wrong key or
value with the file, the dotted path of the key and what was expected, listing every problem at
once. Skills' own options are validated by the skill type named in `type` (see
`assistant.skills`), so their errors carry the same file and path.

    skills:
      - type: faq              # a key of assistant.skills.SKILL_TYPES
        name: faq              # defaults to the type; names the skill in routes and thresholds
        timeout_ms: 800
        options: {entries: faq.yaml}
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import BotConfigError

SUPPORTED_LOCALES = ("ko", "en")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Localized(_Strict):
    """A text in each locale the bot speaks."""

    ko: str = ""
    en: str = ""

    def get(self, locale: str) -> str:
        text: str = getattr(self, locale, "") if locale in SUPPORTED_LOCALES else ""
        return text or self.ko or self.en


class SkillSpec(_Strict):
    type: str = Field(min_length=1)
    name: str = ""
    enabled: bool = True
    timeout_ms: int = Field(default=1000, gt=0, le=60_000)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_name(self) -> SkillSpec:
        if not self.name:
            self.name = self.type
        return self


class PolicyConfig(_Strict):
    """How one candidate is chosen (see `assistant.policy.choose`)."""

    thresholds: dict[str, float] = Field(default_factory=dict)
    default_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    clarify_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    max_suggestions: int = Field(default=3, ge=1, le=10)
    precedence: list[list[str]] = Field(default_factory=lambda: [["task"]])
    #: Two passing candidates (with suggestions, different routes) closer than this are both
    #: offered instead of guessing; 0 turns it off.
    clarify_margin: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Hand the conversation to a person at this many fallbacks in a row; 0 never.
    handoff_after: int = Field(default=3, ge=0, le=100)
    #: The fallback offers the questions of candidates at or above this confidence (below
    #: `clarify_threshold`: the closest questions, "혹시 이런 질문이신가요?"); None: it offers none.
    fallback_suggest_threshold: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("thresholds")
    @classmethod
    def _in_unit_interval(cls, value: dict[str, float]) -> dict[str, float]:
        for skill, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold of {skill!r} must be between 0 and 1, got {threshold}")
        return value

    @model_validator(mode="after")
    def _clarify_below_answer(self) -> PolicyConfig:
        if self.clarify_threshold > self.default_threshold:
            raise ValueError("clarify_threshold must not be above default_threshold")
        return self

    def threshold(self, skill: str) -> float:
        return self.thresholds.get(skill, self.default_threshold)


class Messages(_Strict):
    fallback: Localized = Localized(
        ko="죄송해요, 잘 이해하지 못했어요. 다르게 말씀해 주시겠어요?",
        en="Sorry, I didn't quite get that. Could you say it another way?",
    )
    handoff: Localized = Localized(
        ko="상담원 연결을 원하시면 '상담원 연결'이라고 말씀해 주세요.",
        en="Say 'talk to an agent' if you'd like a person to help.",
    )
    clarify: Localized = Localized(ko="혹시 이런 질문이신가요?", en="Did you mean one of these?")
    #: Said when the conversation is handed to a person (on request, or after failures).
    handoff_now: Localized = Localized(
        ko="상담원에게 연결해 드릴게요. 잠시만 기다려 주세요.",
        en="I'll connect you to an agent. Please hold on a moment.",
    )


class Limits(_Strict):
    max_text_length: int = Field(default=2000, gt=0, le=100_000)
    turn_timeout_ms: int = Field(default=5000, gt=0, le=120_000)
    #: Recognizer hypotheses (n-best) put to the skills in one turn; each costs a skill round.
    max_hypotheses: int = Field(default=3, ge=1, le=10)


class SessionConfig(_Strict):
    history: int = Field(default=10, ge=1, le=200)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class OpeningHours(BaseModel):
    """When a business is open: opening and closing time by weekday (a day without them is
    closed), dates it is closed on, and how long before closing the last booking is
    (`assistant.tasks.hours`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Localized = Localized()
    open: dict[Day, tuple[str, str]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)
    last_booking: int = Field(default=0, ge=0, le=24 * 60)

    @field_validator("open")
    @classmethod
    def _times(cls, value: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        for day, (start, end) in value.items():
            for clock in (start, end):
                if len(clock) != 5 or clock[2] != ":" or not (clock[:2] + clock[3:]).isdigit():
                    raise ValueError(f"{day}: {clock!r} is no time of day as HH:MM")
            if start >= end:
                raise ValueError(f"{day}: opens at {start}, after it closes at {end}")
        return value

    def hours_on(self, day: date) -> tuple[str, str] | None:
        """(opening, closing) on that day, None when closed."""
        if day in self.holidays:
            return None
        found: tuple[str, str] | None = self.open.get(DAYS[day.weekday()])  # type: ignore[call-overload]
        return found

    def last_slot(self, day: date) -> str | None:
        """The latest time that can be booked that day."""
        found = self.hours_on(day)
        if found is None:
            return None
        minutes = int(found[1][:2]) * 60 + int(found[1][3:]) - self.last_booking
        return f"{minutes // 60:02d}:{minutes % 60:02d}"


class BotConfig(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    locales: list[str] = Field(default_factory=lambda: ["ko", "en"], min_length=1)
    default_locale: str = "ko"
    timezone: str = "Asia/Seoul"
    skills: list[SkillSpec] = Field(default_factory=list)
    policy: PolicyConfig = PolicyConfig()
    messages: Messages = Messages()
    limits: Limits = Limits()
    session: SessionConfig = SessionConfig()
    #: opening hours by name: what the FAQ's answers say and what bookings are checked against
    hours: dict[str, OpeningHours] = Field(default_factory=dict)

    @field_validator("locales")
    @classmethod
    def _known_locales(cls, value: list[str]) -> list[str]:
        unknown = [loc for loc in value if loc not in SUPPORTED_LOCALES]
        if unknown:
            raise ValueError(
                f"unsupported locale(s) {unknown}; supported: {list(SUPPORTED_LOCALES)}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BotConfig:
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale {self.default_locale!r} is not in locales")
        names = [s.name for s in self.skills]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"skill names must be unique; repeated: {duplicates}")
        return self


class Bot:
    """A loaded bot: its validated configuration and the directory its data files are in."""

    def __init__(self, config: BotConfig, directory: Path) -> None:
        self.config = config
        self.directory = directory

    def path(self, relative: str) -> Path:
        """A data file of the bot, relative to its directory."""
        return (self.directory / relative).resolve()


def format_validation_error(source: str, error: ValidationError, prefix: str = "") -> str:
    """One line per problem: `file: key.path: what is wrong (got value)`."""
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        where = ".".join(p for p in (prefix, loc) if p) or "(top level)"
        got = item.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        lines.append(f"{source}: {where}: {item['msg']}{shown}")
    return "\n".join(lines)


def demo_bot_dir() -> Path:
    """The demo bot that ships in the package, used when no bot is given."""
    return Path(str(resources.files("assistant") / "demo_bot"))


def load_bot(directory: str | Path | None = None) -> Bot:
    """Load and validate a bot directory (the demo bot when `directory` is None)."""
    root = Path(directory) if directory is not None else demo_bot_dir()
    config_file = root / "bot.yaml"
    if not config_file.is_file():
        raise BotConfigError(f"{config_file}: not found; a bot directory must hold a bot.yaml")
    try:
        raw = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise BotConfigError(f"{config_file}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise BotConfigError(f"{config_file}: expected a mapping of settings at the top level")
    try:
        config = BotConfig.model_validate(raw)
    except ValidationError as e:
        raise BotConfigError(
            "bot configuration refused:\n" + format_validation_error(str(config_file), e)
        ) from e
    return Bot(config, root.resolve())
