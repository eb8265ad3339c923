"""The transformers QA reader, with a tiny model and tokenizer the test builds and saves itself.

No checkpoint can be downloaded here, so the model has random weights: the tests check the
plumbing (loading from disk, windows with a stride over long contexts, offsets back to
characters, scores, no-answer), not reading skill. A fake model that points at known tokens
checks that the span found in a later window comes back at the right characters.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.mrc.errors import ReaderError
from assistant.mrc.factory import make_reader
from assistant.mrc.reader import Passage
from assistant.mrc.transformers_reader import TransformersReader

torch: Any = pytest.importorskip(
    "torch", reason="torch is not installed (pip install torch==2.13.0)"
)
transformers: Any = pytest.importorskip(
    "transformers",
    reason="transformers is not installed (pip install 'kakao-style-assistant[transformers]')",
)

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
WORDS = ["the", "tyre", "pressure", "is", "psi", "wiper", "lever", "down", "what", "check"]
FILLER = "check the wiper lever. " * 12
CONTEXT = FILLER + "the tyre pressure is 36 psi."


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tiny-bert-qa")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *LETTERS, ".", "?", ","]
    vocab += [f"##{c}" for c in LETTERS] + WORDS
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizers = pytest.importorskip("tokenizers")
    wordpiece = tokenizers.Tokenizer(
        tokenizers.models.WordPiece(vocab={t: i for i, t in enumerate(vocab)}, unk_token="[UNK]")
    )
    wordpiece.normalizer = tokenizers.normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = tokenizers.pre_tokenizers.BertPreTokenizer()
    wordpiece.post_processor = tokenizers.processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    wordpiece.decoder = tokenizers.decoders.WordPiece()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=wordpiece,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    tokenizer.save_pretrained(str(directory))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    transformers.BertForQuestionAnswering(config).save_pretrained(str(directory))
    return directory


PASSAGE = Passage(id="m#0", document="m", text=CONTEXT)


def test_reads_a_long_context_in_windows(checkpoint: Path) -> None:
    reader = TransformersReader(checkpoint, max_length=32, stride=8, min_score=0.0)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(checkpoint))
    windows = tokenizer(
        "what is the tyre pressure?",
        CONTEXT,
        truncation="only_second",
        max_length=32,
        stride=8,
        return_overflowing_tokens=True,
    )["input_ids"]
    assert len(windows) > 3  # the context is longer than the model's window
    answers = reader.read("what is the tyre pressure?", [PASSAGE], k=5)
    assert answers  # seed 0: the random weights do not prefer "no answer"
    for answer in answers:
        assert PASSAGE.text[answer.start : answer.end] == answer.text
        assert 0.0 <= answer.score <= 1.0
        assert answer.sentence_start <= answer.start < answer.end <= answer.sentence_end
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)


class PointingModel(torch.nn.Module):  # type: ignore[misc]
    """Start logits peak on token `start_id`, end logits on `end_id`; [CLS] gets `null`."""

    def __init__(self, start_id: int, end_id: int, null: float = -5.0) -> None:
        super().__init__()
        self.start_id, self.end_id, self.null = start_id, end_id, null

    def forward(self, input_ids: Any, **_: Any) -> SimpleNamespace:
        start = torch.where(input_ids == self.start_id, 8.0, 0.0)
        end = torch.where(input_ids == self.end_id, 8.0, 0.0)
        start[:, 0] = self.null
        end[:, 0] = self.null
        return SimpleNamespace(start_logits=start, end_logits=end)


def _pointing_reader(checkpoint: Path, null: float = -5.0) -> TransformersReader:
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(checkpoint), local_files_only=True)
    start_id, end_id = tokenizer.convert_tokens_to_ids(["3", "psi"])
    return TransformersReader(
        max_length=32,
        stride=8,
        model=PointingModel(start_id, end_id, null),
        tokenizer=tokenizer,
    )


def test_span_of_a_later_window_maps_back_to_characters(checkpoint: Path) -> None:
    [answer] = _pointing_reader(checkpoint).read("what is the tyre pressure?", [PASSAGE])
    assert answer.text == "36 psi"
    assert answer.start == CONTEXT.index("36 psi")
    assert answer.sentence == "the tyre pressure is 36 psi."
    assert 0.5 < answer.score <= 1.0


def test_no_answer_when_cls_wins(checkpoint: Path) -> None:
    assert _pointing_reader(checkpoint, null=20.0).read("what?", [PASSAGE]) == []


def test_loaded_through_the_factory_relative_to_the_bot(checkpoint: Path) -> None:
    reader = make_reader(f"transformers:{checkpoint.name}", base=checkpoint.parent)
    assert isinstance(reader, TransformersReader) and reader.path == checkpoint
    reader.warm_up()


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="not a directory"):
        TransformersReader(tmp_path / "missing").warm_up()
    with pytest.raises(ReaderError, match="cannot load"):
        TransformersReader(tmp_path).warm_up()
    with pytest.raises(ReaderError, match="stride"):
        TransformersReader(tmp_path, max_length=32, stride=32)
    with pytest.raises(ReaderError, match="model and a tokenizer"):
        TransformersReader()
