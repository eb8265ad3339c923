"""Conversation moves: how a turn relates to the ones before it, read before any skill runs.

- **Follow-up** (ellipsis or anaphora: "그럼 주말에는?", "그거 얼마야?", "and on weekends?"): when
  the last answer came from retrieval (FAQ or MRC), the turn is also read *rewritten* with the
  question that answer was found for ("주말에는 서비스센터 영업시간이 어떻게 되나요?"). The
  retrieval skills answer both readings and the more confident answer wins; the rewritten
  reading may not give the same answer again (a follow-up asks for something new).
- **Correction** ("아니 그거 말고 주말 영업시간", "no, I meant the warranty"): the previous answer
  was wrong. It is left out of this turn's candidates, and what follows the correction is the
  question (with nothing after it, the previous question is asked again: the runner-up answers).
- **Repeat** ("다시 말해줘", "repeat that"): the previous reply, again.
- **Hand-off** ("상담원 연결", "talk to an agent"): a hand-off part, which channels map to
  their operator action.

    >>> from assistant.context import DialogueContext, TurnRecord
    >>> context = DialogueContext()
    >>> context.record(TurnRecord(user="서비스센터 영업시간이 어떻게 되나요?", reply="평일 ...",
    ...                           route="faq:hours", confidence=0.9, at=0.0))
    >>> context.topic = "faq:hours"
    >>> move = read_move("그럼 주말에는?", "ko", context)
    >>> move.kind, move.rewritten, move.exclude_in_rewritten
    ('follow_up', '주말에는 서비스센터 영업시간이 어떻게 되나요?', ('faq:hours',))
    >>> read_move("다시 말해줘", "ko", context).kind
    'repeat'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.context import DialogueContext, TurnRecord

__all__ = ["RETRIEVAL_PREFIXES", "Move", "read_move"]

MoveKind = Literal["plain", "follow_up", "correction", "repeat", "handoff"]

#: Routes of answers found by retrieval, which a follow-up can be read against.
RETRIEVAL_PREFIXES = ("faq:", "mrc:")
#: A message of at most this many words right after a retrieved answer is checked for a detail
#: of that answer even without a follow-up marker.
DETAIL_WORDS = 5
#: Routes whose skill reads corrections itself (a form: "아니 그거 말고 4시로").
_OWN_CORRECTIONS = ("task:", "handoff")

_REPEAT = re.compile(
    r"^(?:(?:다시|한\s?번\s?더|한번\s?더)\s?(?:말해|얘기해|말씀해|알려|읽어)\s?(?:줘|줄래|주세요|줄래요|주실래요|봐)?"
    r"|다시\s?한\s?번(?:만)?\s?(?:말해\s?(?:줘|주세요))?|뭐라고(?:요|했어|하셨어요)?|못\s?들었어(?:요)?|다시요)"
    r"[\s.?!~]*$"
    r"|^(?:(?:can you |could you |please )?(?:repeat(?: that| it)?|say (?:that|it) again)(?: please)?"
    r"|come again|pardon(?: me)?|what did you (?:just )?say|i didn'?t (?:catch|hear) (?:that|you))[\s.?!]*$",
    re.IGNORECASE,
)
_HANDOFF = re.compile(
    r"(?:상담원|상담사|상담 직원|직원|사람)\s?(?:이랑|과|하고|한테|에게|이랑\s?)?\s?(?:연결|통화|얘기|대화|바꿔|불러)"
    r"|^(?:상담원|상담사)(?:\s?(?:요|좀|부탁해요|부탁합니다))?[\s.?!]*$"
    r"|\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|a\s+real\s+)?(?:human|agent|person|representative|operator|someone)\b"
    r"|^(?:(?:a|an|live|human|real)\s+)?(?:agent|operator|representative|human)(?:\s+please)?[\s.?!]*$"
    r"|\b(?:connect|transfer)\s+me\s+to\s+(?:a\s+|an\s+)?(?:human|agent|person|representative|operator)\b",
    re.IGNORECASE,
)
#: A question about the hand-off ("상담원 연결 시간이 언제예요?") is for the FAQ, not a request.
_ABOUT_HANDOFF = re.compile(r"시간|언제|몇\s?시|방법|어떻게|hours|when|how do", re.IGNORECASE)
_CORRECTION_KO = re.compile(
    r"^(?:아니(?:요|야|고)?|아뇨|노노|ㄴㄴ)?[\s,.]*(?:그거|그게|이거|그건|그 답|그 말|그런 거)?\s?(?:말고|말구|아니라|아니고|아니야)[\s,.]*(?P<rest>.*)$"
    r"|^(?:아니(?:요|야)?|아뇨)?[\s,.]*(?:제|내)\s?말은[\s,.]*(?P<rest2>.+)$"
)
_CORRECTION_KO_SHORT = re.compile(r"^(?:아니|아니요|아뇨)[\s,.]+(?P<rest>.+)$")
_CORRECTION_EN = re.compile(
    r"^(?:no|nope|wrong|actually|no actually|sorry)?[\s,.]*(?:not that(?: one)?|that'?s not (?:it|what i (?:asked|meant|wanted))|i meant|i mean|what i meant (?:is|was)|i was asking about|i asked about|wrong answer)[\s,.:]*(?P<rest>.*)$"
    r"|^(?:no|nope)[\s,.]+(?P<rest2>.+)$",
    re.IGNORECASE,
)
_FOLLOW_UP_KO = re.compile(
    r"^(?:그럼|그러면|그럼요|그리고|근데|그건|그거는|그거|이건|저건|거기는|거기|그곳은|그때는|그 외에는|또)\s?(?P<rest>.*)$"
)
_FOLLOW_UP_EN = re.compile(
    r"^(?:and|and what about|what about|how about|and how about|also|then|so|what if)\b[\s,]*(?P<rest>.*)$",
    re.IGNORECASE,
)
_ANAPHORA_KO = re.compile(
    r"(?:^|\s)(?:그거|그건|그게|이거|이건|저거|그것|그걸|그곳|거기)(?:는|은|이|가|을|를|도)?(?=\s|$)"
)
_ANAPHORA_EN = re.compile(r"\b(?:it|that|this|them|there|those|these|one)\b", re.IGNORECASE)
_SHORT_KO_QUESTION = re.compile(r"^\S+(?:\s\S+)?(?:은|는|도|요|이요|엔|에는)\??$")


@dataclass(frozen=True, slots=True)
class Move:
    """How to read this turn.

    `text` is the plain reading the skills get; `rewritten` the follow-up reading for the
    retrieval skills (None when there is none); candidates whose route is in `exclude` are left
    out of the turn (a corrected answer), those in `exclude_in_rewritten` out of the rewritten
    reading only. `previous` is the turn the move refers to.
    """

    kind: MoveKind
    text: str
    rewritten: str | None = None
    exclude: tuple[str, ...] = ()
    exclude_in_rewritten: tuple[str, ...] = ()
    previous: TurnRecord | None = None
    #: a follow-up's own words, without its marker and pronouns ("엔진은요?" -> "엔진은요")
    fragment: str | None = None


def _topic_turn(context: DialogueContext) -> TurnRecord | None:
    """The latest turn answered by retrieval, if it set the topic still active."""
    topic = context.topic
    if not topic or not topic.startswith(RETRIEVAL_PREFIXES):
        return None
    for turn in reversed(context.history):
        if turn.route == topic:
            return turn
    return None


def _combine(fragment: str, question: str) -> str:
    fragment = fragment.strip(" ,.?!")
    return f"{fragment} {question}".strip() if fragment else question


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def read_move(
    text: str, locale: str, context: DialogueContext, *, offered: Sequence[str] = ()
) -> Move:
    """The move this turn makes (see the module docstring); `plain` when it makes none.

    `offered`: the routes of the questions the last reply offered (a clarification), left out
    when the user corrects it."""
    stripped = text.strip()
    last = context.last_turn
    if last is not None and _REPEAT.match(stripped):
        return Move("repeat", text, previous=last)
    if _HANDOFF.search(stripped) and not _ABOUT_HANDOFF.search(stripped):
        return Move("handoff", text, previous=last)
    topic_turn = _topic_turn(context)
    if last is not None and last.route.startswith(RETRIEVAL_PREFIXES):
        correction = _CORRECTION_KO.match(stripped) or _CORRECTION_EN.match(stripped)
        if correction is None and topic_turn is last:
            correction = _CORRECTION_KO_SHORT.match(stripped)
        if correction is not None:
            groups = correction.groupdict()
            rest = (groups.get("rest") or groups.get("rest2") or "").strip()
            question = last.reading or last.user
            if not rest:
                return Move("correction", question, exclude=(last.route,), previous=last)
            return Move(
                "correction",
                rest,
                rewritten=_combine(rest, question),
                exclude=(last.route,),
                previous=last,
            )
    elif last is not None and not last.route.startswith(_OWN_CORRECTIONS):
        # After small talk, an offer or a fallback, "아니 그거 말고 보증 기간" asks what follows
        # the correction; the answer (or the offers) before it is not wanted again. A form
        # (task) reads its own corrections ("아니 4시로 바꿔 줘").
        correction = _CORRECTION_KO.match(stripped) or _CORRECTION_EN.match(stripped)
        if correction is not None:
            groups = correction.groupdict()
            rest = (groups.get("rest") or groups.get("rest2") or "").strip(" ,.")
            if rest and _letters(rest) >= 2:
                rejected = tuple(offered) if last.route == "clarify" else (last.route,)
                return Move("correction", rest, exclude=rejected, previous=last)
    if topic_turn is None:
        return Move("plain", text)
    question = topic_turn.reading or topic_turn.user
    # A short question right after a retrieved answer may ask about a part of it ("몇 시간
    # 전까지 가능?"): the dialogue manager checks the answer for its words (assistant.details).
    detail = (
        Move("plain", text, previous=topic_turn, fragment=stripped)
        if topic_turn is last and len(stripped.split()) <= DETAIL_WORDS
        else Move("plain", text)
    )
    if locale == "ko":
        marked = _FOLLOW_UP_KO.match(stripped)
        anaphora = _ANAPHORA_KO.search(stripped)
        short = _SHORT_KO_QUESTION.match(stripped)
        if not (marked or anaphora or short):
            return detail
        fragment = marked.group("rest") if marked else stripped
        fragment = _ANAPHORA_KO.sub(" ", fragment)
    else:
        marked = _FOLLOW_UP_EN.match(stripped)
        anaphora = _ANAPHORA_EN.search(stripped) if len(stripped.split()) <= 6 else None
        if not (marked or anaphora):
            return detail
        fragment = marked.group("rest") if marked else stripped
        fragment = _ANAPHORA_EN.sub(" ", fragment)
    fragment = " ".join(fragment.split())
    return Move(
        "follow_up",
        text,
        rewritten=_combine(fragment, question),
        exclude_in_rewritten=(topic_turn.route,),
        previous=topic_turn,
        fragment=fragment.strip(" ,.?!") or None,
    )
