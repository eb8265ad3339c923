"""The dialogue policy: one readable function that picks the reply from the skills' candidates.

Order of decision (`choose`):

1. A candidate that *holds the floor* (an open form, a pending confirmation, a rule's expected
   follow-up) and passes its skill's threshold: the conversation in progress goes on.
2. The precedence tiers of `bot.yaml` (`policy.precedence`, e.g. `[[task]]`): the first tier
   with a candidate above its skill's threshold wins; inside a tier, the highest confidence.
3. The best of every other candidate above its skill's threshold (FAQ, MRC, small talk...).
4. Clarification: candidates between `clarify_threshold` and their skill's threshold that carry
   a `suggestion` are offered as quick replies ("혹시 이런 질문이신가요?").
5. Fallback: the bot's fallback message and a hand-off part, so a person can take over.

Ties are broken by the order of the skills in `bot.yaml`, then by the order a skill gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.config import Messages, PolicyConfig
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

Outcome = Literal["answer", "clarify", "fallback"]

#: The named context a clarification leaves, holding the questions it offered.
CLARIFY_CONTEXT = "clarify"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy chose: the reply, the candidate behind it (None when the policy composed
    the reply itself) and the context changes to apply."""

    reply: Reply
    outcome: Outcome
    chosen: Candidate | None
    update: ContextUpdate


def choose(
    candidates: Sequence[Candidate],
    *,
    policy: PolicyConfig,
    messages: Messages,
    locale: str,
    skill_order: Sequence[str] = (),
) -> Decision:
    """Pick one reply for the turn; see the module docstring for the order of decision."""
    rank = {name: i for i, name in enumerate(skill_order)}
    ordered = sorted(
        enumerate(candidates),
        key=lambda ic: (-ic[1].confidence, rank.get(ic[1].skill, len(rank)), ic[0]),
    )
    best_first = [c for _, c in ordered]
    passing = [c for c in best_first if c.confidence >= policy.threshold(c.skill)]

    floor = [c for c in passing if c.holds_floor]
    if floor:
        return _answer(floor[0])
    for tier in policy.precedence:
        in_tier = [c for c in passing if c.skill in tier]
        if in_tier:
            return _answer(in_tier[0])
    if passing:
        return _answer(passing[0])

    suggestions = _suggestions(best_first, policy)
    if suggestions:
        return _clarify(suggestions, messages.clarify.get(locale))
    return _fallback(messages, locale)


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


def _fallback(messages: Messages, locale: str) -> Decision:
    reply = Reply(
        parts=(
            TextPart(text=messages.fallback.get(locale)),
            HandoffPart(text=messages.handoff.get(locale), reason="fallback"),
        ),
        route="fallback",
        confidence=0.0,
    )
    return Decision(reply=reply, outcome="fallback", chosen=None, update=ContextUpdate())
