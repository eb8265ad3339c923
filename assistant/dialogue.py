"""The dialogue manager: `Assistant.handle(utterance) -> Reply`, the one entry point of a turn.

    assistant = await Assistant.create(bot_dir=None, database_url="sqlite:///assistant.db")
    reply = await assistant.handle(Utterance(text="안녕하세요", session_id="s1"))
    await assistant.close()

A turn: validate and normalize the text, take the session's lock, load its context, ask every
skill for candidates (concurrently, each within its time budget; a skill that fails or is late is
logged and left out), let `policy.choose` decide, then store the new context and the turn log
(every candidate with its score, the route, latency) in one transaction.

Before the skills, the turn's *move* is read (`assistant.moves`): a follow-up ("그럼 주말에는?")
is also put to the retrieval skills (those with `reads_follow_ups`) rewritten with the question
before it, and the more confident answer wins; a correction ("아니 그거 말고 ...") leaves the
corrected answer out; "다시 말해줘" says the last reply again and "상담원 연결" hands off. Only the
chosen candidate's skill then acts (`Actor.act`: webhooks, action servers), so no action runs
for an answer that was not given.

Speech recognizers send several hypotheses (`Utterance.alternatives`, the n-best list). The top
few (`limits.max_hypotheses`) are each put to the skills and the policy against the same loaded
context, concurrently and with nothing changed; the one whose decision scores best — the reply's
confidence times the recognizer's confidence — becomes the turn: only its context changes and
its turn are stored, and `Reply.understood` says which text that was. The turn log keeps the
candidates of every hypothesis. An utterance's `time_budget_ms` (a car waits about a second)
caps every skill's budget, so a slow skill is left out and the answer comes from those that were
ready.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant import logs, metrics
from assistant.config import Bot, SkillSpec, load_bot
from assistant.context import DialogueContext, TurnRecord
from assistant.details import read_detail
from assistant.errors import InputError, StoreError
from assistant.json_input import lone_surrogate
from assistant.moves import Move, read_move
from assistant.normalize import Vocabulary, detect_locale, normalize_text, read_text
from assistant.policy import CLARIFY_CONTEXT, Decision, choose, handoff
from assistant.questions import split_questions
from assistant.skill import Actor, Skill, TurnInput
from assistant.skills import build_skills
from assistant.store import (
    DuplicateMessage,
    LocalSessionLocks,
    SessionLocks,
    SqlStore,
    TurnLog,
    make_locks,
)
from assistant.types import (
    Candidate,
    ContextUpdate,
    HandoffPart,
    NamedContext,
    QuickRepliesPart,
    QuickReply,
    Reply,
    ReplyPart,
    TextPart,
    Utterance,
)

log = logging.getLogger("assistant.dialogue")

MAX_SESSION_ID = 128
MAX_MESSAGE_ID = 128


#: The weight of a hypothesis without a recognizer confidence: this times the one ranked above.
UNKNOWN_CONFIDENCE_DECAY = 0.5
#: The weight of the text as read (`assistant.normalize.read_text`: slang, typos, spacing)
#: beside the text as typed: the reading is answered when its decision is more confident than
#: the typed text's by more than this factor.
READING_WEIGHT = 0.98


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One reading of the user's turn: the recognizer's text, normalized, and its weight (the
    recognizer's confidence, or a share of the weight above it when it gave none)."""

    raw: str
    text: str
    asr_confidence: float | None
    weight: float


@dataclass(frozen=True, slots=True)
class SkillOutcome:
    """How one skill did in one turn, for the turn log."""

    skill: str
    status: str  # ok | error | timeout
    latency_ms: float
    candidates: Sequence[Candidate] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """A turn's candidates and the policy's decision, before anything is stored."""

    text: str  # normalized
    locale: str
    outcomes: tuple[SkillOutcome, ...]
    candidates: tuple[Candidate, ...]
    decision: Decision
    move: Move | None = None

    def candidate_log(self) -> list[dict[str, Any]]:
        """Every candidate with its score, as the turn log keeps them."""
        return _candidate_log(self.candidates, self.decision)

    def skill_log(self) -> list[dict[str, Any]]:
        return [_skill_log(o) for o in self.outcomes]


