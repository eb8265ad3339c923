"""Help for commands with positional arguments, as click prints it.

typer names every argument twice in `--help`: `{NAME}` in the usage line and `NAME <str>` (or
`FILE <list[Path]>`) in the list. Commands with arguments use `PlainHelp`, which names each
argument once by its metavar (`FILE...`, `[TEXT]...`) and leaves the options as typer writes them.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand


class PlainHelp(TyperCommand):
    """`@app.command(cls=PlainHelp)`: arguments named by their metavar, without a type."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                if not param.hidden:
                    arguments.append(argument_record(param))
            elif (record := param.get_help_record(ctx)) is not None:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def argument_name(argument: TyperArgument) -> str:
    name = argument.metavar or (argument.name or "ARG").upper()
    return name + "..." if argument.nargs != 1 else name


def usage_name(argument: TyperArgument) -> str:
    """`NAME` when required, `[NAME]` otherwise, as click writes a usage line."""
    name = argument_name(argument)
    return name if argument.required else f"[{name}]"


def argument_record(argument: TyperArgument) -> tuple[str, str]:
    text = argument.help or ""
    if argument.required:
        text = f"{text}  [required]" if text else "[required]"
    return argument_name(argument), text
