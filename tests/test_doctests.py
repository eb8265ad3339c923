"""Docs that run: every docstring example in the four packages is executed.

Modules are found by walking the packages, so a new module's examples are tested without being
listed anywhere.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ("assistant", "rules", "faq_index", "connectors")
SKIP = ("__main__", ".migrations")  # running these has effects: the CLI, Alembic's environment
OPTIONAL = ("torch",)  # extras that some modules need (assistant.mrc.e5.torch_model: `train`)


def _module(name: str) -> ModuleType | None:
    """The module, or None when it needs an optional extra that is not installed."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name in OPTIONAL:
            return None
        raise


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
        if (module := _module(name)) is not None and doctest.DocTestFinder().find(module)
    }
    assert tested == set(PACKAGES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = _module(name)
    if module is None:
        pytest.skip(f"{name} needs an optional extra that is not installed")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
