"""Training the e5 reader (torch): the numpy forward against the torch forward on the same
weights, a small run on the project's fixture, resuming, the CLI. Skipped without torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.mrc.e5.span_model import load_span_model, save_span_model
from assistant.mrc.e5_reader import E5Reader
from assistant.mrc.reader import Passage
from faq_index.e5.weights import load_weights

torch: Any = pytest.importorskip(
    "torch", reason="torch is not installed (pip install torch==2.13.0)"
)

from assistant.mrc.e5.torch_model import TorchSpanModel  # noqa: E402
from assistant.mrc.e5.training import TrainingError, TrainSettings, train  # noqa: E402

DATA = Path(__file__).parent / "data"
QUESTION = "한빛모터스를 설립한 사람은 누구인가?"
CONTEXT = "한빛모터스는 1998년 대전에서 김민호가 설립했다. 본사는 서울 강남구에 있다."
TINY = TrainSettings(
    trained_layers=1,
    lora_rank=2,
    epochs=2,
    batch_size=2,
    max_length=64,
    stride=16,
    question_tokens=24,
    threads=1,
    checkpoint_every=10,
)


def _perturbed(lora_rank: int | None, seed: int) -> TorchSpanModel:
    torch.manual_seed(seed)
    model = TorchSpanModel(load_weights(), trained=2, lora_rank=lora_rank, seed=seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(torch.randn_like(parameter) * 0.02)
    return model


@pytest.mark.parametrize(
    ("lora_rank", "export_rank"),
    [(8, None), (None, None), (None, 384)],
    ids=["lora", "whole-layers", "whole-layers-as-svd"],
)
def test_numpy_forward_matches_torch(
    tmp_path: Path, lora_rank: int | None, export_rank: int | None
) -> None:
    model = _perturbed(lora_rank, seed=1)
    path = tmp_path / "span.npz"
    meta = {"settings": {"max_length": 128, "stride": 32}}
    save_span_model(path, model.span_model(meta, export_rank))
    if export_rank is not None:  # whole layers' updates stored in the low-rank form
        stored = load_span_model(path).arrays
        assert stored["l11.intermediate.lora_a"].shape == (384, 384)
        assert not any(name.endswith("delta_q8") for name in stored)
    reader = E5Reader(path)
    [window] = reader.windows(QUESTION, CONTEXT)
    start, end = reader.logits(window)
    with torch.no_grad():
        ids = torch.tensor([window.ids])
        torch_start, torch_end = model(ids, torch.tensor([len(window.ids)]))
    # LoRA updates ship in float16, whole layers' updates in int8 with a scale per row
    tolerance = 5e-3 if lora_rank is None and export_rank is None else 1e-3
    np.testing.assert_allclose(start, torch_start[0].numpy(), atol=tolerance)
    np.testing.assert_allclose(end, torch_end[0].numpy(), atol=tolerance)
    assert float(np.abs(start).max()) > 0.05  # the head is not trivially zero


def test_frozen_bottom_then_top_equals_the_whole_forward() -> None:
    model = _perturbed(4, seed=2)
    ids = torch.tensor([[0, 5, 6, 7, 2, 1, 1], [0, 8, 9, 10, 11, 12, 2]])
    lengths = torch.tensor([5, 7])
    with torch.no_grad():
        whole = model(ids, lengths)
        split = model.top(model.bottom(ids, lengths), lengths)
        alone = model(ids[:1, :5], lengths[:1])
    torch.testing.assert_close(whole[0], split[0])
    torch.testing.assert_close(whole[0][0, :5], alone[0][0], atol=1e-4, rtol=1e-4)


def test_training_learns_the_fixture_and_resumes_to_the_same_weights(tmp_path: Path) -> None:
    data = [DATA / "mini_squad.json"]
    cache = tmp_path / "cache"
    settings = TrainSettings(
        **{**TINY.__dict__, "epochs": 16, "learning_rate": 1e-2, "head_learning_rate": 3e-2}
    )
    whole = train(data, tmp_path / "whole", settings, cache_dir=cache, progress=False, log=_quiet)
    # the same run stopped after 21 of its 48 steps, then resumed, ends with the same weights
    stopped = train(
        data,
        tmp_path / "parts",
        settings,
        cache_dir=cache,
        progress=False,
        log=_quiet,
        max_steps=21,
    )
    assert stopped is not None and (tmp_path / "parts" / "checkpoint.pt").is_file()
    assert load_span_model(stopped).meta["training"]["complete"] is False
    parts = train(data, tmp_path / "parts", settings, cache_dir=cache, progress=False, log=_quiet)
    assert whole is not None and parts is not None
    a, b = load_span_model(whole), load_span_model(parts)
    assert a.arrays.keys() == b.arrays.keys()
    for name in a.arrays:
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name])
    np.testing.assert_array_equal(a.head_weight, b.head_weight)
    meta = a.meta
    assert meta["trained_layers"] == [11] and meta["settings"]["lora_rank"] == 2
    assert meta["training"]["complete"] is True and meta["training"]["steps_done"] == 48
    assert meta["training"]["questions"] == 4
    # the no-answer margin was chosen on the training questions, and is what the reader uses
    choice = meta["null_margin_choice"]
    assert choice["questions"] == 4 and choice["answered_on_own_paragraph"] >= 0.75
    assert meta["null_margin"] == choice["null_margin"]
    # it learnt the four questions it saw (Korean and English)
    reader = E5Reader(whole)
    passage = Passage(id="p", document="d", text=CONTEXT)
    assert reader.read(QUESTION, [passage])[0].text == "김민호"
    english = "Hanbit Motors was founded in 1998 in Daejeon by Kim Minho."
    found = reader.read("Who founded Hanbit Motors?", [Passage(id="e", document="d", text=english)])
    assert found[0].text == "Kim Minho"


def test_a_checkpoint_of_other_settings_is_refused(tmp_path: Path) -> None:
    data = [DATA / "mini_squad.json"]
    quick = TrainSettings(**{**TINY.__dict__, "epochs": 0.5})
    train(data, tmp_path / "run", quick, cache_dir=tmp_path / "c", progress=False, log=_quiet)
    other = TrainSettings(**{**quick.__dict__, "learning_rate": 1e-5})
    with pytest.raises(TrainingError, match="other data or settings"):
        train(data, tmp_path / "run", other, cache_dir=tmp_path / "c", progress=False, log=_quiet)
    with pytest.raises(TrainingError, match="none of them"):
        train(
            data,
            tmp_path / "x",
            quick,
            articles="7-9",
            cache_dir=tmp_path / "c",
            progress=False,
            log=_quiet,
        )
    with pytest.raises(TrainingError, match="epochs"):
        TrainSettings(epochs=0)


def test_train_mrc_command(tmp_path: Path) -> None:
    runner = CliRunner()
    arguments = [
        "train",
        "mrc",
        "--data",
        str(DATA / "mini_squad.json"),
        "--out",
        str(tmp_path / "run"),
    ]
    small = [
        "--layers",
        "1",
        "--lora-rank",
        "2",
        "--epochs",
        "0.5",
        "--max-length",
        "128",
        "--stride",
        "32",
        "--threads",
        "1",
        "--cache-dir",
        str(tmp_path / "c"),
        "--null-margin",
        "1.25",
        "--quiet",
    ]
    result = runner.invoke(app, arguments + small)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "reader.npz").is_file() and "wrote" in result.output
    assert load_span_model(tmp_path / "run" / "reader.npz").meta["null_margin"] == 1.25
    result = runner.invoke(
        app,
        [
            "train",
            "mrc",
            "--data",
            str(tmp_path / "absent.json"),
            "--out",
            str(tmp_path / "r2"),
            "--quiet",
        ],
    )
    assert result.exit_code == 2 and "no such data file" in result.output


def _quiet(_: str) -> None:
    return None
