"""The usage examples in the docstrings of faq_index run as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import faq_index

MODULES = [
    "faq_index",
    *sorted(
        m.name
        for m in pkgutil.walk_packages(faq_index.__path__, "faq_index.")
        if not m.name.rsplit(".", 1)[-1].startswith("_")
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
