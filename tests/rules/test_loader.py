"""Loading rule files: formats, and every problem reported at once with file and rule id."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.errors import RuleLoadError
from rules.loader import bundled_paths, check_rules, load_rules

GOOD = """
locale: ko
rules:
  - id: hi
    patterns: ["안녕"]
    responses: ["안녕하세요!"]
"""

BAD = """
rules:
  - id: dup
    patterns: ["hello"]
    responses: ["hi"]
  - id: dup
    patterns: ["hey"]
    responses: ["hi"]
  - id: brackets
    patterns: ["(a|b", "ok [yes"]
    responses: ["fine"]
  - id: captures
    patterns: ["call me {name}", "hello"]
    responses: ["hi {nmae}"]
  - id: empty
    patterns: ["bye"]
    responses: []
  - id: blank
    patterns: ["later"]
    responses: ["  "]
  - id: typo_key
    patterns: ["x"]
    responses: ["y"]
    prority: 3
  - patterns: ["no id"]
    responses: ["z"]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_a_directory_and_applies_the_file_locale(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yml", "- id: bye\n  patterns: ['bye']\n  responses: ['Bye!']\n")
    engine = load_rules(tmp_path)
    assert len(engine) == 2
    assert (engine.get("hi") or pytest.fail()).locale == "ko"
    assert (engine.get("bye") or pytest.fail()).locale is None


def test_every_problem_is_reported_with_file_and_rule_id(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", BAD)
    with pytest.raises(RuleLoadError) as caught:
        load_rules(path)
    found = {(p.rule_id, p.message.split(":")[0]) for p in caught.value.problems}
    assert all(p.source == str(path) for p in caught.value.problems)
    assert ("dup", "duplicate id; first defined in " + str(path).split(":")[0]) in found
    assert ("brackets", "patterns[0]") in found and ("brackets", "patterns[1]") in found
    assert ("captures", "responses[0]") in found
    assert ("empty", "responses") in found
    assert ("blank", "responses[0]") in found
    assert ("typo_key", "prority") in found
    assert ("(no id)", "id") in found
    message = str(caught.value)
    assert "uses {nmae}, which pattern 'call me {name}' does not capture" in message
    assert "pattern 'hello' does not capture (it captures: nothing)" in message
    assert "unbalanced '('" in message and "unbalanced '['" in message


def test_duplicate_ids_across_files_name_the_first_file(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    problems = check_rules([tmp_path])
    assert [p.message for p in problems] == [f"duplicate id; first defined in {first}"]


def test_duplicate_follow_up_ids_are_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "- id: a\n  patterns: [x]\n  responses: [y]\n  next:\n    - {id: a, patterns: [z], responses: [w]}\n",
    )
    assert [p.rule_id for p in check_rules([tmp_path])] == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [\n", "not valid YAML"),
        ("42\n", "expected a list of rules"),
        ("- just a string\n", "a rule must be a mapping"),
        ("rules: []\nextra: 1\n", "extra: Extra inputs are not permitted"),
    ],
)
def test_file_level_problems(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "x.yaml", text)
    problems = check_rules([tmp_path])
    assert len(problems) == 1 and message in problems[0].message


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    problems = check_rules([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [p.message.split(";")[0] for p in problems] == [
        "not found",
        "directory holds no *.yaml or *.aiml rule files",
    ]


def test_unknown_bundled_locale_says_which_exist() -> None:
    with pytest.raises(ValueError, match="bundled: \\['ko', 'en'\\]"):
        bundled_paths("fr")
