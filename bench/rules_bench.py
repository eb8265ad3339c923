"""Throughput of the rule engine against 100, 1,000 and 10,000 synthetic rules, beside RiveScript
and python-aiml on the same rules, in the same run. Not a test: run it by hand.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/rules_bench.py [--sizes 100,1000,10000] [--seconds 2] [--seed 7]

Each synthetic rule is one of three kinds, written equivalently in all three languages:

    exact phrase (40%)   ours: `kabo dufi reto`    RiveScript: `+ kabo dufi reto`    AIML: KABO DUFI RETO
    wildcards (40%)      ours: `* kabo dufi *`     RiveScript: `+ * kabo dufi *`     AIML: * KABO DUFI *
    capture (20%)        ours: `kabo dufi {x}`     RiveScript: `+ kabo dufi *`       AIML: KABO DUFI *

Utterances are made from the rules (70%: the phrase, the phrase inside other words, the phrase
followed by words) or from random words (30%, mostly unanswered). Every engine gets the same
utterances; each measurement runs for about `--seconds` and reports utterances per second and
the share answered (which should be about equal across engines: same rules, same work). A
last line measures the bundled Korean set on Korean small talk, where Kiwi analysis dominates.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from rules import RuleEngine, RuleSpec, bundled_paths, load_rules

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"


@dataclass(frozen=True)
class Synthetic:
    kind: str  # exact | wild | capture
    words: tuple[str, ...]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(2)))
    return sorted(words)


def make_rules(rng: random.Random, count: int, vocab: list[str]) -> list[Synthetic]:
    rules: list[Synthetic] = []
    seen: set[tuple[str, ...]] = set()
    while len(rules) < count:
        roll = rng.random()
        kind = "exact" if roll < 0.4 else "wild" if roll < 0.8 else "capture"
        length = rng.randint(2, 4) if kind == "exact" else rng.randint(2, 3)
        words = tuple(rng.sample(vocab, length))
        if words in seen:
            continue
        seen.add(words)
        rules.append(Synthetic(kind, words))
    return rules


def make_utterances(
    rng: random.Random, rules: list[Synthetic], vocab: list[str], n: int
) -> list[str]:
    out: list[str] = []
    for _ in range(n):
        if rng.random() < 0.3:
            out.append(" ".join(rng.sample(vocab, rng.randint(2, 6))))
            continue
        rule = rng.choice(rules)
        phrase = " ".join(rule.words)
        if rule.kind == "exact":
            out.append(phrase)
        elif rule.kind == "wild":
            out.append(f"{rng.choice(vocab)} {phrase} {rng.choice(vocab)}")
        else:
            out.append(f"{phrase} {' '.join(rng.sample(vocab, 2))}")
    return out


# --- the three engines -------------------------------------------------------------------------


def ours(rules: list[Synthetic]) -> Callable[[str], object]:
    specs = []
    for i, rule in enumerate(rules):
        phrase = " ".join(rule.words)
        pattern = {"exact": phrase, "wild": f"* {phrase} *", "capture": f"{phrase} {{x}}"}[
            rule.kind
        ]
        response = f"r{i} {{x}}" if rule.kind == "capture" else f"r{i}"
        specs.append(RuleSpec(id=f"r{i}", patterns=(pattern,), responses=(response,)))
    engine = RuleEngine.from_specs(specs, rng=random.Random(0))
    return engine.match


def rivescript(rules: list[Synthetic]) -> Callable[[str], object]:
    from rivescript import RiveScript

    lines = ["! version = 2.0", ""]
    for i, rule in enumerate(rules):
        phrase = " ".join(rule.words)
        trigger = {"exact": phrase, "wild": f"* {phrase} *", "capture": f"{phrase} *"}[rule.kind]
        reply = f"r{i} <star>" if rule.kind == "capture" else f"r{i}"
        lines += [f"+ {trigger}", f"- {reply}", ""]
    bot = RiveScript(debug=False, utf8=False)
    bot.stream("\n".join(lines))
    bot.sort_replies()

    def reply(text: str) -> object:
        answer = bot.reply("bench", text)
        return None if answer.startswith("[ERR") else answer

    return reply


def python_aiml(rules: list[Synthetic]) -> Callable[[str], object]:
    import aiml

    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<aiml version="1.0.1">']
    for i, rule in enumerate(rules):
        phrase = " ".join(rule.words).upper()
        pattern = {"exact": phrase, "wild": f"* {phrase} *", "capture": f"{phrase} *"}[rule.kind]
        template = f"r{i} <star/>" if rule.kind == "capture" else f"r{i}"
        parts.append(
            f"<category><pattern>{pattern}</pattern><template>{template}</template></category>"
        )
    parts.append("</aiml>")
    kernel = aiml.Kernel()
    kernel.verbose(False)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.aiml")
        Path(path).write_text("\n".join(parts), encoding="utf-8")
        with redirect_stdout(io.StringIO()):
            kernel.learn(path)

    def reply(text: str) -> object:
        return kernel.respond(text, "bench") or None

    return reply


def measure(
    answer: Callable[[str], object], utterances: list[str], seconds: float
) -> tuple[float, float, int]:
    """(utterances per second, share answered, utterances run) over about `seconds`."""
    done = answered = 0
    started = time.perf_counter()
    while True:
        for text in utterances:
            if answer(text) is not None:
                answered += 1
            done += 1
            if done % 25 == 0 and time.perf_counter() - started >= seconds:
                break
        else:
            if time.perf_counter() - started < seconds:
                continue
        break
    elapsed = time.perf_counter() - started
    return done / elapsed, answered / done, done


KOREAN_TURNS = [
    "안녕하세요",
    "아 진짜 심심해 죽겠다",
    "고마워요",
    "너는 누구니?",
    "오늘 날씨 좋다",
    "배 고파요",
    "여자친구랑 헤어졌어",
    "엔진오일 교체 주기가 어떻게 되나요",
    "차가 너무 막혀",
    "내 이름은 김지수야",
    "농담 하나 해 줘",
    "잘 자",
    "너무 피곤하다",
    "뭐 할 수 있어?",
    "타이어 공기압 경고등이 켜졌어",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    engines: list[tuple[str, Callable[[list[Synthetic]], Callable[[str], object]]]] = [
        ("ours", ours),
        ("rivescript", rivescript),
        ("python-aiml", python_aiml),
    ]
    rng = random.Random(args.seed)
    vocab = vocabulary(rng, 3000)
    print(f"{'rules':>6} {'engine':<12} {'load s':>7} {'utt/s':>10} {'answered':>9} {'ours ×':>8}")
    for size in sizes:
        rules = make_rules(random.Random(args.seed + size), size, vocab)
        utterances = make_utterances(random.Random(args.seed * 31 + size), rules, vocab, 2000)
        baseline = 0.0
        for name, build in engines:
            started = time.perf_counter()
            answer = build(rules)
            load = time.perf_counter() - started
            rate, share, _ = measure(answer, utterances, args.seconds)
            if name == "ours":
                baseline = rate
            ratio = "" if name == "ours" else f"{baseline / rate:.1f}"
            print(
                f"{size:>6} {name:<12} {load:>7.2f} {rate:>10,.0f} {share:>9.0%} {ratio:>8}",
                flush=True,
            )
    started = time.perf_counter()
    korean = load_rules(bundled_paths("ko"))
    load = time.perf_counter() - started
    rate, share, _ = measure(lambda t: korean.match(t, locale="ko"), KOREAN_TURNS, args.seconds)
    print(
        f"{len(korean):>6} {'ours (ko)':<12} {load:>7.2f} {rate:>10,.0f} {share:>9.0%}   bundled Korean set, Kiwi"
    )


if __name__ == "__main__":
    main()
