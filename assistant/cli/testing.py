"""`assistant test [--bot DIR] FILE...`: run conversation tests (YAML) against a bot.

Each turn is reported as it was checked (route, reply fragments, slots, directives, hand-off);
the exit code is 1 when any check failed, 2 when a file or the bot cannot be used, so a bot's
author can run it in CI. The format is described in `assistant.conversations`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


def test(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="Conversation test files (YAML).")
    ],
    bot: Annotated[
        str | None,
        typer.Option(
            "--bot", metavar="DIR", help="Bot directory (default: $ASSISTANT_BOT or the demo bot)."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the reply of every turn.")
    ] = False,
) -> None:
    """Run conversation tests and report pass/fail per turn."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from assistant.config import load_bot
    from assistant.conversations import run_conversations
    from assistant.errors import AssistantError
    from assistant.settings import Settings

    console = Console(highlight=False, soft_wrap=True)
    try:
        loaded = load_bot(Settings.from_env(bot_dir=bot).bot_dir)
        report = asyncio.run(run_conversations(loaded, files))
    except AssistantError as e:
        Console(stderr=True, highlight=False).print(f"[red]error:[/] {e}", soft_wrap=True)
        raise typer.Exit(code=2) from e
    current = None
    for result in report.results:
        if (result.file, result.conversation) != current:
            current = (result.file, result.conversation)
            console.print(f"[bold]{result.conversation}[/] [dim]({result.file})[/]")
        mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {result.index}. {result.user} [dim]-> {result.route}[/]")
        if verbose or not result.passed:
            console.print(f"       [dim]{result.reply}[/]")
        for failure in result.failures:
            console.print(f"       [red]{failure}[/]")
    failed = len(report.failed)
    passed = len(report.results) - failed
    console.print(f"{passed} passed, {failed} failed")
    if failed or not report.results:
        raise typer.Exit(code=1)
