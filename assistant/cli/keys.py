"""`assistant keys`: make, list and revoke API keys (stored hashed in the session store).

assistant keys create kakao-channel --scope chat
assistant keys list
assistant keys revoke 3f2a9c1d0b7e6a54
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from assistant.cli.plain_help import PlainHelp
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.store import SqlStore
from assistant.store.keys import SCOPES, ApiKeyStore

app = typer.Typer(rich_markup_mode=None, help="Manage API keys.", no_args_is_help=True)
console = Console(highlight=False)

T = TypeVar("T")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="The server's store (default: $ASSISTANT_DATABASE_URL).",
    ),
]


def _with_keys(database_url: str | None, work: Callable[[ApiKeyStore], Awaitable[T]]) -> T:
    async def run() -> T:
        store = SqlStore(Settings.from_env(database_url=database_url).database_url)
        await store.open()
        try:
            return await work(ApiKeyStore(store.engine))
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except AssistantError as e:
        Console(stderr=True).print(f"[red]error:[/] {e}", soft_wrap=True)
        raise typer.Exit(2) from e


@app.command(cls=PlainHelp)
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Who or what uses the key.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", metavar="SCOPE", help=f"One of {list(SCOPES)}; repeat for more."),
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Make a key and print it once: it is stored only as a hash."""
    made = _with_keys(database_url, lambda keys: keys.create(name, scope))
    console.print(f"key {made.key.id} ({', '.join(made.key.scopes)}) for {name}:")
    typer.echo(made.token)


@app.command("list")
def list_keys(database_url: DatabaseOption = None) -> None:
    """List keys (never their secrets)."""
    keys = _with_keys(database_url, lambda k: k.list())
    table = Table("id", "name", "scopes", "created", "state")
    for key in keys:
        state = "revoked" if key.revoked else "active"
        table.add_row(key.id, key.name, ",".join(key.scopes), key.created_at.isoformat(), state)
    console.print(table)


@app.command(cls=PlainHelp)
def revoke(
    key_id: Annotated[
        str, typer.Argument(metavar="KEY_ID", help="The key's id (see `assistant keys list`).")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a key; servers stop accepting it within 30 seconds."""
    if not _with_keys(database_url, lambda k: k.revoke(key_id)):
        Console(stderr=True).print(f"[red]error:[/] no active key {key_id!r}")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")
