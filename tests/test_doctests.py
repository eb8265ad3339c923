"""Docs that run: every docstring example in the four packages is executed.

Modules are found by walking the packages, so a new module's examples are tested without being
listed anywhere.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("assistant", "rules", "faq_index", "connectors")
SKIP = ("__main__", ".migrations")  # running these has effects: the CLI, Alembic's environment


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        found.append(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if not any(part in info.name for part in SKIP):
                found.append(info.name)
    return sorted(found)


MODULES = modules()


def test_every_package_has_examples() -> None:
    tested = {
        name.split(".")[0]
        for name in MODULES
        if doctest.DocTestFinder().find(importlib.import_module(name))
    }
    assert tested == set(PACKAGES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
