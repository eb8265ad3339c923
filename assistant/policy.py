"""The dialogue policy: one readable function that picks the reply from the skills' candidates.

Order of decision (`choose`):

1. A candidate that *holds the floor* (an open form, a pending confirmation, a rule's expected
   follow-up) and passes its skill's threshold: the conversation in progress goes on.
2. The precedence tiers of `bot.yaml` (`policy.precedence`, e.g. `[[task]]`): the first tier
   with a candidate above its skill's threshold wins; inside a tier, the highest confidence.
3. The best of every other candidate above its skill's threshold (FAQ, MRC, small talk...).
   In 2 and 3, when the runner-up (another route, above its threshold) is within
   `clarify_margin` of the winner and both carry a `suggestion`, both are offered instead.
4. Clarification: candidates between `clarify_threshold` and their skill's threshold that carry
   a `suggestion` are offered as quick replies ("혹시 이런 질문이신가요?").
5. Fallback: the bot's fallback message, the closest questions as quick replies (suggestions
   at or above `fallback_suggest_threshold`, when set) and a hand-off part, so a person can
   take over; at the
   `handoff_after`-th fallback in a row, the conversation is handed to a person (route
   `handoff`).

Before 2 and 3, an answer from the documents and an FAQ answer are weighed against the question
(`_arbitrate`): when the question asks for a number, a speed, a duration, a place or a setting
(`assistant.mrc.question.asked_kinds`, which the MRC skill records in its candidate), an FAQ
answer that lacks what the manual's span and its sentence hold of it does not beat that span; nor does
one that holds less of the question's content words than the manual's sentence does, by
`COVERAGE_MARGIN` or more. The MRC candidate must pass its own threshold. When the FAQ answer
lacks a quantity (`QUANTITY_KINDS`), the span may be in the grey zone instead (at least
`clarify_threshold`) when its sentence holds half the question's words (`MIN_GREY_COVERAGE`),
and then it is the answer; when it lacks only a place or a setting (read from words, which an
FAQ answer may choose otherwise), the span's sentence must also hold more of the question's
words than the FAQ answer. The reasons go to the
turn log (`Decision.notes`, one per candidate concerned).

A `resume` candidate (an open form's next prompt) is never chosen: when another skill answered
the turn (an interruption), or nothing did, its parts follow the reply, so the form goes on.

Ties are broken by the order of the skills in `bot.yaml`, then by the order a skill gave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.config import Messages, PolicyConfig
from assistant.mrc.confidence import overlap
from assistant.mrc.question import kinds_in
from assistant.types import (
    Candidate,
    ContextUpdate,
    HandoffPart,
    NamedContext,
    QuickRepliesPart,
    QuickReply,
    Reply,
    TextPart,
)

Outcome = Literal["answer", "clarify", "fallback", "handoff"]

#: The named context a clarification leaves, holding the questions it offered.
CLARIFY_CONTEXT = "clarify"

#: How much more of the question's content words the manual's sentence must hold than an FAQ
#: answer for the manual to win over it (see `_arbitrate`).
COVERAGE_MARGIN = 0.34
#: A manual span in the grey zone (between `clarify_threshold` and its threshold) wins over an
#: FAQ answer lacking the kind asked for only when its sentence holds this share of the
#: question's content words: it is about the question, and it says what the FAQ does not.
MIN_GREY_COVERAGE = 0.5
#: Quantities: a text holds one or does not (digits and units). A place or a setting is read
#: from words, and an FAQ answer may say it in others ("in the app or the car's navigation" is a
#: place no word list knows): an FAQ answer lacking only those gives way to a manual span that
#: passes its own threshold and whose sentence holds more of the question's words.
QUANTITY_KINDS = frozenset({"number", "speed", "duration"})


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy chose: the reply, the candidate behind it (None when the policy composed
    the reply itself) and the context changes to apply."""

    reply: Reply
    outcome: Outcome
    chosen: Candidate | None
    update: ContextUpdate
    #: why the policy set candidates aside, by their position among the turn's candidates
    notes: Mapping[int, dict[str, Any]] = field(default_factory=dict)


