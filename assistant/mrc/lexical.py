"""The built-in reader: sentence selection plus answer-span extraction, no neural model.

1. Sentences of each passage are scored by overlap with the question: content morphemes
   (Kiwi for Korean, words for English) weighted by how rare they are in the passage, plus the
   share of the question's character bigrams the sentence holds.
2. In the best sentences every noun phrase (runs of nouns, numbers with their units, proper
   nouns, foreign words, quoted titles; and the shorter phrases inside them) is a candidate.
3. Each candidate is scored by a linear model over features that say what an answer looks
   like: its type against the question's type (`assistant.mrc.question`: a date for 언제 /
   when, a number with a unit for 몇 / how many, a proper noun for 누가 / who ...), the particle
   after it, how close it is to the words the question shares with the sentence, and whether it
   merely repeats the question. The weights (`assistant.mrc.lexical_weights`) were fitted by
   `bench/mrc_train_lexical.py`; the score is the model's probability that the span is right.

    >>> reader = LexicalReader()
    >>> passage = Passage(id="m#0", document="m",
    ...                   text="한빛모터스는 1998년 대전에서 설립되었다. 본사는 서울에 있다.")
    >>> reader.read("한빛모터스가 설립된 해는?", [passage])[0].text
    '1998년'
    >>> reader.read("한빛모터스는 어디에서 설립되었나요?", [passage])[0].text
    '대전'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from assistant.mrc.analysis import CONTENT_TAGS, Token, analyse, word_set
from assistant.mrc.lexical_weights import WEIGHTS
from assistant.mrc.question import QuestionType, classify
from assistant.mrc.reader import Answer, Passage
from assistant.mrc.sentences import split_sentences
from faq_index.tokenize import has_hangul

__all__ = ["LexicalReader", "candidate_features"]

_JOINABLE = frozenset(["NNG", "NNP", "NR", "XR"])
_NOUNISH = frozenset(["NNG", "NNP", "NNB", "NR", "SN", "SL", "SH", "XSN", "XPN"])
_QUESTION_WORDS = word_set(
    """무엇 누구 누가 언제 어디 몇 얼마 어떻 어떤 어느 무슨 뭐 왜 것 하 되 있 이 그 않 없 수
    what who whom whose when where why how which"""
)
_DATE_UNITS = frozenset(["년", "월", "일", "세기", "년대", "시", "분", "초", "요일", "년도"])
_MONTHS = word_set(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday"""
)
_QUOTED = re.compile(r"[「『《〈\"“‘']([^「『《〈」』》〉\"“”‘’']{1,40})[」』》〉\"”’']")
_PARTICLES = {
    "JKS": "subj",
    "JX": "topic",
    "JKO": "obj",
    "JKB": "adv",
    "JKG": "gen",
    "VCP": "cop",
    "JC": "conj",
    "XSV": "verb",
    "XSA": "verb",
    "SP": "punct",
    "SF": "punct",
    "SSC": "punct",
    "SSO": "punct",
    "FN": "fn",
    "ETM": "etm",
    "MM": "mm",
}


@dataclass(frozen=True, slots=True)
class _Question:
    text: str
    kind: QuestionType
    content: frozenset[str]
    bigrams: frozenset[str]
    head: str
    unit: str
    english: bool
    tail: str  # the noun the question ends on, "" when it ends on a verb

    def holds(self, form: str) -> bool:
        """Whether a morpheme of the text is one of the question's words, or part of one (Kiwi
        splits 한빛모터스는 into 한빛 + 모터스 but keeps 한빛모터스가 whole)."""
        if form in self.content:
            return True
        return len(form) >= 2 and any(form in word for word in self.content)

    def found_in(self, compact: str, forms: frozenset[str]) -> list[str]:
        """The question's words present in a sentence (as a morpheme, or inside its text)."""
        return [m for m in self.content if m in forms or (len(m) >= 2 and m in compact)]


@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # token index
    end: int  # token index, exclusive
    quoted: bool = False


def _bigrams(text: str) -> frozenset[str]:
    compact = "".join(text.lower().split())
    return frozenset(compact[i : i + 2] for i in range(len(compact) - 1))


