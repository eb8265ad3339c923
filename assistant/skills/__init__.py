"""Skill types that a bot.yaml can name: registered here, and nowhere else.

Each entry maps the `type` of a `skills[]` item to a `SkillType` given as "module:attribute",
imported only when a bot uses it (so a bot without FAQ never loads an embedding model). A
`SkillType` names the pydantic model of the skill's `options` and a function that builds the
skill from the validated options, its spec and the bot (for data file paths).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.config import Bot, SkillSpec, format_validation_error
from assistant.errors import BotConfigError, SkillLoadError
from assistant.skill import Skill

__all__ = ["SKILL_TYPES", "SkillType", "build_skills"]

#: type name -> "module:attribute" of its SkillType.
SKILL_TYPES: dict[str, str] = {
    "faq": "assistant.skills.faq:SKILL",
    "mrc": "assistant.skills.mrc:SKILL",
    "smalltalk": "assistant.skills.smalltalk:SKILL",
    "task": "assistant.skills.task:SKILL",
}


@dataclass(frozen=True)
class SkillType:
    options: type[BaseModel]
    build: Callable[[Any, SkillSpec, Bot], Skill]


def _resolve(target: str | SkillType) -> SkillType:
    if isinstance(target, SkillType):
        return target
    module_name, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(found, SkillType):
        raise TypeError(f"{target} is not a SkillType")
    return found


def build_skills(
    bot: Bot, types: Mapping[str, str | SkillType] | None = None
) -> list[tuple[SkillSpec, Skill]]:
    """Build every enabled skill of the bot, or refuse with every problem found."""
    registry = SKILL_TYPES if types is None else types
    source = str(bot.directory / "bot.yaml")
    problems: list[str] = []
    built: list[tuple[SkillSpec, Skill]] = []
    for index, spec in enumerate(bot.config.skills):
        where = f"skills.{index}"
        if spec.type not in registry:
            known = sorted(registry) or ["(none installed)"]
            problems.append(
                f"{source}: {where}.type: unknown skill type {spec.type!r}; known: {known}"
            )
            continue
        if not spec.enabled:
            continue
        skill_type = _resolve(registry[spec.type])
        try:
            options = skill_type.options.model_validate(spec.options)
        except ValidationError as e:
            problems.append(format_validation_error(source, e, prefix=f"{where}.options"))
            continue
        try:
            built.append((spec, skill_type.build(options, spec, bot)))
        except (SkillLoadError, OSError, ValueError) as e:
            problems.append(f"{source}: {where} ({spec.name}): {e}")
    if problems:
        raise BotConfigError("bot configuration refused:\n" + "\n".join(problems))
    return built
