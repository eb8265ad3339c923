"""Match one compiled token sequence against an utterance's tokens.

Wildcards and captures are lazy (they take as few tokens as the rest of the sequence allows),
so `{name}` at the end of a pattern takes the rest of the utterance.

    >>> from rules.pattern import compile_pattern
    >>> seq = compile_pattern("my name is {name}").sequences[0]
    >>> fit = match_sequence(seq, ["hi", "my", "name", "is", "kim", "jisoo"])
    >>> fit is None  # the pattern has no leading wildcard, so "hi" is in the way
    True
    >>> match_sequence(seq, ["my", "name", "is", "kim", "jisoo"])
    SequenceFit(captures={'name': (3, 5)}, wildcard_tokens=2)
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass

from rules.pattern import CAPTURE, LITERAL, Sequence

__all__ = ["SequenceFit", "match_sequence"]


@dataclass(frozen=True, slots=True)
class SequenceFit:
    """How a sequence fit: capture spans as token index ranges, tokens taken by wildcards."""

    captures: dict[str, tuple[int, int]]
    wildcard_tokens: int


def match_sequence(sequence: Sequence, keys: Seq[str]) -> SequenceFit | None:
    """The fit of `sequence` over all of `keys`, or None when it does not match."""
    elements = sequence.elements
    if sequence.exact:
        return SequenceFit({}, 0) if sequence.literals == tuple(keys) else None
    spans: dict[str, tuple[int, int]] = {}
    n_elements, n_keys = len(elements), len(keys)

    # Tokens the elements after position e need at least: lets wildcards stop early.
    need = [0] * (n_elements + 1)
    for e in range(n_elements - 1, -1, -1):
        kind, value = elements[e]
        need[e] = need[e + 1] + (1 if kind != 1 or value == 1 else 0)

    def walk(e: int, k: int) -> bool:
        if e == n_elements:
            return k == n_keys
        if n_keys - k < need[e]:
            return False
        kind, value = elements[e]
        if kind == LITERAL:
            return keys[k] == value and walk(e + 1, k + 1)
        least = 0 if kind != CAPTURE and value == 0 else 1
        for end in range(k + least, n_keys - need[e + 1] + 1):
            if walk(e + 1, end):
                if kind == CAPTURE:
                    spans[str(value)] = (k, end)
                return True
        return False

    if not walk(0, 0):
        return None
    wildcard = n_keys - len(sequence.literals)
    return SequenceFit(spans, wildcard)
