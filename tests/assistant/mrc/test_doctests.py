"""The examples in the MRC package's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "assistant.mrc.analysis",
    "assistant.mrc.lexical",
    "assistant.mrc.metrics",
    "assistant.mrc.passage",
    "assistant.mrc.question",
    "assistant.mrc.reader",
    "assistant.mrc.sentences",
    "assistant.mrc.squad",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