def _question(text: str) -> _Question:
    tokens = analyse(text)
    unit = ""
    for i, t in enumerate(tokens[:-1]):
        # 몇 명 / 몇 개 / how many people: the unit the answer's number comes with
        if t.form == "몇" or (t.form == "many" and i > 0 and tokens[i - 1].form == "how"):
            unit = tokens[i + 1].form.removesuffix("s") if t.form == "many" else tokens[i + 1].form
            break
    words = [
        t
        for t in tokens
        if t.tag in CONTENT_TAGS and t.form not in _QUESTION_WORDS and t.form != unit
    ]
    # Kiwi may split a noun in the question (열선은 -> 열 + 선) that it keeps whole in the
    # text (열선을): nouns written together count as one word too.
    joined = [
        a.form + b.form
        for a, b in pairwise(words)
        if a.end == b.start and a.tag in _JOINABLE and b.tag in _JOINABLE
    ]
    content = frozenset([*(t.form for t in words), *joined])
    nouns = [
        t.form
        for t in tokens
        if t.tag in ("NNG", "NNP", "SL") and t.form not in _QUESTION_WORDS and len(t.form) > 1
    ]
    return _Question(
        text,
        classify(text),
        content,
        _bigrams(text),
        nouns[-1] if nouns else "",
        unit,
        not has_hangul(text),
        _head(tokens),
    )


def _head(tokens: Sequence[Token]) -> str:
    """The noun the question ends on (…설립한 인물은? -> 인물; What year …? -> year); "" when
    it ends on a verb (…얼마나 걸려?)."""
    if tokens and tokens[0].tag == "FN" and tokens[0].form in ("what", "which"):
        follow = tokens[1] if len(tokens) > 1 else None
        return follow.form if follow is not None and follow.tag in ("NNG", "NNP") else ""
    for t in reversed(tokens):
        if t.tag in ("NNG", "NNP", "SL") and t.form not in _QUESTION_WORDS:
            return t.form if len(t.form) > 1 else ""
        if t.tag in ("VV", "VA", "NNG", "NNP", "SN", "XSV", "XSA"):
            return ""
        # particles, endings, copula, punctuation, 무엇/누구: keep looking left
    return ""


def _candidate_type(tokens: Sequence[Token], quoted: bool) -> str:
    kind = _base_type(tokens, quoted)
    if kind in ("date", "number") and any(
        t.tag in ("NNG", "NNP") and len(t.form) > 1 and (i == 0 or tokens[i - 1].tag != "SN")
        for i, t in enumerate(tokens)
    ):
        return f"{kind}+"  # a number with more than its unit: 77kWh 배터리, 1998년 대전
    return kind


def _base_type(tokens: Sequence[Token], quoted: bool) -> str:
    forms = {t.form for t in tokens}
    tags = {t.tag for t in tokens}
    dated = any(
        a.tag == "SN" and b.form in _DATE_UNITS and b.start == a.end for a, b in pairwise(tokens)
    )
    if dated or forms & _MONTHS:
        return "date"
    if "SN" in tags or "NR" in tags:
        return "number"
    if quoted:
        return "quoted"
    if "NNP" in tags:
        return "proper"
    if "SL" in tags or "SH" in tags:
        return "foreign"
    return "common"


def _chunks(tokens: Sequence[Token], text: str, lo: int, hi: int) -> Iterator[_Span]:
    """Maximal noun-ish runs of tokens[lo:hi], joined across spaces; then their sub-phrases."""
    i = lo
    while i < hi:
        if tokens[i].tag not in _NOUNISH and not (tokens[i].form == "제" and tokens[i].tag == "MM"):
            i += 1
            continue
        j = i + 1
        while (
            j < hi
            and (tokens[j].tag in _NOUNISH or _joins_number(tokens, j, hi))
            and (
                tokens[j].start == tokens[j - 1].end
                or text[tokens[j - 1].end : tokens[j].start].isspace()
            )
            and not _date_ends(tokens, j)
        ):
            j += 1
        # word boundaries inside the run (a gap of white space between tokens)
        starts = [i] + [m for m in range(i + 1, j) if tokens[m].start > tokens[m - 1].end]
        ends = [*starts[1:], j]
        for a in range(len(starts)):
            for b in range(a, min(len(starts), a + 4)):
                span = _Span(starts[a], ends[b])
                if tokens[span.start].tag in ("NNB", "XSN"):
                    continue
                yield span
        i = j


