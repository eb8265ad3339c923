"""Intent recognition: the shared similarity index over the intents' examples, plus a
classifier trained on the same features when the examples are loaded.

Two views of one utterance, averaged:

- the `SimilarityIndex` of `faq_index` (BM25 over morphemes, character n-grams, sentence
  embeddings), one id per intent, its examples as texts, its fusion calibrated on the examples
  themselves (leave-one-out): "how much does this look like the nearest examples";
- a logistic regression over character 2-4-gram TF-IDF, jamo 2-5-grams of the text without
  its spaces (so "에어컨켜줘" and "에어콘 켜 줘" share most of theirs) and the sentence embedding, learned
  from the examples in seconds: "which intent do the examples as a whole point to".

An utterance is out of scope when the best intent's combined score is below
`out_of_scope_threshold`, or when examples of out-of-scope utterances were given and they win
(they train the classifier as one more class, `OUT_OF_SCOPE`).

    >>> from faq_index.encoders import HashingEncoder
    >>> classifier = IntentClassifier(encoder=HashingEncoder(), out_of_scope_threshold=0.3)
    >>> _ = classifier.fit([("navigate", "서울역으로 안내해 줘"), ("navigate", "강남역까지 길 안내"),
    ...                     ("navigate", "집으로 가자"), ("call", "엄마한테 전화해 줘"),
    ...                     ("call", "회사에 전화 걸어 줘"), ("call", "김민수에게 전화")])
    >>> prediction = classifier.predict("부산역으로 안내해 줘")
    >>> prediction.intent, prediction.out_of_scope
    ('navigate', False)
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from faq_index.encoders import Encoder, Kind
from faq_index.errors import CalibrationError
from faq_index.index import Row, SimilarityIndex
from faq_index.training import fit_fusion, self_examples

__all__ = ["OUT_OF_SCOPE", "IntentClassifier", "IntentPrediction", "IntentScore"]

logger = logging.getLogger(__name__)

#: The class that examples of out-of-scope utterances train.
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True, slots=True)
class IntentScore:
    """One intent's scores for an utterance: combined, from the classifier, from the index."""

    intent: str
    score: float
    classifier: float
    index: float


@dataclass(frozen=True, slots=True)
class IntentPrediction:
    """The intents ranked best first, and whether the utterance is outside all of them."""

    ranking: tuple[IntentScore, ...]
    out_of_scope: bool

    @property
    def intent(self) -> str | None:
        return None if self.out_of_scope or not self.ranking else self.ranking[0].intent

    @property
    def confidence(self) -> float:
        return self.ranking[0].score if self.ranking else 0.0


