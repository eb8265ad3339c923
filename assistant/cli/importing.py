"""`assistant import ...`: bring data into a bot directory.

    assistant import docs DIR [--bot BOT] [--into manual] [--overwrite]

`docs` reads every Markdown, text and HTML file under DIR (refusing the whole import if one
cannot be read), copies them into the bot's `--into` directory keeping their relative paths,
and says how many passages they make. When the bot's `bot.yaml` has no `mrc` skill reading that
directory, it prints the entry to add.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import yaml

from assistant.cli.plain_help import PlainHelp

app = typer.Typer(rich_markup_mode=None, help="Import data into a bot.", no_args_is_help=True)


@app.command("docs", cls=PlainHelp)
def docs(
    source: Annotated[
        Path, typer.Argument(metavar="PATH", help="Directory (or one file) of documents.")
    ],
    bot: Annotated[
        str | None,
        typer.Option(
            "--bot", metavar="DIR", help="Bot directory (default: $ASSISTANT_BOT or the demo bot)."
        ),
    ] = None,
    into: Annotated[
        str, typer.Option(metavar="DIR", help="Directory inside the bot to copy them to.")
    ] = "docs",
    overwrite: Annotated[bool, typer.Option(help="Replace files that already exist.")] = False,
) -> None:
    """Copy documents (.md, .txt, .html) into a bot for its MRC skill."""
    from assistant.config import demo_bot_dir
    from assistant.mrc.documents import FORMATS, load_documents
    from assistant.mrc.errors import MrcError
    from assistant.mrc.splitting import split_documents
    from assistant.settings import Settings

    bot_dir = Path(Settings.from_env(bot_dir=bot).bot_dir or demo_bot_dir())
    if not (bot_dir / "bot.yaml").is_file():
        _fail(f"{bot_dir}: not a bot directory (no bot.yaml); give one with --bot")
    if not source.exists():
        _fail(f"{source}: no such file or directory")
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
        base = source
    else:
        files, base = [source], source.parent
    if not files:
        _fail(f"{source}: no documents ({', '.join(sorted(FORMATS))})")
    try:
        documents = load_documents(files)
        passages = split_documents(documents)
    except MrcError as e:
        _fail(f"{e} (nothing was imported)")
    target = bot_dir / into
    clashes = [f for f in files if (target / f.relative_to(base)).exists()]
    if clashes and not overwrite:
        _fail(
            f"{len(clashes)} file(s) already in {target}, e.g. {clashes[0].relative_to(base)}; "
            "pass --overwrite to replace them"
        )
    for file in files:
        destination = target / file.relative_to(base)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)
    typer.echo(f"imported {len(documents)} document(s), {len(passages)} passage(s) into {target}")
    if not _reads(bot_dir, into):
        typer.echo(
            "bot.yaml has no mrc skill reading them yet; add under skills:\n"
            f"  - type: mrc\n    options:\n      documents: [{into}]"
        )


def _reads(bot_dir: Path, into: str) -> bool:
    """Whether bot.yaml has an mrc skill that lists `into` (or a directory above it)."""
    try:
        raw = yaml.safe_load((bot_dir / "bot.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return False
    wanted = (bot_dir / into).resolve()
    for skill in raw.get("skills") or []:
        if not isinstance(skill, dict) or skill.get("type") != "mrc":
            continue
        listed = (skill.get("options") or {}).get("documents") or []
        for item in [listed] if isinstance(listed, str) else listed:
            path = (bot_dir / str(item)).resolve()
            if path == wanted or path in wanted.parents:
                return True
    return False


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)