def _joins_number(tokens: Sequence[Token], j: int, hi: int) -> bool:
    """A symbol written against a number belongs to it: 34.7%, 080-700-0000, 15~20."""
    if tokens[j].tag not in ("SW", "SO", "SP") or tokens[j].form not in "%-~.,:/":
        return False
    touches_before = tokens[j - 1].end == tokens[j].start and tokens[j - 1].tag == "SN"
    if tokens[j].form == "%":
        return touches_before
    return (
        touches_before
        and j + 1 < hi
        and tokens[j + 1].start == tokens[j].end
        and tokens[j + 1].tag == "SN"
    )


def _date_ends(tokens: Sequence[Token], j: int) -> bool:
    """Whether a date ends before tokens[j] (1998년 | 대전에서): a phrase stops there."""
    return (
        j >= 2
        and tokens[j - 1].form in _DATE_UNITS
        and tokens[j - 2].tag == "SN"
        and tokens[j].tag != "SN"
        and tokens[j].start > tokens[j - 1].end
    )


def _quoted(tokens: Sequence[Token], text: str, lo: int, hi: int) -> Iterator[_Span]:
    if lo >= hi:
        return
    begin, finish = tokens[lo].start, tokens[hi - 1].end
    for match in _QUOTED.finditer(text, begin, finish):
        inner_start, inner_end = match.start(1), match.end(1)
        first = next((k for k in range(lo, hi) if tokens[k].start >= inner_start), None)
        last = next((k for k in range(hi - 1, lo - 1, -1) if tokens[k].end <= inner_end), None)
        if first is not None and last is not None and first <= last:
            yield _Span(first, last + 1, quoted=True)


_EN_ROLES = {"by": "subj", "of": "gen", "and": "conj", "or": "conj"}
_EN_PLACES = word_set("in at on from into to during since until for with near under inside")
_EN_DETERMINERS = word_set("the a an my your its their his her our this that these those")
_EN_VERBS = word_set("is was are were has had have does did will can")


def _english_role(tokens: Sequence[Token], span: _Span, lo: int, hi: int) -> str:
    """The role a Korean particle would mark after the phrase, read from English word order:
    `by Kim` is the agent (이/가), `in Daejeon` an adverbial (에/에서), `of X` a genitive,
    `X was ...` the subject, `... opened X` the object."""
    back = span.start - 1
    while back > lo and tokens[back].form in _EN_DETERMINERS:
        back -= 1
    before = tokens[back].form if back >= lo else ""
    if before in _EN_ROLES:
        return _EN_ROLES[before]
    if before in _EN_PLACES:
        return "adv"
    following = tokens[span.end].form if span.end < hi else ""
    if following in _EN_VERBS or (span.end < hi and tokens[span.end].tag == "VV"):
        return "subj"
    if span.start > lo and tokens[span.start - 1].tag in ("VV", "NNG"):
        return "obj"
    return "punct" if following in (".", ",", ";") else "other"


def _particle(tokens: Sequence[Token], index: int) -> str:
    if index < 0 or index >= len(tokens):
        return "none"
    return _PARTICLES.get(tokens[index].tag, "other")


