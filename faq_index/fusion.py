"""Fusing the signals into one ranking score, and calibrating it into a probability.

Per query, every signal's score of every entry is turned into a z-score over the entries (so
BM25's unbounded scores and e5's cosines bunched at 0.8-0.9 become comparable), one column per
signal and field (`bm25.question`, `bm25.answer`, ...). The ranking score is a weighted sum of
those columns. The confidence that the top entry is right is a logistic regression over the top
entry's fused score, its margin to the runner-up, and the raw cosine of the dense signal
(less its hubness correction, where the index has one): z-scores alone cannot tell a query that matches nothing well from one that matches one
entry very well. Raw lexical scores are left out on purpose: BM25 is unbounded and both lexical
scores reward repeating the entry's words, so a calibrator fitted on an FAQ's own questions
(`faq_index.training.self_examples`) learned to trust only near-copies of a question and doubted
real paraphrases (on StackFAQ without labelled queries: expected calibration error 0.25 with
them, 0.15 without; see bench/faq_results.md).

`FusionModel.default()` is the untuned weighted sum of z-scores with a neutral calibrator;
`fit_fusion` (in `faq_index.training`) learns both parts from examples.

Two sets of signal weights. `BALANCED_SIGNAL_WEIGHT` (BM25 1, char 1, dense 2) is the generic
default (intents, passages) and the score an FAQ's calibrator reads. `FAQ_SIGNAL_WEIGHT` (BM25
0.5, char 0.25, dense 4) ranks FAQ entries (`faq_index.faq`). A lexical z-score is heavy tailed:
most entries score 0, so the few that share a rare word with the query stand far out (median
top z-score over Korean question-pair queries: BM25 12.5, character n-grams 21.8, e5 6.2). At
1 : 1 : 2 a single shared word outvoted the encoder, and on FAQs made of questions only (no
answer text that the lexical signals could use) the fused ranking fell under e5 alone on every
set measured: Korean question pairs 0.758 against 0.783, welfare_ko questions only 0.480
against 0.535, stackfaq_en questions only 0.823 against 0.859. At 0.5 : 0.25 : 4 the fusion is
at or above e5 alone on all of them and on the full sets (bench/faq_results.md, issue 22).

    >>> model = FusionModel.default(["bm25", "dense"], ["question"])
    >>> model.rank_features
    ('bm25.question', 'dense.question')
    >>> [float(w) for w in model.weights]
    [1.0, 2.0]
    >>> [float(w) for w in FusionModel.default(["bm25", "dense"], ["question"],
    ...                                          signal_weights=FAQ_SIGNAL_WEIGHT).weights]
    [0.5, 4.0]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from faq_index.errors import CalibrationError

__all__ = [
    "ABSOLUTE_SIGNALS",
    "BALANCED_SIGNAL_WEIGHT",
    "CALIBRATION_FEATURES",
    "FAQ_SIGNAL_WEIGHT",
    "FusionModel",
]

Array = npt.NDArray[np.float64]

#: Inputs of the calibrator besides the raw signal scores, in order.
CALIBRATION_FEATURES = ("fused", "margin")
#: Signals whose raw score also goes to the calibrator: cosines mean the same in every index.
ABSOLUTE_SIGNALS = ("dense",)
#: Generic default weight of each signal's columns, and of the score an FAQ's calibrator reads.
BALANCED_SIGNAL_WEIGHT = {"bm25": 1.0, "char": 1.0, "dense": 2.0}
#: Default weights of an FAQ's ranking (see the module docstring).
FAQ_SIGNAL_WEIGHT = {"bm25": 0.5, "char": 0.25, "dense": 4.0}


@dataclass(frozen=True)
class FusionModel:
    """Ranking weights over z-score columns, and a logistic calibrator over top-1 features."""

    rank_features: tuple[str, ...]
    weights: Array
    calibration_features: tuple[str, ...]
    calib_mean: Array
    calib_scale: Array
    calib_coef: Array
    calib_intercept: float
    trained_on: str = "untrained"
    notes: dict[str, Any] = field(default_factory=dict)
    #: Weights of the score the calibrator reads (its `fused` and `margin`); None: `weights`.
    #: Ranking leans on the dense signal, but whether the top entry is right is better told
    #: when every signal has its say: calibrated on the dense-heavy ranking score, the demo
    #: FAQ gave 0.94 to a tyre-tread question about its tyre-pressure entry, 0.50 on the
    #: balanced one (`BALANCED_SIGNAL_WEIGHT`), while its right answers averaged 0.82 and 0.75.
    calib_weights: Array | None = None

    @classmethod
    def default(
        cls,
        signals: Sequence[str],
        fields: Sequence[str],
        *,
        signal_weights: Mapping[str, float] | None = None,
    ) -> FusionModel:
        """Untuned: each column weighted by its signal's weight in `signal_weights` (default
        `BALANCED_SIGNAL_WEIGHT`; 1 for a signal not named)."""
        names = tuple(f"{s}.{f}" for s in signals for f in fields)
        chosen = BALANCED_SIGNAL_WEIGHT if signal_weights is None else signal_weights
        weights = np.array([chosen.get(n.split(".")[0], 1.0) for n in names])
        calib = (*CALIBRATION_FEATURES, *(f"raw.{s}" for s in signals if s in ABSOLUTE_SIGNALS))
        n = len(calib)
        # Neutral guess until fitted: confidence rises with the margin to the runner-up.
        coef = np.zeros(n)
        coef[1] = 1.5
        return cls(
            names, weights, calib, np.zeros(n), np.ones(n), coef, -1.0, "untrained (z-score sum)"
        )

    def fused(self, columns: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Ranking score of each entry from its z-score columns (entries x rank_features)."""
        return np.asarray(columns @ self.weights, dtype=np.float64)

    def calibration_score(self, columns: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """The score whose value and margin the calibrator reads (see `calib_weights`)."""
        if self.calib_weights is None:
            return self.fused(columns)
        return np.asarray(columns @ self.calib_weights, dtype=np.float64)

    def confidence(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """P(entry is right) for rows of calibration features (rows x calibration_features)."""
        z = (features - self.calib_mean) / self.calib_scale
        logit = z @ self.calib_coef + self.calib_intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30))), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank_features": list(self.rank_features),
            "weights": self.weights.tolist(),
            "calibration_features": list(self.calibration_features),
            "calib_mean": self.calib_mean.tolist(),
            "calib_scale": self.calib_scale.tolist(),
            "calib_coef": self.calib_coef.tolist(),
            "calib_intercept": self.calib_intercept,
            "trained_on": self.trained_on,
            "notes": self.notes,
            **(
                {"calib_weights": self.calib_weights.tolist()}
                if self.calib_weights is not None
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionModel:
        try:
            return cls(
                tuple(data["rank_features"]),
                np.asarray(data["weights"], dtype=np.float64),
                tuple(data["calibration_features"]),
                np.asarray(data["calib_mean"], dtype=np.float64),
                np.asarray(data["calib_scale"], dtype=np.float64),
                np.asarray(data["calib_coef"], dtype=np.float64),
                float(data["calib_intercept"]),
                str(data.get("trained_on", "")),
                dict(data.get("notes", {})),
                None
                if data.get("calib_weights") is None
                else np.asarray(data["calib_weights"], dtype=np.float64),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise CalibrationError(
                f"not a fusion model: {e}; save one with FusionModel.save"
            ) from e

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> FusionModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise CalibrationError(f"{path}: cannot read the fusion model: {e}") from e
        return cls.from_dict(data)

    def check(self, signals: Sequence[str], fields: Sequence[str]) -> None:
        """Refuse a model fitted for other signals or fields than the index has."""
        expected = tuple(f"{s}.{f}" for s in signals for f in fields)
        if self.rank_features != expected:
            raise CalibrationError(
                f"fusion model was fitted for {list(self.rank_features)} but the index has "
                f"{list(expected)}; refit it for this index (fit_fusion)"
            )
