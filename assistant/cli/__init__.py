"""The `assistant` command.

    assistant serve [--bot DIR] [--host H] [--port P] [--database-url URL]
    assistant chat [--bot DIR] [--session ID]          a conversation in the terminal
    assistant demo car|bluetooth --url URL            car voice and Bluetooth sessions
    assistant test [--bot DIR] FILE...                 conversation tests, pass/fail per turn
    assistant train mrc --data squad.json --out DIR     the MRC reader on your own data
    assistant --version

Sub-commands of other packages are registered below, explicitly, in one place.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from typing import Annotated, Any

import typer
from rich.console import Console

from assistant import __version__, logs
from assistant.errors import AssistantError
from assistant.settings import Settings

app = typer.Typer(
    help="Korean-first conversational assistant backend.",
    # click's plain help: typer's rich panels print every option's Python type (<bool>, <str>,
    # <list[Path]>) where a flag has none and a value is better named (FILE, URL, N)
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# --- sub-commands ------------------------------------------------------------------------------
# (each package's commands: app.add_typer(<module>.app, name="<name>"))
from assistant.cli import demo as demo_cli  # noqa: E402  (after app, which it extends)
from assistant.cli import eval as eval_cli  # noqa: E402
from assistant.cli import importing as importing_cli  # noqa: E402
from assistant.cli import keys as keys_cli  # noqa: E402
from assistant.cli import rules as rules_cli  # noqa: E402
from assistant.cli import testing as testing_cli  # noqa: E402
from assistant.cli import train as train_cli  # noqa: E402
from assistant.cli.plain_help import PlainHelp  # noqa: E402

app.add_typer(demo_cli.app, name="demo")
app.add_typer(eval_cli.app, name="eval")
app.add_typer(importing_cli.app, name="import")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(keys_cli.app, name="keys")
app.command("test", cls=PlainHelp)(testing_cli.test)
app.add_typer(train_cli.app, name="train")

BotOption = Annotated[
    str | None,
    typer.Option(
        "--bot",
        metavar="DIR",
        help="Bot directory with a bot.yaml (default: $ASSISTANT_BOT or the demo bot).",
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="sqlite:///FILE or postgresql://... (default: $ASSISTANT_DATABASE_URL or sqlite:///assistant.db).",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"assistant {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Korean-first conversational assistant backend."""


@app.command()
def serve(
    bot: BotOption = None,
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="Port to listen on.")] = 8000,
    database_url: DatabaseOption = None,
    workers: Annotated[
        int, typer.Option(min=1, metavar="N", help="Server processes sharing the store.")
    ] = 1,
    session_locks: Annotated[
        str | None,
        typer.Option(
            metavar="LOCKS",
            help="local, postgres or a redis:// URL (default: postgres on PostgreSQL, else local).",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(metavar="LEVEL", help="debug, info, warning or error.")
    ] = "info",
    log_format: Annotated[
        str, typer.Option(metavar="FORMAT", help="json (one object a line) or text.")
    ] = "json",
) -> None:
    """Run the HTTP server (REST API at /v1, docs at /docs, metrics at /metrics)."""
    from assistant import malloc
    from assistant.cli import serving
    from assistant.config import load_bot

    settings = Settings.from_env(
        bot_dir=bot, database_url=database_url, session_locks=session_locks
    )
    try:
        load_bot(settings.bot_dir)  # refuse a wrong bot.yaml before anything else
    except AssistantError as e:
        _fail(str(e))
    if (
        workers > 1
        and settings.database_url.startswith("sqlite")
        and not (settings.session_locks or "").startswith("redis")
    ):
        _fail(
            "more than one worker needs a store they can share safely: use a postgresql:// "
            "--database-url, or --session-locks redis://... with SQLite"
        )
    if workers > 1 and not hasattr(os, "fork"):
        _fail("--workers needs a system that can fork processes (Linux, macOS)")
    try:  # before the models load: a port in use is said at once
        sock = serving.listen(host, port)
    except OSError as e:
        _fail(f"cannot listen on {host}:{port}: {e.strerror or e} (is another server there?)")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the models run on one thread each
    malloc.tune()
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # before the metrics are imported: their values then live in files all workers add to
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="assistant-metrics-")
    logs.configure(log_level, log_format)

    import uvicorn

    from assistant.server import create_app

    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": None,  # uvicorn's own logs go through ours
        "timeout_graceful_shutdown": 30,  # turns in flight finish on SIGTERM
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: anyone on the machine
        # could pick their address (and so their rate-limit bucket). Only configured proxies.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or "",
    }

    def serve_here() -> int:
        malloc.release_every(2.0)  # this process's own thread (a forked worker's too)
        server = uvicorn.Server(uvicorn.Config(create_app(settings), **common))
        server.run(sockets=[sock])
        return 0 if server.started else serving.STARTUP_FAILURE

    with sock:
        if workers == 1:
            status = serve_here()
        else:
            try:  # every model once, here; the workers forked from this process share them
                serving.preload(settings)
            except AssistantError as e:
                _fail(str(e))
            malloc.release()  # no freed pages for the workers to inherit
            status = serving.Workers(workers, serve_here).run()
    if status:
        raise typer.Exit(code=status)


@app.command()
def chat(
    bot: BotOption = None,
    database_url: DatabaseOption = None,
    session: Annotated[
        str | None, typer.Option(metavar="ID", help="Session id to continue.")
    ] = None,
    locale: Annotated[
        str | None, typer.Option(metavar="LOCALE", help="ko or en (default: detected).")
    ] = None,
) -> None:
    """Talk to the assistant in the terminal; each reply shows its route and confidence."""
    from assistant import malloc

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the models run on one thread each
    malloc.tune()
    malloc.release_every(2.0)
    settings = Settings.from_env(bot_dir=bot, database_url=database_url)
    try:
        asyncio.run(_chat(settings, session or f"cli-{uuid.uuid4().hex[:8]}", locale))
    except AssistantError as e:
        _fail(str(e))


async def _chat(settings: Settings, session_id: str, locale: str | None) -> None:
    from assistant.dialogue import Assistant
    from assistant.errors import InputError
    from assistant.types import Utterance

    console = Console(highlight=False)
    assistant = await Assistant.create(bot_dir=settings.bot_dir, database_url=settings.database_url)
    interactive = sys.stdin.isatty()
    console.print(
        f"[bold]{assistant.bot.config.name}[/] · session {session_id} · "
        "type /quit or press Ctrl-D to leave",
        style="dim",
    )
    try:
        while True:
            try:
                line = await asyncio.to_thread(
                    console.input if interactive else input,
                    "[bold cyan]you>[/] " if interactive else "",
                )
            except EOFError:
                break
            if line.strip() in ("/quit", "/exit"):
                break
            if not line.strip():
                continue
            if not interactive:
                console.print(f"[bold cyan]you>[/] {line}")
            try:
                reply = await assistant.handle(
                    Utterance(text=line, session_id=session_id, channel="cli", locale=locale)
                )
            except InputError as e:
                console.print(f"[red]{e}[/]")
                continue
            console.print(f"[bold green]bot>[/] {reply.plain_text()}")
            console.print(f"     [dim]route={reply.route} confidence={reply.confidence:.2f}[/]")
    finally:
        await assistant.close()


def _fail(message: str) -> None:
    Console(stderr=True, highlight=False).print(f"[red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code=2)


def main() -> None:
    app()
