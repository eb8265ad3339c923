"""Cross-validation of the e5 reader by article, beside the lexical reader, on one SQuAD file.

    python bench/mrc_e5_cv.py ../shared/eval/mrc/korquad1_dev_part_a.json --work runs/e5-cv \
        [--folds 0-34:35-69] [--train "--epochs 2 --layers 4"]

For each fold (its articles held out), `assistant train mrc` trains (into WORK/held-out-<articles>) a span model on the other
articles (resumable: run the script again after a stop), then `assistant eval mrc` scores the
held-out articles in reader mode with that model and with the lexical reader, each in its own
process with OMP_NUM_THREADS=1 (one core; milliseconds per question and peak RSS from there).
No article is ever scored by a model trained on it. Printed: one JSON line per fold and reader,
the pooled figures over all folds, and a no-answer check on the held-out questions (each read
from another paragraph of its article, where the right move is to answer nothing, and from its
own paragraph). Skips when the data file is absent.

The lexical reader's weights were fitted on articles 0–34 of KorQuAD dev part A
(bench/mrc_train_lexical.py): its figures on those articles are not held-out figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from assistant.mrc.metrics import best_scores, language_of
from assistant.mrc.squad import SquadQuestion, load_squad, parse_articles


def _assistant() -> list[str]:
    return [str(Path(sys.executable).parent / "assistant")]


def _run(command: list[str], *, nice: bool = False) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    prefix = ["nice", "-n", "10"] if nice else []
    done = subprocess.run(prefix + command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--work", type=Path, default=Path("runs/e5-cv"))
    parser.add_argument("--folds", default="0-34:35-69", help="held-out articles per fold")
    parser.add_argument("--train", default="", help="extra `assistant train mrc` options")
    parser.add_argument("--no-train", action="store_true", help="use the fold models there are")
    parser.add_argument(
        "--no-answer-every", type=int, default=8, help="no-answer check on every n-th question"
    )
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found")
        return 0
    questions = load_squad(args.data)
    every = sorted({q.article for q in questions})
    folds = [sorted(parse_articles(spec) or ()) for spec in args.folds.split(":")]
    pooled: dict[str, dict[str, str]] = {"e5": {}, "lexical": {}}
    for number, held_out in enumerate(folds):
        trained_on = [a for a in every if a not in held_out]
        run = args.work / f"held-out-{_ranges(held_out)}"
        model = run / "reader.npz"
        if not args.no_train:
            started = time.monotonic()
            _run(
                [
                    *_assistant(),
                    "train",
                    "mrc",
                    "--data",
                    str(args.data),
                    "--out",
                    str(run),
                    "--articles",
                    _ranges(trained_on),
                    "--quiet",
                    *shlex.split(args.train),
                ],
                nice=True,
            )
            took = round(time.monotonic() - started)
            print(json.dumps({"fold": number, "trained_on": _ranges(trained_on), "seconds": took}))
        for reader, name in ((f"e5:{model}", "e5"), ("lexical", "lexical")):
            predictions = run / f"predictions-{name}.json"
            out = _run(
                [
                    *_assistant(),
                    "eval",
                    "mrc",
                    "--data",
                    str(args.data),
                    "--articles",
                    _ranges(held_out),
                    "--reader",
                    reader,
                    "--predictions",
                    str(predictions),
                    "--json",
                ]
            )
            metrics = json.loads(out)
            pooled[name].update(json.loads(predictions.read_text(encoding="utf-8")))
            row = {"fold": number, "held_out": _ranges(held_out), "reader": name}
            keys = ("questions", "exact_match", "f1", "answered", "ms_p50", "ms_p99", "max_rss_mb")
            print(json.dumps({**row, **{k: metrics[k] for k in keys}}), flush=True)
    for name, predicted in pooled.items():
        scored = [q for q in questions if q.id in predicted]
        em = f1 = 0.0
        for q in scored:
            e, f = best_scores(predicted[q.id], q.answers, language_of(q.context))
            em, f1 = em + e, f1 + f
        n = max(1, len(scored))
        row = {"pooled": name, "questions": len(scored), "exact_match": round(100 * em / n, 2)}
        print(json.dumps({**row, "f1": round(100 * f1 / n, 2)}), flush=True)
    _no_answer_check(questions, folds, args.work, args.no_answer_every)
    return 0


def _no_answer_check(
    questions: list[SquadQuestion], folds: list[list[int]], work: Path, every: int
) -> None:
    """Every `every`-th held-out question read from another paragraph of its article (its
    answer not in it): how often the reader rightly answers nothing; and from its own one."""
    from assistant.mrc.e5_reader import E5Reader
    from assistant.mrc.lexical import LexicalReader
    from assistant.mrc.reader import Passage

    for number, held_out in enumerate(folds):
        chosen = [q for q in questions if q.article in set(held_out)]
        paragraphs: dict[int, list[str]] = {}
        for q in chosen:
            if q.context not in paragraphs.setdefault(q.article, []):
                paragraphs[q.article].append(q.context)
        readers = {
            "e5": E5Reader(work / f"held-out-{_ranges(held_out)}" / "reader.npz"),
            "lexical": LexicalReader(),
        }
        for name, reader in readers.items():
            wrong = silent = right = answered = 0
            for i, q in enumerate(chosen[::every]):
                others = [p for p in paragraphs[q.article] if p != q.context]
                others = [p for p in others if not any(a in p for a in q.answers)]
                if others:
                    other = others[i % len(others)]
                    wrong += 1
                    silent += not reader.read(
                        q.question, [Passage(id="o", document="d", text=other)]
                    )
                right += 1
                answered += bool(
                    reader.read(q.question, [Passage(id="r", document="d", text=q.context)])
                )
            print(
                json.dumps(
                    {
                        "fold": number,
                        "reader": name,
                        "no_answer_on_other_paragraph": round(silent / max(1, wrong), 4),
                        "answered_on_own_paragraph": round(answered / max(1, right), 4),
                        "questions": right,
                        "every": every,
                    }
                ),
                flush=True,
            )


def _ranges(articles: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5'."""
    parts: list[str] = []
    for a in sorted(articles):
        if parts and int(parts[-1].split("-")[-1]) == a - 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{a}"
        else:
            parts.append(str(a))
    return ",".join(parts)


if __name__ == "__main__":
    sys.exit(main())
