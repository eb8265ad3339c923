"""Errors of the MRC package.

MrcError
├── DocumentError     a document cannot be read or parsed (path, format, what to do)
└── ReaderError       a reader cannot be built or run (missing extra, bad checkpoint)
"""

from __future__ import annotations

__all__ = ["DocumentError", "MrcError", "ReaderError"]


class MrcError(Exception):
    """Base class of the MRC package's errors."""


class DocumentError(MrcError):
    """A document could not be loaded; the message names the file and what to do."""


class ReaderError(MrcError):
    """A reader could not be built or could not read."""