def candidate_features(
    question: _Question,
    tokens: Sequence[Token],
    span: _Span,
    *,
    lo: int,
    hi: int,
    matched: Sequence[int],
    sentence_score: float,
    sentence_rank: int,
    best_score: float,
) -> dict[str, float]:
    """The features of one candidate span (token indices) in the sentence tokens[lo:hi]."""
    inside = tokens[span.start : span.end]
    content = [t for t in inside if t.tag in CONTENT_TAGS]
    in_question = sum(1 for t in content if question.holds(t.form))
    overlap = in_question / len(content) if content else 0.0
    span_text = "".join(t.form for t in inside)
    grams = _bigrams(span_text)
    gram_overlap = len(grams & question.bigrams) / len(grams) if grams else 0.0
    n_words = 1 + sum(
        1 for m in range(span.start + 1, span.end) if tokens[m].start > tokens[m - 1].end
    )
    kind = _candidate_type(inside, span.quoted)
    after = _particle(tokens, span.end) if span.end < hi else "none"
    if question.english:
        after = _english_role(tokens, span, lo, hi)
    before = _particle(tokens, span.start - 1) if span.start > lo else "none"
    outside = [m for m in matched if m < span.start or m >= span.end]
    if outside:
        distance = min(
            abs(m - span.start) if m < span.start else abs(m - (span.end - 1)) for m in outside
        )
        near = sum(1 for m in outside if span.start - 6 <= m < span.end + 6)
        left = any(span.start - 4 <= m < span.start for m in outside)
        right = any(span.end <= m < span.end + 4 for m in outside)
    else:
        distance, near, left, right = 40, 0, False, False
    unit = bool(question.unit) and any(
        tokens[m].tag == "SN" and tokens[m + 1].form.removesuffix("s") == question.unit
        for m in range(span.start, min(span.end, len(tokens) - 1))
    )
    following = [t.form for t in tokens[span.end : min(hi, span.end + 3)] if t.tag in _NOUNISH]
    q = question.kind
    features = {
        "bias": 1.0,
        "sent.score": sentence_score,
        "sent.margin": sentence_score - best_score,
        f"sent.rank{min(sentence_rank, 2)}": 1.0,
        "overlap": overlap,
        "overlap.all": 1.0 if content and in_question == len(content) else 0.0,
        "overlap.gram": gram_overlap,
        f"words{min(n_words, 4)}": 1.0,
        "chars.log": math.log1p(len(span_text)),
        f"type.{q}.{kind}": 1.0,
        f"ctype.{kind}": 1.0,
        f"after.{after}": 1.0,
        f"before.{before}": 1.0,
        f"qafter.{q}.{after}": 1.0,
        "distance.log": math.log1p(distance),
        "near": min(near, 4) / 4,
        "left": float(left),
        "right": float(right),
        "head.last": float(bool(question.head) and inside[-1].form == question.head),
        # the last noun of a question ending on a verb (…설립되었나?) is its predicate, not the
        # head noun the answer stands for (…설립한 인물은?): separate weights
        ("head.after" if question.tail else "head.after.verbal"): float(
            bool(question.head) and question.head in following
        ),
        "tail.last": float(bool(question.tail) and inside[-1].form == question.tail),
        "tail.after": float(bool(question.tail) and question.tail in following),
        "tail.none": float(not question.tail),
        "first": float(span.start == lo),
        "quoted": float(span.quoted),
        "unit": float(unit),
    }
    return features


def _repeats_question(question: _Question, tokens: Sequence[Token]) -> bool:
    """A span made only of the question's own words is never its answer."""
    content = [t for t in tokens if t.tag in CONTENT_TAGS]
    return bool(content) and all(question.holds(t.form) for t in content)


