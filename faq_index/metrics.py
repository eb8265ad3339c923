"""Evaluation metrics of FAQ retrieval and of calibrated confidences.

>>> accuracy_at_1([["a", "b"], ["c"]], ["a", "b"])
0.5
>>> mrr_at_k([["a", "b"], ["c", "b"]], ["b", "b"])
0.5
>>> round(expected_calibration_error(np.array([0.9, 0.9, 0.2]), np.array([1, 0, 0])), 3)
0.333
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["accuracy_at_1", "expected_calibration_error", "mrr_at_k", "percentile_ms"]


def accuracy_at_1(ranked: Sequence[Sequence[str]], expected: Sequence[str | None]) -> float:
    if not expected:
        return 0.0
    right = sum(bool(r) and r[0] == e for r, e in zip(ranked, expected, strict=True))
    return right / len(expected)


def mrr_at_k(ranked: Sequence[Sequence[str]], expected: Sequence[str | None], k: int = 10) -> float:
    if not expected:
        return 0.0
    total = 0.0
    for r, e in zip(ranked, expected, strict=True):
        top = list(r[:k])
        if e in top:
            total += 1.0 / (top.index(e) + 1)
    return total / len(expected)


def expected_calibration_error(
    confidence: npt.NDArray[np.float64], correct: npt.NDArray[np.int_], bins: int = 10
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    if confidence.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(float(correct[mask].mean()) - float(confidence[mask].mean()))
    return float(total)


def percentile_ms(times_ms: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(times_ms), q)) if times_ms else 0.0