class Assistant:
    """Routes each utterance to one reply, keeping context across the turns of a session."""

    def __init__(
        self,
        bot: Bot,
        store: SqlStore,
        skills: Sequence[tuple[SkillSpec, Skill]],
        *,
        locks: SessionLocks | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.store = store
        self.skills = list(skills)
        self.locks: SessionLocks = locks or LocalSessionLocks()
        self.clock = clock

    @classmethod
    async def create(
        cls, *, bot_dir: str | None = None, database_url: str, session_locks: str | None = None
    ) -> Assistant:
        """Load the bot (the demo bot when `bot_dir` is None), build its skills, open the store.

        `session_locks`: see `assistant.store.make_locks` (default: by the store's database).
        """
        bot = load_bot(bot_dir)
        skills = await asyncio.to_thread(build_skills, bot)
        store = SqlStore(database_url)
        await store.open()
        try:
            locks = make_locks(session_locks, store.engine)
        except StoreError:
            await store.close()
            raise
        return cls(bot, store, skills, locks=locks)

    async def close(self) -> None:
        closer = getattr(self.locks, "close", None)
        if closer is not None:
            await closer()
        await self.store.close()

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        """The words of the skills' content (`vocabulary_texts`: the FAQ's questions and
        answers), that robust reading corrects English typos towards."""
        texts: list[str] = []
        for _, skill in self.skills:
            source = getattr(skill, "vocabulary_texts", None)
            if callable(source):
                texts.extend(source())
        return Vocabulary(texts)

    @property
    def skill_names(self) -> list[str]:
        return [spec.name for spec, _ in self.skills]

    # --- the turn ------------------------------------------------------------------------------

    def validate(self, utterance: Utterance) -> tuple[str, str]:
        """The normalized text and resolved locale, or `InputError` naming the field."""
        limits = self.bot.config.limits
        _refuse_surrogates(utterance)
        if not utterance.session_id.strip():
            raise InputError("session_id", "must not be empty")
        if len(utterance.session_id) > MAX_SESSION_ID:
            raise InputError("session_id", f"must be at most {MAX_SESSION_ID} characters")
        if utterance.message_id is not None and not 0 < len(utterance.message_id) <= MAX_MESSAGE_ID:
            raise InputError("message_id", f"must be 1 to {MAX_MESSAGE_ID} characters")
        if len(utterance.text) > limits.max_text_length:
            raise InputError(
                "text",
                f"is {len(utterance.text)} characters long; the limit is {limits.max_text_length}",
            )
        text = normalize_text(utterance.text)
        if not text:
            raise InputError("text", "must contain something other than white space")
        locales = self.bot.config.locales
        if utterance.locale is not None:
            locale = utterance.locale.split("-")[0].split("_")[0].lower()
            if locale not in locales:
                raise InputError(
                    "locale",
                    f"{utterance.locale!r} is not spoken by this bot; use one of {locales}",
                )
        else:
            locale = detect_locale(text, default=self.bot.config.default_locale)
            if locale not in locales:
                locale = self.bot.config.default_locale
        return text, locale

    async def handle(self, utterance: Utterance) -> Reply:
        """Answer one utterance. Raises `InputError` for unacceptable input, before any work."""
        token = logs.turn_id.set(logs.turn_id.get() or logs.new_turn_id())
        try:
            return await self._handle(utterance)
        finally:
            logs.turn_id.reset(token)

    async def _handle(self, utterance: Utterance) -> Reply:
        text, locale = self.validate(utterance)
        session_id = utterance.session_id
        async with self.locks.hold(session_id):
            if utterance.message_id is not None:
                stored = await self.store.find_reply(session_id, utterance.message_id)
                if stored is not None:
                    return stored
            started = time.perf_counter()
            now = self.clock()
            context = await self.store.load_context(session_id) or DialogueContext(
                history_size=self.bot.config.session.history
            )
            context.expire(now=now)
            proposal, heard, evaluated = await self._propose_best(
                utterance, text, locale, context, now
            )
            proposal = await self._several(utterance, proposal, context, now)
            decision = await self._act(proposal, utterance, context, now)
            context.apply(decision.update, now=now)
            context.record(
                TurnRecord(
                    user=proposal.text,
                    reply=decision.reply.plain_text(),
                    route=decision.reply.route,
                    confidence=decision.reply.confidence,
                    at=now,
                    reading=_reading(proposal, decision),
                )
            )
            context.last_reply = decision.reply.model_dump(mode="json")
            context.end_turn(now=now)
            latency_ms = (time.perf_counter() - started) * 1000
            turn_log = TurnLog(
                session_id=session_id,
                channel=utterance.channel,
                locale=locale,
                text=heard.raw,
                reply=decision.reply,
                outcome=decision.outcome,
                candidates=_hypotheses_log(evaluated, proposal, Proposal.candidate_log),
                skills=_hypotheses_log(evaluated, proposal, Proposal.skill_log),
                latency_ms=round(latency_ms, 3),
                message_id=utterance.message_id,
            )
            try:
                await self.store.save_turn(turn_log, context)
            except DuplicateMessage:
                # Another process answered the same message meanwhile: its reply stands.
                stored = await self.store.find_reply(session_id, utterance.message_id or "")
                if stored is not None:
                    return stored
                raise
            handoff = any(isinstance(p, HandoffPart) for p in decision.reply.parts)
            metrics.record_turn(
                channel=utterance.channel,
                route=decision.reply.route,
                outcome=decision.outcome,
                seconds=latency_ms / 1000,
                handoff=handoff,
            )
            fields: dict[str, Any] = {
                "session_id": session_id,
                "channel": utterance.channel,
                "locale": locale,
                "route": decision.reply.route,
                "outcome": decision.outcome,
                "confidence": round(decision.reply.confidence, 3),
                "latency_ms": round(latency_ms, 1),
            }
            if logs.log_user_text():
                fields["text"] = text
            log.info("turn.done", extra=fields)
            return decision.reply

    async def preview(
        self, utterance: Utterance, *, context: DialogueContext | None = None
    ) -> Proposal:
        """What the assistant would answer now, without a turn: the skills and the policy run
        on a copy of `context` (a new one by default) and nothing is stored or counted as a
        turn. Raises `InputError` like `handle`. The admin console's preview uses it."""
        text, locale = self.validate(utterance)
        now = self.clock()
        if context is None:
            context = DialogueContext(history_size=self.bot.config.session.history)
        else:
            context = context.model_copy(deep=True)
        context.expire(now=now)
        return await self._propose(utterance, text, locale, context, now)

    def hypotheses(self, utterance: Utterance, text: str) -> list[Hypothesis]:
        """The readings of a turn to evaluate, best-ranked first: the utterance's text (`text`
        normalized) and then its `alternatives`, without repeats or unusable ones, at most
        `limits.max_hypotheses`. A hypothesis weighs its recognizer confidence; one without
        weighs `UNKNOWN_CONFIDENCE_DECAY` times the one ranked above it (the first: 1)."""
        limits = self.bot.config.limits
        top = next((a for a in utterance.alternatives if a.text == utterance.text), None)
        ranked = [(utterance.text, text, top.confidence if top is not None else None)]
        ranked += [
            (a.text, normalize_text(a.text), a.confidence)
            for a in utterance.alternatives
            if len(a.text) <= limits.max_text_length
        ]
        found: list[Hypothesis] = []
        locale = utterance.locale or detect_locale(text, default=self.bot.config.default_locale)
        read = text
        if not utterance.alternatives:
            # Typed text: slang, typos and spacing read as meant. A recognizer's n-best list
            # already holds what it may have misheard, and its words have no typos: a
            # "corrected" mishearing ("서울 여그로 안네 해조" read as a route to 여그) would
            # outrank the alternative that was meant.
            read = read_text(text, locale.split("-")[0].split("_")[0].lower(), self.vocabulary).text
        if read != text:  # the text as it was meant, just after the text as typed
            ranked.insert(1, (utterance.text, read, None))
        for raw, normalized, confidence in ranked:
            if not normalized or any(h.text == normalized for h in found):
                continue
            if confidence is not None:
                weight = confidence
            elif normalized == read and found and read != text:
                weight = found[0].weight * READING_WEIGHT
            else:
                weight = found[-1].weight * UNKNOWN_CONFIDENCE_DECAY if found else 1.0
            found.append(Hypothesis(raw, normalized, confidence, weight))
            if len(found) == limits.max_hypotheses:
                break
        return found

    async def _propose_best(
        self,
        utterance: Utterance,
        text: str,
        locale: str,
        context: DialogueContext,
        now: float,
    ) -> tuple[Proposal, Hypothesis, list[tuple[Hypothesis, Proposal]]]:
        """The proposal of the hypothesis that scores best (weight times the decision's
        confidence; on a tie, the recognizer's order), with every hypothesis' proposal. Skills
        only read the context, so the hypotheses are evaluated on it at once; the chosen one's
        reply says in `understood` which text it answers when there were alternatives."""
        hypotheses = self.hypotheses(utterance, text)
        proposals = await asyncio.gather(
            *(self._propose(utterance, h.text, locale, context, now) for h in hypotheses)
        )
        evaluated = list(zip(hypotheses, proposals, strict=True))
        index, (heard, best) = max(
            enumerate(evaluated),
            key=lambda ie: (ie[1][0].weight * ie[1][1].decision.reply.confidence, -ie[0]),
        )
        if utterance.alternatives or heard.text != text:
            understood = heard.raw if utterance.alternatives else heard.text
            reply = best.decision.reply.model_copy(update={"understood": understood})
            best = dataclasses.replace(
                best, decision=dataclasses.replace(best.decision, reply=reply)
            )
            evaluated[index] = (heard, best)
        return best, heard, evaluated

    async def _propose(
        self,
        utterance: Utterance,
        text: str,
        locale: str,
        context: DialogueContext,
        now: float,
    ) -> Proposal:
        clarified = context.active_context(CLARIFY_CONTEXT, now=now)
        offered = list(clarified.params.get("routes", [])) if clarified is not None else []
        move = read_move(text, locale, context, offered=offered)
        rejected = context.active_context(REJECTED_CONTEXT, now=now)
        if rejected is not None:  # answers corrected in the turns before are not given again
            move = dataclasses.replace(
                move, exclude=(*move.exclude, *rejected.params.get("routes", []))
            )
        turn = TurnInput(
            utterance=utterance, text=move.text, locale=locale, context=context, now=now, move=move
        )
        asked = [self._ask_skills(turn)]
        if move.rewritten is not None:  # a follow-up: the retrieval skills read it rewritten too
            rewritten = dataclasses.replace(turn, text=move.rewritten)
            asked.append(self._ask_skills(rewritten, follow_ups_only=True))
        plain, *other = await asyncio.gather(*asked)
        candidates = [c for o in plain for c in o.candidates if c.reply.route not in move.exclude]
        for outcome in other[0] if other else []:
            candidates.extend(
                c.model_copy(update={"details": {**c.details, "reading": move.rewritten}})
                for c in outcome.candidates
                if c.reply.route not in move.exclude + move.exclude_in_rewritten
            )
        candidates.extend(self._moves(move, context, locale))
        candidates.extend(await self._detail(move, context, locale))
        decision = choose(
            candidates,
            policy=self.bot.config.policy,
            messages=self.bot.config.messages,
            locale=locale,
            skill_order=self.skill_names,
            failures=context.failures(),
        )
        if move.kind == "correction" and move.exclude:
            decision = _remember_rejected(decision, move.exclude)
        outcomes = (*plain, *(other[0] if other else ()))
        return Proposal(text, locale, outcomes, tuple(candidates), decision, move)

    async def _detail(self, move: Move, context: DialogueContext, locale: str) -> list[Candidate]:
        """A follow-up about a detail of the last retrieved answer, read out of that answer
        (`assistant.details`), with the reader of the bot's MRC skill when it has one."""
        previous = move.previous
        if move.kind not in ("follow_up", "plain") or previous is None or not move.fragment:
            return []
        reader = next(
            (getattr(s, "reader", None) for _, s in self.skills if hasattr(s, "reader")), None
        )
        question = previous.reading or previous.user
        answer = _answer_text(previous)
        try:
            detail = await asyncio.to_thread(
                read_detail, move.fragment, question, answer, reader, locale
            )
        except Exception:  # a failing detail reading degrades the answer, never the turn
            log.exception("dialogue.detail_failed")
            return []
        if detail is None:
            return []
        lead = DETAIL_LEAD.get(locale, DETAIL_LEAD["en"]).format(
            part=_asked_part(move.fragment, locale) or " ".join(detail.words),
            question=question.rstrip(" ?？.!"),
        )
        parts: list[ReplyPart] = [TextPart(text=f"{lead} {detail.clause}")]
        route = f"{previous.route}#detail"
        reply = Reply(parts=tuple(parts), route=route, confidence=detail.confidence)
        return [
            Candidate(
                reply=reply,
                confidence=detail.confidence,
                skill="dialogue",
                # a follow-up whose words are all in one part of the last answer: that part
                # is the answer, whatever a rewritten question finds elsewhere; a short
                # question without a follow-up marker competes (it may ask for a task)
                holds_floor=move.kind == "follow_up",
                update=ContextUpdate(topic=previous.route),
                details={"detail_of": previous.route, "span": detail.span, "reading": question},
            )
        ]

    async def _several(
        self, utterance: Utterance, proposal: Proposal, context: DialogueContext, now: float
    ) -> Proposal:
        """A message that asks several questions (`assistant.questions`): each part put to the
        skills; the parts answered by retrieval are answered together, the others offered as
        quick replies. The proposal as it was when the message has one part, when a form, a
        task or a move answered it, or when the parts answer no more than the whole did."""
        decision = proposal.decision
        chosen = decision.chosen
        retrieval = {spec.name for spec, s in self.skills if getattr(s, "reads_follow_ups", False)}
        talk = {spec.name for spec, _ in self.skills if spec.type == "smalltalk"}
        if chosen is not None and (chosen.holds_floor or chosen.skill not in retrieval | talk):
            return proposal
        if proposal.move is not None and proposal.move.kind != "plain":
            return proposal
        parts = split_questions(proposal.text, proposal.locale)
        if len(parts) < 2:
            return proposal
        locale = proposal.locale
        found = await asyncio.gather(
            *(self._propose(utterance, p, locale, context, now) for p in parts)
        )
        answered: list[tuple[str, Candidate]] = []
        offers: list[QuickReply] = []
        for part, sub in zip(parts, found, strict=True):
            got = sub.decision.chosen
            if (
                sub.decision.outcome == "answer"
                and got is not None
                and got.skill in retrieval
                and got.confidence >= SEVERAL_ANSWER_AT
                and all(got.reply.route != c.reply.route for _, c in answered)
            ):
                answered.append((part, got))
            elif got is not None and got.skill in talk:
                continue  # a greeting or a sigh among the questions: nothing to offer
            elif got is not None and got.skill in retrieval and got.suggestion:
                offers.append(QuickReply(label=_label(got.suggestion), text=got.suggestion))
            elif sub.decision.outcome == "clarify" or _quick_replies(sub.decision.reply):
                offers.extend(_quick_replies(sub.decision.reply)[:1])
        whole_answered = decision.outcome == "answer"
        by_retrieval = whole_answered and chosen is not None and chosen.skill in retrieval
        if by_retrieval:
            # the whole message already has an answer: the parts must add to it (a second
            # answer, or an answer with the other parts offered)
            if len(answered) < 2 and not (answered and offers):
                return proposal
        elif not answered and (whole_answered or not offers):
            return proposal
        candidates = tuple(c for sub in found for c in sub.candidates)
        outcomes = tuple(o for sub in found for o in sub.outcomes)
        decided = _answer_several(answered, offers, self.bot.config.messages.clarify.get(locale))
        return dataclasses.replace(
            proposal,
            candidates=(*proposal.candidates, *candidates),
            outcomes=(*proposal.outcomes, *outcomes),
            decision=decided,
        )

    def _moves(self, move: Move, context: DialogueContext, locale: str) -> list[Candidate]:
        """The dialogue's own candidates: say the last reply again, hand off on request."""
        if move.kind == "repeat" and move.previous is not None:
            if context.last_reply is not None:
                last = Reply.model_validate(context.last_reply)
                parts = last.parts
            else:
                parts = (TextPart(text=move.previous.reply),)
            reply = Reply(parts=parts, route="repeat", confidence=1.0)
            return [Candidate(reply=reply, confidence=1.0, skill="dialogue", holds_floor=True)]
        if move.kind == "handoff":
            decided = handoff(self.bot.config.messages, locale, reason="requested")
            return [
                Candidate(reply=decided.reply, confidence=1.0, skill="dialogue", holds_floor=True)
            ]
        return []

    async def _act(
        self, proposal: Proposal, utterance: Utterance, context: DialogueContext, now: float
    ) -> Decision:
        """Let the chosen candidate's skill carry out its action (only the chosen one acts)."""
        decision = proposal.decision
        chosen = decision.chosen
        if chosen is None:
            return decision
        skill = next((s for spec, s in self.skills if spec.name == chosen.skill), None)
        if not isinstance(skill, Actor):
            return decision
        turn = TurnInput(
            utterance=utterance,
            text=proposal.move.text if proposal.move else proposal.text,
            locale=proposal.locale,
            context=context,
            now=now,
            move=proposal.move,
        )
        try:
            async with asyncio.timeout(self.bot.config.limits.turn_timeout_ms / 1000):
                done = await skill.act(chosen, turn)
        except Exception:  # a failing action degrades the answer, never the turn
            log.exception("skill.act_failed", extra={"skill": chosen.skill})
            return decision
        if done is chosen:
            return decision
        reply = done.reply
        if decision.reply.understood is not None:
            reply = reply.model_copy(update={"understood": decision.reply.understood})
        return dataclasses.replace(decision, reply=reply, chosen=done, update=done.update)

    async def _ask_skills(
        self, turn: TurnInput, *, follow_ups_only: bool = False
    ) -> list[SkillOutcome]:
        budget = self.bot.config.limits.turn_timeout_ms
        if turn.utterance.time_budget_ms is not None:
            budget = min(budget, turn.utterance.time_budget_ms)
        return list(
            await asyncio.gather(
                *(
                    self._ask(spec.name, skill, turn, min(spec.timeout_ms, budget) / 1000)
                    for spec, skill in self.skills
                    if not follow_ups_only or getattr(skill, "reads_follow_ups", False)
                )
            )
        )

    async def _ask(self, name: str, skill: Skill, turn: TurnInput, budget_s: float) -> SkillOutcome:
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 3)

        try:
            async with asyncio.timeout(budget_s):
                proposed = await skill.propose(turn)
        except TimeoutError:
            log.warning(
                "skill.timeout",
                extra={"skill": name, "budget_ms": budget_s * 1000, "session_id": _sid(turn)},
            )
            outcome = SkillOutcome(
                name, "timeout", elapsed(), error=f"no answer within {budget_s}s"
            )
        except Exception as e:  # a failing skill degrades the answer, never the turn
            log.exception("skill.failed", extra={"skill": name, "session_id": _sid(turn)})
            outcome = SkillOutcome(name, "error", elapsed(), error=f"{type(e).__name__}: {e}")
        else:
            # Whatever a skill claims, its candidates are logged and routed under its configured name.
            candidates = tuple(
                c if c.skill == name else c.model_copy(update={"skill": name}) for c in proposed
            )
            outcome = SkillOutcome(name, "ok", elapsed(), candidates)
        metrics.record_skill(name, outcome.status, outcome.latency_ms / 1000)
        return outcome


