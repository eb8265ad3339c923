"""What kind of answer a question asks for, from its wording.

Korean: 누가/누구 -> person, 언제 -> date, 어디 -> place, 몇 -> number, 얼마 -> amount, 왜 ->
reason, 어떻게 -> manner, otherwise the question's head noun decides (…한 인물은? -> person,
…한 연도는? -> date, …한 곳은? -> place); English: who, when, where, how many, how much, why,
how, and the noun after what/which.

    >>> classify("임종석이 검거된 장소는 어디인가?")
    'place'
    >>> classify("1989년 평양축전에 파견된 인물은?")
    'person'
    >>> classify("How many seats does the car have?")
    'number'
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["QUESTION_TYPES", "QuestionType", "classify"]

QuestionType = Literal["person", "date", "place", "number", "amount", "reason", "manner", "thing"]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "person",
    "date",
    "place",
    "number",
    "amount",
    "reason",
    "manner",
    "thing",
)

_KO_WORDS: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    ("date", re.compile(r"얼마\s*동안|얼마나\s*(걸|오래)")),
    ("amount", re.compile(r"얼마|금액|가격|비용|요금")),
    ("date", re.compile(r"언제|며칠|몇\s*(년|월|일|세기|시|분|년대|주|요일)|무슨\s*요일")),
    ("number", re.compile(r"몇")),
    ("person", re.compile(r"누구|누가|누군")),
    ("place", re.compile(r"어디|어느\s*(곳|나라|지역|도시)")),
    ("reason", re.compile(r"왜|이유|원인|까닭")),
    ("manner", re.compile(r"어떻게|방법")),
)
_KO_HEADS: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    ("date", re.compile(r"(날|날짜|연도|년도|해|시기|때|시점|기간|년대|세기|일자|시간)$")),
    ("place", re.compile(r"(곳|장소|지역|나라|국가|도시|위치|지명|기관|학교|대학)$")),
    (
        "person",
        re.compile(
            r"(인물|사람|이름|선수|작가|감독|왕|황제|대통령|교수|학자|배우|가수|의원|장군)$"
        ),
    ),
    ("number", re.compile(r"(수|개수|인원|횟수|비율|크기|높이|길이|거리|속도|온도|용량)$")),
)
_KO_TAIL = re.compile(
    r"([가-힣A-Za-z0-9]+?)(은|는|이|가)?\s*(무엇|뭐|무엇인가|무엇일까)?\s*[?？.]*\s*$"
)
_EN_WORDS: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    ("amount", re.compile(r"\bhow much\b.*\b(cost|price|pay|charge|fee|money)|\bwhat (price|fee)")),
    ("number", re.compile(r"\bhow (many|much|long|far|old|big|high|fast|often)\b|\bwhat percent")),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time|century|decade)\b")),
    ("person", re.compile(r"\bwho(m|se)?\b")),
    ("place", re.compile(r"\bwhere\b|\bwhat (country|city|place|region|state)\b")),
    ("reason", re.compile(r"\bwhy\b")),
    ("manner", re.compile(r"\bhow\b")),
)


def classify(question: str) -> QuestionType:
    """The answer type `question` asks for; `thing` when nothing more specific is said."""
    text = question.strip()
    if re.search("[가-힣]", text):
        for kind, pattern in _KO_WORDS:
            if pattern.search(text):
                return kind
        return _korean_head(text)
    lower = text.lower()
    for kind, pattern in _EN_WORDS:
        if pattern.search(lower):
            return kind
    return "thing"


def _korean_head(text: str) -> QuestionType:
    match = _KO_TAIL.search(text)
    if match is None:
        return "thing"
    head = match.group(1)
    for kind, pattern in _KO_HEADS:
        if pattern.search(head):
            return kind
    return "thing"
