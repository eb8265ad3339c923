"""How sure an answer read out of *retrieved* passages is: the open-mode confidence.

The e5 reader's own calibration (`e5_reader.Calibration`) says how likely a span is right
given that the passage it reads is about the question. In a live bot it is not: the passages
come from retrieval, and most questions a manual's reader sees are answered by none of them
("트렁크 용량은 몇 리터야?" read out of the washer-fluid section gives "4리터" with a span
score as high as a right answer's). So the MRC skill scores each span it might answer with
on what the reader says *and* on how much of the question the evidence is about:

- `log_score`, `gap`: the span's log p(start)·p(end) and its margin over its window's
  "no answer" (as the reader's calibration);
- `sentence_overlap`: the share of the question's content words (Kiwi morphemes for Korean,
  words for English; question words such as 몇/어디/how/what left out) found in the span's
  sentence and the passage's section titles;
- `passage_overlap`: the same share over the whole passage and its titles;
- `rank`: the passage's place in retrieval (0 = best).

`OpenCalibration` is a logistic regression over these, fitted by
`bench/mrc_open_calibration.py` on KorQuAD questions the span model never saw, asked in open
mode (all paragraphs of the file as the corpus) and once more with the passages that hold
the answer left out, so that most examples are spans of passages that do not hold it (label:
F1 >= 0.5). It ships beside the span model (`<model>.open-calibration.json`).

    >>> terms = question_terms("와이퍼 레버 세 칸 내리면 어떻게 작동해?")
    >>> sorted(terms)
    ['내리', '레버', '와이퍼', '작동', '칸']
    >>> round(overlap(terms, "레버를 두 칸 내리면 저속으로 작동합니다.", "와이퍼 작동"), 2)
    1.0
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.mrc.errors import ReaderError
from faq_index.tokenize import Tokenizer

__all__ = ["FEATURES", "OpenCalibration", "overlap", "question_terms", "text_terms"]

FEATURES = ("log_score", "gap", "sentence_overlap", "passage_overlap", "rank")

#: Words that say what is asked, not what about: left out of the question's terms.
QUESTION_WORDS = frozenset(
    [
        "몇",
        "어디",
        "어떻",
        "어떡",
        "어떤",
        "어느",
        "무엇",
        "뭐",
        "뭘",
        "무슨",
        "언제",
        "왜",
        "누구",
        "얼마",
        "얼마나",
        "되",
        "하",
        "있",
        "알",
        "what",
        "which",
        "when",
        "where",
        "how",
        "why",
        "who",
        "whom",
        "whose",
        "many",
        "much",
        "long",
        "far",
        "fast",
        "often",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "is",
        "are",
        "was",
        "were",
        "the",
        "a",
        "an",
        "i",
        "my",
        "me",
        "you",
        "your",
        "it",
        "its",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "about",
        "there",
        "this",
        "that",
        "get",
    ]
)


@functools.cache
def _tokenizer() -> Tokenizer:
    return Tokenizer()


@functools.lru_cache(maxsize=4096)
def text_terms(text: str) -> frozenset[str]:
    """The content terms of a text (lower case; morphemes for Korean)."""
    return frozenset(_tokenizer().tokens(text))


def question_terms(question: str) -> frozenset[str]:
    """The question's content terms, its question words left out."""
    return frozenset(t for t in text_terms(question) if t not in QUESTION_WORDS)


def overlap(terms: frozenset[str], *texts: str) -> float:
    """The share of `terms` found in the texts (a term also counts when a text's term starts
    with it or it with a text's term of two characters or more: 충전 / 충전량); 0 for none."""
    if not terms:
        return 0.0
    found: set[str] = set()
    for text in texts:
        found |= text_terms(text)
    hits = 0
    for term in terms:
        if term in found or any(
            len(x) >= 2 and len(term) >= 2 and (x.startswith(term) or term.startswith(x))
            for x in found
        ):
            hits += 1
    return hits / len(terms)


@dataclass(frozen=True, slots=True)
class OpenCalibration:
    """P(the span is right) = sigmoid(coef · features + intercept), features as `FEATURES`
    (see the module docstring)."""

    coef: tuple[float, ...]
    intercept: float
    features: tuple[str, ...] = FEATURES
    meta: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def path_for(model: Path) -> Path:
        return model.with_suffix(".open-calibration.json")

    @classmethod
    def beside(cls, model: Path) -> OpenCalibration | None:
        """The open-mode calibration beside the span model file, None when it has none."""
        path = cls.path_for(model)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features = tuple(str(f) for f in data["features"])
            coef = tuple(float(x) for x in data["coef"])
            unknown = [f for f in features if f not in FEATURES]
            if unknown or len(coef) != len(features):
                raise ValueError(f"features {list(features)} and {len(coef)} coefficients")
            return cls(coef, float(data["intercept"]), features, dict(data.get("meta", {})))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReaderError(f"{path}: not an open-mode calibration ({e!r})") from e

    def save(self, model: Path) -> Path:
        path = self.path_for(model)
        data = {
            "features": list(self.features),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "meta": self.meta,
        }
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def probability(self, values: Mapping[str, float]) -> float:
        logit = self.intercept + sum(
            c * float(values[f]) for c, f in zip(self.coef, self.features, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))


def feature_row(values: Mapping[str, float], features: Sequence[str] = FEATURES) -> list[float]:
    """The values in the order of `features`."""
    return [float(values[f]) for f in features]
