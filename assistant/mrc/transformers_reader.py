"""Extractive QA with a `transformers` checkpoint (`AutoModelForQuestionAnswering`) from disk.

Install the extra (`pip install 'kakao-style-assistant[transformers]'`; for a CPU-only torch,
`pip install torch==2.13.0` first). Nothing is ever downloaded: the checkpoint directory must
hold the model and a *fast* tokenizer (offsets are needed to map tokens back to characters).
Contexts longer than the model's window are read in overlapping windows (`max_length`,
`stride`); each window proposes its best spans and the best over all windows wins.

A span's `score` is p(start) * p(end) under the window's softmax over the context tokens and
the [CLS] token; when [CLS] (the model's "no answer", SQuAD 2.0 style) beats every span of every
window, the reader answers nothing.

    reader = TransformersReader("models/koelectra-base-v3-korquad")   # loads on first read
    reader.read("권장 공기압은?", passages)

Loading happens in `warm_up()` (called by the first `read`), not in `__init__`.
"""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.mrc.errors import ReaderError
from assistant.mrc.reader import Answer, Passage
from assistant.mrc.sentences import sentence_at, split_sentences

__all__ = ["TransformersReader"]


class TransformersReader:
    """See the module docstring. `model` and `tokenizer` may be given instead of loaded (tests,
    or sharing one model between readers)."""

    name = "transformers"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        max_length: int = 384,
        stride: int = 128,
        max_answer_tokens: int = 30,
        top_spans: int = 20,
        min_score: float = 0.0,
        model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        if path is None and (model is None or tokenizer is None):
            raise ReaderError("give a checkpoint path, or both a model and a tokenizer")
        if stride >= max_length:
            raise ReaderError("stride must be smaller than max_length")
        self.path = Path(path) if path is not None else None
        self.max_length = max_length
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self.top_spans = top_spans
        self.min_score = min_score
        self._model = model
        self._tokenizer = tokenizer
        self._torch: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Import torch and transformers and load the checkpoint (once)."""
        with self._lock:
            if self._torch is not None:
                return
            try:
                torch = importlib.import_module("torch")
                transformers = importlib.import_module("transformers")
            except ImportError as e:
                raise ReaderError(
                    "the transformers reader needs torch and transformers: "
                    "pip install torch==2.13.0 'kakao-style-assistant[transformers]'"
                ) from e
            if self._tokenizer is None or self._model is None:
                assert self.path is not None  # checked in __init__
                if not self.path.is_dir():
                    raise ReaderError(
                        f"{self.path}: not a directory; give the local directory of a "
                        "question-answering checkpoint (config.json, weights, tokenizer files)"
                    )
                try:
                    self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                        str(self.path), local_files_only=True
                    )
                    self._model = transformers.AutoModelForQuestionAnswering.from_pretrained(
                        str(self.path), local_files_only=True
                    )
                except (OSError, ValueError) as e:
                    raise ReaderError(f"{self.path}: cannot load the checkpoint ({e})") from e
            if not getattr(self._tokenizer, "is_fast", False):
                raise ReaderError(
                    "the tokenizer must be a fast tokenizer (tokenizer.json) to map answers "
                    "back to characters"
                )
            self._model.eval()
            self._torch = torch

    def read(self, question: str, passages: Sequence[Passage], *, k: int = 1) -> list[Answer]:
        self.warm_up()
        found: list[tuple[float, Passage, int, int]] = []
        for passage in passages:
            found.extend(self._read_one(question, passage))
        found.sort(key=lambda f: -f[0])
        answers: list[Answer] = []
        seen: set[tuple[str, int, int]] = set()
        for score, passage, start, end in found:
            if score < self.min_score or (passage.id, start, end) in seen:
                continue
            seen.add((passage.id, start, end))
            s_start, s_end = sentence_at(split_sentences(passage.text), start)
            answers.append(
                Answer(
                    text=passage.text[start:end],
                    start=start,
                    end=end,
                    score=score,
                    passage=passage,
                    sentence_start=min(s_start, start),
                    sentence_end=max(s_end, end),
                )
            )
            if len(answers) >= k:
                break
        return answers

    def _read_one(self, question: str, passage: Passage) -> list[tuple[float, Passage, int, int]]:
        torch = self._torch
        encoded = self._tokenizer(
            question,
            passage.text,
            truncation="only_second",
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="pt",
        )
        inputs = {
            name: encoded[name]
            for name in ("input_ids", "attention_mask", "token_type_ids")
            if name in encoded
        }
        with torch.no_grad():
            output = self._model(**inputs)
        start_logits = output.start_logits.float()
        end_logits = output.end_logits.float()
        spans: list[tuple[float, Passage, int, int]] = []
        null_wins = True
        for window in range(start_logits.shape[0]):
            sequence_ids = encoded.sequence_ids(window)
            offsets = encoded["offset_mapping"][window].tolist()
            context = [i for i, s in enumerate(sequence_ids) if s == 1]
            if not context:
                continue
            allowed = torch.tensor([0, *context])  # [CLS] stands for "no answer"
            start_p = _softmax(start_logits[window], allowed, torch)
            end_p = _softmax(end_logits[window], allowed, torch)
            null = start_p.get(0, 0.0) * end_p.get(0, 0.0)
            best = self._best_spans(start_p, end_p, context)
            if best and best[0][0] > null:
                null_wins = False
            for score, s, e in best:
                spans.append((score, passage, int(offsets[s][0]), int(offsets[e][1])))
        return [] if null_wins else spans

    def _best_spans(
        self, start_p: dict[int, float], end_p: dict[int, float], context: list[int]
    ) -> list[tuple[float, int, int]]:
        in_context = set(context)
        starts = sorted((i for i in start_p if i in in_context), key=lambda i: -start_p[i])
        ends = sorted((i for i in end_p if i in in_context), key=lambda i: -end_p[i])
        out: list[tuple[float, int, int]] = []
        for s in starts[: self.top_spans]:
            for e in ends[: self.top_spans]:
                if s <= e < s + self.max_answer_tokens:
                    out.append((start_p[s] * end_p[e], s, e))
        out.sort(key=lambda t: -t[0])
        return out[: self.top_spans]


def _softmax(logits: Any, allowed: Any, torch: Any) -> dict[int, float]:
    values = logits[allowed]
    probabilities = torch.softmax(values, dim=0).tolist()
    return {
        int(i): float(p)
        for i, p in zip(allowed.tolist(), probabilities, strict=True)
        if not math.isnan(p)
    }
