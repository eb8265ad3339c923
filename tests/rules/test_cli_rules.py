"""`assistant rules check|match|convert` (assistant/cli/rules.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app
from rules import load_rules

runner = CliRunner()
SAMPLE = Path(__file__).parent / "data" / "sample.aiml"

RULES = """
- id: hi
  patterns: ["hello"]
  responses: ["Hi!"]
- id: name
  patterns: ["my name is {name}"]
  responses: ["Hello, {name}."]
- id: tired
  patterns: ["[*] tired [*]"]
  when: {device.is_driving: true}
  responses: ["Take a break."]
"""


def test_check_passes_good_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(RULES, encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "ok: 3 rules" in result.output


def test_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "- {id: x, patterns: ['(a'], responses: ['ok']}\n- {id: x, patterns: [b], responses: []}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "duplicate id" in result.output
    assert "unbalanced '('" in result.output
    assert "responses: empty" in result.output
    assert "3 problems found" in result.output


def test_match_prints_one_json_line_per_input_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(RULES, encoding="utf-8")
    result = runner.invoke(
        app,
        ["rules", "match", "--rules", str(tmp_path)],
        input="Hello\n\nmy name is Mina Kim\nso tired\n",
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines == [
        {"rule_id": "hi", "response": "Hi!", "captures": {}},
        None,
        {"rule_id": "name", "response": "Hello, Mina Kim.", "captures": {"name": "Mina Kim"}},
        None,
    ]
    driving = runner.invoke(
        app, ["rules", "match", "--rules", str(tmp_path), "--driving"], input="so tired\n"
    )
    assert json.loads(driving.output)["rule_id"] == "tired"


def test_match_with_bundled_korean_set() -> None:
    result = runner.invoke(app, ["rules", "match", "--bundled", "ko"], input="심심해요\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rule_id"] == "boredom.basic"


def test_match_refuses_missing_rules() -> None:
    result = runner.invoke(app, ["rules", "match"], input="hi\n")
    assert result.exit_code == 2
    assert "--bundled" in result.output


def test_explain_shows_the_readings_and_tries_texts() -> None:
    result = runner.invoke(
        app, ["rules", "explain", "[*] 심심해 [*]", "아 진짜 심심하네", "배고파"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "[*] 심심 [*]"
    assert lines[1] == "'아 진짜 심심하네' -> [아 진짜 심심]: match {}"
    assert lines[2] == "'배고파' -> [배고프]: no match"
    bad = runner.invoke(app, ["rules", "explain", "(a|b"])
    assert bad.exit_code == 1 and "unbalanced '('" in bad.output


def test_convert_aiml_to_yaml_that_loads_back(tmp_path: Path) -> None:
    out = tmp_path / "sample.yaml"
    result = runner.invoke(app, ["rules", "convert", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    engine = load_rules(out)
    assert len(engine) == 10
    found = engine.match("are we there yet", facts={"topic": "driving", "slots.name": "Mina"})
    assert found is not None and found.response == "Almost. Mina, keep your eyes on the road."