class _Memo:
    """The encoder with the training texts and the last queries kept in memory, so the
    classifier and the index embed each text once."""

    def __init__(self, wrapped: Encoder, size: int = 64) -> None:
        self.wrapped = wrapped
        self.name = wrapped.name
        self.size = size
        self.known: dict[tuple[str, Kind], npt.NDArray[np.float32]] = {}
        self.recent: OrderedDict[tuple[str, Kind], npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, texts: Sequence[str], kind: Kind) -> npt.NDArray[np.float32]:
        vectors = np.asarray(self.wrapped.encode(list(texts), kind=kind), dtype=np.float32)
        for text, vector in zip(texts, vectors, strict=True):
            self.known[(text, kind)] = vector
        return vectors

    def encode(self, texts: Sequence[str], *, kind: Kind) -> npt.NDArray[np.float32]:
        with self._lock:
            found: dict[str, npt.NDArray[np.float32] | None] = {
                t: self.known.get((t, kind)) for t in texts
            }
            for t in texts:
                if found[t] is None and (t, kind) in self.recent:
                    found[t] = self.recent[(t, kind)]
                    self.recent.move_to_end((t, kind))
        missing = [t for t in dict.fromkeys(texts) if found[t] is None]
        if missing:
            fresh = np.asarray(self.wrapped.encode(missing, kind=kind), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    found[text] = vector
                    self.recent[(text, kind)] = vector
                while len(self.recent) > self.size:
                    self.recent.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([v for v in (found[t] for t in texts) if v is not None]).astype(np.float32)


def jamo(text: str) -> str:
    """The text without spaces, lowercased, Hangul syllables split into their letters:
    jamo("에어 컨") == jamo("에어컨"), and a typo in one letter leaves the others alike.

    >>> len(jamo("에어 컨")), jamo("에어컨") == jamo("에어 컨")
    (7, True)
    """
    import unicodedata

    return unicodedata.normalize("NFD", "".join(text.lower().split()))


class _Features:
    """Character 2-4-grams within words and jamo 2-5-grams of the compacted text, TF-IDF."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.words = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True
        )
        self.letters = TfidfVectorizer(
            analyzer="char", ngram_range=(2, 5), sublinear_tf=True, preprocessor=jamo
        )

    def fit_transform(self, texts: Sequence[str]) -> Any:
        from scipy import sparse  # type: ignore[import-untyped]

        return sparse.hstack(
            [self.words.fit_transform(texts), self.letters.fit_transform(texts)]
        ).tocsr()

    def transform(self, texts: Sequence[str]) -> Any:
        from scipy import sparse

        return sparse.hstack([self.words.transform(texts), self.letters.transform(texts)]).tocsr()


class IntentClassifier:
    """Recognizes intents from examples; see the module docstring.

    `classifier_weight` is the classifier's share of the combined score (the index has the
    rest); `c` the inverse regularization of the logistic regression.
    """

    def __init__(
        self,
        *,
        encoder: Encoder | None = None,
        out_of_scope_threshold: float = 0.5,
        classifier_weight: float = 0.5,
        c: float = 10.0,
        calibrate: bool = True,
    ) -> None:
        if not 0.0 <= classifier_weight <= 1.0:
            raise ValueError("classifier_weight must be between 0 and 1")
        self.encoder = _Memo(encoder) if encoder is not None else None
        self.out_of_scope_threshold = out_of_scope_threshold
        self.classifier_weight = classifier_weight
        self.c = c
        self.calibrate = calibrate
        self.intents: tuple[str, ...] = ()
        self.index: SimilarityIndex | None = None
        self._vectorizer: Any = None
        self._model: Any = None
        self._classes: tuple[str, ...] = ()

    def fit(
        self, examples: Sequence[tuple[str, str]], out_of_scope: Sequence[str] = ()
    ) -> IntentClassifier:
        """Learn from (intent, text) pairs and, optionally, out-of-scope texts."""
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        pairs = [(i, t.strip()) for i, t in examples if t.strip()]
        intents = tuple(dict.fromkeys(i for i, _ in pairs))
        if not intents:
            raise ValueError("no intent examples to learn from")
        if OUT_OF_SCOPE in intents:
            raise ValueError(f"{OUT_OF_SCOPE!r} is reserved for out-of-scope examples")
        self.intents = intents
        texts = [t for _, t in pairs]
        labels = [i for i, _ in pairs]
        oos = [t.strip() for t in out_of_scope if t.strip()]
        train_texts, train_labels = texts + oos, labels + [OUT_OF_SCOPE] * len(oos)

        index = SimilarityIndex(
            encoder=self.encoder, fields=("question",), kinds={"question": "query"}
        )
        if self.encoder is not None:
            self.encoder.remember(list(dict.fromkeys(train_texts)), "query")
        index.add(Row(intent, text) for intent, text in pairs)
        if self.calibrate:
            try:
                index.fusion = fit_fusion(index, self_examples(index), name="intent examples")
            except CalibrationError as e:  # too few examples to learn a calibration from
                logger.info("intents.calibration_skipped", extra={"why": str(e)})
        self.index = index

        vectorizer = _Features()
        features = vectorizer.fit_transform(train_texts)
        if self.encoder is not None:
            dense = self.encoder.encode(train_texts, kind="query")
            features = sparse.hstack([features, sparse.csr_matrix(dense)]).tocsr()
        classes = sorted(set(train_labels))
        if len(classes) == 1:
            self._model = None  # one intent: the index alone decides
        else:
            model = LogisticRegression(C=self.c, max_iter=2000)
            model.fit(features, train_labels)
            self._model = model
            classes = [str(c) for c in model.classes_]
        self._vectorizer = vectorizer
        self._classes = tuple(classes)
        return self

    def _features(self, texts: Sequence[str]) -> Any:
        from scipy import sparse

        features = self._vectorizer.transform(texts)
        if self.encoder is not None:
            dense = self.encoder.encode(list(texts), kind="query")
            features = sparse.hstack([features, sparse.csr_matrix(dense)]).tocsr()
        return features

    def predict(self, text: str, k: int = 3) -> IntentPrediction:
        """The best `k` intents for the text and the out-of-scope decision."""
        return self.predict_many([text], k)[0]

    def predict_many(self, texts: Sequence[str], k: int = 3) -> list[IntentPrediction]:
        """`predict` for many texts, the classifier's features computed in batches."""
        if self.index is None:
            raise RuntimeError("fit the classifier before predicting")
        found: list[IntentPrediction] = []
        batch = self.encoder.size if self.encoder is not None else 64
        for start in range(0, len(texts), batch):
            chunk = [t.strip() for t in texts[start : start + batch]]
            usable = [t for t in chunk if t]
            rows: dict[str, Any] = {}
            if self._model is not None and usable:
                matrix = self._model.predict_proba(self._features(usable))
                rows = dict(zip(usable, matrix, strict=True))
            found.extend(self._predict(t, rows.get(t), k) for t in chunk)
        return found

    def _predict(self, text: str, row: Any, k: int) -> IntentPrediction:
        if not text or self.index is None:
            return IntentPrediction((), True)
        if row is not None:
            probabilities = {c: float(p) for c, p in zip(self._classes, row, strict=True)}
        else:
            probabilities = {self.intents[0]: 1.0}
        hits = {h.key: h.confidence for h in self.index.search(text, k=max(k, 5))}
        w = self.classifier_weight
        scored = [
            IntentScore(
                intent,
                w * probabilities.get(intent, 0.0) + (1 - w) * hits.get(intent, 0.0),
                probabilities.get(intent, 0.0),
                hits.get(intent, 0.0),
            )
            for intent in self.intents
        ]
        scored.sort(key=lambda s: -s.score)
        ranking = tuple(scored[:k])
        oos_probability = probabilities.get(OUT_OF_SCOPE, 0.0)
        out = (
            not ranking
            or ranking[0].score < self.out_of_scope_threshold
            or oos_probability > ranking[0].classifier
        )
        return IntentPrediction(ranking, out)
