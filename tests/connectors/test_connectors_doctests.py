"""The examples in the connectors' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "connectors.config",
    "connectors.errors",
    "connectors.kakao",
    "connectors.payload",
    "connectors.rasa",
    "connectors.text",
    "connectors.webhooks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
