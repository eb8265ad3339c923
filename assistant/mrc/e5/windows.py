"""Question + context windows: the input the span model reads, for training and reading alike.

A window is `<s> query: QUESTION </s> </s> CONTEXT-PIECE </s>`, at most `max_length` tokens.
A context longer than one window is cut into windows that overlap by `stride` tokens, so an
answer near a cut is whole in at least one of them. Each window keeps, per context token, its
character span in the context, to map a predicted span back to characters.

    >>> from faq_index.e5.tokenizer import Encoding
    >>> context = Encoding(ids=tuple(range(10, 20)), offsets=tuple((i, i + 1) for i in range(10)))
    >>> [w.ids for w in make_windows([7], context, bos=0, eos=2, max_length=10, stride=2)]
    [[0, 7, 2, 2, 10, 11, 12, 13, 14, 2], [0, 7, 2, 2, 13, 14, 15, 16, 17, 2], [0, 7, 2, 2, 16, 17, 18, 19, 2]]
"""

from __future__ import annotations

from dataclasses import dataclass

from faq_index.e5.tokenizer import Encoding

__all__ = ["QUESTION_PREFIX", "Window", "answer_tokens", "make_windows"]

QUESTION_PREFIX = "query: "  # as e5 was trained to read queries


@dataclass(frozen=True, slots=True)
class Window:
    """Token ids of one window; context tokens are `ids[context_start:-1]`, and
    `offsets[i]` is the character span of `ids[context_start + i]` in the context."""

    ids: list[int]
    context_start: int
    offsets: tuple[tuple[int, int], ...]
    first_token: int  # index of the window's first context token in the whole context

    @property
    def context_end(self) -> int:
        """Index after the last context token (the closing </s>)."""
        return self.context_start + len(self.offsets)

    def label(self, tokens: tuple[int, int] | None) -> tuple[int, int]:
        """Sequence positions of the answer whose first and last context tokens are `tokens`
        (indices into the whole context's encoding); (0, 0), the <s> token, when the answer
        is not whole in this window (or there is none)."""
        if tokens is None:
            return 0, 0
        first, last = tokens[0] - self.first_token, tokens[1] - self.first_token
        if first < 0 or last >= len(self.offsets):
            return 0, 0
        return self.context_start + first, self.context_start + last


def answer_tokens(context: Encoding, start: int, end: int) -> tuple[int, int] | None:
    """The first and last tokens of `context` that hold characters [start, end), or None."""
    inside = [i for i, (s, e) in enumerate(context.offsets) if s < end and e > start and e > s]
    return (inside[0], inside[-1]) if inside else None


def make_windows(
    question: list[int] | tuple[int, ...],
    context: Encoding,
    *,
    bos: int,
    eos: int,
    max_length: int = 384,
    stride: int = 128,
) -> list[Window]:
    """Windows over `context` (always at least one, maybe with no context tokens)."""
    size = max_length - len(question) - 4
    if size <= stride:
        raise ValueError(
            f"windows of {max_length} tokens leave {size} for the context: fewer than the "
            f"stride ({stride}); shorten the question or lower the stride"
        )
    head = [bos, *question, eos, eos]
    windows: list[Window] = []
    position = 0
    total = len(context.ids)
    while True:
        end = min(position + size, total)
        windows.append(
            Window(
                ids=[*head, *context.ids[position:end], eos],
                context_start=len(head),
                offsets=context.offsets[position:end],
                first_token=position,
            )
        )
        if end >= total:
            return windows
        position = end - stride