def choose(
    candidates: Sequence[Candidate],
    *,
    policy: PolicyConfig,
    messages: Messages,
    locale: str,
    skill_order: Sequence[str] = (),
    failures: int = 0,
) -> Decision:
    """Pick one reply for the turn; see the module docstring for the order of decision.

    `failures` is how many turns in a row fell back before this one."""
    rank = {name: i for i, name in enumerate(skill_order)}
    ordered = sorted(
        enumerate(candidates),
        key=lambda ic: (-ic[1].confidence, rank.get(ic[1].skill, len(rank)), ic[0]),
    )
    best_first = [c for _, c in ordered if not c.resume]
    resume = next((c for _, c in ordered if c.resume), None)
    passing = [c for c in best_first if c.confidence >= policy.threshold(c.skill)]

    floor = [c for c in passing if c.holds_floor]
    if floor:
        return _answer(floor[0])
    notes = _arbitrate(best_first, policy)
    if notes:
        promoted = [c for c in best_first if notes.get(id(c), {}).get("why") == "answers_question"]
        passing = [
            c
            for c in best_first
            if (c in passing or c in promoted) and notes.get(id(c), {}).get("set_aside") is not True
        ]
    winner = _first_by_precedence(passing, policy.precedence)
    if winner is not None:
        runner_up = next((c for c in passing if c.reply.route != winner.reply.route), None)
        if runner_up is not None and _close(winner, runner_up, policy):
            decision = _clarify([winner, runner_up], messages.clarify.get(locale))
        else:
            decision = _answer(winner)
        return _noted(_resumed(decision, resume), candidates, notes)

    suggestions = _suggestions(best_first, policy)
    if suggestions:
        return _resumed(_clarify(suggestions, messages.clarify.get(locale)), resume)
    if policy.handoff_after and failures + 1 >= policy.handoff_after:
        return handoff(messages, locale, reason="repeated_failures")
    return _resumed(_fallback(messages, locale, _closest(best_first, policy)), resume)


def _closest(best_first: Sequence[Candidate], policy: PolicyConfig) -> list[str]:
    """The questions the fallback offers: suggestions at or above
    `policy.fallback_suggest_threshold`, best first, without repeats."""
    floor = policy.fallback_suggest_threshold
    if floor is None:
        return []
    found = [c.suggestion for c in best_first if c.suggestion and c.confidence >= floor]
    return list(dict.fromkeys(found))[: policy.max_suggestions]


def _arbitrate(best_first: Sequence[Candidate], policy: PolicyConfig) -> dict[int, dict[str, Any]]:
    """Does each passing FAQ answer answer the question as well as the manual's span does?
    Notes by `id` of the candidates concerned: an FAQ candidate noted `set_aside` cannot win,
    the manual's candidate noted `answers_question` may (see the module docstring)."""
    documents = next((c for c in best_first if _asks(c) is not None), None)
    if documents is None or documents.confidence < policy.clarify_threshold:
        return {}
    passes = documents.confidence >= policy.threshold(documents.skill)
    about = float(documents.details.get("sentence_overlap", 0.0)) >= MIN_GREY_COVERAGE
    asks = _asks(documents) or frozenset()
    # what the reply says: the span and the sentence around it ("여섯 자리" may be cut short)
    said = f"{documents.details.get('answer', '')}\n{documents.details.get('sentence', '')}"
    held = asks & kinds_in(said)
    terms = frozenset(str(t) for t in documents.details.get("terms", ()))
    covered = float(documents.details.get("sentence_overlap", 0.0))
    notes: dict[int, dict[str, Any]] = {}
    for c in best_first:
        if (
            c.skill == documents.skill
            or c.details.get("decision") != "answer"
            or c.confidence < policy.threshold(c.skill)
        ):
            continue  # only FAQ answers that would be given are weighed against the manual
        text = c.reply.plain_text()
        missing = sorted(held - kinds_in(text))
        faq_covered = overlap(terms, text) if terms else 0.0
        lacks_quantity = bool(QUANTITY_KINDS.intersection(missing)) and (passes or about)
        lacks_word_kind = bool(missing) and passes and faq_covered < covered
        if lacks_quantity or lacks_word_kind:
            reason = {"set_aside": True, "why": "lacks_answer_kind", "kinds": missing}
        elif passes and terms and covered - faq_covered >= COVERAGE_MARGIN:
            reason = {
                "set_aside": True,
                "why": "covers_less_of_question",
                "faq_coverage": round(faq_covered, 3),
                "document_coverage": round(covered, 3),
            }
        else:
            continue
        notes[id(c)] = {**reason, "against": documents.reply.route}
        notes[id(documents)] = {"why": "answers_question", "over": c.reply.route}
    return notes


def _asks(candidate: Candidate) -> frozenset[str] | None:
    """What a document answer's question asked for (None: no such candidate)."""
    asks = candidate.details.get("asks")
    return frozenset(str(a) for a in asks) if isinstance(asks, list | tuple) else None


