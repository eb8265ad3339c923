from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant import __version__
from assistant.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"assistant {__version__}"


def test_chat_shows_each_reply_with_route_and_confidence(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    (tmp_path / "bot.yaml").write_text("name: small\nskills: [{type: smalltalk}]\n")
    result = runner.invoke(
        app,
        ["chat", "--bot", str(tmp_path), "--database-url", url, "--session", "term-1"],
        input="안녕하세요\n\n   \nxyzzy plugh\n/quit\nnot read\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("you>") == 2
    assert "route=smalltalk confidence=0.9" in result.output
    assert "route=fallback confidence=0.00" in result.output
    assert "not read" not in result.output


def test_chat_reports_a_bad_bot_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["chat", "--bot", str(tmp_path)])
    assert result.exit_code == 2
    assert "bot.yaml: not found" in result.output
    assert "Traceback" not in result.output
