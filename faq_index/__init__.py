"""FAQ entries and the generic hybrid similarity index (lexical + dense) with calibration.

    >>> from faq_index import FaqEntry, FaqIndex, HashingEncoder
    >>> faq = FaqIndex([FaqEntry(id="hours", question="영업시간이 어떻게 되나요?",
    ...                          alternatives=("몇 시까지 해요?",), answer="9시부터 18시까지입니다."),
    ...                 FaqEntry(id="warranty", question="보증 기간은?", answer="3년입니다.")],
    ...                encoder=HashingEncoder())
    >>> faq.search("몇시까지 하나요?")[0].entry.id
    'hours'

Modules: `entry` (the entry model), `formats` (JSONL, CSV, YAML, Rasa import/export), `tokenize`,
`bm25`, `signals` (BM25, character n-grams, dense), `encoders` (e5, USE, sentence-transformers,
a hashing test double), `cache` (embeddings on disk), `index` (the generic `SimilarityIndex`),
`fusion` and `training` (learned weights and calibrated confidence), `faq` (`FaqIndex` and the
answer / suggest / decline decision), `metrics`, `errors`.
"""

from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import Encoder, HashingEncoder, make_encoder
from faq_index.entry import FaqEntry, FaqImage, FaqLink
from faq_index.errors import (
    CalibrationError,
    DuplicateEntryError,
    EncoderError,
    EntryImportError,
    FaqIndexError,
    UnknownEntryError,
)
from faq_index.faq import Decision, FaqHit, FaqIndex
from faq_index.formats import load_entries, parse_entries, save_entries
from faq_index.fusion import FusionModel
from faq_index.index import Hit, Row, SimilarityIndex
from faq_index.training import Example, fit_fusion, self_examples

__all__ = [
    "CachedEncoder",
    "CalibrationError",
    "Decision",
    "DuplicateEntryError",
    "EmbeddingCache",
    "Encoder",
    "EncoderError",
    "EntryImportError",
    "Example",
    "FaqEntry",
    "FaqHit",
    "FaqImage",
    "FaqIndex",
    "FaqIndexError",
    "FaqLink",
    "FusionModel",
    "HashingEncoder",
    "Hit",
    "Row",
    "SimilarityIndex",
    "UnknownEntryError",
    "fit_fusion",
    "load_entries",
    "make_encoder",
    "parse_entries",
    "save_entries",
    "self_examples",
]
