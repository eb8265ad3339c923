"""The README's task example runs: its flows file and its conversation tests, as written."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from assistant.config import load_bot
from assistant.conversations import run_conversations

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


async def test_the_readme_flows_pass_the_readme_conversations(tmp_path: Path) -> None:
    flows = next(b for b in blocks() if b.startswith("# tasks/flows.yaml"))
    conversations = next(b for b in blocks() if "conversations:" in b)
    config = next(b for b in blocks() if b.startswith("# bot.yaml"))
    options = yaml.safe_load(config)["skills"][0]["options"]
    assert options["flows"] == ["tasks/flows.yaml"]
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "flows.yaml").write_text(flows, encoding="utf-8")
    (tmp_path / "bot.yaml").write_text(
        "name: readme\nskills:\n  - type: task\n"
        "    options: {flows: [tasks/flows.yaml], encoder: hashing}\n",
        encoding="utf-8",
    )
    (tmp_path / "conversations.yaml").write_text(conversations, encoding="utf-8")
    report = await run_conversations(load_bot(tmp_path), [tmp_path / "conversations.yaml"])
    failed = [
        f"{r.conversation} #{r.index} {r.user}: {r.failures} ({r.reply})" for r in report.failed
    ]
    assert not failed, failed
    assert len(report.results) == 6
