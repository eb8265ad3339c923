from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app

DATA = Path(__file__).parents[1] / "faq_index" / "data"
runner = CliRunner()


def test_eval_faq_reports_metrics_and_writes_predictions(tmp_path: Path) -> None:
    out = tmp_path / "predictions.jsonl"
    result = runner.invoke(
        app,
        [
            "eval", "faq",
            "--entries", str(DATA / "mini.yaml"),
            "--queries", str(DATA / "mini.queries.jsonl"),
            "--predictions", str(out),
            "--encoder", "none",
            "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["queries"] == 5
    assert metrics["accuracy_at_1"] >= 0.6
    assert 0.0 <= metrics["mrr_at_10"] <= 1.0
    assert sum(metrics["decisions"].values()) == 5
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["text"] == "서비스센터 토요일에도 해요?"
    assert set(rows[0]) == {"text", "predicted_id", "confidence", "decision"}
    assert all((r["predicted_id"] is None) == (r["decision"] == "decline") for r in rows)
    right = sum(
        r["predicted_id"] == q["expected_id"]
        for r, q in zip(
            rows,
            map(json.loads, (DATA / "mini.queries.jsonl").read_text(encoding="utf-8").splitlines()),
            strict=True,
        )
    )
    assert metrics["end_to_end_accuracy"] == right / 5
    assert metrics["answerable"] == 4


def test_eval_faq_refuses_a_bad_entries_file(tmp_path: Path) -> None:
    bad = tmp_path / "faq.jsonl"
    bad.write_text('{"id": "a"}\n', encoding="utf-8")
    result = runner.invoke(
        app,
        ["eval", "faq", "--entries", str(bad), "--queries", str(DATA / "mini.queries.jsonl"), "--encoder", "none"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "line 1" in result.output


def test_several_entry_files_each_need_their_option(tmp_path: Path) -> None:
    import yaml

    entries = yaml.safe_load((DATA / "mini.yaml").read_text(encoding="utf-8"))["entries"]
    ko, en = tmp_path / "ko.yaml", tmp_path / "en.yaml"
    for path, part in ((ko, entries[: len(entries) // 2]), (en, entries[len(entries) // 2 :])):
        path.write_text(yaml.safe_dump({"entries": part}, allow_unicode=True), encoding="utf-8")
    queries = str(DATA / "mini.queries.jsonl")
    result = runner.invoke(
        app, ["eval", "faq", "--entries", str(ko), str(en), "--queries", queries]
    )
    assert result.exit_code == 2
    assert "each entry file needs its own --entries" in result.output
    result = runner.invoke(
        app,
        ["eval", "faq", "--entries", str(ko), "--entries", str(en), "--queries", queries, "--encoder", "none", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entries"] == len(entries)


def test_help_names_values_instead_of_printing_types() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "eval", "faq", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert done.returncode == 0
    assert "--entries FILE" in done.stdout and "--answer-threshold X" in done.stdout
    for noise in ("<bool>", "<str>", "<list[Path]>", "<path>", "<float"):
        assert noise not in done.stdout


def test_no_command_prints_types_in_its_help() -> None:
    """Every command's --help, arguments included, names values instead of typer's types."""
    import re

    import typer.main

    noise = re.compile(r"<(bool|str|int|float|path|Path|list\[[^>]*\])[^>]*>|\{[A-Z_]+\}")
    root = typer.main.get_command(app)
    runner = CliRunner()

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, child in getattr(command, "commands", {}).items():
            yield from walk(child, [*path, name])

    paths = list(walk(root, []))
    assert ["keys", "create"] in paths and ["test"] in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert not noise.search(result.output), (path, noise.search(result.output))
    keys_help = runner.invoke(app, ["keys", "create", "--help"]).output
    assert "Usage: assistant keys create [OPTIONS] NAME" in keys_help.replace("root ", "assistant ")
    assert "NAME  Who or what uses the key." in keys_help


def test_eval_is_registered_on_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "eval", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "faq" in done.stdout


def test_eval_faq_saves_the_run_for_the_console(tmp_path: Path) -> None:
    import asyncio

    from assistant.store import SqlStore
    from assistant.store.eval_runs import EvalRunStore

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    result = runner.invoke(
        app,
        [
            "eval", "faq",
            "--entries", str(DATA / "mini.yaml"),
            "--queries", str(DATA / "mini.queries.jsonl"),
            "--encoder", "none", "--json",
            "--save", "baseline", "--database-url", url,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)

    async def stored() -> list[object]:
        store = SqlStore(url)
        await store.open()
        try:
            runs = EvalRunStore(store.engine)
            (listed,) = await runs.list()
            return [listed, await runs.get(listed.id)]
        finally:
            await store.close()

    listed, run = asyncio.run(stored())
    assert listed.name == "baseline"  # type: ignore[attr-defined]
    assert run.metrics == metrics  # type: ignore[attr-defined]
    rows = run.rows  # type: ignore[attr-defined]
    assert [r["expected_id"] for r in rows] == [
        "hours",
        "warranty",
        "bluetooth",
        "en-warranty",
        None,
    ]
    assert all(set(r) >= {"text", "predicted_id", "top_id", "confidence", "decision"} for r in rows)


DEMO_FAQ = Path(__file__).parents[2] / "assistant" / "demo_bot" / "faq"


def test_train_faq_fits_on_labelled_queries_for_eval_and_the_bot(tmp_path: Path) -> None:
    from faq_index.fusion import FusionModel

    out = tmp_path / "fusion.json"
    entries = ["--entries", str(DEMO_FAQ / "ko.yaml"), "--entries", str(DEMO_FAQ / "en.yaml")]
    queries = str(DEMO_FAQ / "eval_queries.jsonl")
    result = runner.invoke(
        app,
        ["train", "faq", *entries, "--queries", queries, "--out", str(out), "--encoder", "none", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    model = FusionModel.load(out)
    assert model.trained_on == "queries:eval_queries.jsonl"
    assert model.notes["examples"] == 51
    assert f"ranking: {model.notes['ranking']}" in result.output  # the fit kept, or why not
    result = runner.invoke(
        app,
        ["eval", "faq", *entries, "--queries", queries, "--calibration", str(out), "--encoder", "none", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["calibration"] == "queries:eval_queries.jsonl"
    assert metrics["accuracy_at_1"] >= 0.8


def test_train_faq_names_the_line_of_an_unknown_entry_and_writes_nothing(tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"text": "서비스센터 몇 시까지 해요", "expected_id": "hours"}\n\n'
        '{"text": "보증 기간", "expected_id": "no-such-entry"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "fusion.json"
    args = ["train", "faq", "--entries", str(DATA / "mini.yaml"), "--queries", str(queries), "--out", str(out), "--encoder", "none"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "line 3: 'no-such-entry'" in result.output
    assert not out.exists()
    queries.write_text('{"text": "보증 기간", "expected_id": "warranty"}\n{"text": \n', "utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert not out.exists()
