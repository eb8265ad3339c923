"""Readers by their configuration name: `lexical` or `transformers:<local checkpoint dir>`.

>>> make_reader("lexical").name
'lexical'
"""

from __future__ import annotations

from pathlib import Path

from assistant.mrc.errors import ReaderError
from assistant.mrc.reader import Reader

__all__ = ["READER_NAMES", "make_reader"]

READER_NAMES = ("lexical", "transformers:<checkpoint dir>")


def make_reader(name: str, *, base: Path | None = None) -> Reader:
    """The reader `name` names; a relative checkpoint path is taken from `base`."""
    if name == "lexical":
        from assistant.mrc.lexical import LexicalReader

        return LexicalReader()
    if name.startswith("transformers:"):
        from assistant.mrc.transformers_reader import TransformersReader

        path = Path(name.removeprefix("transformers:")).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        return TransformersReader(path)
    raise ReaderError(f"unknown reader {name!r}; use one of {list(READER_NAMES)}")