def _sid(turn: TurnInput) -> str:
    return turn.utterance.session_id


def _refuse_surrogates(utterance: Utterance) -> None:
    """`InputError` for an unpaired UTF-16 surrogate anywhere in the utterance: JSON can carry
    one ("\\ud800"), but it is not text, and storing or answering it would fail."""
    fields = utterance.model_dump(
        include={
            "text",
            "session_id",
            "channel",
            "locale",
            "message_id",
            "metadata",
            "alternatives",
        }
    )
    path = lone_surrogate(fields)
    if path is not None:
        field = path if not path.startswith("alternatives.") else "alternatives"
        raise InputError(field or "text", "contains an unpaired surrogate; send UTF-8 text")


#: Marks the question an answer follows in a reply to several questions.
QUESTION_MARK = "▶ "
#: A part of a message of several questions is answered from this confidence (and its skill's
#: threshold); below it, its question is offered as a quick reply.
SEVERAL_ANSWER_AT = 0.6

#: How a detail answer says which part of the earlier answer it is.
DETAIL_LEAD = {
    "ko": "앞서 안내한 '{question}' 답변 중 {part}에 해당하는 부분이에요:",
    "en": 'From the answer to "{question}", the part about {part}:',
}
#: The named context that keeps the routes the user corrected, for a few turns.
REJECTED_CONTEXT = "rejected"
REJECTED_TURNS = 3


