"""Open-mode MRC on a SQuAD file: every paragraph of the file is the corpus, a subset asked.

    OMP_NUM_THREADS=1 .venv/bin/python bench/mrc_open_eval.py FILE --articles 48-69 \\
        --every 4 --encoder e5 [--json OUT]

Runs with whichever `assistant` package is on the path, so the same command measures an
older checkout (`PYTHONPATH=/tmp/base .venv/bin/python bench/mrc_open_eval.py ...`): the
questions are read as that checkout's MRC skill reads them (`open_mode.read_retrieved` where
it exists, else `Reader.read`). Reported: exact match and F1 (KorQuAD / SQuAD metric, an
unanswered question scores 0), answered share, passage recall at 1, 3 and 10 (the question's
own paragraph among those retrieved), and ms per question (retrieval and reading, p50).
`assistant eval mrc --mode open --every N` gives the same figures for this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    from assistant.mrc.evaluation import paragraph_passages
    from assistant.mrc.factory import make_reader
    from assistant.mrc.metrics import best_scores, language_of
    from assistant.mrc.retrieval import PassageIndex
    from assistant.mrc.squad import load_squad, parse_articles
    from assistant.skills.encoding import DEFAULT_CACHE
    from faq_index.cache import CachedEncoder, EmbeddingCache
    from faq_index.encoders import make_encoder

    try:
        from assistant.mrc.open_mode import read_retrieved
    except ImportError:  # an older checkout: the reader alone
        read_retrieved = None

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--articles", default="48-69")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--encoder", default="e5", help="none (lexical only) or e5")
    parser.add_argument("--passages", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    everything = load_squad(args.data)
    articles = parse_articles(args.articles)
    questions = [q for q in everything if articles is None or q.article in articles][:: args.every]
    encoder = None
    if args.encoder != "none":
        inner = make_encoder(args.encoder)
        encoder = CachedEncoder(inner, EmbeddingCache(DEFAULT_CACHE / "embeddings"))
    index = PassageIndex(encoder=encoder)
    index.reset(paragraph_passages(everything).values())
    reader = make_reader("e5")
    reader.warm_up()  # type: ignore[attr-defined]
    em = f1 = answered = 0.0
    recall = {1: 0, 3: 0, 10: 0}
    times = []
    for q in questions:
        started = time.perf_counter()
        hits = index.search(q.question, max(10, args.passages))
        passages = [h.passage for h in hits[: args.passages]]
        if read_retrieved is not None:
            answers = read_retrieved(reader, q.question, passages)
        else:
            answers = reader.read(q.question, passages)
        times.append(time.perf_counter() - started)
        ids = [h.passage.id for h in hits]
        for k in recall:
            recall[k] += f"p{q.paragraph}" in ids[:k]
        text = answers[0].text if answers else ""
        e, f = best_scores(text, q.answers, language_of(q.context))
        em, f1, answered = em + e, f1 + f, answered + bool(answers)
    n = max(1, len(questions))
    result = {
        "questions": len(questions),
        "corpus_paragraphs": len(index),
        "encoder": args.encoder,
        "open_mode_reading": read_retrieved is not None,
        "exact_match": round(100 * em / n, 2),
        "f1": round(100 * f1 / n, 2),
        "answered": round(answered / n, 4),
        **{f"recall@{k}": round(v / n, 4) for k, v in recall.items()},
        "ms_p50": round(1000 * statistics.median(times), 1),
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