def _score(features: dict[str, float]) -> float:
    return sum(WEIGHTS.get(name, 0.0) * value for name, value in features.items())


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate with its features, for training and inspection."""

    passage: Passage
    start: int  # character offsets in the passage
    end: int
    sentence_start: int
    sentence_end: int
    features: dict[str, float]


class LexicalReader:
    """Reads answer spans with the features above; see the module docstring.

    `sentences` is how many of the best sentences of each passage are searched for
    candidates; `min_score` is the probability below which the reader says "no answer".
    """

    name = "lexical"

    def __init__(
        self, *, sentences: int = 3, min_score: float = 0.02, min_overlap: float = 0.25
    ) -> None:
        if sentences < 1:
            raise ValueError("sentences must be at least 1")
        self.sentences = sentences
        self.min_score = min_score
        self.min_overlap = min_overlap

    def warm_up(self) -> None:
        """Load Kiwi now rather than on the first question."""
        analyse("한빛")

    def read(self, question: str, passages: Sequence[Passage], *, k: int = 1) -> list[Answer]:
        answers: list[Answer] = []
        seen: set[tuple[str, int, int]] = set()
        for candidate in sorted(
            self.candidates(question, passages), key=lambda c: -_score(c.features)
        ):
            key = (candidate.passage.id, candidate.start, candidate.end)
            if key in seen:
                continue
            seen.add(key)
            score = 1.0 / (1.0 + math.exp(-_score(candidate.features)))
            if score < self.min_score:
                break
            answers.append(
                Answer(
                    text=candidate.passage.text[candidate.start : candidate.end],
                    start=candidate.start,
                    end=candidate.end,
                    score=score,
                    passage=candidate.passage,
                    sentence_start=candidate.sentence_start,
                    sentence_end=candidate.sentence_end,
                )
            )
            if len(answers) >= k:
                break
        return answers

    def best_sentences(
        self, question: str, passage: Passage
    ) -> list[tuple[float, int, int, int, int, float]]:
        """(score, start, end, first token, end token, share of the question's words) of the
        passage's sentences, best first."""
        return _rank_sentences(_question(question), passage.text, passage.heading)

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[Scored]:
        """Every candidate span of the best `sentences` sentences over all passages (ranked
        together, so a passage that only brushes the question does not compete as an equal)."""
        parsed = _question(question)
        sentences = [
            (score, overlap, passage, s_start, s_end, lo, hi)
            for passage in passages
            for score, s_start, s_end, lo, hi, overlap in _rank_sentences(
                parsed, passage.text, passage.heading
            )
            if overlap >= self.min_overlap  # the sentence speaks of what is asked
        ]
        sentences.sort(key=lambda s: -s[0])
        out: list[Scored] = []
        best = sentences[0][0] if sentences else 0.0
        for rank, (score, _, passage, s_start, s_end, lo, hi) in enumerate(
            sentences[: self.sentences]
        ):
            tokens = analyse(passage.text)
            matched = [m for m in range(lo, hi) if parsed.holds(tokens[m].form)]
            spans = {*_chunks(tokens, passage.text, lo, hi), *_quoted(tokens, passage.text, lo, hi)}
            for span in spans:
                if _repeats_question(parsed, tokens[span.start : span.end]):
                    continue
                features = candidate_features(
                    parsed,
                    tokens,
                    span,
                    lo=lo,
                    hi=hi,
                    matched=matched,
                    sentence_score=score,
                    sentence_rank=rank,
                    best_score=best,
                )
                out.append(
                    Scored(
                        passage,
                        tokens[span.start].start,
                        tokens[span.end - 1].end,
                        s_start,
                        s_end,
                        features,
                    )
                )
        return out


def _rank_sentences(
    question: _Question, text: str, heading: str = ""
) -> list[tuple[float, int, int, int, int, float]]:
    """Sentences best first; the words of the section heading count as said in every
    sentence of the passage ("Tyre pressure" > "... it is 36 psi")."""
    tokens = analyse(text)
    spans = split_sentences(text)
    if not spans or (not question.content and not question.bigrams):
        return []
    bounds: list[tuple[int, int]] = []
    t = 0
    for _, end in spans:
        first = t
        while t < len(tokens) and tokens[t].start < end:
            t += 1
        bounds.append((first, t))
    found = [
        frozenset(
            question.found_in(
                "".join(text[start:end].lower().split()),
                frozenset(tok.form for tok in tokens[lo:hi]),
            )
        )
        for (start, end), (lo, hi) in zip(spans, bounds, strict=True)
    ]
    if heading:
        said = frozenset(
            question.found_in(
                "".join(heading.lower().split()), frozenset(t.form for t in analyse(heading))
            )
        )
        found = [f | said for f in found]
    n = len(spans)
    weights = {
        m: math.log(1.0 + n / (1 + sum(1 for f in found if m in f))) for m in question.content
    }
    total = sum(weights.values()) or 1.0
    ranked = []
    for (start, end), (lo, hi), present in zip(spans, bounds, found, strict=True):
        lexical = sum(weights[m] for m in present) / total
        grams = len(question.bigrams & _bigrams(text[start:end])) / max(1, len(question.bigrams))
        ranked.append((lexical + grams, start, end, lo, hi, lexical))
    ranked.sort(key=lambda r: -r[0])
    return ranked
