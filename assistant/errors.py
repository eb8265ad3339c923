"""Errors raised by the assistant core.

AssistantError
├── BotConfigError        a bot directory or bot.yaml is wrong (file, key path, what is expected)
├── SkillLoadError        a configured skill could not be built from its data files
├── InputError            a turn's input is unacceptable (field, problem); becomes HTTP 422
└── StoreError            the session store failed or is not migrated
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of the core's errors."""


class BotConfigError(AssistantError):
    """The bot directory cannot be loaded; the message lists every problem found."""


class SkillLoadError(AssistantError):
    """A skill named in bot.yaml could not be built."""


class InputError(AssistantError):
    """A turn's input is unacceptable. `field` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class StoreError(AssistantError):
    """The session store could not do what was asked."""
