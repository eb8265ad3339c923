"""FAQ entries in a `SimilarityIndex`, and the answer / suggest / decline decision.

An entry's question and alternatives are indexed in the `question` field, its answer in the
`answer` field and its category in the `category` field, so a user's words can match any of
them; fusion learns how much each field counts. (On Welfare-QA, where the category names the
program a question is about, indexing it lifted accuracy@1 from about 0.59 to 0.72.) Entries with a `locale` are searched only by
queries in that locale; entries without one by every query.

    >>> from faq_index.encoders import HashingEncoder
    >>> faq = FaqIndex([
    ...     FaqEntry(id="hours", question="서비스센터 영업시간이 어떻게 되나요?",
    ...              alternatives=("몇 시까지 해요?",), answer="평일 9시부터 18시까지입니다."),
    ...     FaqEntry(id="warranty", question="보증 기간은 얼마나 되나요?", answer="3년입니다."),
    ... ], encoder=HashingEncoder())
    >>> decision = faq.decide("서비스센터 몇시까지 해요", answer_at=0.0, suggest_at=0.0)
    >>> decision.kind, decision.hits[0].entry.id
    ('answer', 'hours')
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from faq_index.encoders import Encoder, Kind
from faq_index.entry import FaqEntry
from faq_index.errors import CalibrationError, DuplicateEntryError, UnknownEntryError
from faq_index.fusion import FAQ_SIGNAL_WEIGHT, FusionModel
from faq_index.index import SIGNALS, Hubness, Row, SimilarityIndex
from faq_index.tokenize import Tokenizer
from faq_index.training import (
    Example,
    fit_fusion,
    fit_lexical,
    query_examples,
    self_examples,
    separating_defaults,
)

__all__ = ["FIELDS", "HUBNESS", "KINDS", "Decision", "FaqHit", "FaqIndex", "entry_rows"]

DecisionKind = Literal["answer", "suggest", "decline"]
#: Changes when fitting changes, so that cached models fitted by older code are not reused.
_MODEL_VERSION = "fusion-11"


#: Fields of an entry in the index, and how the dense encoder reads each.
FIELDS = ("question", "answer", "category")
KINDS: dict[str, Kind] = {"question": "query", "answer": "passage", "category": "query"}
#: Dense scores of texts near every question are lowered (see `faq_index.signals.Hubness`).
HUBNESS = Hubness(field="question")
#: Share of the ids whose examples a fit is checked on before it is trusted (see
#: `faq_index.training.fit_fusion`).
HOLD_OUT = 1 / 3
#: The cascade's default threshold (None: off); see bench/faq_results.md.
SKIP_DENSE_AT: float | None = None


def entry_rows(entry: FaqEntry) -> list[Row]:
    """The indexed texts of an entry: its questions, its answer and its category."""
    rows = [Row(entry.id, q, "question") for q in dict.fromkeys(entry.questions)]
    rows.append(Row(entry.id, entry.answer, "answer"))
    if entry.category:
        rows.append(Row(entry.id, entry.category, "category"))
    return rows


@dataclass(frozen=True, slots=True)
class FaqHit:
    entry: FaqEntry
    score: float
    confidence: float


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a query: `answer` with hits[0], `suggest` the hits, or `decline`."""

    kind: DecisionKind
    hits: tuple[FaqHit, ...]

    @property
    def confidence(self) -> float:
        return self.hits[0].confidence if self.hits else 0.0