def _label(text: str, limit: int = 20) -> str:
    """A quick reply's label: the text, cut at `limit` characters."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quick_replies(reply: Reply) -> list[QuickReply]:
    return [o for p in reply.parts if isinstance(p, QuickRepliesPart) for o in p.options]


def _answer_several(
    answered: Sequence[tuple[str, Candidate]], offers: Sequence[QuickReply], prompt: str
) -> Decision:
    """One reply for a message of several questions: each answer after the question it
    answers ("▶ 보증 기간도 궁금해요"), then the parts not answered as quick replies; with no
    answer, a clarification offering the parts. The last answer sets the topic."""
    parts: list[ReplyPart] = []
    for question, candidate in answered:
        for index, part in enumerate(candidate.reply.parts):
            if isinstance(part, QuickRepliesPart):
                continue
            if index == 0 and isinstance(part, TextPart):
                part = TextPart(text=f"{QUESTION_MARK}{question}\n{part.text}")
            parts.append(part)
    labels = list(dict.fromkeys(o.label for o in offers))
    options = tuple(next(o for o in offers if o.label == label) for label in labels)
    if not answered:
        reply = Reply(
            parts=(TextPart(text=prompt), QuickRepliesPart(options=options)),
            route="clarify",
            confidence=0.0,
            expects_reply=True,
        )
        return Decision(reply=reply, outcome="clarify", chosen=None, update=ContextUpdate())
    if options:
        parts.append(QuickRepliesPart(options=options))
    question, last = answered[-1]
    last = last.model_copy(update={"details": {**last.details, "reading": question}})
    reply = Reply(
        parts=tuple(parts),
        route=last.reply.route,
        confidence=min(c.confidence for _, c in answered),
        expects_reply=bool(options),
    )
    return Decision(reply=reply, outcome="answer", chosen=last, update=last.update)


_TRAILING_KO = re.compile(r"(?:은요|는요|이요|요|은|는|도요|도|이|가|엔|에는)?[\s?？!.~]*$")
_LEADING_EN = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def _asked_part(fragment: str, locale: str) -> str:
    """What a follow-up asks about, as the reply names it: "완속은?" -> "완속",
    "the engine?" -> "engine"."""
    if locale == "ko":
        return _TRAILING_KO.sub("", fragment.strip())
    return _LEADING_EN.sub("", fragment.strip(" ?!.,"))


def _answer_text(turn: TurnRecord) -> str:
    """The answer's own text in a turn's reply: its first line (a card or quick replies that
    follow it are no part of the answer), or in an answer to several questions the line after
    the last question (the answer that set the topic)."""
    lines = turn.reply.split("\n")
    marked = [i for i, line in enumerate(lines) if line.startswith(QUESTION_MARK)]
    if marked and marked[-1] + 1 < len(lines):
        return lines[marked[-1] + 1]
    return lines[0]


def _remember_rejected(decision: Decision, routes: Sequence[str]) -> Decision:
    """The decision, with the corrected answers kept out of the next turns too."""
    keep = [r for r in dict.fromkeys(routes) if r not in ("fallback", "clarify", "smalltalk")]
    if not keep:
        return decision
    named = NamedContext(name=REJECTED_CONTEXT, lifespan=REJECTED_TURNS, params={"routes": keep})
    update = decision.update.model_copy(update={"activate": (*decision.update.activate, named)})
    return dataclasses.replace(decision, update=update)


def _reading(proposal: Proposal, decision: Decision) -> str | None:
    """The text the chosen answer was found for, when it is not what the user said."""
    chosen = decision.chosen
    if chosen is not None and isinstance(chosen.details.get("reading"), str):
        return str(chosen.details["reading"])
    move = proposal.move
    if move is not None and move.text != proposal.text:
        return move.text
    return None


def _hypotheses_log(
    evaluated: Sequence[tuple[Hypothesis, Proposal]],
    chosen: Proposal,
    entries_of: Callable[[Proposal], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The candidate (or skill) log of the turn; with several hypotheses, every hypothesis'
    entries, each saying which hypothesis it belongs to and how that one scored."""
    if len(evaluated) == 1:
        return entries_of(chosen)
    entries: list[dict[str, Any]] = []
    for index, (hypothesis, proposal) in enumerate(evaluated):
        score = hypothesis.weight * proposal.decision.reply.confidence
        about = {
            "hypothesis": index,
            "hypothesis_text": hypothesis.raw,
            "asr_confidence": hypothesis.asr_confidence,
            "hypothesis_score": round(score, 4),
        }
        for entry in entries_of(proposal):
            if "chosen" in entry and proposal is not chosen:
                entry["chosen"] = False
            entries.append({**entry, **about})
    return entries


def _candidate_log(candidates: Sequence[Candidate], decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "skill": c.skill,
            "route": c.reply.route,
            "confidence": round(c.confidence, 4),
            "chosen": c is decision.chosen,
            "holds_floor": c.holds_floor,
            "suggestion": c.suggestion,
            "details": c.details,
            **({"policy": decision.notes[i]} if i in decision.notes else {}),
        }
        for i, c in enumerate(candidates)
    ]


def _skill_log(outcome: SkillOutcome) -> dict[str, Any]:
    return {
        "skill": outcome.skill,
        "status": outcome.status,
        "latency_ms": outcome.latency_ms,
        "candidates": len(outcome.candidates),
        "error": outcome.error,
    }
