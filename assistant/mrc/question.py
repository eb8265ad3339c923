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


# --- answer kinds: what a question asks for, and what a text holds ---------------------------
#
# The policy (`assistant.policy`) asks of each candidate whether it answers the question: a
# question that asks for a number, a speed, a duration, a place or a setting is not answered
# by a text that holds none.

AnswerKind = Literal["number", "speed", "duration", "place", "setting"]
ANSWER_KINDS: tuple[AnswerKind, ...] = ("number", "speed", "duration", "place", "setting")

_ASKS: tuple[tuple[AnswerKind, re.Pattern[str]], ...] = (
    (
        "speed",
        re.compile(r"속도|시속|몇\s*(km|킬로|키로)|\bhow fast\b|\bwhat speed\b|\bspeed\b", re.I),
    ),
    (
        "duration",
        re.compile(
            r"얼마\s*(나|동안|뒤|후|있다가|만에)|몇\s*(초|분|시간|일|달|개월|년)|며칠|"
            r"\bhow long\b|\bhow many (seconds|minutes|hours|days|weeks|months|years)\b|"
            r"\bhow soon\b|\bafter how\b",
            re.I,
        ),
    ),
    (
        "number",
        re.compile(
            r"몇|얼마|최대|최소|최고|퍼센트|\bhow (many|much|far|old|often|deep|low|high)\b|"
            r"\bwhat (percent|percentage|temperature|age|pressure|number|depth|distance)\b|"
            r"\bup to what\b|\bwithin what\b|\bbelow what\b|\babove what\b|\bmaximum\b|"
            r"\bminimum\b|\blowest\b|\bhighest\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(r"어디|어느\s*쪽|위치|\bwhere\b|\bwhich side\b|\blocation\b", re.I),
    ),
    (
        "setting",
        re.compile(
            r"어느\s*메뉴|무슨\s*메뉴|메뉴|설정|어디서\s*(켜|꺼|바꿔|정해|해)|"
            r"\bwhich (menu|setting|button|switch|mode|gear)\b|\bwhat (menu|setting|button|mode)\b|"
            r"\bwhere do i (set|turn|switch|change)\b|\bmenu\b|\bsetting\b",
            re.I,
        ),
    ),
)
_NUMBER = re.compile(
    r"\d|[한두세네]\s*(칸|번|단계|대|가지|자리)|여섯|다섯|\b(one|two|three|four|five|six|"
    r"seven|eight|nine|ten|twice|once)\b",
    re.I,
)
_SPEED = re.compile(r"km/h|시속\s*\d|\d\s*(km|킬로)|\bmph\b", re.I)
_DURATION = re.compile(
    r"\d\s*(초|분|시간|일|개월|달|년)|\d\s*(seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b",
    re.I,
)
_PLACE = re.compile(
    r"왼쪽|오른쪽|앞|뒤|아래|위|안쪽|옆|바닥|천장|트렁크|보닛|펜더|문|좌석|핸들|스티어링|"
    r"\b(left|right|front|rear|under|inside|behind|below|above|top|bottom|floor|roof|boot|"
    r"bonnet|door|side|wing|console|wheel|seat)\b",
    re.I,
)
_SETTING = re.compile(
    r"'[^']+'|\"[^\"]+\"|>|버튼|스위치|레버|메뉴|설정|화면|모드|\bAUTO\b|\b[PRND]에\b|"
    r"\b(button|switch|stalk|lever|menu|settings?|screen|mode|app)\b|\bin [PRND]\b|\bselect [PRND]\b",
    re.I,
)
_HOLDS: dict[AnswerKind, re.Pattern[str]] = {
    "number": _NUMBER,
    "speed": _SPEED,
    "duration": _DURATION,
    "place": _PLACE,
    "setting": _SETTING,
}


def asked_kinds(question: str) -> frozenset[AnswerKind]:
    """The answer kinds a question asks for (empty: it asks for none of them, e.g. "why").

    >>> sorted(asked_kinds("차로 유지 보조 켜고 손을 몇 초 넘게 떼면 경고가 나와?"))
    ['duration', 'number']
    >>> sorted(asked_kinds("How long can my hands be off the wheel with lane keeping on?"))
    ['duration']
    >>> sorted(asked_kinds("충전 포트는 어디에 있어?")), sorted(asked_kinds("Why?"))
    (['place'], [])
    """
    return frozenset(kind for kind, pattern in _ASKS if pattern.search(question))


def kinds_in(text: str) -> frozenset[AnswerKind]:
    """The answer kinds a text holds.

    >>> sorted(kinds_in("손을 15초 넘게 핸들에서 떼면 경고가 나옵니다."))
    ['duration', 'number', 'place']
    >>> sorted(kinds_in("Always keep your hands on the wheel."))
    ['place']
    """
    return frozenset(kind for kind, pattern in _HOLDS.items() if pattern.search(text))
