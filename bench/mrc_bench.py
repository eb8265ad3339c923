"""MRC benchmark: the built-in reader on a SQuAD-format file, reader and open mode.

    python bench/mrc_bench.py ../shared/eval/mrc/korquad1_dev_part_a.json \
        [--held-out-from 35] [--encoders none,e5] [--passages 3]

Prints one JSON line per run: all questions and the held-out articles (those the reader's
weights were not fitted on; see bench/mrc_train_lexical.py), in reader mode and in open mode
for each retrieval encoder. Skips when the file is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from assistant.mrc.evaluation import evaluate
from assistant.mrc.lexical import LexicalReader
from assistant.mrc.retrieval import PassageIndex
from assistant.mrc.squad import load_squad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--held-out-from", type=int, default=35)
    parser.add_argument("--encoders", default="none")
    parser.add_argument("--passages", type=int, default=3)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found")
        return 0
    questions = load_squad(args.data)
    parts = {
        "all": questions,
        f"held-out (articles {args.held_out_from}..)": [
            q for q in questions if q.article >= args.held_out_from
        ],
    }
    reader = LexicalReader()
    reader.warm_up()
    for name, part in parts.items():
        result = evaluate(part, reader, mode="reader")
        print(json.dumps({"part": name, **result.metrics}, ensure_ascii=False), flush=True)
    for encoder_name in args.encoders.split(","):
        encoder = None
        if encoder_name != "none":
            from faq_index.encoders import make_encoder

            encoder = make_encoder(encoder_name)
        for name, part in parts.items():
            index = PassageIndex(encoder=encoder)
            result = evaluate(part, reader, mode="open", index=index, passages=args.passages)
            row = {"part": name, "encoder": encoder_name, **result.metrics}
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
