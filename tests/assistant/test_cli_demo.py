"""`assistant demo car|bluetooth`: the sessions play against a real server (test skills)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app
from tests.connectors.helpers import car_skills, serving
from tests.live import free_port

runner = CliRunner()


def test_demo_car_plays_a_conversation_and_a_voice_session(tmp_path: Path) -> None:
    with serving(tmp_path, car_skills) as base:
        result = runner.invoke(app, ["demo", "car", "--url", base])
    assert result.exit_code == 0, result.output
    out = result.output
    # parked, then moving: the same question, the whole answer and then the essential sentence
    assert "restricted=False" in out and "restricted=True" in out
    assert "card: 가까운 서비스센터" in out
    assert "directive: navigation.set_destination" in out
    assert "Voice session over a WebSocket" in out and "server: ended" in out
    assert "a malformed turn: hypotheses.0.confidence: must be between 0 and 1" in out


def test_demo_bluetooth_plays_a_hands_free_session(tmp_path: Path) -> None:
    with serving(tmp_path, car_skills) as base:
        result = runner.invoke(app, ["demo", "bluetooth", "--url", base])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "AG +BRSF: 4" in out and "HF AT+BVRA=1" in out
    assert "reply: 한빛모터스 서비스센터는 평일 오전 8시 30분부터" in out
    assert "HF AT+BVRA=7\n  AG ERROR" in out
    assert "reconnected (link 2)" in out and "reply, after the drop:" in out


def test_demo_without_a_server_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["demo", "car", "--url", url])
    assert result.exit_code == 2
    assert "is `assistant serve` running there?" in result.output