def _noted(
    decision: Decision, candidates: Sequence[Candidate], notes: Mapping[int, dict[str, Any]]
) -> Decision:
    """The decision with the arbitration's notes, keyed by the candidates' positions."""
    if not notes:
        return decision
    by_position = {i: notes[id(c)] for i, c in enumerate(candidates) if id(c) in notes}
    return Decision(
        reply=decision.reply,
        outcome=decision.outcome,
        chosen=decision.chosen,
        update=decision.update,
        notes=by_position,
    )


def _first_by_precedence(
    passing: Sequence[Candidate], precedence: Sequence[Sequence[str]]
) -> Candidate | None:
    """The best passing candidate of the first precedence tier that has one, else the best."""
    for tier in precedence:
        in_tier = [c for c in passing if c.skill in tier]
        if in_tier:
            return in_tier[0]
    return passing[0] if passing else None


def _close(winner: Candidate, runner_up: Candidate, policy: PolicyConfig) -> bool:
    return (
        policy.clarify_margin > 0
        and winner.suggestion is not None
        and runner_up.suggestion is not None
        and winner.suggestion != runner_up.suggestion
        and abs(winner.confidence - runner_up.confidence) < policy.clarify_margin
    )


def _resumed(decision: Decision, resume: Candidate | None) -> Decision:
    """The decision with the open form's prompt after its reply (see the module docstring)."""
    if resume is None or (decision.chosen is not None and decision.chosen.skill == resume.skill):
        return decision
    reply = decision.reply.model_copy(
        update={"parts": (*decision.reply.parts, *resume.reply.parts), "expects_reply": True}
    )
    first, then = decision.update, resume.update
    update = ContextUpdate(
        topic=first.topic if first.topic is not None else then.topic,
        slots={**then.slots, **first.slots},
        activate=(*then.activate, *first.activate),
        deactivate=tuple(
            d
            for d in (*first.deactivate, *then.deactivate)
            if d not in {c.name for c in then.activate}
        ),
    )
    return Decision(
        reply=reply,
        outcome=decision.outcome,
        chosen=decision.chosen,
        update=update,
        notes=decision.notes,
    )


def handoff(messages: Messages, locale: str, *, reason: str) -> Decision:
    """Hand the conversation to a person: the channel maps the hand-off part to its operator
    action (a Kakao `operator` button, a Rasa `custom` message...)."""
    text = messages.handoff_now.get(locale)
    reply = Reply(parts=(HandoffPart(text=text, reason=reason),), route="handoff", confidence=1.0)
    return Decision(reply=reply, outcome="handoff", chosen=None, update=ContextUpdate())


def _answer(candidate: Candidate) -> Decision:
    return Decision(
        reply=candidate.reply, outcome="answer", chosen=candidate, update=candidate.update
    )


def _suggestions(best_first: Sequence[Candidate], policy: PolicyConfig) -> list[Candidate]:
    seen: set[str] = set()
    offered: list[Candidate] = []
    for candidate in best_first:
        if candidate.suggestion is None or candidate.confidence < policy.clarify_threshold:
            continue
        if candidate.suggestion in seen:
            continue
        seen.add(candidate.suggestion)
        offered.append(candidate)
        if len(offered) == policy.max_suggestions:
            break
    return offered


def _clarify(suggestions: Sequence[Candidate], prompt: str) -> Decision:
    labels = [c.suggestion for c in suggestions if c.suggestion is not None]
    reply = Reply(
        parts=(
            TextPart(text=prompt),
            QuickRepliesPart(options=tuple(QuickReply(label=label) for label in labels)),
        ),
        route="clarify",
        confidence=suggestions[0].confidence,
        expects_reply=True,
    )
    offered = NamedContext(
        name=CLARIFY_CONTEXT,
        lifespan=1,
        params={"suggestions": labels, "routes": [c.reply.route for c in suggestions]},
    )
    return Decision(
        reply=reply, outcome="clarify", chosen=None, update=ContextUpdate(activate=(offered,))
    )


def _fallback(messages: Messages, locale: str, closest: Sequence[str] = ()) -> Decision:
    offers = (
        (QuickRepliesPart(options=tuple(QuickReply(label=q) for q in closest)),) if closest else ()
    )
    reply = Reply(
        parts=(
            TextPart(text=messages.fallback.get(locale)),
            *offers,
            HandoffPart(text=messages.handoff.get(locale), reason="fallback"),
        ),
        route="fallback",
        confidence=0.0,
    )
    return Decision(reply=reply, outcome="fallback", chosen=None, update=ContextUpdate())