class FaqIndex:
    """A set of FAQ entries searchable by similarity; safe to change while being searched.

    `skip_dense_at` is the cascade's threshold (see `SimilarityIndex`): a query whose top entry
    the lexical signals alone give at least this confidence is answered without embedding it.
    It takes effect once a lexical model is given (`lexical_fusion`) or fitted (`calibrate`);
    None turns the cascade off.
    """

    def __init__(
        self,
        entries: Iterable[FaqEntry] = (),
        *,
        encoder: Encoder | None = None,
        signals: Sequence[str] | None = None,
        fusion: FusionModel | None = None,
        tokenizer: Tokenizer | None = None,
        lexical_fusion: FusionModel | None = None,
        skip_dense_at: float | None = SKIP_DENSE_AT,
    ) -> None:
        chosen = tuple(signals) if signals is not None else SIGNALS
        if encoder is None:
            chosen = tuple(s for s in chosen if s != "dense")
        self.index = SimilarityIndex(
            encoder=encoder,
            signals=signals,
            fields=FIELDS,
            kinds=KINDS,
            # untuned until calibrated: the FAQ's ranking weights (`FAQ_SIGNAL_WEIGHT`)
            fusion=fusion or FusionModel.default(chosen, FIELDS, signal_weights=FAQ_SIGNAL_WEIGHT),
            tokenizer=tokenizer,
            hubness=HUBNESS,
            lexical_fusion=lexical_fusion,
            skip_dense_at=skip_dense_at,
        )
        self._entries: dict[str, FaqEntry] = {}
        self._other_locale: dict[str, frozenset[str]] = {}
        self._write = threading.Lock()
        self.reset(entries)

    # --- entries ---------------------------------------------------------------------------

    @property
    def entries(self) -> list[FaqEntry]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def get(self, entry_id: str) -> FaqEntry:
        try:
            return self._entries[entry_id]
        except KeyError:
            raise UnknownEntryError(f"no FAQ entry has id {entry_id!r}") from None

    def reset(self, entries: Iterable[FaqEntry]) -> None:
        """Replace every entry; texts seen before are not embedded again."""
        new: dict[str, FaqEntry] = {}
        for entry in entries:
            if entry.id in new:
                raise DuplicateEntryError(f"entry id {entry.id!r} is given twice")
            new[entry.id] = entry
        with self._write:
            self.index.reset(row for e in new.values() for row in entry_rows(e))
            self._commit(new)

    def add(self, entry: FaqEntry) -> None:
        with self._write:
            if entry.id in self._entries:
                raise DuplicateEntryError(
                    f"entry id {entry.id!r} exists already; update it or choose another id"
                )
            self.index.replace(entry.id, entry_rows(entry))
            self._commit({**self._entries, entry.id: entry})

    def upsert(self, entry: FaqEntry) -> bool:
        """Add or replace an entry; True when it was new."""
        with self._write:
            is_new = entry.id not in self._entries
            self.index.replace(entry.id, entry_rows(entry))
            self._commit({**self._entries, entry.id: entry})
            return is_new

    def delete(self, entry_id: str) -> FaqEntry:
        with self._write:
            entry = self.get(entry_id)
            self.index.delete({entry_id})
            self._commit({k: v for k, v in self._entries.items() if k != entry_id})
            return entry

    def _commit(self, entries: dict[str, FaqEntry]) -> None:
        locales = {e.locale for e in entries.values() if e.locale}
        self._other_locale = {
            loc: frozenset(k for k, e in entries.items() if e.locale and e.locale != loc)
            for loc in locales
        }
        self._entries = entries

    # --- search ----------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, *, locale: str | None = None) -> list[FaqHit]:
        exclude = self._other_locale.get(locale, frozenset()) if locale else frozenset()
        entries = self._entries
        hits = self.index.search(query, k, exclude_keys=exclude)
        return [FaqHit(entries[h.key], h.score, h.confidence) for h in hits if h.key in entries]

    def decide(
        self,
        query: str,
        *,
        answer_at: float,
        suggest_at: float,
        locale: str | None = None,
        suggestions: int = 3,
    ) -> Decision:
        """Answer when the top entry's confidence reaches `answer_at`, suggest the top
        `suggestions` entries when it reaches `suggest_at`, else decline."""
        hits = tuple(self.search(query, max(suggestions, 1), locale=locale))
        if not hits or hits[0].confidence < suggest_at:
            return Decision("decline", hits)
        if hits[0].confidence >= answer_at:
            return Decision("answer", hits)
        return Decision("suggest", hits[:suggestions])

    def calibrate(
        self, *, seed: int = 13, max_examples: int = 2000, cache_dir: Path | None = None
    ) -> FusionModel:
        """Fit fusion and calibration on the entries themselves (no labelled queries) and use
        the result. The ranking starts from the default weights, each field's columns weighed
        by how well they separate the entries (`separating_defaults`), and is fitted only on
        alternative questions, and kept only when it does at least as well on a held-back third
        of the entries; an FAQ with one question an entry keeps those weights. The calibrator
        needs alternatives or answers to hide questions behind; see `faq_index.training`. With the cascade on (`skip_dense_at`), its lexical model is
        fitted from the same examples when the index has lexical signals and the dense one
        (when those examples cannot calibrate it, the cascade stays off). With `cache_dir`,
        models fitted before on exactly these texts, signals and encoder are loaded instead
        of fitted again (a restart costs nothing)."""
        fingerprint = self.fingerprint(seed, max_examples)
        examples: list[Example] = []

        def own_examples() -> list[Example]:
            if not examples:
                examples.extend(self_examples(self.index, seed=seed, max_examples=max_examples))
            return examples

        model = _cached(cache_dir, f"fusion-{fingerprint}.json")
        if model is not None:
            try:
                self.index.fusion = model
            except CalibrationError:
                model = None
        if model is None:
            model = fit_fusion(
                self.index,
                own_examples(),
                name=f"self:{len(self)} entries",
                base=separating_defaults(self.index, seed=seed),
                hold_out=HOLD_OUT,
                seed=seed,
                by_signal=True,
            )
            self.index.fusion = model
            _store(cache_dir, f"fusion-{fingerprint}.json", model)
        if self.index.lexical_signals and self.index.skip_dense_at is not None:
            name = f"cascade-{fingerprint}.json"
            try:
                self.index.lexical_fusion = _cached(cache_dir, name)  # None: not cached
            except CalibrationError:
                self.index.lexical_fusion = None
            if self.index.lexical_fusion is None:
                with contextlib.suppress(CalibrationError):  # examples of one kind: no cascade
                    lexical = fit_lexical(
                        self.index, own_examples(), name=f"self:{len(self)} entries, lexical"
                    )
                    self.index.lexical_fusion = lexical
                    _store(cache_dir, name, lexical)
        return model

    def fit_queries(
        self,
        queries: Sequence[tuple[str, str | None]],
        *,
        seed: int = 0,
        name: str = "labelled queries",
        progress: Callable[[int], None] | None = None,
    ) -> FusionModel:
        """Fit fusion and calibration on labelled queries (text, the entry that answers it, or
        None when none does), for instance from the bot's logs, and use the result.

        The queries of a third of the labelled entries serve, with their entry hidden, as
        out-of-scope examples instead (`faq_index.training.query_examples`); the ranking
        weights are fitted listwise from `separating_defaults`, and kept only when a fit without
        a held-back third of the entries ranks their queries at least as well as those. On the public sets this beat fitting on the FAQ itself by
        2.3 points of accuracy@1 on entries the queries never named (bench/faq_results.md).
        Raises `CalibrationError` for an id that is not an entry, or examples that cannot
        teach anything. `progress(done)` is called after each query is scored."""
        unknown = [(i, g) for i, (_, g) in enumerate(queries, start=1) if g and g not in self]
        if unknown:
            shown = ", ".join(f"query {i}: {g!r}" for i, g in unknown[:5])
            raise CalibrationError(
                f"expected_id is not an entry of this FAQ ({len(unknown)} queries): {shown}"
            )
        examples = query_examples(queries, rng=random.Random(seed))
        model = fit_fusion(
            self.index,
            examples,
            name=name,
            ranker="listwise",
            progress=progress,
            base=separating_defaults(self.index),
            hold_out=HOLD_OUT,
            seed=seed,
        )
        self.index.fusion = model
        return model

    def fingerprint(self, *extra: object) -> str:
        """A hash of everything a self-fitted fusion model depends on."""
        digest = hashlib.sha256(_MODEL_VERSION.encode())
        encoder = self.index.encoder.name if self.index.encoder is not None else "-"
        digest.update(repr((encoder, self.index.signal_names, self.index.fields, extra)).encode())
        for key in self.index.ids():
            for row in self.index.texts(key):
                digest.update(f"\x00{key}\x01{row.field}\x02{row.text}".encode())
        return digest.hexdigest()[:32]


def _cached(cache_dir: Path | None, name: str) -> FusionModel | None:
    """A model saved in `cache_dir` before, or None (absent or unreadable)."""
    path = Path(cache_dir) / name if cache_dir is not None else None
    if path is None or not path.is_file():
        return None
    try:
        return FusionModel.load(path)
    except CalibrationError:
        return None


def _store(cache_dir: Path | None, name: str, model: FusionModel) -> None:
    if cache_dir is None:
        return
    path = Path(cache_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    model.save(temporary)
    temporary.replace(path)
