"""The FAQ entry: a question, the other ways people ask it, and its answer.

    >>> entry = FaqEntry(id="hours", question="영업시간이 어떻게 되나요?",
    ...                  alternatives=["몇 시까지 해요?"], answer="평일 9시부터 18시까지입니다.")
    >>> entry.questions
    ('영업시간이 어떻게 되나요?', '몇 시까지 해요?')

Rich parts are optional: a `link` (label + url), an `image` (url + alt text) and `quick_replies`
(what the user may ask next). Each one has a plain-text fallback in the skill's reply.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FaqEntry", "FaqImage", "FaqLink"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,127}$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class FaqLink(_Model):
    """A link shown with the answer (a button on a card, a line of text elsewhere)."""

    url: str = Field(min_length=1)
    label: str = ""


class FaqImage(_Model):
    url: str = Field(min_length=1)
    alt_text: str = ""


class FaqEntry(_Model):
    """One FAQ entry; `id` is stable (routes are `faq:<id>`), the rest may change."""

    id: str
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    alternatives: tuple[str, ...] = ()
    category: str = ""
    tags: tuple[str, ...] = ()
    locale: str | None = None
    link: FaqLink | None = None
    image: FaqImage | None = None
    quick_replies: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                f"id {value!r} must start with a letter or digit and use only letters, digits "
                "and _ . : / - (at most 128 characters)"
            )
        return value

    @field_validator("alternatives", "tags", "quick_replies")
    @classmethod
    def _no_blanks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip() for v in value)
        if any(not v for v in cleaned):
            raise ValueError("must not contain empty strings")
        return cleaned

    @property
    def questions(self) -> tuple[str, ...]:
        """The question first, then its alternatives: every way of asking this entry."""
        return (self.question, *self.alternatives)
