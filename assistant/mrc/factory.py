"""Readers by their configuration name.

- `lexical`: the built-in reader without a neural model (the MRC skill's fallback);
- `e5`: the neural reader with the span model that ships with the project (the MRC skill's
  default);
- `e5:<span model .npz>`: the neural reader with a span model of your own (`assistant train mrc`);
- `e5-int8`, `e5-int8:<span model .npz>`: the same with most matrix products in 8 bits on ONNX
  Runtime (0.63 of the time; it answers a little less often, F1 0.7 lower);
- `transformers:<local checkpoint dir>`: any extractive-QA checkpoint (extra `transformers`).

`shared_reader` gives the process's one reader of a name, loaded: every MRC skill (and every
bot of the process) that names it reads with the same model.

>>> make_reader("lexical").name
'lexical'
>>> shared_reader("lexical") is shared_reader("lexical")
True
"""

from __future__ import annotations

import functools
from pathlib import Path

from assistant.mrc.errors import ReaderError
from assistant.mrc.reader import Reader

__all__ = ["READER_NAMES", "make_reader", "shared_reader"]

READER_NAMES = (
    "lexical",
    "e5",
    "e5:<span model .npz>",
    "e5-int8",
    "e5-int8:<span model .npz>",
    "transformers:<checkpoint dir>",
)


def _path(text: str, base: Path | None) -> Path:
    path = Path(text).expanduser()
    return base / path if base is not None and not path.is_absolute() else path


def make_reader(name: str, *, base: Path | None = None) -> Reader:
    """The reader `name` names; a relative path is taken from `base` (the bot's directory)."""
    family, _, file = name.partition(":")
    if family in ("e5", "e5-int8"):
        from assistant.mrc.e5_reader import E5Reader

        int8 = family == "e5-int8"
        if file:
            return E5Reader(_path(file, base), int8=int8)
        if not E5Reader.available():
            raise ReaderError(
                "the e5 reader's span model is not installed; reinstall the package, or train "
                "one (`assistant train mrc`) and give it as e5:<file>"
            )
        return E5Reader(int8=int8)
    if name == "lexical":
        from assistant.mrc.lexical import LexicalReader

        return LexicalReader()
    if name.startswith("transformers:"):
        from assistant.mrc.transformers_reader import TransformersReader

        return TransformersReader(_path(name.removeprefix("transformers:"), base))
    raise ReaderError(f"unknown reader {name!r}; use one of {list(READER_NAMES)}")


@functools.cache
def shared_reader(name: str, *, base: Path | None = None) -> Reader:
    """The process's one reader `name` (a relative path taken from `base`), loaded now (its
    `warm_up`, when it has one) rather than in the first question's time budget."""
    reader = make_reader(name, base=base)
    warm_up = getattr(reader, "warm_up", None)
    if callable(warm_up):
        warm_up()
    return reader
