"""The examples in the core's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["assistant.types", "assistant.context", "assistant.normalize", "assistant.skill"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
