"""The configuration example in the MRC README is valid."""

from __future__ import annotations


def test_readme_configuration_is_valid() -> None:
    from pathlib import Path

    import yaml

    from assistant.skills.mrc import MrcOptions

    readme = (Path(__file__).parents[3] / "assistant" / "mrc" / "README.md").read_text("utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    [skill] = yaml.safe_load(block)["skills"]
    assert skill["type"] == "mrc"
    MrcOptions.model_validate(skill["options"])
