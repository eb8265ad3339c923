"""`assistant eval mrc` and `assistant import docs`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_eval_mrc_reader_mode_with_predictions(tmp_path: Path) -> None:
    out = tmp_path / "predictions.json"
    result = runner.invoke(
        app,
        [
            "eval",
            "mrc",
            "--data",
            str(DATA / "mini_squad.json"),
            "--predictions",
            str(out),
            "--reader",
            "lexical",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["mode"] == "reader" and metrics["questions"] == 4
    assert metrics["f1"] == 100.0 and metrics["exact_match"] == 100.0
    assert metrics["sentence_hit"] == 1.0
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "k1": "김민호",
        "k2": "1998년",
        "k3": "480km",
        "e1": "Kim Minho",
    }


def test_eval_mrc_open_mode() -> None:
    result = runner.invoke(
        app, ["eval", "mrc", "--data", str(DATA / "mini_squad.json"), "--mode", "open", "--json"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["mode"] == "open" and metrics["passages"] == 3
    assert metrics["retrieved_at_k"] == 1.0
    assert metrics["f1"] >= 75.0


def test_eval_mrc_open_mode_asks_a_subset_of_all_paragraphs() -> None:
    data = str(DATA / "mini_squad.json")
    result = runner.invoke(
        app, ["eval", "mrc", "--data", data, "--mode", "open", "--every", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    # every paragraph of the file is the corpus, though only 2 of the 4 questions are asked
    assert metrics["questions"] == 2 and metrics["passages"] == 3
    assert metrics["recall@1"] <= metrics["recall@3"] == metrics["recall@10"] == 1.0


def test_eval_mrc_reads_with_the_skills_reader_by_default() -> None:
    result = runner.invoke(app, ["eval", "mrc", "--data", str(DATA / "mini_squad.json"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["reader"] == "e5"  # the demo bot's MRC skill reads with e5


def test_eval_mrc_refuses_missing_data_and_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "mrc", "--data", str(tmp_path / "absent.json")])
    assert result.exit_code == 2  # a typo is no success
    assert "--data" in result.output and "absent.json" in result.output
    assert "does not exist" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"paragraphs": [{}]}]}', encoding="utf-8")
    result = runner.invoke(app, ["eval", "mrc", "--data", str(bad)])
    assert result.exit_code == 2 and "SQuAD" in result.output
    result = runner.invoke(app, ["eval", "mrc", "--data", str(bad), "--mode", "closed"])
    assert result.exit_code != 0


def _bot(tmp_path: Path, yaml_text: str = "name: t\n") -> Path:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yaml").write_text(yaml_text, encoding="utf-8")
    return bot


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "incoming"
    (docs / "sub").mkdir(parents=True)
    (docs / "guide.md").write_text("# 안내\n\n내용입니다.", encoding="utf-8")
    (docs / "sub" / "page.html").write_text("<h1>Page</h1><p>Text.</p>", encoding="utf-8")
    (docs / "logo.png").write_bytes(b"\x89PNG")
    return docs


def test_import_docs_copies_and_tells_how_to_use_them(tmp_path: Path) -> None:
    bot, docs = _bot(tmp_path), _docs(tmp_path)
    result = runner.invoke(
        app, ["import", "docs", str(docs), "--bot", str(bot), "--into", "manual"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 document(s), 2 passage(s)" in result.output
    assert (bot / "manual" / "guide.md").is_file() and (
        bot / "manual" / "sub" / "page.html"
    ).is_file()
    assert not (bot / "manual" / "logo.png").exists()
    assert "type: mrc" in result.output and "documents: [manual]" in result.output
    again = runner.invoke(app, ["import", "docs", str(docs), "--bot", str(bot), "--into", "manual"])
    assert again.exit_code == 2 and "--overwrite" in again.output
    forced = runner.invoke(
        app, ["import", "docs", str(docs), "--bot", str(bot), "--into", "manual", "--overwrite"]
    )
    assert forced.exit_code == 0


def test_import_docs_is_quiet_when_the_bot_reads_them(tmp_path: Path) -> None:
    bot = _bot(tmp_path, "name: t\nskills:\n  - type: mrc\n    options:\n      documents: docs\n")
    result = runner.invoke(app, ["import", "docs", str(_docs(tmp_path)), "--bot", str(bot)])
    assert result.exit_code == 0, result.output
    assert "type: mrc" not in result.output


def test_import_docs_refuses_unreadable_documents_and_non_bots(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    (docs / "broken.txt").write_bytes(b"\xff\xfe\x00")
    bot = _bot(tmp_path)
    result = runner.invoke(app, ["import", "docs", str(docs), "--bot", str(bot)])
    assert result.exit_code == 2 and "nothing was imported" in result.output
    assert not (bot / "docs").exists()
    result = runner.invoke(app, ["import", "docs", str(docs), "--bot", str(tmp_path)])
    assert result.exit_code == 2 and "bot.yaml" in result.output
