"""`assistant test`: conversation tests from the command line, pass/fail per turn."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app

BOT = """
name: cli-test
locales: [ko, en]
skills:
  - type: smalltalk
    options: {bundled: [], rules: [rules.yaml]}
"""
RULES = """
locale: ko
rules:
  - id: hi
    patterns: [안녕]
    responses: [안녕하세요!]
"""
PASSING = """
conversations:
  - name: 인사
    turns:
      - user: 안녕
        route: smalltalk
        reply: 안녕하세요
"""
FAILING = """
conversations:
  - name: 인사
    turns:
      - user: 안녕
        route: faq:*
        reply: [반가워요]
      - user: 안녕
        reply: 안녕하세요
"""


def bot(tmp_path: Path) -> Path:
    (tmp_path / "bot.yaml").write_text(BOT, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return tmp_path


def test_passing_conversations_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(PASSING, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["test", "--bot", str(bot(tmp_path)), str(tmp_path / "ok.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "PASS 1. 안녕" in result.output and "1 passed, 0 failed" in result.output


def test_a_failing_turn_is_reported_and_exits_one(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(FAILING, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["test", "--bot", str(bot(tmp_path)), str(tmp_path / "bad.yaml")]
    )
    assert result.exit_code == 1
    assert "FAIL 1. 안녕" in result.output and "PASS 2. 안녕" in result.output
    assert "route is 'smalltalk', expected 'faq:*'" in result.output
    assert "reply does not contain '반가워요'" in result.output
    assert "1 passed, 1 failed" in result.output


def test_a_wrong_file_exits_two_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "wrong.yaml").write_text(
        "conversations:\n  - name: x\n    turns: []\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["test", "--bot", str(bot(tmp_path)), str(tmp_path / "wrong.yaml")]
    )
    assert result.exit_code == 2
    assert "conversations.0.turns" in result.output
