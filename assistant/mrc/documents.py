"""Documents: Markdown, plain text and HTML read into headings and paragraphs with offsets.

A `Document` keeps its `text` and a list of `Block`s (headings and paragraphs) that point into
it. For Markdown and plain text `text` is the file as written, so offsets point into the file;
for HTML it is the visible text extracted from the page (scripts, styles and navigation left
out), headings and block elements on lines of their own.

    >>> doc = parse_markdown("# 타이어\\n\\n공기압은 36 psi입니다.\\n", id="manual")
    >>> [(b.kind, b.level, doc.text[b.start:b.end]) for b in doc.blocks]
    [('heading', 1, '타이어'), ('paragraph', 0, '공기압은 36 psi입니다.')]
    >>> html = "<h2>Wipers</h2><p>Lift the arm.</p><script>x()</script>"
    >>> page = parse_html(html, id="w")
    >>> [(b.kind, page.text[b.start:b.end]) for b in page.blocks]
    [('heading', 'Wipers'), ('paragraph', 'Lift the arm.')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from assistant.mrc.analysis import word_set
from assistant.mrc.errors import DocumentError
from assistant.mrc.metrics import language_of

__all__ = [
    "FORMATS",
    "Block",
    "Document",
    "document_id",
    "load_document",
    "load_documents",
    "parse_html",
    "parse_markdown",
    "parse_text",
]

Format = Literal["markdown", "text", "html"]
FORMATS: dict[str, Format] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
}


@dataclass(frozen=True, slots=True)
class Block:
    """A heading (`level` 1-6) or a paragraph (`level` 0): [start, end) of the document text."""

    kind: Literal["heading", "paragraph"]
    start: int
    end: int
    level: int = 0


@dataclass(frozen=True)
class Document:
    """A loaded document; `locale` is `ko` or `en` (from the file name or its text)."""

    id: str
    text: str
    blocks: tuple[Block, ...]
    format: Format = "text"
    title: str = ""
    locale: str = ""
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def _lines(text: str) -> Iterable[tuple[int, int, str]]:
    position = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        yield position, position + len(stripped), stripped
        position += len(line)


def parse_markdown(text: str, *, id: str, source: str = "") -> Document:
    """ATX (`# Title`) and setext (underlined) headings; paragraphs split on blank lines;
    fenced code stays inside its paragraph; YAML-like front matter gives `title` / `lang`."""
    metadata: dict[str, str] = {}
    offset = 0
    front = _FRONT.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                metadata[key.strip()] = value.strip().strip("\"'")
        offset = front.end()
    blocks: list[Block] = []
    paragraph: list[tuple[int, int]] = []
    in_fence = False

    def close() -> None:
        if paragraph:
            blocks.append(Block("paragraph", paragraph[0][0], paragraph[-1][1]))
            paragraph.clear()

    for start, end, line in _lines(text):
        if start < offset:
            continue
        if _FENCE.match(line):
            in_fence = not in_fence
            paragraph.append((start, end))
            continue
        if in_fence:
            paragraph.append((start, end))
            continue
        heading = _ATX.match(line)
        if heading:
            close()
            level, title = len(heading.group(1)), heading.group(2)
            title_start = start + heading.start(2)
            blocks.append(Block("heading", title_start, title_start + len(title), level))
            continue
        if _SETEXT.match(line) and len(paragraph) == 1:
            level = 1 if line.strip().startswith("=") else 2
            first_start, first_end = paragraph.pop()
            blocks.append(Block("heading", first_start, first_end, level))
            continue
        if not line.strip():
            close()
            continue
        paragraph.append((start, end))
    close()
    blocks = [_trim(text, b) for b in blocks]
    title = metadata.get("title") or next(
        (text[b.start : b.end] for b in blocks if b.kind == "heading" and b.level == 1), ""
    )
    return Document(
        id=id,
        text=text,
        blocks=tuple(b for b in blocks if b.end > b.start),
        format="markdown",
        title=title,
        locale=metadata.get("lang", "") or language_of(text),
        source=source,
        metadata=metadata,
    )


def _trim(text: str, block: Block) -> Block:
    start, end = block.start, block.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Block(block.kind, start, end, block.level)


def parse_text(text: str, *, id: str, source: str = "") -> Document:
    """Plain text: paragraphs split on blank lines, no headings."""
    blocks: list[Block] = []
    for match in re.finditer(r"\S(?:.*?\S)?(?=\n[ \t]*\n|\s*\Z)", text, re.S):
        blocks.append(Block("paragraph", match.start(), match.end()))
    return Document(
        id=id,
        text=text,
        blocks=tuple(blocks),
        format="text",
        locale=language_of(text),
        source=source,
    )


_SKIP = frozenset(["script", "style", "nav", "header", "footer", "noscript", "template", "svg"])
_BLOCK = word_set(
    """p div li ul ol table tr td th section article main aside blockquote pre dl dt dd br
    figure figcaption form details summary body"""
)


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, int, str]] = []  # (kind, level, text)
        self.skip = 0
        self.heading = 0
        self.buffer: list[str] = []
        self.title = ""
        self.in_title = False
        self.lang = ""

    def flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        if text:
            kind = "heading" if self.heading else "paragraph"
            self.parts.append((kind, self.heading, text))
        self.buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if tag in _SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading = int(tag[1])
        elif tag in _BLOCK:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading = 0
        elif tag in _BLOCK:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip:
            self.buffer.append(data)


def parse_html(html: str, *, id: str, source: str = "") -> Document:
    """The visible text of a page: h1-h6 become headings, block elements paragraphs."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    parser.flush()
    pieces: list[str] = []
    blocks: list[Block] = []
    position = 0
    for kind, level, text in parser.parts:
        if pieces:
            pieces.append("\n\n")
            position += 2
        blocks.append(
            Block(
                "heading" if kind == "heading" else "paragraph",
                position,
                position + len(text),
                level,
            )
        )
        pieces.append(text)
        position += len(text)
    text = "".join(pieces)
    title = " ".join(parser.title.split()) or next(
        (text[b.start : b.end] for b in blocks if b.kind == "heading"), ""
    )
    return Document(
        id=id,
        text=text,
        blocks=tuple(blocks),
        format="html",
        title=title,
        locale=parser.lang.split("-")[0].lower() or language_of(text),
        source=source,
    )


