"""Active learning: the questions the bot could not answer, grouped, each group with the FAQ
entry it most likely belongs to.

1. The questions are the turns that fell back, landed in the grey zone (a clarification) or
   got a thumbs-down (`Insights.learning_turns`); repeats are counted once, and questions
   something was already done with are left out.
2. They are embedded with the FAQ index's own encoder (as queries, the way the index embeds
   questions); an index without a dense encoder gives character n-gram TF-IDF vectors instead.
3. Questions of one locale are clustered by average-linkage agglomerative clustering on cosine
   distance. The distance at which two questions count as "the same question" is learned from
   the FAQ itself: the threshold that best separates questions of one entry (its question and
   alternatives) from the nearest question of another entry.
4. For each cluster, its questions are searched in the FAQ; the entry with the most confidence
   summed over them is the suggestion (the top three are offered).

    >>> from faq_index import FaqEntry, FaqIndex, HashingEncoder
    >>> faq = FaqIndex([
    ...     FaqEntry(id="key", question="스마트키 배터리 교체", alternatives=("키 배터리 갈기",
    ...              "스마트키 건전지 교체 방법"), answer="CR2032 전지로 바꾸세요."),
    ...     FaqEntry(id="wash", question="세차는 어디서 하나요", alternatives=("세차장 위치",
    ...              "세차 어디서 해요"), answer="서비스센터에서 합니다.")],
    ...     encoder=HashingEncoder())
    >>> groups = cluster_questions(faq, [Question("스마트키 배터리 교체는?", "ko"),
    ...     Question("스마트키 배터리 교체 방법", "ko"), Question("세차장 어디 있어요", "ko")])
    >>> [(sorted(q.text for q in g.questions), g.suggestions[0].entry_id) for g in groups]
    [(['스마트키 배터리 교체 방법', '스마트키 배터리 교체는?'], 'key'), (['세차장 어디 있어요'], 'wash')]
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from faq_index.faq import FaqIndex

__all__ = ["Cluster", "Question", "Suggestion", "cluster_questions", "same_question_similarity"]

Vectors = npt.NDArray[np.float32]

#: Used when the FAQ has too few alternative questions to learn from.
DEFAULT_SIMILARITY = {"dense": 0.9, "tfidf": 0.5}


@dataclass
class Question:
    """One distinct question, how often it was asked and why it is here."""

    text: str
    locale: str
    count: int = 1
    reasons: Counter[str] = field(default_factory=Counter)
    last_at: datetime | None = None
    turns: list[tuple[str, int]] = field(default_factory=list)  # (session id, turn number)


@dataclass(frozen=True, slots=True)
class Suggestion:
    entry_id: str
    question: str
    confidence: float  # mean over the cluster's searched questions


@dataclass
class Cluster:
    id: str
    locale: str
    questions: list[Question]
    representative: str
    suggestions: list[Suggestion]

    @property
    def size(self) -> int:
        return sum(q.count for q in self.questions)


class _Vectorizer:
    """The FAQ index's encoder, or TF-IDF over character n-grams when it has none."""

    def __init__(self, faq: FaqIndex, texts: Sequence[str]) -> None:
        self.encoder = faq.index.encoder
        self.kind = "dense" if self.encoder is not None else "tfidf"
        self._tfidf = None
        if self.encoder is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            corpus = [q for e in faq.entries for q in e.questions] + list(texts)
            self._tfidf = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True
            ).fit(corpus or ["-"])

    def __call__(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        if self.encoder is not None:
            vectors = np.asarray(self.encoder.encode(list(texts), kind="query"), dtype=np.float32)
        else:
            assert self._tfidf is not None
            vectors = np.asarray(self._tfidf.transform(list(texts)).toarray(), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


_learned: dict[str, float] = {}
_learned_lock = threading.Lock()


def same_question_similarity(faq: FaqIndex, vectorize: _Vectorizer | None = None) -> float:
    """The cosine above which two questions ask the same thing, learned from the FAQ: the
    threshold with the best balanced accuracy between pairs of one entry's questions and each
    question's nearest question of another entry. Cached per FAQ content."""
    vectorize = vectorize or _Vectorizer(faq, [])
    key = f"{vectorize.kind}:{faq.fingerprint('same-question')}"
    with _learned_lock:
        if key in _learned:
            return _learned[key]
    rng = np.random.default_rng(7)
    entries = [e for e in faq.entries if e.questions]
    if len(entries) > 400:
        entries = [entries[i] for i in sorted(rng.choice(len(entries), 400, replace=False))]
    texts: list[str] = []
    owner: list[int] = []
    for n, entry in enumerate(entries):
        for question in list(dict.fromkeys(entry.questions))[:8]:
            texts.append(question)
            owner.append(n)
    learned = DEFAULT_SIMILARITY[vectorize.kind]
    if len(texts) >= 4:
        vectors = vectorize(texts)
        sims = vectors @ vectors.T
        owners = np.asarray(owner)
        same = owners[:, None] == owners[None, :]
        upper = np.triu(np.ones_like(same, dtype=bool), k=1)
        positives = sims[same & upper]
        other = np.where(same, -np.inf, sims)
        negatives = other.max(axis=1)
        negatives = negatives[np.isfinite(negatives)]
        if positives.size >= 3 and negatives.size >= 3:
            candidates = np.unique(np.concatenate([positives, negatives]))
            best, best_score = learned, -1.0
            for threshold in candidates:
                score = float((positives >= threshold).mean() + (negatives < threshold).mean())
                if score > best_score:
                    best, best_score = float(threshold), score
            learned = best
    with _learned_lock:
        _learned[key] = learned
    return learned


def _groups(vectors: Vectors, similarity: float) -> list[list[int]]:
    if len(vectors) == 1:
        return [[0]]
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=max(1e-6, 1.0 - similarity),
    ).fit_predict(vectors)
    found: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        found.setdefault(int(label), []).append(i)
    return list(found.values())


def _suggest(faq: FaqIndex, questions: Sequence[Question], locale: str) -> list[Suggestion]:
    asked = sorted(questions, key=lambda q: -q.count)[:8]
    total: dict[str, float] = {}
    for question in asked:
        for hit in faq.search(question.text, 3, locale=locale or None):
            total[hit.entry.id] = total.get(hit.entry.id, 0.0) + hit.confidence
    suggestions = []
    for entry_id, summed in sorted(total.items(), key=lambda kv: -kv[1])[:3]:
        if entry_id in faq:
            entry = faq.get(entry_id)
            suggestions.append(Suggestion(entry_id, entry.question, round(summed / len(asked), 4)))
    return suggestions


def cluster_questions(faq: FaqIndex, questions: Sequence[Question]) -> list[Cluster]:
    """Clusters of `questions` (biggest first), each with its suggested entries (blocking:
    embeds and searches; run it in a thread)."""
    if not questions:
        return []
    vectorize = _Vectorizer(faq, [q.text for q in questions])
    similarity = same_question_similarity(faq, vectorize)
    clusters: list[Cluster] = []
    by_locale: dict[str, list[Question]] = {}
    for question in questions:
        by_locale.setdefault(question.locale, []).append(question)
    for locale, members in by_locale.items():
        vectors = vectorize([q.text for q in members])
        for group in _groups(vectors, similarity):
            chosen = [members[i] for i in group]
            inner = vectors[group] @ vectors[group].T
            weights = np.asarray([q.count for q in chosen], dtype=np.float32)
            centre = int(np.argmax(inner @ weights))
            digest = hashlib.sha256("\x00".join(sorted(q.text for q in chosen)).encode())
            clusters.append(
                Cluster(
                    id=digest.hexdigest()[:12],
                    locale=locale,
                    questions=sorted(chosen, key=lambda q: (-q.count, q.text)),
                    representative=chosen[centre].text,
                    suggestions=_suggest(faq, chosen, locale),
                )
            )
    clusters.sort(key=lambda c: (-c.size, -len(c.questions), c.representative))
    return clusters
