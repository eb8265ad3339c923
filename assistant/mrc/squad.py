"""SQuAD v1.1 files (KorQuAD 1.0 uses the same form): questions with their paragraph.

data[].paragraphs[].{context, qas[].{id, question, answers[].{text, answer_start}}}

>>> import json, tempfile
>>> doc = {"data": [{"title": "t", "paragraphs": [{"context": "Seoul is big.",
...        "qas": [{"id": "q1", "question": "What is big?",
...                 "answers": [{"text": "Seoul", "answer_start": 0}]}]}]}]}
>>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
...     json.dump(doc, f)
>>> [(q.id, q.answers, q.article) for q in load_squad(f.name)]
[('q1', ('Seoul',), 0)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.mrc.errors import DocumentError

__all__ = ["SquadQuestion", "load_squad", "parse_articles"]


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    """One question: its paragraph (`context`, number `paragraph` in file order), the article
    it belongs to (its number in the file) and the gold answers."""

    id: str
    question: str
    context: str
    paragraph: int
    article: int
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...] = ()


def load_squad(path: str | Path) -> list[SquadQuestion]:
    """Every question of a SQuAD-format file, in file order."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))["data"]
        questions: list[SquadQuestion] = []
        paragraph = 0
        for article_no, article in enumerate(data):
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    questions.append(
                        SquadQuestion(
                            id=str(qa["id"]),
                            question=str(qa["question"]),
                            context=str(para["context"]),
                            paragraph=paragraph,
                            article=article_no,
                            answers=tuple(str(a["text"]) for a in qa.get("answers", [])),
                            answer_starts=tuple(
                                int(a.get("answer_start", -1)) for a in qa.get("answers", [])
                            ),
                        )
                    )
                paragraph += 1
    except OSError as e:
        raise DocumentError(f"{file}: cannot read the SQuAD file ({e})") from e
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise DocumentError(
            f"{file}: not SQuAD v1.1 JSON (data[].paragraphs[].qas[]): {e!r}"
        ) from e
    return questions


def parse_articles(spec: str | None) -> set[int] | None:
    """Article numbers from `0-34` or `0-9,20` (None or "" keeps every article).

    >>> sorted(parse_articles("0-2,5"))
    [0, 1, 2, 5]
    """
    if spec is None or not spec.strip():
        return None
    chosen: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        try:
            chosen.update(range(int(first), int(last or first) + 1))
        except ValueError as e:
            raise ValueError(f"{part!r} is not an article number or a range like 0-34") from e
    return chosen
