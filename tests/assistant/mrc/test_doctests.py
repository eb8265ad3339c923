"""The examples in the MRC package's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "assistant.mrc",
    "assistant.mrc.documents",
    "assistant.mrc.evaluation",
    "assistant.mrc.factory",
    "assistant.mrc.retrieval",
    "assistant.mrc.splitting",
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


def test_readme_configuration_is_valid() -> None:
    from pathlib import Path

    import yaml

    from assistant.skills.mrc import MrcOptions

    readme = (Path(__file__).parents[3] / "assistant" / "mrc" / "README.md").read_text("utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    [skill] = yaml.safe_load(block)["skills"]
    assert skill["type"] == "mrc"
    MrcOptions.model_validate(skill["options"])
