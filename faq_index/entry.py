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
    """A link shown with the answer (a button on a card, a line of text elsewhere): an http(s)
    page, a `tel:` or `mailto:` link, or an app's own deep link (`hanbit://service/booking`);
    never script (`javascript:`, `data:`, ...), which a web page would run.

    >>> FaqLink(url="hanbit://service/booking").url
    'hanbit://service/booking'
    >>> try:
    ...     FaqLink(url="javascript:alert(1)")
    ... except ValueError as e:
    ...     print(e.errors()[0]["msg"])
    Value error, 'javascript:' links are not allowed: use http(s), tel, mailto or an app's own scheme
    """

    url: str = Field(min_length=1, max_length=2000)
    label: str = ""

    @field_validator("url")
    @classmethod
    def _safe(cls, value: str) -> str:
        return _checked_url(value, schemes=None)


class FaqImage(_Model):
    """An image shown with the answer: an http(s) URL."""

    url: str = Field(min_length=1, max_length=2000)
    alt_text: str = ""

    @field_validator("url")
    @classmethod
    def _safe(cls, value: str) -> str:
        return _checked_url(value, schemes=("http", "https"))


#: Schemes a browser runs or reads locally: never in a link or an image.
_UNSAFE_SCHEMES = frozenset(
    {"javascript", "vbscript", "data", "file", "blob", "about", "filesystem"}
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def _checked_url(value: str, *, schemes: tuple[str, ...] | None) -> str:
    """`value` when it is a URL of an allowed scheme (`schemes`, or any but the unsafe ones);
    `ValueError` saying what is allowed otherwise."""
    # Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
    compact = re.sub(r"[\x00-\x20\x7f]", "", value)
    found = _SCHEME.match(compact)
    allowed = " or ".join(schemes) if schemes else "http(s), tel, mailto or an app's own scheme"
    if found is None:
        raise ValueError(f"{value[:40]!r} is not an absolute URL: use {allowed}")
    scheme = found.group(1).lower()
    if scheme in _UNSAFE_SCHEMES or (schemes is not None and scheme not in schemes):
        raise ValueError(f"{scheme + ':'!r} links are not allowed: use {allowed}")
    if scheme in ("http", "https") and not compact[len(scheme) + 1 :].startswith("//"):
        raise ValueError(f"{value[:40]!r} has no host: use {scheme}://host/path")
    return value


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
