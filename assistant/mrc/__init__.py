"""Machine reading comprehension: answers read out of documents, with evidence.

    >>> from assistant.mrc import LexicalReader, PassageIndex, parse_markdown, split_document
    >>> doc = parse_markdown("# 타이어\\n\\n권장 공기압은 36 psi입니다.", id="manual")
    >>> index = PassageIndex()
    >>> index.add(split_document(doc))
    >>> hits = index.search("타이어 공기압은 얼마예요?", k=1)
    >>> [answer] = LexicalReader().read("타이어 공기압은 얼마예요?", [h.passage for h in hits])
    >>> answer.text, answer.passage.id, answer.passage.section
    ('36 psi', 'manual#0', ('타이어',))

See README.md in this directory for the pieces, the figures and the transformers reader.
"""

from assistant.mrc.documents import (
    Block,
    Document,
    load_document,
    load_documents,
    parse_html,
    parse_markdown,
    parse_text,
)
from assistant.mrc.errors import DocumentError, MrcError, ReaderError
from assistant.mrc.factory import make_reader
from assistant.mrc.lexical import LexicalReader
from assistant.mrc.passage import Passage
from assistant.mrc.reader import Answer, Reader
from assistant.mrc.retrieval import PassageHit, PassageIndex
from assistant.mrc.splitting import split_document, split_documents

__all__ = [
    "Answer",
    "Block",
    "Document",
    "DocumentError",
    "LexicalReader",
    "MrcError",
    "Passage",
    "PassageHit",
    "PassageIndex",
    "Reader",
    "ReaderError",
    "load_document",
    "load_documents",
    "make_reader",
    "parse_html",
    "parse_markdown",
    "parse_text",
    "split_document",
    "split_documents",
]
