"""`assistant rules ...`: check small-talk rule files, try them, convert AIML.

    assistant rules check DIR_OR_FILE...                 every problem, exit 1 if any
    assistant rules match --rules DIR [--bundled ko]     stdin lines -> one JSON line each
    assistant rules convert FILE.aiml [-o FILE.yaml]     AIML categories as a YAML rule file
    assistant rules explain PATTERN [TEXT...]           how a pattern reads, and what it matches

`match` prints `{"rule_id": ..., "response": ..., "captures": {...}}` for each input line, or
`null` when no rule matches (blank lines give `null` too, so output lines pair with input lines).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from assistant.cli.plain_help import PlainHelp
from rules import (
    PatternError,
    RuleEngine,
    RuleLoadError,
    RuleProblem,
    RuleSpec,
    analyze,
    bundled_paths,
    load_rules,
    normalize,
)
from rules.aiml import read_aiml
from rules.loader import compile_specs, read_specs

app = typer.Typer(
    rich_markup_mode=None,
    help="Check, try and convert small-talk rule files.",
    no_args_is_help=True,
)


def _report(problems: list[RuleProblem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)
    noun = "problem" if len(problems) == 1 else "problems"
    typer.echo(f"{len(problems)} {noun} found", err=True)


@app.command(cls=PlainHelp)
def check(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="Rule files or directories (YAML, AIML)."),
    ],
) -> None:
    """Validate rule files: print every problem with file and rule id; exit 1 if there is any."""
    problems: list[RuleProblem] = []
    compiled = compile_specs(read_specs(paths, problems), problems)
    if problems:
        _report(problems)
        raise typer.Exit(code=1)
    typer.echo(f"ok: {len(compiled)} rules")


@app.command()
def match(
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", metavar="PATH", help="Rule file or directory (repeatable)."),
    ] = None,
    bundled: Annotated[
        list[str] | None,
        typer.Option("--bundled", metavar="SET", help="Bundled rule set: ko or en (repeatable)."),
    ] = None,
    locale: Annotated[
        str | None, typer.Option(metavar="LOCALE", help="Only rules of this locale.")
    ] = None,
    driving: Annotated[bool, typer.Option("--driving", help="Match as if driving.")] = False,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Seed for random responses.")
    ] = None,
) -> None:
    """Read utterances from stdin, one per line; print one JSON line each (or null)."""
    paths: list[Path] = list(rules or [])
    try:
        for name in bundled or []:
            paths.extend(bundled_paths(name))
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--bundled") from e
    if not paths:
        raise typer.BadParameter("give --rules DIR and/or --bundled ko|en", param_hint="--rules")
    try:
        engine = load_rules(paths, rng=random.Random(seed) if seed is not None else None)
    except RuleLoadError as e:
        _report(list(e.problems))
        raise typer.Exit(code=2) from e
    facts = {"device.is_driving": driving}
    for line in typer.get_text_stream("stdin"):
        text = line.rstrip("\r\n")
        found = engine.match(text, facts=facts, locale=locale) if text.strip() else None
        typer.echo(json.dumps(None if found is None else found.as_json(), ensure_ascii=False))


@app.command(cls=PlainHelp)
def convert(
    source: Annotated[Path, typer.Argument(metavar="AIML_FILE", help="An AIML file.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="YAML file to write (default: stdout)."
        ),
    ] = None,
) -> None:
    """Convert an AIML file to a YAML rule file, to edit it in the project's own format."""
    problems: list[RuleProblem] = []
    specs = read_aiml(source.read_text(encoding="utf-8"), str(source), problems)
    if problems:
        _report(problems)
        raise typer.Exit(code=1)
    rules: list[dict[str, Any]] = [
        spec.model_dump(mode="json", by_alias=True, exclude_defaults=True) for spec in specs
    ]
    text = yaml.safe_dump({"rules": rules}, allow_unicode=True, sort_keys=False, width=100)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(rules)} rules to {output}")


@app.command(cls=PlainHelp)
def explain(
    pattern: Annotated[
        str, typer.Argument(metavar="PATTERN", help="A pattern, as written in a rule file.")
    ],
    texts: Annotated[
        list[str] | None, typer.Argument(metavar="TEXT", help="Utterances to try it on.")
    ] = None,
) -> None:
    """Show the token sequences a pattern compiles to, and whether it matches each text.

    Korean text is read by morphemes, and a short phrase can read differently from what it
    looks like (봄 alone reads as 보 + ㅁ): check a new pattern here before relying on it.
    """
    from rules.pattern import compile_pattern

    try:
        compiled = compile_pattern(pattern)
    except PatternError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=1) from e
    if compiled.regex is not None:
        typer.echo(f"regex {compiled.regex.pattern!r} (case-insensitive)")
    for sequence in compiled.sequences:
        shown = [
            str(value)
            if kind == 0
            else ("{" + str(value) + "}" if kind == 2 else "*" if value else "[*]")
            for kind, value in sequence.elements
        ]
        typer.echo(" ".join(shown))
    if texts:
        engine = RuleEngine.from_specs(
            [RuleSpec(id="explain", patterns=(pattern,), responses=("ok",))]
        )
        for text in texts:
            keys = " ".join(t.key for t in analyze(normalize(text)))
            found = engine.match(text)
            verdict = (
                "no match"
                if found is None
                else f"match {json.dumps(found.captures, ensure_ascii=False)}"
            )
            typer.echo(f"{text!r} -> [{keys}]: {verdict}")