def document_id(path: Path, base: Path | None = None) -> str:
    """A stable id from the file's path under `base`: manual/ko.md -> manual-ko."""
    relative = path.relative_to(base) if base is not None else Path(path.name)
    stem = relative.with_suffix("").as_posix()
    return re.sub(r"[^0-9A-Za-z가-힣_.-]+", "-", stem).strip("-").lower() or "document"


def load_document(path: str | Path, *, id: str | None = None, base: Path | None = None) -> Document:
    """Read one file by its suffix (.md, .markdown, .txt, .text, .html, .htm)."""
    file = Path(path)
    kind = FORMATS.get(file.suffix.lower())
    if kind is None:
        raise DocumentError(
            f"{file}: unknown document format {file.suffix!r}; use one of {sorted(FORMATS)}"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DocumentError(f"{file}: cannot read the document as UTF-8 text ({e})") from e
    name = id or document_id(file, base)
    parse = {"markdown": parse_markdown, "text": parse_text, "html": parse_html}[kind]
    document = parse(text, id=name, source=str(file))
    locale = _locale_from_name(file)
    if locale and not document.metadata.get("lang"):
        document = replace(document, locale=locale)
    return document


def _locale_from_name(path: Path) -> str:
    """manual.ko.md / manual_en.md / ko/manual.md name their language."""
    for part in (*path.with_suffix("").suffixes, path.stem, *path.parent.parts[-1:]):
        match = re.search(r"(?:^|[._-])(ko|en)$", part.lower().lstrip("."))
        if match:
            return match.group(1)
    return ""


def load_documents(paths: Iterable[str | Path]) -> list[Document]:
    """Every document file among `paths` (directories are searched recursively, in name order);
    ids are unique: a file is named by its stem, a directory's files by their path from the
    directory's parent (manual/ko.md -> `manual-ko`)."""
    documents: list[Document] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file()
            )
            # named by their path from the directory's parent: manual/ko.md -> manual-ko
            documents.extend(load_document(p, base=path.resolve().parent) for p in files)
        elif path.exists():
            documents.append(load_document(path))
        else:
            raise DocumentError(f"{path}: no such file or directory; list documents that exist")
    seen: set[str] = set()
    for document in documents:
        if document.id in seen:
            raise DocumentError(
                f"two documents have the id {document.id!r} ({document.source}); rename one"
            )
        seen.add(document.id)
    return documents
